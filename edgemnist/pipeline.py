"""The one-command job: train → export every format → parity → explain and robustness → bench, everything under
one folder (the corrupted MNIST-C digits are cached in ~/.cache/edgemnist/mnist-c, shared by every run)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .common.files import ensure_dir, write_json
from .common.progress import SILENT, Progress
from .common.render import plural, text_table


@dataclass
class PipelineResult:
    out: str
    model: str
    test_accuracy: float
    artifacts: list  # export ArtifactRecords
    parity_passed: bool
    bench_json: str
    bench_markdown: str
    bench_plot: str | None
    explain: dict = field(default_factory=dict)  # int8 artifact → {"suspect", "markdown"}
    robustness: dict = field(default_factory=dict)  # report files: json, markdown, heatmap


def run_pipeline(
    out,
    arch="seed",
    epochs=None,
    seed=0,
    batches=(1, 64),
    threads=1,
    runs=200,
    data_dir=None,
    progress: Progress = SILENT,
) -> PipelineResult:
    from .bench.report import write_markdown, write_plot
    from .bench.runner import bench
    from .bench.schema import BenchJob
    from .export.runner import export
    from .train import train

    out = ensure_dir(out)
    progress.say(f"1/4 training {arch}")
    trained = train(
        arch, epochs, None, seed, out / "model", data_dir, progress=progress.indented()
    )  # None: the arch's recipe
    progress.say(f"    test accuracy {trained.test_accuracy:.2%} after {plural(trained.epochs, 'epoch')}")
    progress.say("2/4 exporting every format, each checked against the Keras model (the parity gate)")
    exported = export(trained.model_path, ["all"], None, out / "export", data=data_dir, progress=progress.indented())
    artifacts = [Path(exported.out) / a.file for a in exported.artifacts if a.passed is not None]
    # The export's validation is the parity check (same reference, digits and tolerances): reported once.
    checks = [a.validation for a in exported.artifacts if a.validation is not None]
    write_json(out / "parity.json", {"results": checks})
    progress.say("3/4 explaining the int8 artifacts; robustness under MNIST-C")
    explained, robustness_files = look_behind_parity(out, trained.model_path, artifacts, data_dir, progress.indented())
    progress.say("4/4 benchmarking every artifact and the Keras baselines")
    report = bench(
        [trained.model_path, *artifacts],
        BenchJob(batches=list(batches), threads=threads, runs=runs),
        reference=trained.model_path,
        data=data_dir,
        timeout=600,  # the Keras baselines load TensorFlow in their worker
        progress=progress.indented(),
    )
    bench_json = write_json(out / "bench.json", report.to_dict())
    bench_markdown = write_markdown(report, out / "bench.md", f"{arch} benchmark")
    try:
        plot = str(write_plot(report, out / "bench.png"))
    except Exception as exc:  # plotting is optional (matplotlib may be absent); the other reports stand
        progress.say(f"    no plot: {exc}")
        plot = None
    return PipelineResult(
        str(out),
        trained.model_path,
        trained.test_accuracy,
        exported.artifacts,
        all(check["passed"] for check in checks),
        str(bench_json),
        str(bench_markdown),
        plot,
        explained,
        robustness_files,
    )


def look_behind_parity(out: Path, model_path, artifacts: list[Path], data_dir, progress: Progress) -> tuple[dict, dict]:
    """Explain each int8 artifact against its float reference; MNIST-C robustness of the float32 and int8 artifacts."""
    from .explain.runner import explain
    from .robustness.report import write_reports
    from .robustness.runner import default_cache, robustness

    by_name = {p.name: p for p in artifacts}
    explained = {}
    for candidate in [p for p in artifacts if "_int8." in p.name]:
        reference = (
            model_path if candidate.suffix == ".tflite" else by_name.get(candidate.name.replace("_int8.", "_float32."))
        )
        if reference is None:
            continue
        progress.say(f"explaining {candidate.name} against {Path(reference).name}")
        result = explain(
            reference,
            candidate,
            out / "explain" / candidate.name.replace(".", "_"),
            data_dir,
            progress=progress.indented(),
        )
        explained[candidate.name] = {"suspect": result.suspect, "markdown": result.files.get("markdown")}
    models = [
        p for p in artifacts if p.suffix in (".tflite", ".onnx") and ("_int8." in p.name or "_float32." in p.name)
    ]
    progress.say(f"robustness of {len(models)} artifacts under the 15 MNIST-C corruptions")
    report = robustness(models, data=data_dir, cache=default_cache(), progress=progress.indented())
    for model in report.models:
        progress.say(
            f"{Path(model.model).name}: MNIST-C mean {model.mean:.2%}, worst {model.worst} "
            f"{model.accuracy[model.worst]:.2%}"
        )
    return explained, write_reports(report, out / "robustness")


def pipeline_text(result) -> str:
    from .export.report import EXPORT_HEADERS, export_rows

    lines = [
        f"model: {result.model} (test accuracy {result.test_accuracy:.2%})",
        text_table(EXPORT_HEADERS, export_rows(result.artifacts)),
        f"parity: {'pass' if result.parity_passed else 'FAIL'}",
        f"bench: {result.bench_json}, {result.bench_markdown}"
        + (f", {result.bench_plot}" if result.bench_plot else ""),
    ]
    lines += [
        f"explain {name}: suspect {e['suspect'] or 'none'} ({e['markdown']})" for name, e in result.explain.items()
    ]
    if result.robustness:
        lines.append("robustness: " + ", ".join(result.robustness.values()))
    return "\n".join(lines)
