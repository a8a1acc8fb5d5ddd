"""How models hold up off-distribution: the MNIST-C corruptions, accuracy per model × corruption, int8 vs float."""
