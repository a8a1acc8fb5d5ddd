"""The digits a command scores, calibrates or trains on: MNIST, or the user's own.

``--data`` names MNIST (its IDX files or ``mnist.npz``, see ``edgemnist.data``), an image folder (``DIR/0/…`` …
``DIR/9/…``, any format ``predict`` reads) or an ``.npz`` with ``x`` and ``y``. A user's images go through the
preprocessing ``predict`` applies to photos, so a score means what ``predict`` will do. A seeded, stratified
split cuts one folder into train, validation and test parts; MNIST keeps its official train and test sets.

A bad folder is refused in one line that counts what is wrong: a digit is never skipped silently from a score.
Hidden files and folders (``.DS_Store``, ``.originals/`` where ``serve --collect`` keeps uploads) are not digits.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from .common.errors import EdgemnistError, first_line
from .common.render import plural
from .contract import SIDE
from .data import load_mnist

PARTS = ("all", "train", "val", "test")
CLASSES = tuple(str(digit) for digit in range(10))
MNIST_PREPROCESSING = "none: MNIST's own 28×28 framing"
PHOTO_PREPROCESSING = "photo: as predict reads an image (ink on dark, cropped, fitted in 20×20, centred by mass)"
SHOWN = 3  # examples named in an error line


@dataclass(frozen=True)
class Split:
    """Shares of train, validation and test, and the seed that deals each class's digits into them."""

    train: float = 0.7
    val: float = 0.15
    test: float = 0.15
    seed: int = 0

    @classmethod
    def parse(cls, ratio: str, seed: int = 0) -> Split:
        """``"70:15:15"`` (any three non-negative numbers, normalised) → a Split."""
        try:
            shares = [float(part) for part in ratio.split(":")]
        except ValueError:
            shares = []
        if len(shares) != 3 or min(shares) < 0 or sum(shares) <= 0:
            raise EdgemnistError(f"--split-ratio {ratio!r} must be TRAIN:VAL:TEST, three shares such as 70:15:15")
        train, val, test = (share / sum(shares) for share in shares)
        return cls(train, val, test, seed)

    def describe(self) -> str:
        return f"{self.train:.0%} train, {self.val:.0%} val, {self.test:.0%} test, seed {self.seed}"


@dataclass(frozen=True)
class DataSelection:
    """What ``--data``, ``--split``, ``--split-ratio`` and ``--split-seed`` chose. ``path`` None: MNIST from its
    usual places; ``part`` None: the command's default part (MNIST's test set, or all of a user's folder)."""

    path: str | None = None
    part: str | None = None
    split: Split = Split()


@dataclass(frozen=True)
class DigitSet:
    images: np.ndarray  # N×28×28 uint8, as the model sees them
    labels: np.ndarray  # N uint8
    source: str
    kind: str  # "mnist", "folder" or "npz"
    part: str
    preprocessing: str
    split: str | None = None  # how a user's data was split (None: MNIST's own sets, or all of it)
    files: tuple[str, ...] | None = None  # each image's file, relative to the folder

    def first(self, limit: int | None) -> DigitSet:
        if limit is None:
            return self
        return replace(
            self,
            images=self.images[:limit],
            labels=self.labels[:limit],
            files=None if self.files is None else self.files[:limit],
        )

    def describe(self) -> DataRef:
        return DataRef(self.source, self.kind, self.part, len(self.labels), self.preprocessing, self.split)


@dataclass(frozen=True)
class DataRef:
    """The record a result keeps of the digits it was measured on."""

    source: str
    kind: str
    part: str
    images: int
    preprocessing: str
    split: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def as_selection(data: DataSelection | str | Path | None) -> DataSelection:
    if isinstance(data, DataSelection):
        return data
    return DataSelection(str(data) if data else None)


def scoring_digits(data: DataSelection | str | Path | None = None, limit: int | None = None) -> DigitSet:
    """The digits a score is measured on: the part ``--split`` names, by default MNIST's test set or all of a
    user's data; the first ``limit`` of them."""
    selection = as_selection(data)
    return load_part(selection, selection.part).first(limit)


