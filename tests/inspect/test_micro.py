"""inspect's TFLite Micro arena is a safe bound, checked against the real interpreter: the model runs in the
estimated arena and does not run in one 15 % smaller; --measure reports the smallest arena that runs."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli, run_without
from runtime_reference import tflm_runs_in

from edgemnist.inspect import inspect_model
from edgemnist.inspect.micro import Buffer, planned_bytes
from edgemnist.pretrained import pretrained_dir

SHIPPED_EDGE = pretrained_dir() / "edge_int8.tflite"
MAX_OVER = 1.15


@pytest.fixture(params=["seed_float32.tflite", "seed_int8.tflite", "edge_int8.tflite"])
def tflite_path(request, artifact_paths):
    return SHIPPED_EDGE if request.param == "edge_int8.tflite" else artifact_paths[request.param]


def test_the_estimate_is_at_least_the_real_need_and_at_most_15_percent_above(tflite_path):
    estimate = inspect_model(tflite_path).arena_bytes
    assert tflm_runs_in(tflite_path, estimate)  # never below what TFLM needs
    assert not tflm_runs_in(tflite_path, int(estimate / MAX_OVER))  # the real need is within 15 % of it


def test_inspect_measure_reports_the_smallest_arena_that_runs(tflite_path):
    result = run_cli("inspect", tflite_path, "--measure", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    measured = report["arena_measured_bytes"]
    assert tflm_runs_in(tflite_path, measured) and not tflm_runs_in(tflite_path, measured - 1)
    assert measured <= report["arena_bytes"] <= MAX_OVER * measured
    assert report["arena_bytes"] == report["activation_bytes"] + report["bookkeeping_bytes"]
    assert "measured in the real interpreter" in run_cli("inspect", tflite_path, "--measure").stdout


def test_measure_is_refused_for_what_tflm_cannot_run(artifact_paths, trained):
    for path in (artifact_paths["seed_float16.tflite"], trained.model_path):
        result = run_cli("inspect", path, "--measure")
        assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1


def test_the_planner_places_buffers_as_tflm_does():
    # A 2-op chain: input (0..1), hidden (1..2), output (2..end): hidden overlaps both, so 3 slots would be
    # a naive sum; greedy puts the largest at 0 and reuses the input's place for the output.
    chain = [Buffer(784, 0, 1), Buffer(4000, 1, 2), Buffer(40, 2, 2)]
    assert planned_bytes(chain) == 4000 + 784
    # Fragmentation a sum of live tensors misses: largest first, C (64) and B (48) share offset 0 (never alive
    # together); A (48, alive throughout) goes above C at 64; D (32, with A and B) fits neither the 16-byte gap
    # between B and A nor below, so it lands at 112: 144 bytes, where at most 128 are ever alive at once.
    fragmented = [Buffer(48, 0, 3), Buffer(48, 3, 3), Buffer(64, 0, 1), Buffer(32, 3, 3)]
    assert planned_bytes(fragmented) == 144
    assert planned_bytes([Buffer(1, 0, 0)]) == 16  # every buffer is rounded up to 16 bytes


def test_inspect_of_a_tflite_needs_neither_tensorflow_nor_tflite_micro(artifact_paths):
    result = run_without(
        ["tensorflow", "keras", "tflite_micro"], "inspect", artifact_paths["seed_int8.tflite"], "--json"
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [layer["type"] for layer in report["layers"]][0] == "CONV_2D" and report["bookkeeping_bytes"] > 0
