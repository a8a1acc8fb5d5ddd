"""The bench schema: every field a worker writes reaches the report JSON, and --runs N means N calls."""

import json
import subprocess
import sys

import numpy as np

from edgemnist.bench.schema import BenchJob, BenchReport, BenchRow
from edgemnist.bench.timing import measure
from edgemnist.pretrained import pretrained_dir

MODEL = pretrained_dir() / "mcu_int8.tflite"


def raw_worker_result(job: BenchJob) -> dict:
    """The worker's own output, read here without the runner's code."""
    process = subprocess.run(
        [sys.executable, "-m", "edgemnist.bench.worker"], input=job.to_json(), capture_output=True, text=True
    )
    return json.loads(process.stdout.strip().splitlines()[-1])


def test_every_key_the_worker_writes_reaches_the_report_json(mnist, tmp_path):
    test_set = tmp_path / "test.npz"
    np.savez(test_set, x=mnist.x_test[:50], y=mnist.y_test[:50])
    job = BenchJob(model=str(MODEL), test_set=str(test_set), batches=[1], runs=10, warmup=1)
    raw = raw_worker_result(job)
    assert raw.get("litert_path") and "error" not in raw, raw
    report = BenchReport(2, {}, {}, None, [BenchRow.from_result(MODEL, raw)])
    row = json.loads(json.dumps(report.to_dict()))["rows"][0]
    for key, value in raw.items():
        assert row.get(key, row["extra"].get(key)) == value, key


def test_fields_the_row_lacks_are_kept_not_dropped():
    result = {"inspect_error": "no onnx package here", "litert_path": "public", "from_a_newer_worker": 7}
    row = json.loads(json.dumps(BenchReport(2, {}, {}, None, [BenchRow.from_result("m.tflite", result)]).to_dict()))
    assert row["rows"][0]["inspect_error"] == "no onnx package here"
    assert row["rows"][0]["litert_path"] == "public"
    assert row["rows"][0]["extra"] == {"from_a_newer_worker": 7}


def test_a_job_with_an_unknown_field_is_refused():
    import pytest

    from edgemnist.common.errors import EdgemnistError

    with pytest.raises(EdgemnistError, match="does not know: colour"):
        BenchJob.from_json(json.dumps({"colour": "red"}))


def test_runs_n_means_n_calls():
    for runs in (10, 23, 207):
        made = {"a": 0, "b": 0}
        calls = {name: (lambda name=name, made=made: made.__setitem__(name, made[name] + 1)) for name in made}
        stats = measure(calls, 1, runs, warmup=3)
        assert made == {"a": runs + 3, "b": runs + 3}
        assert stats["a"]["runs"] == stats["b"]["runs"] == runs
