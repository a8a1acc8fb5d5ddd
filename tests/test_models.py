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


def test_unknown_architecture_lists_the_known_ones():
    with pytest.raises(EdgemnistError, match="known: seed, edge"):
        ARCHITECTURES.get("resnet")


def test_a_duplicate_registration_is_refused():
    with pytest.raises(ValueError):
        ARCHITECTURES.register("seed")(object())
