"""The board's cache: files named by sha256, stored only when the bytes match the name."""

import hashlib
import io

import pytest

from edgemnist.targets.cache import cache_folder, cache_name, check, put


@pytest.fixture(autouse=True)
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home-cache"))


def test_a_copy_is_stored_under_its_sha256(tmp_path):
    model = tmp_path / "model.tflite"
    model.write_bytes(b"TFL3 model bytes")
    name = cache_name(model)
    assert name == hashlib.sha256(b"TFL3 model bytes").hexdigest() + ".tflite"
    assert check([name]) == {"folder": str(cache_folder()), "present": []}
    assert put(name, io.BytesIO(model.read_bytes())).read_bytes() == model.read_bytes()
    assert check([name])["present"] == [name]
    assert cache_folder() == tmp_path / "home-cache" / "edgemnist" / "bench"


def test_a_corrupted_copy_is_refused_and_leaves_nothing():
    name = hashlib.sha256(b"the real bytes").hexdigest() + ".npz"
    with pytest.raises(SystemExit, match="arrived corrupted"):
        put(name, io.BytesIO(b"the real byt"))
    assert list(cache_folder().iterdir()) == []


def test_a_file_that_no_longer_matches_its_name_is_removed():
    name = put(hashlib.sha256(b"digits").hexdigest() + ".npz", io.BytesIO(b"digits")).name
    (cache_folder() / name).write_bytes(b"digi")  # e.g. a disk error, or an edit by hand
    assert check([name])["present"] == [] and not (cache_folder() / name).exists()


@pytest.mark.parametrize("name", ["../escape.npz", "model.tflite", "a" * 64 + ".tflite/x"])
def test_only_cache_names_are_accepted(name):
    with pytest.raises(SystemExit, match="not a cache file name"):
        check([name])
