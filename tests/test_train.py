import json
from pathlib import Path

import numpy as np
import pytest

from edgemnist.train import find_latest_model, train


def test_training_writes_the_model_and_its_metrics(trained):
    folder = Path(trained.model_path).parent
    assert sorted(p.name for p in folder.iterdir()) == ["metrics.json", "seed.keras"]  # no temporary files left
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["arch"] == "seed" and metrics["epochs"] == 1 and metrics["seed"] == 0
    assert metrics["parameters"] == 607_394 and len(metrics["history"]) == 1
    assert metrics["test_accuracy"] > 0.96  # one epoch of the tutorial's CNN
    assert metrics["versions"]["tensorflow"] and metrics["wall_time_s"] > 0


def test_same_seed_same_model(tmp_path, data_dir):
    runs = [
        train("seed", epochs=1, seed=3, out=tmp_path / str(i), data_dir=data_dir, train_limit=3000) for i in range(2)
    ]
    assert round(runs[0].test_accuracy, 4) == round(runs[1].test_accuracy, 4)
    assert runs[0].history == runs[1].history
    # the second model of the process has the same layer names and weights as the first: its exports are identical
    import keras

    first, second = (keras.saving.load_model(run.model_path, compile=False) for run in runs)
    assert [layer.name for layer in first.layers] == [layer.name for layer in second.layers]
    assert all(np.array_equal(a, b) for a, b in zip(first.get_weights(), second.get_weights()))


def test_interrupted_save_leaves_no_model(tmp_path, data_dir, monkeypatch):
    import keras

    def crash(self, path, *args, **kwargs):
        Path(path).write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(keras.Model, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        train("seed", epochs=1, out=tmp_path, data_dir=data_dir, train_limit=500)
    assert list(tmp_path.iterdir()) == []


def test_latest_model_is_found(trained, monkeypatch):
    monkeypatch.chdir(Path(trained.model_path).parent.parent)
    assert find_latest_model().name == "seed.keras"


def test_warm_up_then_cosine_schedule():
    import keras

    from edgemnist.models import ARCHITECTURES
    from edgemnist.train import learning_rate_schedule

    mcu = ARCHITECTURES.get("mcu")
    schedule = learning_rate_schedule(keras, mcu, 1000)
    warmup_end = int(mcu.warmup * 1000)
    rates = [float(schedule(step)) for step in (0, warmup_end // 2, warmup_end, 999)]
    assert rates[0] == pytest.approx(0, abs=1e-9) and rates[1] == pytest.approx(mcu.learning_rate / 2, rel=0.02)
    assert rates[2] == pytest.approx(mcu.learning_rate) and rates[3] < mcu.learning_rate / 1000
    seed = learning_rate_schedule(keras, ARCHITECTURES.get("seed"), 1000)
    assert float(seed(0)) == pytest.approx(1e-3)  # the tutorial's recipe: no warm-up


def test_the_train_command(tmp_path, data_dir):
    from conftest import run_cli

    result = run_cli("train", "--epochs", 1, "--train-limit", 600, "--out", tmp_path, "--quiet", "--data", data_dir)
    assert result.exit_code == 0, result.stderr
    assert "seed: test accuracy" in result.stdout and str(tmp_path / "seed.keras") in result.stdout
    assert json.loads((tmp_path / "metrics.json").read_text())["train_images"] == 600
    assert result.stderr == ""  # --quiet
