"""``--on qemu:CPU``: real runs of the aarch64 wheels on emulated Cortex-A72 and of this venv on an emulated
Haswell, on a few test digits (the full test set is CI's emulated parity, in .ci/run)."""

import json
import re
import threading

import numpy as np
import pytest
from conftest import run_cli

from edgemnist.pretrained import pretrained_dir

MCU_TFLITE, MCU_ONNX = pretrained_dir() / "mcu_int8.tflite", pretrained_dir() / "mcu_int8.onnx"
LIMIT = 100


def host_accuracy(model, mnist) -> float:
    """The same digits through this machine's runtime, called directly."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(str(model))
    interpreter.allocate_tensors()
    given, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    scale, zero = given["quantization"]
    right = 0
    for digit, label in zip(mnist.x_test[:LIMIT], mnist.y_test[:LIMIT]):
        x = np.round(digit.astype(np.float32) / 255 / scale + zero).clip(-128, 127).astype(np.int8)
        interpreter.set_tensor(given["index"], x.reshape(given["shape"]))
        interpreter.invoke()
        right += int(interpreter.get_tensor(out["index"]).argmax() == label)
    return right / LIMIT


@pytest.mark.parametrize("model, cpu, arch", [(MCU_TFLITE, "cortex-a72", "aarch64"), (MCU_ONNX, "haswell", "x86_64")])
def test_evaluate_on_an_emulated_cpu_records_the_guest(model, cpu, arch, mnist, data_dir):
    result = run_cli(
        "evaluate", model, "--on", f"qemu:{cpu}", "--limit", LIMIT, "--json", "--quiet", "--data", data_dir
    )
    assert result.exit_code == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["target"]["guest_arch"] == arch and found["target"]["cpu_model"].lower() == cpu
    assert found["images"] == LIMIT
    if arch == "aarch64":  # the arm64 root's venv: runtimes only
        assert "tensorflow" not in found["target"]["versions"] and "ai-edge-litert" in found["target"]["versions"]
        here = host_accuracy(model, mnist)
    else:
        here = json.loads(run_cli("evaluate", model, "--limit", LIMIT, "--json", "--data", data_dir).stdout)["accuracy"]
    assert abs(found["accuracy"] - here) <= 1 / LIMIT


def test_parity_runs_the_candidate_there_and_the_reference_here(data_dir, tmp_path):
    out = tmp_path / "p.json"
    args = ("--limit", LIMIT, "--quiet", "--data", data_dir, "--json-file", out)
    result = run_cli("parity", MCU_TFLITE, MCU_TFLITE, "--on", "qemu:cortex-a72", *args)
    assert result.exit_code == 0, result.stderr
    found = json.loads(out.read_text())["results"][0]
    assert found["agreement"] >= 0.99 and found["max_abs_diff_lsb"] is not None
    assert found["target"]["name"] == "qemu:cortex-a72" and found["target"]["guest_arch"] == "aarch64"


def test_parity_exits_1_when_the_candidate_fails_there(data_dir):
    seed = pretrained_dir() / "seed_int8.onnx"
    result = run_cli("parity", MCU_ONNX, seed, "--on", "qemu:haswell", "--atol", "0.001", "--limit", LIMIT, "--quiet")
    assert result.exit_code == 1, result.stderr
    assert "parity failed" in result.stderr


def test_bench_counts_instructions_and_never_shows_them_as_microseconds(data_dir, tmp_path):
    out = tmp_path / "b.json"
    result = run_cli(
        "bench", MCU_TFLITE, "--on", "qemu:cortex-a72", "--batch", "1", "--runs", 20, "--warmup", 2,
        "--limit", 20, "--quiet", "--data", data_dir, "--json-file", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    row = json.loads(out.read_text())["rows"][0]
    counted = row["instructions"]["1"]
    assert row["latency"] == {} and row["guest_arch"] == "aarch64" and row["cpu_model"] == "cortex-a72"
    # An int8 MAC costs at least 1/16 of a NEON instruction; the whole Python call costs less than 50 per MAC.
    assert row["macs"] / 16 < counted["predictor"]["per_inference"] < row["macs"] * 50
    assert min(c["per_inference"] for c in counted.values()) < counted["predictor"]["per_inference"]
    assert all(c["calls"] == 20 for c in counted.values())
    assert "guest instructions per call" in result.stdout
    # Nothing was timed: no empty latency table, no empty baselines table.
    assert "p50 µs" not in result.stdout and "bare runtime baselines" not in result.stdout


def test_two_counts_agree_within_one_percent(mnist, tmp_path):
    from edgemnist.bench.runner import bench_target
    from edgemnist.bench.schema import BenchJob
    from edgemnist.targets import resolve

    test_set = tmp_path / "test.npz"
    np.savez(test_set, x=mnist.x_test[:10], y=mnist.y_test[:10])
    job = BenchJob(test_set=str(test_set), batches=[1], runs=50, warmup=5)
    counts = [
        bench_target(resolve("qemu:haswell"), [MCU_ONNX], job, 900, lambda *a, **k: None, threading.Event())[
            0
        ].per_inference(1)
        for _ in range(2)
    ]
    assert counts[0] > 0 and abs(counts[0] - counts[1]) / counts[0] < 0.01, counts


def test_int8_onnx_validation_also_reports_haswell(mnist):
    from edgemnist.export.validate import validate_artifact
    from edgemnist.predict import load

    artifact = load(MCU_ONNX)
    here = artifact.predict_proba(mnist.x_test[:LIMIT])
    found = validate_artifact(artifact, here, here, mnist.x_test[:LIMIT], mnist.y_test[:LIMIT], "int8", "itself here")
    (avx2,) = found.elsewhere
    assert avx2["target"]["name"] == "qemu:haswell" and avx2["target"]["cpu_model"] == "Haswell"
    assert avx2["images"] == LIMIT and avx2["agreement"] >= 0.99 and found.passed


def test_evaluate_on_an_emulated_cortex_m4_gives_tflite_micros_accuracy(data_dir, tmp_path):
    """The firmware in qemu-system-arm; TFLite Micro here is the reference it is bit-exact with."""
    args = ("--limit", 200, "--json", "--quiet", "--data", data_dir)
    result = run_cli("evaluate", MCU_TFLITE, "--on", "qemu:cortex-m4", *args)
    assert result.exit_code == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["target"]["name"] == "qemu:cortex-m4" and found["target"]["guest_arch"] == "armv7e-m"
    assert found["target"]["machine"] == "mps2-an386"
    reference = json.loads(run_cli("evaluate", MCU_TFLITE, "--backend", "tflm", *args).stdout)
    assert found["accuracy"] == reference["accuracy"] and found["confusion"] == reference["confusion"]


def test_bench_on_a_cortex_m_core_counts_instructions_per_inference_exactly(data_dir, tmp_path):
    """Two runs (two inferences minus one, each) give the same count, with the firmware's flash and RAM, and
    the firmware's accuracy pass: TFLite Micro's accuracy on the same digits, and agreement with --reference."""
    rows = []
    for run in range(2):
        out = tmp_path / f"b{run}.json"
        args = ("--limit", 300, "--data", data_dir, "--json-file", out, "--reference", MCU_TFLITE)
        result = run_cli("bench", MCU_TFLITE, "--on", "qemu:cortex-m4", *args)
        assert result.exit_code == 0, result.stderr
        assert "qemu:cortex-m4: mps2-an386, cortex-m4, bare metal" in result.stderr  # the board, never "Python None"
        assert "qemu:cortex-m4: mps2-an386, cortex-m4 (QEMU 7.2" in result.stdout  # the board, then the core
        assert "; no state readings" in result.stdout  # a firmware has no clocks to read, and its run finished
        assert re.search(r"qemu:cortex-m4 mcu_int8.tflite +1 +\d+ +\d+ +- +\d+\.\d\d% +100\.00%", result.stdout)
        rows.append(json.loads(out.read_text())["rows"][0])
    counted = [row["instructions"]["1"]["predictor"]["per_inference"] for row in rows]
    macs = 1_448_752  # edgemnist inspect's count for mcu_int8.tflite
    assert counted[0] == counted[1] and macs < counted[0] < 20 * macs
    assert rows[0]["flash_bytes"] <= 32 * 1024 and rows[0]["extra"]["ram_bytes"] <= 10 * 1024
    assert rows[0]["latency"] == {} and rows[0]["cpu_model"] == "cortex-m4"
    tflm = json.loads(
        run_cli("evaluate", MCU_TFLITE, "--backend", "tflm", "--limit", 300, "--data", data_dir, "--json").stdout
    )
    assert rows[0]["accuracy"] == rows[1]["accuracy"] == tflm["accuracy"]
    assert rows[0]["agreement"] == 1.0 and rows[0]["max_abs_diff"] <= 15 / 256  # LiteRT here: a few steps off
