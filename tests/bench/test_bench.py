"""The harness: worker isolation, crash and hang survival, pinning, reports."""

import json
import os
import signal
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import run_cli
from runtime_reference import direct_accuracy

from edgemnist.bench.report import markdown_report, text_report, write_plot
from edgemnist.bench.runner import bench
from edgemnist.bench.schema import BenchJob

FAST = BenchJob(batches=[1, 8], runs=20, warmup=2)


@pytest.fixture(scope="module")
def report(artifact_paths, trained, data_dir):
    models = [artifact_paths["seed_int8.tflite"], artifact_paths["seed_float32.onnx"]]
    return bench(models, replace(FAST, cores=[0]), reference=trained.model_path, data=data_dir)


def test_each_row_has_latency_memory_accuracy_and_agreement(report, mnist):
    for row in report.rows:
        assert row.error is None
        for batch in ("1", "8"):
            stats = row.latency[batch]["predictor"]
            assert stats["runs"] == 20 and 0 < stats["p50_us"] <= stats["p99_us"]
            assert len(row.latency[batch]) == 2  # the predictor and the bare runtime call
        assert row.peak_rss_bytes > 10e6 and row.cold_start_s > row.load_s > 0
        assert row.accuracy == pytest.approx(direct_accuracy(row.model, mnist.x_test, mnist.y_test), abs=1e-9)
        assert 0.99 <= row.agreement <= 1.0
        assert row.parameters == 607_394 and row.macs == 777_328


def test_the_report_records_the_machine_and_settings(report):
    machine = report.machine
    assert machine["cores"] >= 1 and machine["memory_bytes"] > 0 and machine["python"]
    assert "onnxruntime" in machine["versions"] and report.settings["cores"] == [0]
    json.dumps(report.to_dict())  # the JSON report is plain data


def test_text_and_markdown_show_every_model(report):
    for text in (text_report(report), markdown_report(report)):
        assert "seed_int8.tflite" in text and "litert invoke" in text and "onnxruntime session.run" in text


def test_plot_is_a_png(report, tmp_path):
    path = write_plot(report, tmp_path / "bench.png")
    assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_pinning_is_applied_in_the_worker(report):
    assert all(row.affinity == [0] for row in report.rows)  # read back by the worker itself


def worker_pids():
    """Bench workers started by this test process (not by anything else running on the machine)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                if parent == os.getpid() and b"edgemnist.bench.worker" in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                pass
    return pids


@pytest.fixture
def hanging_model(tmp_path):
    """A model path that never finishes reading (a FIFO with no writer), as a stalled mount would."""
    path = tmp_path / "stalled.onnx"
    os.mkfifo(path)
    return path


def test_a_hanging_model_times_out_and_the_others_go_on(hanging_model, artifact_paths, data_dir):
    report = bench([hanging_model, artifact_paths["seed_int8.tflite"]], FAST, timeout=5, data=data_dir)
    assert report.rows[0].error == "timed out after 5 s"
    assert report.rows[1].error is None and report.rows[1].accuracy > 0.9


def test_a_crashing_worker_is_reported_and_the_others_go_on(hanging_model, artifact_paths, data_dir):
    def crash_the_worker():
        for _ in range(100):
            pids = worker_pids()
            if pids:
                time.sleep(0.5)
                os.kill(pids[0], signal.SIGSEGV)
                return
            time.sleep(0.1)

    threading.Thread(target=crash_the_worker, daemon=True).start()
    report = bench([hanging_model, artifact_paths["seed_int8.tflite"]], FAST, timeout=60, data=data_dir)
    assert report.rows[0].error == "worker crashed (SIGSEGV)"
    assert report.rows[1].error is None


def test_a_broken_model_is_reported_on_its_row(tmp_path, artifact_paths, data_dir):
    broken = tmp_path / "broken.tflite"
    broken.write_bytes(b"\x00\x00\x00\x00TFL3" + b"\x00" * 64)
    report = bench([broken, artifact_paths["seed_float32.onnx"]], FAST, data=data_dir)
    assert "not a valid TFLite model" in report.rows[0].error and report.rows[1].error is None


def test_bench_exits_1_when_a_row_failed_and_writes_the_report_anyway(tmp_path, artifact_paths, data_dir):
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"\x00\x00\x00\x00TFL3" + b"\x00" * 64)
    out = tmp_path / "bench.json"
    result = run_cli("bench", junk, "--batch", "1", "--runs", 10, "--warmup", 1, "--data", data_dir, "--json-file", out)
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert "1 of 1 models could not be measured: junk.tflite" in result.stderr
    assert "not a valid TFLite model" in json.loads(out.read_text())["rows"][0]["error"]


def test_a_missing_runtime_is_reported_on_its_row(tmp_path, artifact_paths, data_dir, monkeypatch):
    # The workers start with a sitecustomize that makes onnxruntime unimportable, as on a LiteRT-only board.
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'onnxruntime': raise ImportError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
    )
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    report = bench([artifact_paths["seed_float32.onnx"], artifact_paths["seed_int8.tflite"]], FAST, data=data_dir)
    assert report.rows[0].error == "onnxruntime is not installed; install it with: pip install 'edgemnist[onnx]'"
    assert report.rows[1].error is None


def test_bench_cli_writes_every_report(tmp_path, artifact_paths, data_dir):
    out = {kind: tmp_path / f"bench.{kind}" for kind in ("json", "md", "png")}
    result = run_cli(
        "bench",
        artifact_paths["seed_int8.onnx"],
        "--batch",
        "1",
        "--runs",
        10,
        "--warmup",
        1,
        "--data",
        data_dir,
        "--json-file",
        out["json"],
        "--markdown",
        out["md"],
        "--plot",
        out["png"],
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(out["json"].read_text())
    assert data["schema_version"] == 2 and data["rows"][0]["latency"]["1"]["predictor"]["p99_us"] > 0
    assert "seed_int8.onnx" in out["md"].read_text() and out["png"].stat().st_size > 1000
    assert "[1/1] seed_int8.onnx" in result.stderr


def test_contract_flags_reach_the_worker(tmp_path, data_dir):
    from model_builders import build_onnx

    model = build_onnx(tmp_path / "foreign.onnx")
    report = bench([model], replace(FAST, contract={"input_scale": 255.0, "normalize": (0.5, 2.0)}), data=data_dir)
    contract = report.rows[0].contract
    assert (contract["input_scale"], contract["mean"], contract["std"], contract["output"]) == (
        255.0,
        0.5,
        2.0,
        "logits",
    )
