"""Helpers for the fault tests: a resident who answers whatever the assistant asks, and what nginx says it did."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from channel_live import REFERENCE_GIVEN, answer_to, last_question
from cluster import Cluster

# What the resident answers when asked for words of their own (everyday answers come from channel_live.ANSWERS).
FACTS = {"description": "It has been like this for a week", "location": "45 Elm Street"}
_ADDRESS = re.compile(r"\b127\.0\.0\.1:(\d+)\b")


@dataclass
class Talk:
    """One resident's conversation through nginx's public listener, with what they sent and were told."""

    cluster: Cluster
    sender: str
    facts: dict = field(default_factory=lambda: dict(FACTS))
    sent: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # answers other than 200, each retried
    topics: list[str] = field(default_factory=list)  # what the assistant asked about, in order

    def say(self, text: str, retries: int = 0) -> list[str]:
        """Send one message and return the replies; on an error, send it again up to `retries` times."""
        for attempt in range(retries + 1):
            status, body = self._post(text)
            if status == 200:
                self.sent.append(text)
                self.replies = [reply.get("text", "") for reply in body]
                return self.replies
            self.failures.append(f"HTTP {status}")
            if attempt < retries:
                time.sleep(1 + attempt)
        raise AssertionError(f"{self.sender}: {text!r} got {self.failures[-1]} after {retries + 1} tries")

    def _post(self, text: str) -> tuple[int, list]:
        data = json.dumps({"sender": self.sender, "message": text}).encode()
        request = urllib.request.Request(
            f"{self.cluster.rasa_url}/webhooks/rest/webhook",
            data=data,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, []
        except OSError as error:  # the connection itself failed
            return 0, [str(error)]

    def answer(self, retries: int = 0) -> list[str]:
        """Answer the assistant's last question."""
        topic, text = answer_to(last_question(self.replies), self.facts)
        self.topics.append(topic)
        return self.say(text, retries)

    def reference(self) -> str | None:
        found = REFERENCE_GIVEN.search(" ".join(self.replies))
        return found.group(1) if found else None

    def answer_until_reference(self, retries: int = 0, turns: int = 20) -> str:
        """Answer each question until the assistant gives a reference number, and return it."""
        for _ in range(turns):
            reference = self.reference()
            if reference:
                return reference
            self.answer(retries)
        raise AssertionError(f"{self.sender}: no reference number after {turns} turns: {self.replies}")


def rasa_servers_used(cluster: Cluster, since_line: int = 0) -> list[str]:
    """Return, for each REST message nginx passed on after line `since_line` of its log, the Rasa server that
    answered it (its last upstream: an earlier one in the same line refused)."""
    lines = (cluster.log_dir / "nginx-access.log").read_text().splitlines()[since_line:]
    names = []
    for line in lines:
        if " /webhooks/rest/webhook " in line:
            ports = [int(port) for port in _ADDRESS.findall(line.split(" /webhooks/rest/webhook ", 1)[1])]
            if ports:
                names.append(f"rasa-{cluster.rasa_ports.index(ports[-1]) + 1}")
    return names


def access_log_length(cluster: Cluster) -> int:
    return len((cluster.log_dir / "nginx-access.log").read_text().splitlines())
