"""The models a server serves, chosen by name from this list only, and the ONNX model the page runs itself."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..common.errors import EdgemnistError
from ..metadata import EMBEDDED_FIELDS
from ..predict import Predictor, load


@dataclass
class ServedModel:
    name: str  # the file name: what a client asks for
    predictor: Predictor

    def describe(self) -> dict:
        """The predictor's own description, named as clients ask for it; the server's file path stays private."""
        own = self.predictor.describe()
        del own["path"]
        return {"name": self.name, **own}


@dataclass
class BrowserModel:
    """The ONNX file the page runs with onnxruntime-web, and the contract to feed it.

    ``contract`` is the ONNX predictor's own when onnxruntime is installed here; otherwise only the fields
    embedded in every export of the model (scale, normalization, output kind, labels), and the page reads
    the tensor layout and dtype from the ONNX session itself."""

    name: str
    path: Path
    contract: dict
    same_file_as_server: bool


def shipped_model_paths() -> list[Path]:
    """Every shipped model whose runtime is installed here."""
    from ..pretrained import installed_runtimes, pretrained_dir, shipped_manifest

    runtimes = installed_runtimes()
    if not runtimes:
        raise EdgemnistError(
            "no runtime installed to run the shipped models: pip install 'edgemnist[tflite]' or 'edgemnist[onnx]'"
        )
    return [pretrained_dir() / entry["file"] for entry in shipped_manifest()["models"] if entry["format"] in runtimes]


def load_served_models(paths=None, threads: int = 1, **contract) -> list[ServedModel]:
    """``paths`` (default: the shipped models) → predictors, named by file name; one thread each, since
    concurrent requests already use the cores. ``contract``: ``input_scale``, ``normalize`` for foreign models."""
    paths = [Path(p) for p in paths] if paths else shipped_model_paths()
    served: dict[str, ServedModel] = {}
    for path in paths:
        if path.name in served:
            raise EdgemnistError(f"two models are named {path.name}: models are chosen by file name, rename one")
        served[path.name] = ServedModel(path.name, load(path, threads=threads, **contract))
    return list(served.values())


def choose_browser_model(served: list[ServedModel]) -> BrowserModel | None:
    """The first served ONNX model; else the shipped ONNX export of the first served model's arch."""
    for model in served:
        if model.predictor.backend == "onnxruntime":
            return BrowserModel(model.name, model.predictor.path, model.predictor.contract.to_dict(), True)
    arch = (served[0].predictor.metadata or {}).get("arch")
    path = shipped_onnx(arch) if arch else None
    if path is None:
        return None
    try:
        contract = load(path, threads=1).contract.to_dict()
    except EdgemnistError:  # no onnxruntime here: the page reads the tensors' part of the contract itself
        contract = {
            key: value for key, value in served[0].predictor.contract.to_dict().items() if key in EMBEDDED_FIELDS
        }
    return BrowserModel(path.name, path, contract, False)


def shipped_onnx(arch: str) -> Path | None:
    from ..pretrained import pretrained_dir, shipped_manifest

    try:
        entries = shipped_manifest()["models"]
    except EdgemnistError:
        return None
    for entry in entries:
        if entry["arch"] == arch and entry["format"] == "onnx" and (pretrained_dir() / entry["file"]).is_file():
            return pretrained_dir() / entry["file"]
    return None
