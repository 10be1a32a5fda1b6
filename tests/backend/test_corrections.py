"""Staff corrections of a case's kind exported as candidate NLU examples (backend.corrections, manage CLI)."""

from __future__ import annotations

import stat
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from backend_testing import both_databases
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from staff_testing import (  # noqa: F401  (the underscored names are autouse fixtures)
    _empty_staff_tables,
    _quick_password_hashing,
    load,
    new_case,
    post_form,
    post_refused,
    signed_in,
)
from test_transcripts import Conversation

from backend import manage
from backend.cases.enums import CaseKind
from backend.cases.models import Case
from backend.staff.permissions import Role
from backend.transcripts.tables import events

PERSONAL_MESSAGE = (
    "my name is Dana Whitfield and the recycling crew threw my bin into the road AGAIN at 45 Elm St, "
    "call me at 416-555-0199 or write to dana.w@example.com"
)


def reclassify(client: TestClient, reference: str, kind: str, reason: str) -> None:
    response = post_form(client, f"/staff/cases/{reference}/reclassify", {"kind": kind, "reason": reason})
    assert response.status_code == 303, response.text


def talk(engine: Engine, sender_id: str, first: str, intent: str) -> None:
    """Write the conversation behind the sender's case: a greeting, then the message the assistant classified."""
    created = load_created_at(engine, sender_id)
    conversation = Conversation(engine, sender_id)
    conversation.session_start(created - 120)
    conversation.user(created - 110, "hi", "greet", 0.97)
    conversation.bot(created - 109, "Hello! How can I help?")
    conversation.user(created - 100, first, intent, 0.62)
    conversation.bot(created - 99, "Where was it?")
    conversation.user(created - 60, "corner of Queen and Bay", "inform", 0.9)


def load_created_at(engine: Engine, sender_id: str) -> float:
    with Session(engine) as session:
        moment: datetime = session.scalars(select(Case.created_at).where(Case.sender_id == sender_id)).one()
    return moment.timestamp()


