"""The cache folder is computed in one place, common.files.cache_dir, honouring $XDG_CACHE_HOME."""

from pathlib import Path

from edgemnist.common.files import cache_dir


def test_cache_dir_follows_xdg_cache_home_else_home(monkeypatch, tmp_path):
    from edgemnist.robustness.runner import default_cache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir("mnist-c") == tmp_path / "edgemnist" / "mnist-c" == default_cache()
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache() == Path(tmp_path / "home" / ".cache" / "edgemnist" / "mnist-c")
