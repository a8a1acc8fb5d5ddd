import json

from conftest import run_cli


def test_pipeline_end_to_end(tmp_path, data_dir):
    out = tmp_path / "run"
    result = run_cli(
        "pipeline", "--out", out, "--epochs", 1, "--batch", "1", "--runs", 10, "--quiet", "--data", data_dir
    )
    assert result.exit_code == 0, result.stderr
    assert (out / "model" / "seed.keras").is_file() and (out / "export" / "manifest.json").is_file()
    bench = json.loads((out / "bench.json").read_text())
    rows = {row["model"].rsplit("/", 1)[-1]: row for row in bench["rows"]}
    assert len(rows) == 7  # the Keras model and six artifacts
    for name, row in rows.items():
        assert row["error"] is None, name
        stats = row["latency"]["1"]["predictor"]
        assert stats["p50_us"] > 0 and stats["p99_us"] >= stats["p50_us"]
        assert row["peak_rss_bytes"] > 0 and row["accuracy"] > 0.95 and row["agreement"] >= 0.99
    assert (out / "bench.png").read_bytes()[:4] == b"\x89PNG"
    assert all(r["passed"] for r in json.loads((out / "parity.json").read_text())["results"])
    for artifact in ("seed_int8_tflite", "seed_int8_onnx"):  # explained against its float reference: faithful
        assert json.loads((out / "explain" / artifact / "explain.json").read_text())["suspect"] is None
    assert "explain seed_int8.tflite: suspect none" in result.output
    robustness = json.loads((out / "robustness" / "robustness.json").read_text())
    assert len(robustness["models"]) == 4 and len(robustness["differences"]) == 2 * 16
    assert result.stderr == ""  # --quiet: no messages, no bars
