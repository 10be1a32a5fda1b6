"""The stack's secrets files are readable by their owner only from the moment they exist, whatever the umask."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from live import ROOT  # noqa: F401  (puts scripts/ on the path)
from stack import SECRET_NAMES, load_or_create_secrets


@pytest.fixture
def open_umask():
    """Let every new file be readable and writable by anyone unless its creator says otherwise."""
    old = os.umask(0)
    yield
    os.umask(old)


@pytest.fixture
def no_chmod(monkeypatch):
    """Fail any change of mode: a secrets file must be private when made, not made private afterwards."""

    def refuse(*args, **kwargs):
        raise AssertionError("a mode was changed after the file was made")

    monkeypatch.setattr(os, "chmod", refuse)
    monkeypatch.setattr(os, "fchmod", refuse)
    monkeypatch.setattr(Path, "chmod", refuse)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_secrets_file_is_private_from_the_start(tmp_path, open_umask, no_chmod, monkeypatch):
    made = []
    real_open = os.open

    def recording_open(path, flags, mode=0o777, *args, **kwargs):
        if flags & os.O_CREAT:
            made.append((Path(path).parent, mode))
        return real_open(path, flags, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", recording_open)
    for name in SECRET_NAMES:
        monkeypatch.delenv(name, raising=False)
    values = load_or_create_secrets(tmp_path)
    path = tmp_path / "secrets.env"
    assert mode(path) == 0o600
    assert set(values) == set(SECRET_NAMES) and all(len(value) >= 32 for value in values.values())
    assert made and all(mode == 0o600 for folder, mode in made if folder == tmp_path), made
    assert [p.name for p in tmp_path.iterdir()] == ["secrets.env"]  # no file left behind


def test_an_existing_file_keeps_its_values_and_is_made_private(tmp_path, open_umask, monkeypatch):
    for name in SECRET_NAMES:
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "secrets.env"
    path.write_text("INTAKE_STAFF_TOKEN=kept\n")
    path.chmod(0o644)
    values = load_or_create_secrets(tmp_path)
    assert values["INTAKE_STAFF_TOKEN"] == "kept" and "INTAKE_ACTIONS_SECRET" in values
    assert mode(path) == 0o600
    assert load_or_create_secrets(tmp_path) == values
