"""The parser cache is a pickle: it is loaded only from a place no one else can have written.

Each test points ``XDG_CACHE_HOME`` at a temporary directory and plants a cache file that, if
unpickled, would create a marker file: the marker must appear only where the user alone could have
planted the file (which is the trust the cache rests on), and never where someone else could.
"""

from __future__ import annotations

import os
import pickle
import stat
from pathlib import Path

import pytest

from policy_dsl import parse as parse_module
from policy_dsl.parse import build_parser

pytestmark = pytest.mark.skipif(not hasattr(os, "getuid"), reason="user ids are a POSIX notion")


class _Planted:
    """Unpickling this opens (creates) the marker file: code run by loading the cache."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


def _cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cache-home"
    home.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    monkeypatch.delenv("POLICY_DSL_NO_CACHE", raising=False)
    return home / "policy_dsl"


def _cache_file(directory: Path) -> Path:
    path = parse_module._cache_path()
    assert isinstance(path, str), "the private directory must be usable"
    assert Path(path).parent == directory
    return Path(path)


def _plant(path: Path, marker: Path) -> None:
    path.write_bytes(b"planted\n" + pickle.dumps(_Planted(marker)))


def test_a_private_directory_is_used_and_the_file_kept_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = _cache_dir(tmp_path, monkeypatch)
    build_parser(cache=True)
    [written] = list(directory.iterdir())
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(written).st_mode) == 0o600
    fresh = build_parser(cache=False)
    loaded = build_parser(cache=True)
    assert hasattr(fresh, "grammar") and not hasattr(loaded, "grammar")  # this one came from the file


def test_the_users_own_private_file_is_what_the_cache_trusts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control for the tests below: the same planted file, private, is read (so they would
    fail if the checks were missing)."""
    directory = _cache_dir(tmp_path, monkeypatch)
    directory.mkdir(mode=0o700)
    path = _cache_file(directory)
    marker = tmp_path / "ran"
    _plant(path, marker)
    os.chmod(path, 0o600)
    build_parser(cache=True)
    assert marker.exists()


@pytest.mark.parametrize("mode", [0o666, 0o620, 0o602])
def test_a_file_others_can_write_is_not_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: int
) -> None:
    directory = _cache_dir(tmp_path, monkeypatch)
    directory.mkdir(mode=0o700)
    path = parse_module._cache_path()
    assert isinstance(path, str)
    marker = tmp_path / "ran"
    _plant(Path(path), marker)
    os.chmod(path, mode)
    assert parse_module._cache_path() is False
    parser = build_parser(cache=True)
    assert not marker.exists()
    assert parser.parse is not None


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o707, 0o1777])
def test_a_directory_others_can_write_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: int
) -> None:
    directory = _cache_dir(tmp_path, monkeypatch)
    directory.mkdir(mode=0o700)
    path = _cache_file(directory)
    marker = tmp_path / "ran"
    _plant(path, marker)
    os.chmod(path, 0o600)
    os.chmod(directory, mode)
    assert parse_module._cache_path() is False
    build_parser(cache=True)
    assert not marker.exists()
    assert [p.name for p in directory.iterdir()] == [path.name]  # nothing written there either


def test_a_symbolic_link_is_not_followed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = _cache_dir(tmp_path, monkeypatch)
    directory.mkdir(mode=0o700)
    path = _cache_file(directory)
    elsewhere = tmp_path / "elsewhere.cache"
    marker = tmp_path / "ran"
    _plant(elsewhere, marker)
    os.chmod(elsewhere, 0o600)
    path.symlink_to(elsewhere)
    assert parse_module._cache_path() is False
    build_parser(cache=True)
    assert not marker.exists()


def test_a_linked_cache_directory_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = _cache_dir(tmp_path, monkeypatch)
    target = tmp_path / "other-dir"
    target.mkdir(mode=0o700)
    directory.symlink_to(target, target_is_directory=True)
    assert parse_module._cache_path() is False


def test_a_parent_others_can_write_is_not_trusted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the sticky bit anyone may rename the private directory away and put theirs there."""
    directory = _cache_dir(tmp_path, monkeypatch)
    directory.mkdir(mode=0o700)
    os.chmod(directory.parent, 0o777)
    assert parse_module._cache_path() is False
    os.chmod(directory.parent, 0o1777)  # sticky, like /tmp: only the owner may rename
    assert isinstance(parse_module._cache_path(), str)


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="chown needs root")
def test_a_file_owned_by_someone_else_is_not_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = _cache_dir(tmp_path, monkeypatch)
    directory.mkdir(mode=0o700)
    path = _cache_file(directory)
    marker = tmp_path / "ran"
    _plant(path, marker)
    os.chmod(path, 0o600)
    os.chown(path, 65534, 65534)  # nobody
    assert parse_module._cache_path() is False
    build_parser(cache=True)
    assert not marker.exists()


def test_caching_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = _cache_dir(tmp_path, monkeypatch)
    monkeypatch.setenv("POLICY_DSL_NO_CACHE", "1")
    assert parse_module._cache_path() is False
    build_parser(cache=True)
    assert not directory.exists() or not list(directory.iterdir())