def training_digits(data: DataSelection | str | Path | None = None) -> DigitSet:
    """Digits to learn or calibrate from: MNIST's training set, or the train part of a user's data."""
    return load_part(as_selection(data), "train")


def load_part(selection: DataSelection, part: str | None) -> DigitSet:
    if part is not None and part not in PARTS:
        raise EdgemnistError(f"--split {part!r} is not a part; use one of {', '.join(PARTS)}")
    path = Path(selection.path).expanduser() if selection.path else None
    if path is None or is_mnist(path):
        return mnist_part(selection.path, part or "test")
    whole = read_folder(path) if path.is_dir() else read_npz(path)
    return split_part(whole, part or "all", selection.split)


def is_mnist(path: Path) -> bool:
    """MNIST's IDX files or ``mnist.npz`` (a folder of them, or the file); a missing path is MNIST's to report."""
    if path.is_dir():
        return any(path.glob("*-idx?-ubyte*")) or (path / "mnist.npz").is_file()
    if path.suffix == ".npz" and path.is_file():
        try:
            with np.load(path) as npz:
                return "x_train" in npz.files
        except Exception:  # a damaged file is MNIST's loader's to report, with its own words
            return True
    return not path.exists()


def mnist_part(path: str | None, part: str) -> DigitSet:
    if part not in ("train", "test"):
        raise EdgemnistError(f"MNIST has a train and a test set, no {part!r} part; use --split train or test")
    mnist = load_mnist(path)
    images, labels = mnist.split(part)
    return DigitSet(images, labels, mnist.source, "mnist", part, MNIST_PREPROCESSING)


# -- a user's folder or .npz ----------------------------------------------------------------------------------
def visible(path: Path, root: Path) -> bool:
    return not any(part.startswith(".") for part in path.relative_to(root).parts)


def read_folder(root: Path) -> DigitSet:
    """``root/0/…`` … ``root/9/…`` (any depth below the class folder) → digits, in file-name order."""
    from .predict.images import load_digit_image

    entries = sorted(entry for entry in root.iterdir() if visible(entry, root))
    check_layout(root, entries)
    files = [
        (path, int(folder.name))
        for folder in entries
        for path in sorted(folder.rglob("*"))
        if path.is_file() and visible(path, root)
    ]
    digits, unreadable = [], []
    for path, _ in files:
        try:
            digits.append(load_digit_image(path))
        except EdgemnistError as exc:
            unreadable.append(f"{path.relative_to(root)} ({reason_without_path(exc, path)})")
    if unreadable:
        raise EdgemnistError(
            f"{plural(len(unreadable), 'file')} of {len(files)} in {root} cannot be read as a digit: "
            f"{examples(unreadable)}; fix or remove them"
        )
    return DigitSet(
        np.stack(digits).astype(np.uint8),
        np.array([label for _, label in files], np.uint8),
        str(root),
        "folder",
        "all",
        PHOTO_PREPROCESSING,
        files=tuple(str(path.relative_to(root)) for path, _ in files),
    )


def reason_without_path(exc: Exception, path: Path) -> str:
    """``"bad/3/x.txt is not an image …"`` → ``"not an image …"``: the error line names each file once."""
    return first_line(exc).replace(f"{path}: ", "").replace(f"{path} ", "").removeprefix("is ")


def check_layout(root: Path, entries: list[Path]) -> None:
    """Class folders named 0–9, nothing else, none empty: each fault is one line with its count."""
    loose = [entry.name for entry in entries if not entry.is_dir()]
    if loose:
        raise EdgemnistError(
            f"{plural(len(loose), 'file')} in {root} outside a class folder: {examples(loose)}; "
            f"put each digit's images in {root}/0 … {root}/9"
        )
    unknown = [entry for entry in entries if entry.name not in CLASSES]
    if unknown:
        described = [f"{entry.name} ({plural(len(list(entry.rglob('*'))), 'file')})" for entry in unknown]
        raise EdgemnistError(
            f"{plural(len(unknown), 'folder')} in {root} {'is' if len(unknown) == 1 else 'are'} not a digit 0–9: "
            f"{examples(described)}; a class folder is named 0 … 9"
        )
    if not entries:
        raise EdgemnistError(
            f"{root} has neither MNIST's IDX files nor class folders 0 … 9 (one folder per digit, images inside)"
        )
    empty = [e.name for e in entries if not any(p.is_file() and visible(p, root) for p in e.rglob("*"))]
    if empty:
        raise EdgemnistError(
            f"{plural(len(empty), 'class folder')} in {root} {'is' if len(empty) == 1 else 'are'} empty: "
            f"{', '.join(empty)}; add images or remove the folder"
        )


