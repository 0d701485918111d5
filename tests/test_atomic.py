"""atomic_path: a write replaces its target in one step, or leaves it as it was."""

from __future__ import annotations

import os
import stat

import pytest

from synthaug.atomic import atomic_path


def _leftovers(folder, name):
    return [p for p in folder.iterdir() if p.name.startswith(f".{name}.")]


def test_success_replaces_the_target(tmp_path):
    target = tmp_path / "model.zip"
    target.write_text("old")
    with atomic_path(target) as tmp:
        assert tmp != target and tmp.parent == tmp_path
        assert tmp.name.startswith(".model.zip.") and tmp.suffix == ".zip"
        tmp.write_text("new")
        assert target.read_text() == "old", "the target is untouched until the block ends"
    assert target.read_text() == "new"
    assert not tmp.exists()
    assert _leftovers(tmp_path, "model.zip") == []


def test_an_exception_leaves_the_old_file_and_no_temporary_file(tmp_path):
    target = tmp_path / "data.csv"
    target.write_text("a,b\n1,2\n")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_path(target) as tmp:
            tmp.write_text("half-written")
            raise RuntimeError("boom")
    assert target.read_text() == "a,b\n1,2\n"
    assert not tmp.exists()
    assert _leftovers(tmp_path, "data.csv") == []


def test_an_exception_without_a_target_creates_nothing(tmp_path):
    target = tmp_path / "new.json"
    with pytest.raises(ValueError):
        with atomic_path(target) as tmp:
            tmp.write_text("{}")
            raise ValueError("no")
    assert list(tmp_path.iterdir()) == []


def test_missing_folders_are_created_and_a_new_file_gets_a_plain_mode(tmp_path):
    target = tmp_path / "a" / "b" / "out.txt"
    with atomic_path(target) as tmp:
        tmp.write_text("x")
    assert target.read_text() == "x"
    mode = stat.S_IMODE(target.stat().st_mode)
    assert mode == 0o644, oct(mode)  # not mkstemp's private 0600


def test_an_existing_targets_mode_is_kept(tmp_path):
    target = tmp_path / "script.sh"
    target.write_text("old")
    os.chmod(target, 0o750)
    with atomic_path(target) as tmp:
        tmp.write_text("new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o750


def test_suffix_overrides_the_targets_suffix(tmp_path):
    with atomic_path(tmp_path / "image.png", suffix=".part") as tmp:
        assert tmp.suffix == ".part"
        tmp.write_bytes(b"\x89PNG")
    assert (tmp_path / "image.png").read_bytes() == b"\x89PNG"


def test_a_relative_path_in_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with atomic_path("plain.txt") as tmp:
        tmp.write_text("here")
    assert (tmp_path / "plain.txt").read_text() == "here"
