import json

from conftest import run_cli


def test_translating_by_5_pixels_costs_the_seed_model_accuracy(artifact_paths, mnist, tmp_path, data_dir):
    from edgemnist.predict import load
    from edgemnist.robustness.runner import robustness

    report = robustness(
        [artifact_paths["seed_float32.tflite"]],
        severity=5,
        limit=1000,
        corruptions=["translate"],
        data=data_dir,
        cache=tmp_path,
    )
    accuracy = report.models[0].accuracy
    assert accuracy["translate"] < accuracy["clean"] - 0.2
    # the clean figure, recomputed without the runner
    model = load(artifact_paths["seed_float32.tflite"])
    assert abs((model.predict(mnist.x_test[:1000]) == mnist.y_test[:1000]).mean() - accuracy["clean"]) < 1e-9


def test_cli_reports_every_corruption_and_int8_against_float(artifact_paths, tmp_path, data_dir):
    models = [
        artifact_paths[name]
        for name in ("seed_float32.tflite", "seed_int8.tflite", "seed_float32.onnx", "seed_int8.onnx")
    ]
    result = run_cli(
        "robustness",
        *models,
        "--limit",
        "200",
        "--out",
        tmp_path / "out",
        "--cache",
        tmp_path / "cache",
        "--data",
        data_dir,
        "--quiet",
        "--json",
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report) >= {"images", "seed", "severities", "models", "differences"}
    assert len(report["severities"]) == 15 and report["images"] == 200
    assert all(len(m["accuracy"]) == 16 for m in report["models"])  # 15 corruptions and clean
    for m in report["models"]:  # the headline: mean over the 15 (clean left out) and the worst of them
        corrupted = {k: v for k, v in m["accuracy"].items() if k != "clean"}
        assert abs(m["mean"] - sum(corrupted.values()) / 15) < 1e-6
        assert m["worst"] != "clean" and corrupted[m["worst"]] == min(corrupted.values())
    pairs = {(d["int8"].rsplit("/", 1)[-1], d["float"].rsplit("/", 1)[-1]) for d in report["differences"]}
    assert pairs == {("seed_int8.tflite", "seed_float32.tflite"), ("seed_int8.onnx", "seed_float32.onnx")}
    for d in report["differences"]:
        assert d["only_int8_right"] - d["only_float_right"] == round(d["difference"] / 100 * 200)
    for name in ("robustness.json", "robustness.md", "robustness.png"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 15  # one cached set per corruption


def test_runs_on_a_device_with_only_a_runtime(artifact_paths, tmp_path, data_dir):
    from conftest import run_without

    result = run_without(
        ["tensorflow", "matplotlib", "scipy"],
        "robustness",
        artifact_paths["seed_int8.onnx"],
        "--limit",
        "50",
        "--out",
        tmp_path / "out",
        "--cache",
        tmp_path / "cache",
        "--data",
        data_dir,
        "--quiet",
    )
    assert result.returncode == 0, result.stderr
    assert "canny_edges" in result.stdout and "mean of 15 corruptions" in result.stdout and "worst" in result.stdout
    assert (tmp_path / "out" / "robustness.md").exists() and not (tmp_path / "out" / "robustness.png").exists()