def read_npz(path: Path) -> DigitSet:
    """``x`` (N×H×W or N×H×W×1; uint8 0–255 or floats 0–1) and ``y`` (N labels 0–9) → digits."""
    from .predict.images import BlankImage, to_mnist_digit

    try:
        with np.load(path) as npz:
            if not {"x", "y"} <= set(npz.files):
                raise EdgemnistError(
                    f"{path} has arrays {', '.join(npz.files) or '(none)'}; a data set needs x (images) and y (labels)"
                )
            x, y = npz["x"], npz["y"]
    except (OSError, ValueError) as exc:
        raise EdgemnistError(f"{path} is not a readable .npz ({first_line(exc)})") from None
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim != 3 or y.shape != (len(x),):
        raise EdgemnistError(f"{path}: x must be N×H×W images and y N labels; got x {x.shape} and y {y.shape}")
    check_labels(path, y)
    gray = x.astype(np.float32) * (255.0 if x.dtype.kind == "f" and x.max(initial=0) <= 1 else 1.0)
    digits, blank = [], []
    for index, image in enumerate(gray):
        try:
            digits.append(to_mnist_digit(image))
        except BlankImage:
            blank.append(f"x[{index}]")
    if blank:
        raise EdgemnistError(f"{plural(len(blank), 'image')} of {len(x)} in {path} are blank: {examples(blank)}")
    images = np.stack(digits).astype(np.uint8).reshape(-1, SIDE, SIDE)
    return DigitSet(images, y.astype(np.uint8), str(path), "npz", "all", PHOTO_PREPROCESSING)


def check_labels(path: Path, labels: np.ndarray) -> None:
    outside = labels[~np.isin(labels, np.arange(10))] if labels.dtype.kind in "iu" else labels
    if labels.dtype.kind not in "iu" or len(outside):
        values = sorted({str(value) for value in outside.tolist()})
        raise EdgemnistError(
            f"{path}: {plural(len(outside), 'label')} of {len(labels)} outside the digits 0–9: {examples(values)}"
        )


# -- the split ------------------------------------------------------------------------------------------------
def split_part(whole: DigitSet, part: str, split: Split) -> DigitSet:
    if part == "all":
        return whole
    chosen = split_indices(whole.labels, split)[part]
    if not len(chosen):
        raise EdgemnistError(f"the {part} part of {whole.source} is empty ({split.describe()}): see --split-ratio")
    return replace(
        whole,
        images=whole.images[chosen],
        labels=whole.labels[chosen],
        part=part,
        split=split.describe(),
        files=None if whole.files is None else tuple(whole.files[i] for i in chosen),
    )


def split_indices(labels: np.ndarray, split: Split) -> dict[str, np.ndarray]:
    """Each class dealt on its own, shuffled by (seed, class): the same digits land in the same part every run,
    each part holds each class in the split's shares, and adding images of one class moves no other class."""
    parts: dict[str, list[int]] = {"train": [], "val": [], "test": []}
    for digit in range(10):
        members = np.flatnonzero(labels == digit)
        shuffled = members[np.random.default_rng([split.seed, digit]).permutation(len(members))]
        train_end = round(len(members) * split.train)
        val_end = train_end + round(len(members) * split.val)
        parts["train"] += shuffled[:train_end].tolist()
        parts["val"] += shuffled[train_end:val_end].tolist()
        parts["test"] += shuffled[val_end:].tolist()
    return {name: np.array(sorted(indices), dtype=np.int64) for name, indices in parts.items()}


def examples(items: list[str]) -> str:
    return ", ".join(items[:SHOWN]) + (f" and {len(items) - SHOWN} more" if len(items) > SHOWN else "")
