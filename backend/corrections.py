"""Candidate NLU training examples from staff corrections: ``python -m backend.manage export-corrections``.

Each time staff change a case's kind (with a reason), the assistant read the resident's words as the wrong kind.
The resident's first message is then a labelled example of the kind staff chose. This module lists every case
whose kind staff changed, takes the first message of its conversation from Rasa's tracker store (passing over a
bare greeting; the case's description when there is no transcript), removes personal details with the Open311
feed's redaction (names, phone numbers, emails, links, unit numbers, postal codes; a street address becomes its
block), merges identical messages, and writes Rasa NLU YAML (version "3.1") for a person to review into
``nlu_data/``. Nothing here ever writes to ``nlu_data/`` itself.

- The kind staff chose is the case's kind now; the kind the assistant gave is the one before the first change.
  A case changed back to the kind the assistant gave is no correction and is left out.
- Kinds map to intents of the same name (complaint, compliment, service_request); a kind "other", should one
  ever exist, maps to out_of_scope. Any other kind is left out.
- Cases that came through Open311 are left out: their kind was set by another system, not by the assistant.
- Each example carries a YAML comment with the case reference, the two kinds and the staff's reason, redacted like
  the message and, more bluntly, without any capitalised word inside a sentence (staff name people there).
  Identical messages (after redaction, ignoring case and spacing) become one example; when staff disagreed about
  them, the latest change decides and the comment names every case.
- The file is written owner-only (0600) in an owner-only folder, like everything else in ``var/``: redaction is a
  best effort, so the file is treated as holding residents' words.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml
from sqlalchemy import inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from backend.cases.enums import UpdateKind
from backend.cases.models import Case, CaseUpdate
from backend.database.core import PRIVATE_FILE_MODE, PRIVATE_FOLDER_MODE, Database
from backend.open311.redaction import public_text
from backend.transcripts import service as transcripts
from backend.transcripts.schemas import Role, Turn

DEFAULT_PATH = Path("var") / "corrections" / "nlu_corrections.yml"
# The intent each kind of case teaches. "other" is not a kind of case today; it is mapped should it become one.
INTENT_OF_KIND = {
    "complaint": "complaint",
    "compliment": "compliment",
    "service_request": "service_request",
    "other": "out_of_scope",
}
# Resident turns that are not yet the report: the first message is the first turn not read as one of these.
OPENING_INTENTS = frozenset({"greet"})
# Channels whose cases were not classified by the assistant.
NOT_THE_ASSISTANT = frozenset({"open311"})
MAX_EXAMPLE_CHARS = 2000
MAX_REASON_CHARS = 200
# In a staff reason, a capitalised word inside a sentence is most often someone's name ("spoke with Dana Whitfield").
_CAPITALISED_IN_SENTENCE = re.compile(r"(?<=[\w,)\]]\s)(?:[A-Z][a-z][\w'’-]*)(?:\s+[A-Z][a-z][\w'’-]*)*")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")


@dataclass(frozen=True)
class Correction:
    """One case whose kind staff changed: the resident's first message and what staff decided, redacted."""

    reference: str
    text: str
    assistant_kind: str
    staff_kind: str
    reason: str
    changed_at: datetime

    @property
    def intent(self) -> str:
        return INTENT_OF_KIND[self.staff_kind]


@dataclass
class Candidate:
    """One example for the review file, and the corrections it comes from (the latest last)."""

    text: str
    intent: str
    corrections: list[Correction] = field(default_factory=list)


@dataclass(frozen=True)
class ExportResult:
    """What `export` wrote: the number of examples, the number of corrected cases behind them, and where."""

    examples: int
    cases: int
    path: Path


class NoCaseDatabase(Exception):
    """The case database has no cases table yet (it was never migrated)."""


def one_line(text: str, limit: int) -> str:
    """Return `text` on one line: invisible and control characters out, spacing collapsed, at most `limit` long."""
    text = _UNPRINTABLE.sub(" ", unicodedata.normalize("NFC", text))
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def redact(text: str, limit: int) -> str:
    """Return `text` without personal details, on one line."""
    return one_line(public_text(one_line(text, 10 * limit)), limit)


def redact_reason(text: str) -> str:
    """Return a staff reason fit for a comment: redacted like a message, and every capitalised word inside a
    sentence taken for a name (a place or a team named that way is lost too: the comment only explains)."""
    return _CAPITALISED_IN_SENTENCE.sub("[name]", redact(text, MAX_REASON_CHARS))


def first_message(turns: Sequence[Turn], description: str) -> str:
    """Return the resident's first message of the conversation, or the case's description when there is none."""
    for turn in turns:
        if turn.role is Role.RESIDENT and turn.text and turn.text.strip() and turn.intent not in OPENING_INTENTS:
            return turn.text
    return description


