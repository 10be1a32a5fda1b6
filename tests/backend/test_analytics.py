"""Analytics: volumes, timeliness, compliments per team, key themes, charts with tables, and the CSV export."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone

import pytest
from backend_testing import both_databases
from fastapi import FastAPI
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session
from staff_testing import (  # noqa: F401  (the underscored names are autouse fixtures)
    _empty_staff_tables,
    _quick_password_hashing,
    new_case,
    post_form,
    set_created_at,
    signed_in,
)

from backend.analytics import themes
from backend.analytics.redaction import redact, redact_places
from backend.analytics.service import Selection, compute
from backend.audit.models import AuditEntry
from backend.cases.models import Case
from backend.database.types import utcnow
from backend.staff.permissions import Role
from backend.web.templating import duration

MONDAY = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)


def table(html: str, caption: str) -> list[tuple[str, str]]:
    """Return the (row header, value) pairs of the table with this caption."""
    found = re.search(rf"<caption>{re.escape(caption)}</caption>(.*?)</table>", html, re.S)
    assert found, caption
    return re.findall(r'<tr><th scope="row">(.*?)</th><td class="num">(.*?)</td>', found.group(1))


@both_databases
def test_volumes_and_timeliness(app: FastAPI, engine: Engine) -> None:
    client, _ = signed_in(app, Role.SUPERVISOR)
    plan = [
        # kind, division, service, days after Monday, acknowledged after (h), closed after (h), due in (days)
        ("complaint", "TW", "TW-NO-WATER", 0, 2, 48, 10),
        ("complaint", "TW", None, 1, None, None, 1),  # not acknowledged, acknowledge deadline passed
        ("service_request", "TS", "TS-POTHOLE", 7, 24, 400, 10),  # closed after its deadline
        ("compliment", "TS", None, 8, 1, 2, 10),
        ("compliment", None, None, 15, None, None, 10),
    ]
    made = []
    for kind, division, service, day, ack, closed, due in plan:
        reference = new_case(client, kind=kind, division=division or ..., service_code=service or ...)
        created = MONDAY + timedelta(days=day)
        values = {
            "acknowledge_due_at": created + timedelta(days=due if ack is not None else 1),
            "respond_due_at": created + timedelta(days=due),
            "acknowledged_at": created + timedelta(hours=ack) if ack is not None else None,
            "closed_at": created + timedelta(hours=closed) if closed is not None else None,
            "resolved_at": created + timedelta(hours=closed) if closed is not None else None,
        }
        set_created_at(engine, reference, created, **values)
        made.append(reference)
    assert post_form(client, f"/staff/cases/{made[3]}/forward", {"team": "Elm St road crew"}).status_code == 303

    with Session(engine) as session:
        figures = compute(
            session=session,
            catalog=app.state.catalog,
            levels=app.state.service_levels,
            selection=Selection(start=MONDAY.date(), end=MONDAY.date() + timedelta(days=20)),
            now=MONDAY + timedelta(days=60),
        )
    assert figures.total == 5
    assert figures.by_kind == [("complaint", 2), ("compliment", 2), ("service_request", 1)]
    assert figures.by_division == [("Toronto Water", 2), ("Transportation Services", 2), ("No division yet", 1)]
    assert figures.by_category == [("No water or low water pressure", 1), ("Pothole", 1), ("No category yet", 3)]
    assert [count for _, count in figures.by_week] == [2, 2, 1]
    assert figures.to_acknowledge.cases == 3 and figures.to_acknowledge.median_days == pytest.approx(2 / 24, abs=1e-3)
    assert figures.to_close.cases == 3 and figures.to_close.p90_days == pytest.approx(400 / 24, abs=1e-3)
    # Under a day is shown in hours (or minutes), not as "0.1 days".
    html = client.get(f"/staff/analytics?from={MONDAY.date()}&to={MONDAY.date() + timedelta(days=20)}").text
    assert "<dd>median 2 hours</dd>" in html and "90% within 1 day, over 3 cases" in html
    assert "90% within 16.7 days, over 3 cases" in html
    # Three acknowledged in time; two never acknowledged, with their deadline passed by "now".
    assert (figures.acknowledged_on_time.on_time, figures.acknowledged_on_time.due) == (3, 5)
    assert (figures.answered_on_time.on_time, figures.answered_on_time.due) == (2, 5)
    assert figures.compliments_by_team == [("Elm St road crew", 1), ("Team not named", 1)]


def test_the_page_draws_each_chart_with_a_table_behind_it(app: FastAPI, engine: Engine) -> None:
    client, _ = signed_in(app, Role.AGENT)
    for kind, subject in (("complaint", "policy"), ("complaint", None), ("compliment", None)):
        new_case(client, kind=kind, division="SWMS", details={"complaint_category": subject} if subject else ...)
    today = utcnow().date()
    html = client.get(f"/staff/analytics?from={today - timedelta(days=6)}&to={today}").text
    charts = re.findall(r'<svg role="img" aria-label="([^"]+)"', html)
    # Weeks, kind, division, category, complaint subjects and compliments; nothing is due yet, so the on-time
    # chart is a table only.
    assert len(charts) == 6
    assert table(html, "Complaints by what they are about: the numbers") == [
        ("A City rule or policy", "1"),
        ("Not said", "1"),
    ]
    assert "Cases by kind. Largest: Complaint, 2." in html
    assert table(html, "Cases by kind: the numbers") == [
        ("Complaint", "2"),
        ("Compliment", "1"),
        ("Service request", "0"),
    ]
    assert table(html, "Cases by division: the numbers") == [("Solid Waste Management Services", "3")]
    assert table(html, "Compliments per team: the numbers") == [("Solid Waste Management Services", "1")]
    assert "Cases received</dt><dd>3</dd>" in html


def test_the_period_and_filters_are_checked(app: FastAPI) -> None:
    client, _ = signed_in(app, Role.AGENT)
    for query, message in (
        ("from=2026-05-01&to=2026-04-01", "before the last day"),
        ("kind=x", "Choose a kind"),
        ("from=2020-01-01&to=2026-01-01", "at most three years"),
        ("to=soon", "YYYY-MM-DD"),
    ):
        response = client.get(f"/staff/analytics?{query}")
        assert response.status_code == 422 and message in response.text, query


def test_redaction_removes_phones_emails_and_addresses() -> None:
    text = (
        "Call 416-555-0199 or (647) 555 1234 or +1 905 555 0000, mail jo.doe+x@mail.example.ca, I live at "
        "45 Elm Street, M5V 2T6, see www.example.com/x"
    )
    assert redact(text) == (
        "Call [phone] or [phone] or [phone], mail [email], I live at [address], [postal code], see [link]"
    )
    assert redact("waited 20 minutes, 3 times, on route 12") == "waited 20 minutes, 3 times, on route 12"


def test_themes_stand_out_against_the_other_cases_and_leave_personal_details_out() -> None:
    selection = [
        ("a", "Green bin not emptied again, call me at 416-555-0199"),
        ("b", "my green bin was missed on collection day"),
        ("c", "the green bin is still full, email pat@example.com"),
        ("d", "green bin missed at 45 Elm Street"),
        ("d", "Zanzibar Zanzibar Zanzibar"),  # one resident's odd word, however often, is not a theme
    ]
    reference = [("x", "pothole on the road"), ("y", "big pothole on my street"), ("z", "collection day changed")]
    found = themes.key_themes(selection, reference)
    terms = [theme.term for theme in found]
    assert terms[0] == "green bin"
    assert "green" not in terms and "bin" not in terms  # folded into the phrase
    for personal in ("416", "555", "0199", "pat", "example", "elm", "street", "zanzibar"):
        assert not any(personal in term for term in terms), personal
    assert "collection" not in terms  # as common elsewhere: it does not stand out
    assert found[0].cases == 4 and found[0].share == 4 / 5


def test_themes_without_a_comparison_use_tf_idf() -> None:
    selection = [
        (str(i), text)
        for i, text in enumerate(
            ["water main break on my street", "water main leaking", "no water pressure", "water main flooding road"]
        )
    ]
    terms = [theme.term for theme in themes.key_themes(selection)]
    assert terms[0] == "water main"
    assert "street" not in terms  # one resident only


def test_analytics_page_shows_themes_for_a_division(app: FastAPI) -> None:
    client, _ = signed_in(app, Role.AGENT)
    for i, text in enumerate(["Green bin missed again", "my green bin missed", "green bin not emptied"]):
        new_case(client, division="SWMS", description=text, sender_id=f"r{i}")
    for i, text in enumerate(["pothole on the road", "pothole again", "green light broken"]):
        new_case(client, division="TS", description=text, sender_id=f"t{i}")
    html = client.get("/staff/analytics?division=SWMS").text
    assert re.search(
        r'<caption>Key themes</caption>.*?<th scope="row">green bin</th><td class="num">3</td>', html, re.S
    )
    assert "compared with the other cases of the same period" in html


@both_databases
def test_the_csv_export_follows_the_filters_and_can_leave_out_personal_details(app: FastAPI, engine: Engine) -> None:
    client, _ = signed_in(app, Role.AGENT)
    sensitive = new_case(
        client,
        kind="complaint",
        division="SWMS",
        location="45 Elm Street",
        description='=HYPERLINK("http://x") call 416-555-0199, jo@example.com',
    )
    new_case(client, kind="compliment", division="TS")
    with Session(engine) as session:
        session.execute(update(Case).where(Case.reference == sensitive).values(due_at=utcnow() - timedelta(days=1)))
        session.commit()
    full = client.get("/staff/cases.csv?kind=complaint")
    assert full.status_code == 200
    assert full.headers["content-type"].startswith("text/csv")
    assert "attachment" in full.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(full.text.lstrip("\ufeff"))))
    assert [row["reference"] for row in rows] == [sensitive]
    assert rows[0]["location"] == "45 Elm Street" and rows[0]["deadline"] == "overdue"
    assert rows[0]["description"].startswith("'=HYPERLINK")  # a spreadsheet shows it as text, never runs it
    redacted = client.get("/staff/cases.csv?kind=complaint&redacted=1")
    row = next(csv.DictReader(io.StringIO(redacted.text.lstrip("\ufeff"))))
    assert row["location"] == ""
    assert "416" not in row["description"] and "jo@example.com" not in row["description"]
    assert "[phone]" in row["description"] and "[email]" in row["description"]
    assert "sender_id" not in row
    with Session(engine) as session:
        query = session.query(AuditEntry).filter_by(action="export").order_by(AuditEntry.id)
        exports = [entry.after for entry in query]
    assert exports == [
        {"filters": {"kind": "complaint"}, "redacted": False},
        {"filters": {"kind": "complaint"}, "redacted": True},
    ]


def test_a_division_reviewer_exports_and_analyses_only_their_divisions(app: FastAPI) -> None:
    client, _ = signed_in(app, Role.DIVISION_REVIEWER, divisions=["TS"])
    ours = new_case(client, division="TS")
    theirs = new_case(client, division="TW")
    exported = client.get("/staff/cases.csv").text
    assert ours in exported and theirs not in exported
    html = client.get("/staff/analytics").text
    assert "Cases received</dt><dd>1</dd>" in html


@pytest.mark.parametrize(
    "days, shown",
    [
        (None, "—"),
        (0.0, "under a minute"),
        (5 / 1440, "5 minutes"),
        (1 / 1440, "1 minute"),
        (1 / 24, "1 hour"),
        (5.5 / 24, "5.5 hours"),
        (23.99 / 24, "1 day"),
        (1.0, "1 day"),
        (3.25, "3.2 days"),
        (16.6667, "16.7 days"),
    ],
)
def test_durations_are_shown_in_minutes_hours_or_days(days: float | None, shown: str) -> None:
    assert duration(days) == shown


def test_places_are_removed_before_themes_are_counted() -> None:
    assert (
        redact_places("Pothole on Elm Street again, near Spadina", "Elm Street")
        == "Pothole on [place] again, near [place]"
    )
    assert redact_places("at the corner of queen and spadina, my street is dark") == "at the [place], my street is dark"
    assert redact_places("garbage on bloor st not picked up", None) == "garbage on [place] not picked up"
    # The words of the place the resident gave go wherever they are.
    assert (
        redact_places("the oak by the school is down", "12 Oak Ave near the school")
        == "the [place] by the [place] is down"
    )
    selection = [
        (f"r{i}", text, place)
        for i, (text, place) in enumerate(
            [
                ("Pothole on Elm Street again", "Elm Street"),
                ("pothole on elm st is huge", "elm st near Oak"),
                ("huge pothole at the corner of Queen and Spadina", "Queen and Spadina"),
                ("pothole near Spadina on Queen St W, huge", "Queen St W"),
                ("pothole by the Riverdale Library, queen st", "the Riverdale Library"),
                ("riverdale pothole", "Riverdale"),
            ]
        )
    ]
    found = themes.key_themes([(resident, redact_places(text, place)) for resident, text, place in selection])
    terms = [theme.term for theme in found]
    assert "pothole" in terms and "huge" in terms
    for place in ("elm", "street", "queen", "spadina", "riverdale", "library", "corner", "oak"):
        assert not any(place in term.split() for term in terms), (place, terms)


def test_the_analytics_page_leaves_places_out_of_the_themes(app: FastAPI) -> None:
    client, _ = signed_in(app, Role.AGENT)
    for i, (text, place) in enumerate(
        [
            ("Green bin missed on Elm Street", "Elm Street"),
            ("green bin missed again, Elm St", "Elm St"),
            ("the green bin on Elm was missed", "15 Elm Street"),
        ]
    ):
        new_case(client, division="SWMS", description=text, location=place, sender_id=f"p{i}")
    html = client.get("/staff/analytics").text
    themes_table = html.split("<caption>Key themes</caption>")[1].split("</table>")[0]
    assert '<th scope="row">green bin</th>' in themes_table
    assert "elm" not in themes_table.lower() and "street" not in themes_table.lower()
    assert "places (street names, intersections, named places and the place each resident gave) are removed" in html
