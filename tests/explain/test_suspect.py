from edgemnist.explain import LayerError, find_suspect
from edgemnist.explain.tflite import keras_layer_names


def layers(*sqnrs):
    return [LayerError(f"layer{i}", f"t{i}", "OP", sqnr, 0.3, 0.01, 0) for i, sqnr in enumerate(sqnrs)]


def test_the_first_jump_below_the_floor_is_the_suspect():
    assert find_suspect(layers(35.8, 100, 100, 0.25, 24.9, 41.5)).layer == "layer3"
    assert find_suspect(layers(4.0, 3.0, 2.0)).layer == "layer0"


def test_no_suspect_without_a_jump():
    assert find_suspect(layers(35.8, 100, 100, 42.2, 41.5, 48.6)) is None
    assert find_suspect(layers(16.0, 16.0, 16.0)) is None  # mediocre everywhere, but above the floor
    assert find_suspect(layers(30.0, 12.0, 11.0)).layer == "layer1"  # cumulative error: the start, not the rest
    assert find_suspect(layers(14.0, 13.5)).layer == "layer0"


def test_tflite_tensors_map_to_keras_layers_in_order():
    tensors = [
        "seed_1/conv2d_1/BiasAdd;seed_1/conv2d_1/convolution;seed_1/conv2d_1/Squeeze1",
        "seed_1/max_pooling2d_1/MaxPool2d",
        "seed_1/flatten_1/Reshape",
        "seed_1/dense_1/MatMul;seed_1/dense_1/Relu;seed_1/dense_1/BiasAdd",
        "seed_1/dense_1_2/MatMul;seed_1/dense_1_2/BiasAdd",
        "StatefulPartitionedCall_1:0",
    ]
    names = ["conv2d", "max_pooling2d", "flatten", "dense", "dropout", "dense_1"]
    assert keras_layer_names(tensors, names) == ["conv2d", "max_pooling2d", "flatten", "dense", "dense_1", None]
