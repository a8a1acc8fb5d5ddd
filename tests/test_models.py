import pytest

from edgemnist.common.errors import EdgemnistError
from edgemnist.models import ARCHITECTURES, build_model


def test_seed_is_the_tutorials_cnn_layer_for_layer():
    model = build_model("seed")
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dropout", "Dense"]
    conv, _, _, hidden, dropout, output = model.layers
    assert conv.filters == 28 and conv.kernel_size == (3, 3) and conv.activation.__name__ == "linear"
    assert hidden.units == 128 and hidden.activation.__name__ == "relu" and dropout.rate == 0.2
    assert output.units == 10 and output.activation.__name__ == "softmax"
    assert model.count_params() == 607_394


def test_edge_has_at_most_a_tenth_of_the_seeds_parameters():
    assert build_model("edge").count_params() <= 60_739


def test_mcu_fits_a_micro_controller_budget(tmp_path):
    # Counted by inspect from the saved model, not by the builder: ≤ 20,000 parameters and ≤ 1.5 M MACs per digit.
    from edgemnist.inspect import inspect_model

    path = tmp_path / "mcu.keras"
    build_model("mcu").save(path)
    inspection = inspect_model(path)
    assert inspection.parameters <= 20_000 and inspection.macs <= 1_500_000
    assert {layer.type for layer in inspection.layers} >= {"BatchNormalization", "GlobalAveragePooling2D"}
    assert not any(layer.type == "Dense" and layer.parameters > 1_000 for layer in inspection.layers)


def test_mcu_subtracts_each_digits_mean_inside_the_graph():
    # A uniform lift of the background (grey paper) must not reach the first convolution: the untrained model's
    # answer is the same for x and x + 0.4, on every backend the graph is exported to.
    import numpy as np

    model = build_model("mcu")
    x = np.random.default_rng(0).random((8, 28, 28, 1), dtype=np.float32)
    lifted = np.asarray(model(x + 0.4, training=False))
    assert np.allclose(np.asarray(model(x, training=False)), lifted, atol=1e-5)
    assert not np.allclose(np.asarray(model(x, training=False)), np.asarray(model(x * 0.5, training=False)), atol=1e-5)


def test_an_architecture_carries_its_training_recipe():
    seed, mcu = ARCHITECTURES.get("seed"), ARCHITECTURES.get("mcu")
    assert (seed.epochs, seed.batch_size, seed.learning_rate, seed.warmup) == (10, 32, 1e-3, 0.0)  # the tutorial's
    assert mcu.augment == "field" and mcu.warmup > 0


def test_unknown_architecture_lists_the_known_ones():
    with pytest.raises(EdgemnistError, match="known: seed, edge, mcu"):
        ARCHITECTURES.get("resnet")


def test_a_duplicate_registration_is_refused():
    with pytest.raises(ValueError):
        ARCHITECTURES.register("seed")(object())
