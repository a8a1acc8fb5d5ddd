"""Your own digits as --data: an image folder or an .npz, split by seed and class, refused in one line when bad."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import run_cli
from PIL import Image

from edgemnist.datasets import Split, split_indices
from edgemnist.pretrained import default_model

PER_CLASS = 6
MODEL = default_model()


def photo_of(digit: np.ndarray) -> Image.Image:
    """An MNIST digit as a user's photo: dark ink on white paper, twice the size, so preprocessing has work to do."""
    return Image.fromarray(255 - digit).resize((56, 56), Image.Resampling.BILINEAR)


@pytest.fixture(scope="module")
def folder(tmp_path_factory, mnist):
    root = tmp_path_factory.mktemp("own") / "digits"
    for label in range(10):
        (root / str(label)).mkdir(parents=True)
        for rank, index in enumerate(np.flatnonzero(mnist.y_test == label)[:PER_CLASS]):
            suffix = "png" if rank % 2 else "jpg"
            photo_of(mnist.x_test[index]).save(root / str(label) / f"{rank}.{suffix}")
    return root


def copy_of(folder, tmp_path):
    import shutil

    return shutil.copytree(folder, tmp_path / "digits")


def one_line_error(*args) -> str:
    result = run_cli(*args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_a_folder_is_scored_as_predict_reads_each_of_its_files(folder):
    result = run_cli("evaluate", MODEL, "--data", folder, "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    files = sorted(folder.rglob("*.*"))
    predicted = run_cli("predict", MODEL, *files, "--json")
    answers = [int(p["label"]) for p in json.loads(predicted.stdout)]
    truth = [int(path.parent.name) for path in files]
    assert report["images"] == 10 * PER_CLASS and report["data"]["kind"] == "folder"
    assert report["data"]["part"] == "all" and report["data"]["preprocessing"].startswith("photo")
    assert report["accuracy"] == pytest.approx(np.mean(np.array(answers) == truth))
    assert all(m["file"].split("/")[0] == str(m["label"]) for m in report["confident_mistakes"])


def test_the_text_names_the_folder_and_the_part(folder):
    result = run_cli("evaluate", MODEL, "--data", folder, "--split", "test", "--split-ratio", "50:0:50")
    assert result.exit_code == 0, result.stderr
    assert f"on 30 images of {folder} (test part; photo preprocessing)" in result.stdout


def test_split_parts_are_disjoint_stratified_and_seeded():
    labels = np.repeat(np.arange(10), [20, 30, 40, 50, 60, 70, 80, 90, 100, 110])
    parts = split_indices(labels, Split.parse("70:15:15"))
    joined = np.concatenate(list(parts.values()))
    assert len(joined) == len(labels) and len(set(joined.tolist())) == len(labels)
    assert [int(np.sum(labels[parts["test"]] == c)) for c in (0, 9)] == [3, 17]  # 20 → 14/3/3; 110 → 77/16/17
    assert all(np.array_equal(parts[k], split_indices(labels, Split.parse("70:15:15"))[k]) for k in parts)
    assert not np.array_equal(parts["test"], split_indices(labels, Split.parse("70:15:15", seed=1))["test"])


def test_more_images_of_one_class_move_no_other_class():
    labels = np.repeat(np.arange(10), 20)
    grown = np.concatenate([labels, np.full(15, 3)])
    before, after = split_indices(labels, Split()), split_indices(grown, Split())
    for part in before:
        kept = before[part][labels[before[part]] != 3]
        assert np.array_equal(kept, after[part][grown[after[part]] != 3])


def test_parity_and_bench_read_the_same_folder(folder, tmp_path):
    parity = run_cli("parity", MODEL, MODEL.with_suffix(".onnx"), "--data", folder, "--split", "test", "--json")
    assert parity.exit_code in (0, 1), parity.stderr
    compared = json.loads(parity.stdout)["results"][0]
    assert compared["images"] == 10 * round(PER_CLASS * 0.15) and compared["data"]["source"] == str(folder)
    bench = run_cli("bench", MODEL, "--data", folder, "--batch", "1", "--runs", 10, "--warmup", 0, "--json", "--quiet")
    assert bench.exit_code == 0, bench.stderr
    report = json.loads(bench.stdout)
    evaluated = json.loads(run_cli("evaluate", MODEL, "--data", folder, "--json").stdout)
    assert report["settings"]["data"]["images"] == 10 * PER_CLASS
    assert report["rows"][0]["accuracy"] == pytest.approx(evaluated["accuracy"])


def test_an_npz_of_mnist_digits_scores_as_mnist_itself(mnist, tmp_path):
    path = tmp_path / "mine.npz"
    np.savez(path, x=mnist.x_test[:200], y=mnist.y_test[:200])
    from_npz = json.loads(run_cli("evaluate", MODEL, "--data", path, "--json").stdout)
    from_mnist = json.loads(run_cli("evaluate", MODEL, "--limit", 200, "--json").stdout)
    assert from_npz["data"]["kind"] == "npz" and from_npz["images"] == 200
    assert from_npz["accuracy"] == from_mnist["accuracy"]


def test_hidden_files_and_folders_are_not_digits(folder, tmp_path):
    root = copy_of(folder, tmp_path)
    (root / ".DS_Store").write_bytes(b"\0\1")
    (root / ".originals" / "4").mkdir(parents=True)
    (root / ".originals" / "4" / "upload.png").write_bytes(b"not read")
    result = json.loads(run_cli("evaluate", MODEL, "--data", root, "--json").stdout)
    assert result["images"] == 10 * PER_CLASS


def test_an_empty_class_folder_is_one_line(folder, tmp_path):
    root = copy_of(folder, tmp_path)
    for image in (root / "7").iterdir():
        image.unlink()
    assert f"1 class folder in {root} is empty: 7" in one_line_error("evaluate", MODEL, "--data", root)


def test_unreadable_files_are_counted_in_one_line(folder, tmp_path):
    root = copy_of(folder, tmp_path)
    (root / "3" / "notes.png").write_text("not an image")
    Image.new("L", (28, 28), 255).save(root / "5" / "blank.png")
    line = one_line_error("parity", MODEL, MODEL, "--data", root)
    assert f"2 files of {10 * PER_CLASS + 2} in {root} cannot be read as a digit" in line
    assert "3/notes.png (" in line and "5/blank.png (" in line


def test_a_folder_outside_the_digits_is_one_line(folder, tmp_path):
    root = copy_of(folder, tmp_path)
    (root / "10").mkdir()
    photo_of(np.zeros((28, 28), np.uint8)).save(root / "10" / "a.png")
    assert "1 folder in" in (line := one_line_error("evaluate", MODEL, "--data", root)) and "10 (1 file)" in line


def test_files_outside_class_folders_are_one_line(folder, tmp_path):
    root = copy_of(folder, tmp_path)
    (root / "loose.png").write_bytes((root / "1" / "0.jpg").read_bytes())
    assert "outside a class folder: loose.png" in one_line_error("evaluate", MODEL, "--data", root)


def test_npz_labels_outside_the_digits_are_one_line(mnist, tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, x=mnist.x_test[:5], y=np.array([1, 2, 12, 3, -1]))
    assert "2 labels of 5 outside the digits 0–9: -1, 12" in one_line_error("evaluate", MODEL, "--data", path)


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--split", "val"], "MNIST has a train and a test set"),
        (["--split-ratio", "70:30"], "--split-ratio '70:30' must be TRAIN:VAL:TEST"),
    ],
)
def test_a_split_that_cannot_be_made_is_one_line(args, said):
    assert said in one_line_error("evaluate", MODEL, *args)
