"""The backend half of benchmarks/corrections.py: staff reclassify misread messages, then the export runs.

    .venvs/backend/bin/python benchmarks/corrections_backend.py misread.json nlu_corrections.yml

`misread.json` is a list of ``{"text", "assistant_kind", "staff_kind"}``. In a throwaway SQLite database each
becomes what the live system would hold: a case of the kind the assistant gave (``backend.cases.service.create``),
the resident's message in Rasa's tracker table as the conversation's first turn, then staff changing the kind with
a reason (``backend.cases.workflow.reclassify``, the staff form's code). ``backend.corrections.export`` then writes
the review file exactly as ``make corrections`` does. A staff kind that is not a kind of case (``other``: the
benchmark's ``--include-other``) cannot be stored; those are added to the export's input as the same
`Correction` records the database would give, and counted apart. Prints one JSON line of counts.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from backend import corrections, models  # noqa: E402,F401  (importing models maps every table)
from backend.cases import service as cases  # noqa: E402
from backend.cases import workflow  # noqa: E402
from backend.cases.enums import CaseKind  # noqa: E402
from backend.cases.schemas import CaseCreate  # noqa: E402
from backend.catalog.loader import load_catalog  # noqa: E402
from backend.config import DEFAULT_CATALOG_PATH  # noqa: E402
from backend.database import migrate  # noqa: E402
from backend.database.core import Database  # noqa: E402
from backend.database.types import utcnow  # noqa: E402
from backend.staff import users  # noqa: E402
from backend.staff.permissions import Role  # noqa: E402
from backend.transcripts.tables import events  # noqa: E402

CASE_KINDS = {kind.value for kind in CaseKind}


def user_event(sender_id: str, text: str, intent: str, timestamp: float) -> dict[str, object]:
    """Return a row of Rasa's events table holding one resident message, as its SQL tracker store writes it."""
    parse_data = {"intent": {"name": intent, "confidence": 0.5}, "entities": [], "text": text}
    data = {"event": "user", "timestamp": timestamp, "text": text, "parse_data": parse_data, "metadata": {}}
    return {
        "sender_id": sender_id,
        "type_name": "user",
        "timestamp": timestamp,
        "intent_name": intent,
        "action_name": None,
        "data": json.dumps(data),
    }


def main(source: Path, out: Path) -> int:
    misread = json.loads(source.read_text(encoding="utf-8"))
    catalog = load_catalog(DEFAULT_CATALOG_PATH)
    with tempfile.TemporaryDirectory(prefix="intake-bench-corrections-") as folder:
        url = f"sqlite:///{Path(folder) / 'intake.db'}"
        migrate.upgrade(url)
        database = Database(url)
        try:
            events.create(database.engine)
            with database.sessionmaker() as session:
                staff = users.create(
                    session=session,
                    catalog=catalog,
                    email="agent@city.example",
                    display_name="Agent",
                    role=Role.AGENT,
                    password="a benchmark-only password",
                    actor_label="benchmark",
                )
            stored, outside_kinds = 0, []
            for number, item in enumerate(misread):
                sender_id = f"sms:stream-{number}"
                if item["assistant_kind"] not in CASE_KINDS or item["staff_kind"] not in CASE_KINDS:
                    outside_kinds.append(
                        corrections.Correction(
                            reference=f"stream-{number}",
                            text=corrections.redact(item["text"], 2000),
                            assistant_kind=item["assistant_kind"],
                            staff_kind=item["staff_kind"],
                            reason=f"The resident's words are {item['staff_kind']}",
                            changed_at=utcnow(),
                        )
                    )
                    continue
                with database.engine.begin() as connection:
                    connection.execute(
                        events.insert(), [user_event(sender_id, item["text"], item["assistant_kind"], time.time() - 60)]
                    )
                with database.sessionmaker() as session:
                    case, _ = cases.create(
                        session=session,
                        catalog=catalog,
                        case_in=CaseCreate(
                            kind=CaseKind(item["assistant_kind"]),
                            description=item["text"],
                            channel="sms",
                            sender_id=sender_id,
                        ),
                    )
                    workflow.reclassify(
                        session=session,
                        case=case,
                        actor=staff,
                        catalog=catalog,
                        kind=CaseKind(item["staff_kind"]),
                        reason=f"Read again: the resident's words are a {item['staff_kind']}",
                    )
                stored += 1
            found = corrections.collect(database)
            merged = corrections.candidates(found + outside_kinds)
            corrections.write_private(out, corrections.render(merged))
        finally:
            database.dispose()
    print(
        json.dumps(
            {
                "cases_reclassified": stored,
                "outside_the_case_kinds": len(outside_kinds),
                "exported_from_database": len(found),
                "examples": len(merged),
            }
        )
    )
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
