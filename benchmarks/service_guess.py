"""How often the assistant guesses the right type of request and the right team from a resident's first message.

Each message of tests/data/service_guess.yml is read as the assistant reads a report's story: the catalog's
service guess (actions/catalog.py `guess_service`, keywords in backend/catalog.yml), then the team that service
belongs to, or the 311 triage queue when no service is guessed and the catalog has one. A message no catalog
service fits is right when nothing is guessed and it goes to triage.

    .venvs/bot/bin/python benchmarks/service_guess.py [--misses]

It prints the share of right types and right teams on every message, on the messages used to tune the keywords,
on the held-out ones, and on the fresh ones written after the keywords; --misses lists each wrong guess.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actions.catalog import Catalog  # noqa: E402

DATA = ROOT / "tests" / "data" / "service_guess.yml"
CATALOG = ROOT / "backend" / "catalog.yml"


def load_reports(path: Path = DATA) -> list[dict[str, Any]]:
    """Return the labelled first messages."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))["reports"]


def load_catalog(path: Path = CATALOG) -> Catalog:
    """Return the catalog as the assistant sees it (GET /api/catalog serves this same file)."""
    return Catalog.from_json(yaml.safe_load(path.read_text(encoding="utf-8")))


def route(known: Catalog, text: str) -> tuple[str | None, str | None]:
    """Return (service code, division code) the assistant would file the message under."""
    service = known.guess_service(text)
    if service is not None:
        return service.code, service.division
    triage = getattr(known, "triage_division", lambda: None)()
    return None, triage.code if triage is not None else None


def score(known: Catalog, reports: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the counts of right types and teams, and the misses."""
    right_type = right_team = 0
    misses = []
    for report in reports:
        service, division = route(known, report["text"])
        type_ok = service == report.get("service")
        team_ok = division == report["division"]
        right_type += type_ok
        right_team += team_ok
        if not (type_ok and team_ok):
            misses.append((report["text"], report.get("service"), report["division"], service, division))
    return {"n": len(reports), "type": right_type, "team": right_team, "misses": misses}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list each wrong guess")
    args = parser.parse_args(argv)
    known = load_catalog()
    reports = load_reports()
    sets = {
        "all": reports,
        "tuning": [r for r in reports if not r.get("held_out") and not r.get("written_after")],
        "held-out": [r for r in reports if r.get("held_out")],
        "fresh": [r for r in reports if r.get("written_after")],
    }
    print(f"{'set':<10} {'messages':>8} {'right type':>12} {'right team':>12}")
    for name, chosen in sets.items():
        result = score(known, chosen)
        n = result["n"]
        print(f"{name:<10} {n:>8} {result['type'] / n:>12.1%} {result['team'] / n:>12.1%}")
    if args.misses:
        for text, service, division, got_service, got_division in score(known, reports)["misses"]:
            print(f"- {text!r}: want {service} / {division}, got {got_service} / {got_division}")


if __name__ == "__main__":
    main()
