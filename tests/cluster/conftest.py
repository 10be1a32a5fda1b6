"""Start the production profile (scripts/cluster.py) once for the fault tests, on free ports in a folder of its own."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cluster import Cluster  # scripts/cluster.py

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    model = os.environ.get("INTAKE_MODEL")
    if not model:
        pytest.fail("INTAKE_MODEL is not set: run the tests with `make test-cluster`, which trains the model first")
    # Not pytest's tmp_path: PostgreSQL runs as its own user, who must be able to enter the folder.
    folder = Path(tempfile.mkdtemp(prefix="intake-cluster-"))
    running = Cluster.on_free_ports(
        Path(model).resolve(), folder, rasa_servers=2, action_servers=2, settings={"INTAKE_OUTBOX_INTERVAL": "1"}
    )
    try:
        running.start()
        running.wait_until_ready()
        yield running
    finally:
        running.stop()
        # The servers' logs stay for people to read (var/test-artefacts/, never committed); the data goes.
        kept = ROOT / "var" / "test-artefacts" / "cluster-log"
        shutil.rmtree(kept, ignore_errors=True)
        shutil.copytree(running.log_dir, kept, dirs_exist_ok=True)
        shutil.rmtree(folder, ignore_errors=True)
