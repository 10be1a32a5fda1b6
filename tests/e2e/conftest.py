"""Start the real stack (backend, action server, Rasa) once for the end-to-end tests, on free ports."""

from __future__ import annotations

import json
import os
import socket
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from stack import Stack  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(method: str, url: str, body: Optional[Dict[str, Any]] = None,
         headers: Optional[Dict[str, str]] = None) -> Tuple[int, Any]:
    """Send a JSON request and return (status, decoded JSON body)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    model = os.environ.get("INTAKE_MODEL")
    if not model:
        pytest.fail("INTAKE_MODEL is not set: run the tests with `make test`, which trains the model first")
    running = Stack(
        model=Path(model).resolve(),
        var_dir=tmp_path_factory.mktemp("var"),
        backend_port=free_port(),
        actions_port=free_port(),
        rasa_port=free_port(),
    )
    try:
        running.start()
        running.wait_until_ready()
        yield running
    finally:
        running.stop()


class Resident:
    """A resident talking to the assistant through the REST channel."""

    def __init__(self, stack: Stack, sender: str) -> None:
        self.url = f"{stack.rasa_url}/webhooks/rest/webhook"
        self.sender = sender

    def say(self, text: str) -> List[str]:
        status, replies = http("POST", self.url, {"sender": self.sender, "message": text})
        assert status == 200, replies
        return [reply.get("text", "") for reply in replies]
