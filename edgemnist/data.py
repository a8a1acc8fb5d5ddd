"""MNIST as uint8 arrays, from a folder, the Keras cache or Keras' download — always checksummed.

The official sha256 of each IDX file's uncompressed bytes is checked; a ``mnist.npz`` is checked by
re-building the IDX bytes from its arrays, so every source is verified against the same four digests.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .common.errors import EdgemnistError, first_line

ENV_VAR = "EDGEMNIST_DATA"
KERAS_CACHE = Path("~/.keras/datasets/mnist.npz")
IDX_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
NPZ_KEYS = {"train": ("x_train", "y_train"), "test": ("x_test", "y_test")}


@dataclass(frozen=True)
class Mnist:
    x_train: np.ndarray  # 60000×28×28 uint8
    y_train: np.ndarray  # 60000 uint8
    x_test: np.ndarray
    y_test: np.ndarray
    source: str

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        if name not in SPLIT_FILES:
            raise EdgemnistError(f"unknown split {name!r}; use 'train' or 'test'")
        return (self.x_train, self.y_train) if name == "train" else (self.x_test, self.y_test)


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of a uint8 array (magic 0x08 type, ndim, big-endian dims, data)."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def parse_idx(raw: bytes) -> np.ndarray:
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    dims = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def verify(name: str, raw: bytes, origin: Path) -> None:
    if hashlib.sha256(raw).hexdigest() != IDX_SHA256[name]:
        raise EdgemnistError(
            f"{origin} is corrupt or truncated: its sha256 does not match the official MNIST {name}; "
            "replace it with a fresh copy"
        )


def read_idx_file(folder: Path, name: str) -> np.ndarray:
    """Read ``name`` or ``name.gz`` from ``folder`` and check its official checksum."""
    for candidate, opener in ((folder / f"{name}.gz", gzip.open), (folder / name, open)):
        if candidate.is_file():
            try:
                with opener(candidate, "rb") as fh:
                    raw = fh.read()
            except (OSError, EOFError) as exc:
                raise EdgemnistError(
                    f"{candidate} is corrupt or truncated ({exc}); replace it with a fresh copy"
                ) from exc
            verify(name, raw, candidate)
            return parse_idx(raw)
    raise FileNotFoundError(f"{folder} has no {name}[.gz]")


def load_idx_folder(folder: Path) -> Mnist:
    arrays = {split: [read_idx_file(folder, name) for name in names] for split, names in SPLIT_FILES.items()}
    (x_train, y_train), (x_test, y_test) = arrays["train"], arrays["test"]
    return Mnist(x_train, y_train, x_test, y_test, source=str(folder))


def load_npz(path: Path) -> Mnist:
    try:
        with np.load(path) as npz:
            arrays = {key: npz[key] for keys in NPZ_KEYS.values() for key in keys}
    except Exception as exc:  # a truncated zip raises several unrelated types
        raise EdgemnistError(f"{path} is corrupt or truncated ({exc}); replace it with a fresh copy") from exc
    for split, names in SPLIT_FILES.items():
        for key, name in zip(NPZ_KEYS[split], names):
            verify(name, idx_bytes(arrays[key]), path)
    return Mnist(arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"], source=str(path))


def load_from(path: Path) -> Mnist:
    """A folder of IDX files, a folder holding ``mnist.npz``, or an ``.npz`` file."""
    if path.is_file():
        return load_npz(path)
    if not path.is_dir():
        raise FileNotFoundError(f"{path} does not exist")
    if (path / "mnist.npz").is_file() and not any(path.glob("*-idx?-ubyte*")):
        return load_npz(path / "mnist.npz")
    return load_idx_folder(path)


def download_with_keras() -> Path:
    """Keras' download into its cache, the file then read and verified like any copy."""
    from .common.deps import import_keras, native_output_silenced

    keras = import_keras()
    with native_output_silenced():  # Keras prints its download progress to stdout
        keras.datasets.mnist.load_data()
    return KERAS_CACHE.expanduser()


@functools.lru_cache(maxsize=4)
def load_once(path: Path) -> Mnist:
    """MNIST read and checksummed once per resolved path: the cache key is the folder, never the environment."""
    return load_from(path)


def load_mnist(data_dir: str | None = None) -> Mnist:
    """MNIST from ``data_dir``, else ``$EDGEMNIST_DATA``, else the Keras cache, else Keras' download."""
    explicit = data_dir or os.environ.get(ENV_VAR)
    if explicit:
        try:
            return load_once(Path(explicit).expanduser().resolve())
        except FileNotFoundError as exc:
            raise EdgemnistError(missing_data_message([f"{explicit} ({exc})"])) from exc
    attempts = [f"--data / ${ENV_VAR} (not set)"]
    cache = KERAS_CACHE.expanduser()
    if cache.is_file():
        return load_once(cache.resolve())
    attempts.append(f"the Keras cache {cache} (missing)")
    try:
        return load_once(download_with_keras().resolve())
    except EdgemnistError as exc:
        attempts.append(f"Keras' download ({exc})")
    except Exception as exc:  # no network, no TensorFlow: both are reported, not raised
        attempts.append(f"Keras' download (failed: {type(exc).__name__}: {first_line(exc)})")
    raise EdgemnistError(missing_data_message(attempts))


def missing_data_message(attempts: list[str]) -> str:
    return (
        "MNIST not found. Tried: " + "; ".join(attempts) + ". "
        f"Fix: point --data or {ENV_VAR} at a folder holding the four official IDX files "
        "(train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte; "
        "gzipped or not) or a mnist.npz, e.g. export EDGEMNIST_DATA=/path/to/mnist"
    )


def save_sample_png(index: int, out, split: str = "test", data_dir: str | None = None):
    """Write one MNIST digit as a PNG (the tutorial's "image 7777"), returning its label."""
    from PIL import Image

    from .common.files import atomic_path

    images, labels = load_mnist(data_dir).split(split)
    if not 0 <= index < len(images):
        raise EdgemnistError(f"--index must be between 0 and {len(images) - 1} for the {split} split")
    with atomic_path(out) as tmp:
        Image.fromarray(images[index], mode="L").save(tmp, format="PNG")
    return int(labels[index])