def open_database(database_url: str, tracker_database_url: str | None = None) -> Database:
    """Open the case database and Rasa's tracker store; a SQLite file that is not there yet is not created."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        if not url.database.startswith("file:") and not Path(url.database).exists():
            raise NoCaseDatabase(f"There is no case database at {url.database} yet: nothing to export.")
    return Database(database_url, tracker_database_url)


def collect(database: Database) -> list[Correction]:
    """Return one correction per case whose kind staff changed away from the assistant's, oldest case first."""
    if not inspect(database.engine).has_table(Case.__tablename__):
        raise NoCaseDatabase("The case database has no cases yet: run `python -m backend.manage migrate` first.")
    query = (
        select(Case, CaseUpdate)
        .join(CaseUpdate, CaseUpdate.case_id == Case.id)
        .where(CaseUpdate.kind == UpdateKind.RECLASSIFICATION)
        .order_by(Case.id, CaseUpdate.id)
    )
    changes: dict[int, tuple[Case, list[CaseUpdate]]] = {}
    with Session(database.engine) as session:
        for case, update in session.execute(query).unique().all():
            changes.setdefault(case.id, (case, []))[1].append(update)
        session.expunge_all()
    corrections = []
    for case, updates in changes.values():
        assistant_kind, staff_kind = updates[0].old_value, case.kind.value
        if case.channel in NOT_THE_ASSISTANT or assistant_kind == staff_kind or staff_kind not in INTENT_OF_KIND:
            continue
        turns = transcripts.read(engine=database.tracker_engine, sender_id=case.sender_id, at=case.created_at)
        text = redact(first_message(turns, case.description), MAX_EXAMPLE_CHARS)
        if not text:
            continue
        corrections.append(
            Correction(
                reference=case.reference,
                text=text,
                assistant_kind=assistant_kind or "unknown",
                staff_kind=staff_kind,
                reason=redact_reason(updates[-1].text or ""),
                changed_at=updates[-1].created_at,
            )
        )
    return corrections


def _same_words(text: str) -> str:
    """Return the key under which two messages count as the same: case and spacing ignored, end marks dropped."""
    return " ".join(text.casefold().split()).strip(" .!?")


def candidates(corrections: Iterable[Correction]) -> list[Candidate]:
    """Merge corrections of the same message into one candidate; the latest change decides its intent."""
    merged: dict[str, Candidate] = {}
    for correction in sorted(corrections, key=lambda c: (c.changed_at, c.reference)):
        candidate = merged.setdefault(_same_words(correction.text), Candidate(correction.text, correction.intent))
        candidate.corrections.append(correction)
        candidate.intent = correction.intent
    return list(merged.values())


def _scalar(text: str) -> str:
    """Return `text` as a YAML double-quoted scalar on one line."""
    dumped = yaml.safe_dump(text, default_style='"', allow_unicode=True, width=1_000_000, explicit_end=False)
    return dumped.strip().removesuffix("...").strip()


def _comment(correction: Correction) -> str:
    reason = correction.reason or "no reason given"
    return f"# {correction.reference}: {correction.assistant_kind} -> {correction.staff_kind}; {reason}"


def render(found: Sequence[Candidate]) -> str:
    """Return the review file: Rasa NLU YAML, examples grouped by intent, a comment above each naming its cases."""
    lines = [
        "# Candidate NLU examples from staff corrections (python -m backend.manage export-corrections).",
        "# Each is a resident's first message, personal details removed, under the intent of the kind staff chose.",
        "# Review each one (is the intent right? is anything personal left?) and move the good ones to nlu_data/.",
        'version: "3.1"',
    ]
    by_intent: dict[str, list[Candidate]] = {}
    for candidate in found:
        by_intent.setdefault(candidate.intent, []).append(candidate)
    lines.append("nlu:" if by_intent else "nlu: []")
    for intent in sorted(by_intent):
        lines += [f"- intent: {intent}", "  examples:"]
        for candidate in by_intent[intent]:
            lines += [f"  {_comment(c)}" for c in candidate.corrections]
            lines.append(f"  - text: {_scalar(candidate.text)}")
    return "\n".join(lines) + "\n"


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` owner-only (0600), replacing it at once; create its folder owner-only (0700)."""
    missing = [folder for folder in (path.parent, *path.parent.parents) if not folder.exists()]
    for folder in reversed(missing):  # var/ too, when this makes it: owner-only like the database makes it
        folder.mkdir(exist_ok=True)
        os.chmod(folder, PRIVATE_FOLDER_MODE)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mkstemp: mode 0600
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(temporary, PRIVATE_FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def export(database: Database, path: Path = DEFAULT_PATH) -> ExportResult:
    """Write the review file of every staff correction to `path`; return what was written."""
    corrections = collect(database)
    found = candidates(corrections)
    write_private(path, render(found))
    return ExportResult(examples=len(found), cases=len(corrections), path=path)
