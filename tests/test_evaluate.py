import json

import numpy as np
from conftest import run_cli

from edgemnist.evaluate import confusion_matrix, score


def test_evaluate_json_on_the_keras_model(trained, data_dir):
    result = run_cli("evaluate", trained.model_path, "--json", "--data", data_dir)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert abs(report["accuracy"] - trained.test_accuracy) < 1e-6
    matrix = np.array(report["confusion"])
    assert matrix.shape == (10, 10) and matrix.sum() == 10000
    assert np.isclose(np.trace(matrix) / 10000, report["accuracy"])
    assert [c["support"] for c in report["per_class"]][:2] == [980, 1135]
    worst = report["confident_mistakes"]
    assert worst and all(m["label"] != m["predicted"] for m in worst)
    assert [m["confidence"] for m in worst] == sorted((m["confidence"] for m in worst), reverse=True)


def test_evaluate_table_and_limit(trained, data_dir):
    result = run_cli("evaluate", trained.model_path, "--limit", 500, "--data", data_dir)
    assert result.exit_code == 0 and "on 500 test images" in result.output and "confusion matrix" in result.output


def test_scores_on_a_known_case():
    labels = np.array([0, 0, 1, 1])
    probs = np.eye(10)[[0, 1, 1, 1]] * 0.9 + 0.01
    scores = score(probs, labels)
    assert scores["accuracy"] == 0.75
    assert scores["per_class"][0].recall == 0.5 and scores["per_class"][1].precision == round(2 / 3, 4)
    assert confusion_matrix(labels, probs.argmax(1))[0, 1] == 1
    assert scores["confident_mistakes"][0].index == 1
