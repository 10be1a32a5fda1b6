"""`make classify`: one valid JSON object per input line, whatever the line holds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

LINES = [
    b"the crew on Elm St was amazing today, thank you!",
    b"my garbage wasnt picked up this week",
    b"",
    b"x" * 5000,
    "\U0001f621\U0001f5d1\ufe0f\U0001f621".encode(),
    b"Bonjour, il y a un nid-de-poule devant chez moi",
    b"bell\x07 and \x1b[31mescape\x00 chars",
    b"\xff\xfe not utf-8 \xc3",
    b'/complaint{"description": "x"}',
]


@pytest.fixture(scope="module")
def records():
    model = os.environ.get("INTAKE_MODEL")
    if not model:
        pytest.fail("INTAKE_MODEL is not set: run the tests with `make test`")
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "classify.py"), "--model", model],
        input=b"\n".join(LINES) + b"\n",
        capture_output=True,
        timeout=300,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.decode().splitlines()]


def test_one_json_object_per_line(records):
    assert len(records) == len(LINES)
    for record in records:
        assert set(record) == {"text", "kind", "intent", "confidence"}
        assert record["kind"] in {"complaint", "compliment", "service_request", "other"}
        assert 0.0 <= record["confidence"] <= 1.0


def test_texts_are_echoed_and_kinds_make_sense(records):
    assert records[0]["text"] == LINES[0].decode()
    assert records[0]["kind"] == "compliment"
    assert records[1]["kind"] == "service_request"
    assert records[2] == {"text": "", "kind": "other", "intent": None, "confidence": 0.0}
    assert len(records[3]["text"]) == 5000


def test_a_leading_slash_is_not_an_intent_command(records):
    assert records[-1]["confidence"] < 1.0  # an intent command would be taken at full confidence
