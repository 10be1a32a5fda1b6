"""Helpers for talking to the real running stack: free ports, JSON over HTTP, a resident on the REST channel."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stack import Stack  # noqa: F401  (scripts/stack.py, re-exported for the tests)

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listening_sockets(port: int) -> int:
    """Count the TCP sockets listening on the port on this machine (state 0A in /proc/net/tcp)."""
    rows = [row.split() for row in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    return sum(1 for row in rows if row[1].endswith(f":{port:04X}") and row[3] == "0A")


def listening_addresses(port: int) -> set:
    """Return the local addresses with a TCP socket listening on the port on this machine (IPv4 and IPv6)."""
    found = set()
    for table in ("tcp", "tcp6"):
        path = Path(f"/proc/net/{table}")
        for row in [line.split() for line in path.read_text().splitlines()[1:]] if path.exists() else []:
            address, _, hex_port = row[1].rpartition(":")
            if int(hex_port, 16) == port and row[3] == "0A":
                raw = bytes.fromhex(address)
                # /proc writes each 4-byte word in the machine's (little-endian) order.
                words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
                found.add(socket.inet_ntop(socket.AF_INET if len(words) == 4 else socket.AF_INET6, words))
    return found


def http(
    method: str, url: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """Send a JSON request and return (status, decoded JSON body)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
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

    def say(self, text: str) -> list[str]:
        status, replies = http("POST", self.url, {"sender": self.sender, "message": text})
        assert status == 200, replies
        return [reply.get("text", "") for reply in replies]


REFERENCE_GIVEN = re.compile(r"reference number is ([CPS]-[2-9A-HJKMNP-Z]{7})")


def reference_given(replies: list[str]) -> str | None:
    """Return the reference number the assistant gave in these replies, or None."""
    found = REFERENCE_GIVEN.search(" ".join(replies))
    return found.group(1) if found else None


def staff_headers(stack: Stack) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.environment()['INTAKE_STAFF_TOKEN']}"}


def get_case(stack: Stack, reference: str) -> dict[str, Any]:
    """Return a case with its details and transcript, as staff see it."""
    status, case = http("GET", f"{stack.backend_url}/api/cases/{reference}", headers=staff_headers(stack))
    assert status == 200, case
    return case


def cases_of(stack: Stack, sender: str) -> list[dict[str, Any]]:
    """Return every case one conversation made (newest first)."""
    status, page = http("GET", f"{stack.backend_url}/api/cases?sender_id={sender}", headers=staff_headers(stack))
    assert status == 200, page
    return page["items"]


def rasa_events(stack: Stack, sender: str) -> list[dict[str, Any]]:
    """Return a conversation's events from Rasa's HTTP API (with its token), as the backend reads them."""
    token = urllib.request.quote(stack.environment()["INTAKE_RASA_TOKEN"])
    # As the backend names it: Rasa does not percent-decode the conversation id in the path.
    status, tracker = http(
        "GET",
        f"{stack.rasa_url}/conversations/{urllib.request.quote(sender, safe=':@+')}"
        f"/tracker?include_events=ALL&token={token}",
    )
    assert status == 200, status
    return tracker["events"]


def taken_as_commands(events: list[dict[str, Any]]) -> list[str]:
    """Return the signs that a resident's message was taken as an external event's command: an `EXTERNAL_` intent
    or a staff reply's entity from a resident's message, or the staff-reply action run."""
    found = []
    for event in events:
        if event["event"] == "user":
            parse = event.get("parse_data") or {}
            intent = (parse.get("intent") or {}).get("name") or ""
            entities = [entity.get("entity") for entity in parse.get("entities", [])]
            if intent.startswith("EXTERNAL_") or "staff_reply" in entities:
                found.append(f"{event.get('text')!r} as {intent}")
        if event["event"] == "action" and event.get("name") == "action_relay_staff_reply":
            found.append("action_relay_staff_reply")
    return found


def wait_until(condition: Callable[[], Any], timeout: float = 90.0, every: float = 0.5) -> Any:
    """Return the first truthy value of `condition()`, polling; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"not true after {timeout:.0f} s: {condition}")


def stop_service(stack: Stack, name: str) -> None:
    """Stop one of the stack's servers (as a crash or an outage would) and wait until it is gone."""
    service = next(s for s in stack.services if s.name == name)
    assert service.process is not None
    os.killpg(service.process.pid, signal.SIGTERM)
    service.process.wait(timeout=30)


def start_service(stack: Stack, name: str) -> None:
    """Start a stopped server of the stack again, with the same command and settings, and wait until it answers."""
    service = next(s for s in stack.services if s.name == name)
    log = open(stack.var_dir / "log" / f"{name}.log", "ab")
    service.process = subprocess.Popen(
        service.command,
        cwd=ROOT,
        env=stack.environment(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    stack.wait_until_ready()


def forged_action_call(sender_id: str, slots: dict[str, Any]) -> dict[str, Any]:
    """Return what someone other than Rasa might post to an action server: submit a case with these slots."""
    tracker = {
        "sender_id": sender_id,
        "slots": {"kind": "service_request", "location": "12 Elm St", "confirmed": True, **slots},
        "latest_message": {},
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
    }
    return {
        "next_action": "action_submit_case",
        "sender_id": sender_id,
        "tracker": tracker,
        "domain": {},
        "version": "3.6.2",
    }
