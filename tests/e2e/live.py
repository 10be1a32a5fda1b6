"""Helpers for talking to the real running stack: free ports, JSON over HTTP, a resident on the REST channel."""

from __future__ import annotations

import json
import os
import socket
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from stack import Stack  # noqa: E402,F401  (re-exported for the tests)


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


class Resident:
    """A resident talking to the assistant through the REST channel."""

    def __init__(self, stack: Stack, sender: str) -> None:
        self.url = f"{stack.rasa_url}/webhooks/rest/webhook"
        self.sender = sender

    def say(self, text: str) -> List[str]:
        status, replies = http("POST", self.url, {"sender": self.sender, "message": text})
        assert status == 200, replies
        return [reply.get("text", "") for reply in replies]
