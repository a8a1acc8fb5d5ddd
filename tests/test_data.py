import gzip
import shutil

import numpy as np
import pytest
from conftest import run_cli

from edgemnist.common.errors import EdgemnistError
from edgemnist.data import IDX_SHA256, load_from, load_mnist


def test_official_files_load_with_shapes_and_labels(mnist):
    assert mnist.x_train.shape == (60000, 28, 28) and mnist.x_test.shape == (10000, 28, 28)
    assert mnist.x_train.dtype == np.uint8 and mnist.y_test.dtype == np.uint8
    assert np.bincount(mnist.y_test).tolist()[:3] == [980, 1135, 1032]  # MNIST's known class counts


def test_uncompressed_idx_files_load_identically(tmp_path, data_dir, mnist):
    for name in IDX_SHA256:
        with gzip.open(f"{data_dir}/{name}.gz", "rb") as src, open(tmp_path / name, "wb") as dst:
            shutil.copyfileobj(src, dst)
    raw = load_from(tmp_path)
    assert np.array_equal(raw.x_test, mnist.x_test) and np.array_equal(raw.y_train, mnist.y_train)


def test_npz_is_verified_like_the_idx_files(tmp_path, mnist):
    arrays = dict(x_train=mnist.x_train, y_train=mnist.y_train, x_test=mnist.x_test, y_test=mnist.y_test)
    np.savez(tmp_path / "mnist.npz", **arrays)
    assert np.array_equal(load_from(tmp_path / "mnist.npz").x_train, mnist.x_train)
    arrays["y_test"] = mnist.y_test.copy()
    arrays["y_test"][0] ^= 1  # one wrong label
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(EdgemnistError, match="corrupt or truncated"):
        load_from(tmp_path / "bad.npz")


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_damaged_file_is_refused(tmp_path, data_dir, damage):
    for name in IDX_SHA256:
        shutil.copyfile(f"{data_dir}/{name}.gz", tmp_path / f"{name}.gz")  # not the read-only mode of shared/
    target = tmp_path / "t10k-labels-idx1-ubyte.gz"
    if damage == "truncate":
        target.write_bytes(target.read_bytes()[:2000])
    else:
        raw = bytearray(gzip.decompress(target.read_bytes()))
        raw[100] ^= 0xFF
        target.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(EdgemnistError, match="t10k-labels.*corrupt or truncated"):
        load_from(tmp_path)


def test_missing_data_says_what_it_tried_and_exits_2(tmp_path, monkeypatch):
    monkeypatch.delenv("EDGEMNIST_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no Keras cache there
    monkeypatch.setattr("edgemnist.data.download_with_keras", lambda: (_ for _ in ()).throw(OSError("no network")))
    result = run_cli("sample", "--out", tmp_path / "d.png")
    assert result.exit_code == 2
    assert "MNIST not found" in result.stderr and "EDGEMNIST_DATA" in result.stderr and "Keras cache" in result.stderr
    assert "Traceback" not in result.output and not (tmp_path / "d.png").exists()


def test_data_option_pointing_nowhere_exits_2(tmp_path):
    result = run_cli("sample", "--data", tmp_path / "nothing", "--out", tmp_path / "d.png")
    assert result.exit_code == 2 and "MNIST not found" in result.stderr


def test_sample_writes_the_tutorials_image(tmp_path, data_dir, mnist):
    from PIL import Image

    result = run_cli("sample", "--index", 7777, "--out", tmp_path / "d.png", "--data", data_dir)
    assert result.exit_code == 0, result.stderr
    assert np.array_equal(np.asarray(Image.open(tmp_path / "d.png")), mnist.x_test[7777])
    assert f"label {mnist.y_test[7777]}" in result.output


def test_the_cache_follows_the_folder_the_environment_names(tmp_path, data_dir, monkeypatch):
    """Two folders holding MNIST: changing $EDGEMNIST_DATA between two calls reads the second one."""
    folders = [tmp_path / "first", tmp_path / "second"]
    for folder in folders:
        folder.mkdir()
        for name in IDX_SHA256:
            (folder / f"{name}.gz").symlink_to(f"{data_dir}/{name}.gz")
    sources = []
    for folder in folders:
        monkeypatch.setenv("EDGEMNIST_DATA", str(folder))
        sources.append(load_mnist().source)
    assert sources == [str(folder.resolve()) for folder in folders]
    assert load_mnist(str(folders[0])) is load_mnist(str(folders[0] / ".." / "first"))  # one read per folder
