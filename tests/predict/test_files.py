"""``edgemnist predict`` over image files: every readable image is answered, each bad one is named."""

import json

from conftest import run_cli


def test_one_bad_image_among_good_ones_is_named_and_the_rest_answered(tmp_path, digit_png, mnist):
    from PIL import Image

    second = tmp_path / "seven.png"
    Image.fromarray(mnist.x_test[0]).save(second)  # test digit 0 is a 7
    bad = tmp_path / "bad.txt"
    bad.write_text("not an image")
    result = run_cli("predict", digit_png, bad, second, "--json")
    assert result.exit_code == 2
    answers = json.loads(result.stdout)
    assert [(a["path"], a["label"]) for a in answers] == [(str(digit_png), "9"), (str(second), "7")]
    assert "bad.txt" in result.stderr and "Traceback" not in result.stderr
    assert "1 of 3 images could not be read" in result.stderr


def test_a_blank_image_error_names_its_file(tmp_path):
    from PIL import Image

    blank = tmp_path / "blank.png"
    Image.new("L", (40, 40), 255).save(blank)
    result = run_cli("predict", blank)
    assert result.exit_code == 2 and "blank.png" in result.stderr and "blank" in result.stderr
    assert result.stderr.count("\n") == 1  # one image, one line


def test_json_file_holds_what_json_prints_a_list_of_one_object_per_image(tmp_path, digit_png, mnist):
    from PIL import Image

    second = tmp_path / "seven.png"
    Image.fromarray(mnist.x_test[0]).save(second)
    written = tmp_path / "predictions.json"
    result = run_cli("predict", digit_png, second, "--json", "--json-file", written, "--top-k", 2)
    assert result.exit_code == 0
    printed = json.loads(result.stdout)
    assert json.loads(written.read_text()) == printed
    assert [(p["label"], p["top_k"][0][0], len(p["probabilities"])) for p in printed] == [
        ("9", "9", 10),
        ("7", "7", 10),
    ]
    assert all(len(p["top_k"]) <= 2 and all(prob > 0 for _, prob in p["top_k"][1:]) for p in printed)


def test_top_k_lists_no_zero_probability_runners_up():
    import numpy as np

    from edgemnist.predict.files import runners_up

    int8_like = np.array([0, 0, 0.25, 0, 0, 0, 0, 0.75, 0, 0], np.float32)
    assert runners_up(int8_like, 3) == [7, 2]  # not [7, 2, 0]: label 0's exact zero is no runner-up
    assert runners_up(np.eye(10, dtype=np.float32)[4], 3) == [4]
    assert runners_up(np.full(10, 0.1, np.float32), 3) == [0, 1, 2]  # ties keep label order


def test_the_help_names_the_default_model():
    from edgemnist.pretrained import DEFAULT_ARCH

    text = " ".join(run_cli("predict", "--help").output.split())  # as one line: click wraps the help
    assert f"default model ({DEFAULT_ARCH}" in text and "edge model" not in text
