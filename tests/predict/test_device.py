"""A device has a runtime but no TensorFlow: prediction and evaluation must not need it."""
import json
import subprocess
import sys

import pytest

BLOCK_TENSORFLOW = (
    "import sys\n"
    "class Block:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name.split('.')[0] in ('tensorflow', 'keras', 'tf2onnx'): raise ImportError('not on this device')\n"
    "sys.meta_path.insert(0, Block())\n"
    "from edgemnist.cli import main\n"
    "sys.argv = ['edgemnist'] + sys.argv[1:]\n"
    "try:\n"
    "    main()\n"
    "finally:\n"
    "    assert 'tensorflow' not in sys.modules\n"
)


def run_on_device(*args):
    return subprocess.run([sys.executable, "-c", BLOCK_TENSORFLOW, *map(str, args)], capture_output=True, text=True)


@pytest.mark.parametrize("name", ["seed_int8.onnx", "seed_int8.tflite", "seed_float32.onnx"])
def test_predict_and_evaluate_without_tensorflow(artifact_paths, digit_png, data_dir, name):
    predicted = run_on_device("predict", artifact_paths[name], digit_png, "--json")
    assert predicted.returncode == 0, predicted.stderr
    assert json.loads(predicted.stdout)["label"] == "9"
    evaluated = run_on_device("evaluate", artifact_paths[name], "--limit", 1000, "--json", "--data", data_dir)
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["accuracy"] > 0.9


def test_a_keras_model_on_a_device_asks_for_the_train_extra(trained, digit_png):
    result = run_on_device("predict", trained.model_path, digit_png)
    assert result.returncode == 2
    assert "pip install 'edgemnist[train]'" in result.stderr
