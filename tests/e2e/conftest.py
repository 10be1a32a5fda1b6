"""Start the real stack (backend, action server, Rasa) once for the end-to-end tests, on free ports."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from channel_live import StandIns
from live import free_port
from stack import Stack


@pytest.fixture(scope="session")
def stand_ins() -> Iterator[StandIns]:
    """Twilio's and Telegram's APIs on local ports, which the stack's channels talk to."""
    with StandIns() as running:
        yield running


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, stand_ins: StandIns) -> Iterator[Stack]:
    model = os.environ.get("INTAKE_MODEL")
    if not model:
        pytest.fail("INTAKE_MODEL is not set: run the tests with `make test`, which trains the model first")
    rasa_port = free_port()
    running = Stack(
        model=Path(model).resolve(),
        var_dir=tmp_path_factory.mktemp("var"),
        backend_port=free_port(),
        actions_port=free_port(),
        rasa_port=rasa_port,
        settings=stand_ins.settings(f"http://127.0.0.1:{rasa_port}"),
    )
    try:
        running.start()
        running.wait_until_ready()
        yield running
    finally:
        running.stop()
