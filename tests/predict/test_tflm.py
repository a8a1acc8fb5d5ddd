"""The TFLite Micro backend on the seed int8 export and the shipped edge model: the test set against
LiteRT, a direct tflite_micro call, the measured arena, refusals, threads and the CLI's --backend tflm."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from conftest import run_cli
from runtime_reference import direct_probabilities, tflm_runs_in

import edgemnist
from edgemnist.common.errors import EdgemnistError
from edgemnist.parity import TFLM_MAX_LSB, Tolerance, parity
from edgemnist.predict.tflm import measure_arena
from edgemnist.pretrained import pretrained_dir

SHIPPED_EDGE = pretrained_dir() / "edge_int8.tflite"


@pytest.fixture(scope="module", params=["seed_int8", "edge_int8"])
def model_path(request, artifact_paths):
    return artifact_paths["seed_int8.tflite"] if request.param == "seed_int8" else SHIPPED_EDGE


def digits_against_litert(model_path) -> int:
    """All 10,000 for the seed export; the first 2,000 for edge, whose digits take TFLM's reference kernels five
    times as long (its whole test set is checked in benchmarks/RESULTS.md, "Cortex-M firmware")."""
    return 2000 if model_path == SHIPPED_EDGE else 10_000


@pytest.fixture(scope="module")
def tflm_and_litert(model_path, mnist):
    """TFLM's probabilities through edgemnist, LiteRT's through its own public API (not edgemnist's code)."""
    digits = mnist.x_test[: digits_against_litert(model_path)]
    return edgemnist.load(model_path, backend="tflm").predict_proba(digits), direct_probabilities(model_path, digits)


def tflm_direct(path, digits, arena_size=1 << 20):
    """A bare tflite_micro call, the input quantized here from the model's own tensor description."""
    from tflite_micro import runtime

    interpreter = runtime.Interpreter.from_file(str(path), arena_size=arena_size)
    source = interpreter.get_input_details(0)
    scale, zero_point = (
        source["quantization_parameters"]["scales"][0],
        source["quantization_parameters"]["zero_points"][0],
    )
    outputs = []
    for digit in digits:
        x = np.clip(np.round(digit.astype(np.float32) / 255.0 / scale) + zero_point, -128, 127).astype(np.int8)
        interpreter.set_input(x.reshape(source["shape"]), 0)
        interpreter.invoke()
        outputs.append(interpreter.get_output(0)[0].copy())
    return np.array(outputs)


def test_tflm_scores_like_litert_on_the_test_set(tflm_and_litert, mnist):
    tflm, litert = tflm_and_litert
    labels = mnist.y_test[: len(tflm)]
    accuracy = {name: np.mean(p.argmax(1) == labels) * 100 for name, p in (("tflm", tflm), ("litert", litert))}
    assert abs(accuracy["tflm"] - accuracy["litert"]) <= 0.05
    assert np.mean(tflm.argmax(1) == litert.argmax(1)) >= 0.999


def test_the_predictor_returns_what_a_bare_tflm_call_returns(model_path, mnist):
    digits = mnist.x_test[:300]
    predictor = edgemnist.load(model_path, backend="tflm")
    raw = tflm_direct(model_path, digits).astype(np.float32)
    target = predictor.contract  # the output's quantization, as the model's tensor states it
    expected = (raw - target.output_quant_zero_point) * target.output_quant_scale
    np.testing.assert_allclose(predictor.predict_proba(digits), expected, atol=1e-6)
    assert (
        predictor.describe()["backend"] == "tflm" and edgemnist.load(model_path).backend == "litert"
    )  # never auto-detected


def test_measured_arena_is_the_smallest_that_runs(model_path):
    arena = measure_arena(model_path)
    assert tflm_runs_in(model_path, arena) and not tflm_runs_in(model_path, arena - 1)
    assert 20_000 < arena < 40_000  # int8 activations of ≈ 24 KB plus TFLM's own few KB


@pytest.mark.parametrize("kind", ["float16", "dynamic"])
def test_float16_and_dynamic_range_models_are_refused_in_one_line(artifact_paths, kind):
    path = artifact_paths[f"seed_{kind}.tflite"]
    with pytest.raises(EdgemnistError, match="TFLite Micro cannot run"):
        edgemnist.load(path, backend="tflm")
    result = run_cli("evaluate", path, "--backend", "tflm", "--limit", "10")
    assert (
        result.exit_code == 2
        and len(result.stderr.strip().splitlines()) == 1
        and "int8 or float32 export" in result.stderr
    )


def test_a_shared_tflm_predictor_answers_each_thread_as_alone(mnist):
    predictor = edgemnist.load(SHIPPED_EDGE, backend="tflm")
    batches = [mnist.x_test[i * 5 : i * 5 + 1 + i % 3] for i in range(8)]
    expected = [edgemnist.load(SHIPPED_EDGE, backend="tflm").predict_proba(b) for b in batches]
    answers, errors = [None] * 8, []

    def work(i):
        try:
            answers[i] = [predictor.predict_proba(batches[i]) for _ in range(3)]
        except Exception as exc:  # any error fails the test below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors and all(np.array_equal(a, expected[i]) for i, runs in enumerate(answers) for a in runs)


def test_parity_of_tflm_against_litert_reports_int8_steps(data_dir):
    (result,) = parity(
        SHIPPED_EDGE,
        [SHIPPED_EDGE],
        Tolerance(max_drop=0.05, min_agreement=0.999),
        data_dir,
        limit=1500,
        backend="tflm",
    )
    assert result.passed and result.agreement >= 0.999
    assert result.max_abs_diff_lsb == pytest.approx(
        round(result.max_abs_diff_lsb)
    )  # int8 outputs differ in whole steps
    assert 0 <= result.max_abs_diff_lsb <= TFLM_MAX_LSB
    strict = parity(SHIPPED_EDGE, [SHIPPED_EDGE], Tolerance(max_lsb=0), data_dir, limit=1500, backend="tflm")[0]
    assert strict.passed == (result.max_abs_diff_lsb == 0)


def test_cli_backend_tflm_on_evaluate_predict_and_parity(digit_png, data_dir):
    evaluated = run_cli("evaluate", SHIPPED_EDGE, "--backend", "tflm", "--limit", "200", "--json", "--data", data_dir)
    assert evaluated.exit_code == 0 and json.loads(evaluated.stdout)["backend"] == "tflm"
    predicted = run_cli("predict", SHIPPED_EDGE, digit_png, "--backend", "tflm")
    assert predicted.exit_code == 0 and ": 9 (" in predicted.stdout  # the tutorial's 9
    checked = run_cli("parity", SHIPPED_EDGE, SHIPPED_EDGE, "--backend", "tflm", "--limit", "200", "--data", data_dir)
    assert checked.exit_code == 0 and "max LSB" in checked.stdout and "(tflm)" in checked.stdout
    assert run_cli("evaluate", SHIPPED_EDGE, "--backend", "nope").exit_code == 2


def test_bench_backend_tflm_rows(artifact_paths, data_dir, tmp_path):
    path = artifact_paths["seed_int8.tflite"]
    out = tmp_path / "bench.json"
    result = run_cli(
        "bench",
        path,
        "--backend",
        "tflm",
        "--batch",
        "1",
        "--runs",
        "10",
        "--warmup",
        "0",
        "--json-file",
        out,
        "--markdown",
        tmp_path / "bench.md",
        "--data",
        data_dir,
        "--quiet",
    )
    assert result.exit_code == 0, result.stderr
    (row,) = json.loads(out.read_text())["rows"]
    assert row["backend"] == "tflm" and row["error"] is None and row["arena_measured_bytes"] == measure_arena(path)
    assert row["arena_bytes"] >= row["arena_measured_bytes"]
    markdown = (tmp_path / "bench.md").read_text()
    assert "reference-kernel proxy" in markdown and "MACs" in markdown and str(row["arena_measured_bytes"]) in markdown


def test_without_tflite_micro_the_error_says_how_to_get_it(monkeypatch):
    from conftest import run_without

    from edgemnist.predict import tflm

    result = run_without(["tflite_micro"], "evaluate", SHIPPED_EDGE, "--backend", "tflm", "--limit", "10")
    assert (
        result.returncode == 2 and "pip install 'edgemnist[tflm]'" in result.stderr and "Traceback" not in result.stderr
    )
    monkeypatch.setattr(
        tflm, "import_optional", lambda module, extra: (_ for _ in ()).throw(EdgemnistError("not installed"))
    )
    monkeypatch.setattr(tflm.platform, "machine", lambda: "aarch64")  # a Raspberry Pi: no tflite-micro wheel exists
    with pytest.raises(EdgemnistError, match="wheels only for x86-64 Linux"):
        edgemnist.load(SHIPPED_EDGE, backend="tflm")