def export(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[str, str]:
    """Run `python -m backend.manage export-corrections` on the test database; return the file and what it said."""
    monkeypatch.setenv("INTAKE_DATABASE_URL", database_url)
    monkeypatch.setenv("INTAKE_TRACKER_DATABASE_URL", database_url)
    out = tmp_path / "var" / "corrections" / "nlu_corrections.yml"
    assert manage.main(["export-corrections", "--out", str(out)]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert stat.S_IMODE(out.parent.stat().st_mode) == stat.S_IMODE(out.parent.parent.stat().st_mode) == 0o700
    return out.read_text(encoding="utf-8"), capsys.readouterr().out


def examples_by_intent(document: str) -> dict[str, list[str]]:
    data = yaml.safe_load(document)
    assert data["version"] == "3.1"
    found: dict[str, list[str]] = {}
    for block in data["nlu"]:
        assert set(block) == {"intent", "examples"}
        found.setdefault(block["intent"], []).extend(example["text"] for example in block["examples"])
    return found


def comments_before(document: str, text: str) -> list[str]:
    """Return the comment lines directly above the example with `text`."""
    lines = document.splitlines()
    index = next(i for i, line in enumerate(lines) if line.strip().startswith("- text:") and text in line)
    comments = []
    for line in reversed(lines[:index]):
        if not line.strip().startswith("#"):
            break
        comments.insert(0, line.strip())
    return comments


@both_databases
def test_staff_corrections_become_redacted_examples_under_the_kind_staff_chose(
    app: FastAPI,
    engine: Engine,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client, _ = signed_in(app, Role.AGENT)
    events.create(engine)  # Rasa's table, with an id each database fills in
    # The assistant read a repeat report about the crew as a service request; staff made it a complaint.
    personal = new_case(client, kind="service_request", sender_id="conv-personal", description="Bin in the road")
    talk(engine, "conv-personal", PERSONAL_MESSAGE, "service_request")
    reclassify(
        client,
        personal,
        "complaint",
        "Third report about the crew, Dana Whitfield asked for a call on 416-555-0199\nnot a first report",
    )
    # Changed twice: the kind staff chose last counts.
    twice = new_case(client, kind="complaint", sender_id="conv-twice", description="The crew")
    talk(engine, "conv-twice", "the crew that fixed the water main on my street were amazing", "complaint")
    reclassify(client, twice, "service_request", "Asks for the water main")
    reclassify(client, twice, "compliment", "Read again: they are thanking the crew")
    # The same words in two cases (one without a transcript: its description) make one example.
    by_description = new_case(
        client,
        kind="complaint",
        sender_id="conv-none",
        description="The streetlight outside the library has been out for a week",
    )
    reclassify(client, by_description, "service_request", "First report of a light out")
    same_words = new_case(client, kind="complaint", sender_id="conv-same", description="Streetlight")
    talk(engine, "conv-same", "the streetlight outside the library has been out for a week!", "complaint")
    reclassify(client, same_words, "service_request", "First report")
    # Changed back to the assistant's kind: no correction. Never changed: nothing to learn.
    reverted = new_case(client, kind="service_request", sender_id="conv-reverted", description="Pothole on Elm")
    reclassify(client, reverted, "complaint", "Sounded angry")
    reclassify(client, reverted, "service_request", "My mistake, a first report")
    untouched = new_case(client, kind="complaint", sender_id="conv-untouched", description="Rude driver")
    talk(engine, "conv-untouched", "the bus driver was rude to my son", "complaint")

    document, said = export(tmp_path, database_url, monkeypatch, capsys)

    assert "Wrote 3 candidate examples from 4 reclassified cases" in said
    found = examples_by_intent(document)
    assert sorted(found) == ["complaint", "compliment", "service_request"]
    [complaint] = found["complaint"]
    assert complaint.startswith("my name is [name] and the recycling crew threw my bin into the road AGAIN")
    assert "[phone]" in complaint and "[email]" in complaint and "block of Elm St" in complaint
    for personal_detail in ("Dana", "Whitfield", "416", "0199", "dana.w", "example.com", "45 Elm"):
        assert personal_detail not in document
    assert found["compliment"] == ["the crew that fixed the water main on my street were amazing"]
    assert found["service_request"] == ["The streetlight outside the library has been out for a week"]
    # A comment per case names its reference, the kinds and the reason (redacted, on one line).
    assert comments_before(document, "recycling crew") == [
        f"# {personal}: service_request -> complaint; Third report about the crew, [name] asked for a call on "
        "[phone] not a first report"
    ]
    assert comments_before(document, "water main") == [
        f"# {twice}: complaint -> compliment; Read again: they are thanking the crew"
    ]
    assert comments_before(document, "streetlight") == [
        f"# {by_description}: complaint -> service_request; First report of a light out",
        f"# {same_words}: complaint -> service_request; First report",
    ]
    for left_out in (reverted, untouched):
        assert left_out not in document
    assert "rude to my son" not in document and "Pothole" not in document
    assert "hi" not in {text for texts in found.values() for text in texts}
    assert load(engine, twice).kind is CaseKind.COMPLIMENT


@both_databases
def test_a_reason_is_required_and_no_correction_writes_an_empty_review_file(
    app: FastAPI,
    engine: Engine,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client, _ = signed_in(app, Role.AGENT)
    reference = new_case(client, kind="complaint")
    refused = post_refused(client, f"/staff/cases/{reference}/reclassify", {"kind": "compliment", "reason": "  \n "})
    assert "Please write why the kind changes" in refused.text
    assert load(engine, reference).kind is CaseKind.COMPLAINT

    document, said = export(tmp_path, database_url, monkeypatch, capsys)

    assert "Wrote 0 candidate examples from 0 reclassified cases" in said
    assert yaml.safe_load(document) == {"version": "3.1", "nlu": []}


def test_a_missing_sqlite_database_is_not_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "intake.db"
    monkeypatch.setenv("INTAKE_DATABASE_URL", f"sqlite:///{missing}")
    monkeypatch.delenv("INTAKE_TRACKER_DATABASE_URL")
    assert manage.main(["export-corrections", "--out", str(tmp_path / "out.yml")]) == 1
    assert "no case database" in capsys.readouterr().err
    assert not missing.exists() and not (tmp_path / "out.yml").exists()
