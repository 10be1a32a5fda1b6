"""The bot environment's shared fixtures. The project's packages, these tests' helpers (bot_testing, channel_testing),
the end-to-end helpers (tests/e2e/live.py), the platform stand-ins and scripts/ and benchmarks/ are importable
through pyproject.toml's `pythonpath`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def backend_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the actions at a fresh outbox file (delivered by the test itself, no thread) and a fresh catalog."""
    from actions import catalog

    monkeypatch.setenv("INTAKE_OUTBOX_PATH", str(tmp_path / "outbox.db"))
    monkeypatch.setenv("INTAKE_OUTBOX_AUTOSTART", "0")
    monkeypatch.setenv("INTAKE_ACTIONS_TOKEN", "t0ken")
    monkeypatch.setenv("INTAKE_BACKEND_TIMEOUT", "2")
    monkeypatch.setenv("INTAKE_BACKEND_URL", "http://127.0.0.1:9")  # nothing listens: tests start a FakeBackend
    catalog.forget()
    yield tmp_path / "outbox.db"
    catalog.forget()
