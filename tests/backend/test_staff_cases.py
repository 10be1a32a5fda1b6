"""The staff case list (filters, keyset paging), the case page (transcript, history) and every action on a case."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from backend_testing import STAFF, both_databases
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session
from staff_testing import (  # noqa: F401  (the underscored names are autouse fixtures)
    _empty_staff_tables,
    _quick_password_hashing,
    load,
    make_user,
    new_case,
    post_form,
    post_refused,
    set_created_at,
    signed_in,
)
from test_transcripts import Conversation

from backend.audit.models import AuditEntry
from backend.cases.enums import CaseKind, CaseStatus
from backend.cases.models import Case, CaseUpdate
from backend.database.types import utcnow
from backend.staff.permissions import Role
from backend.transcripts.tables import events
from backend.web.case_details import resolve_day

ROW = re.compile(r'<th scope="row"><a href="/staff/cases/([A-Z]-[A-Z0-9]{7})">')


def listed(client: TestClient, query: str = "") -> list[str]:
    response = client.get(f"/staff/cases?{query}")
    assert response.status_code == 200, response.text
    return ROW.findall(response.text)


@both_databases
def test_the_list_filters_by_every_field(app: FastAPI, engine: Engine) -> None:
    client, agent = signed_in(app, Role.AGENT)
    start = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)  # a Monday
    rows = [
        # kind, division, service, channel, text
        ("complaint", "SWMS", "SWMS-MISSED-PICKUP", "sms", "The truck skipped us again, 100% annoyed"),
        ("compliment", "TS", None, "telegram", "The road crew was great"),
        ("service_request", "TS", "TS-POTHOLE", "rest", "Pothole on the right_lane"),
        ("service_request", "TW", "TW-WATER-MAIN-BREAK", "rest", "Water coming up from the road"),
        ("complaint", None, None, "web", "Nobody answers at 311"),
    ]
    made = []
    for i, (kind, division, service, channel, text) in enumerate(rows):
        reference = new_case(
            client,
            kind=kind,
            division=division or ...,
            service_code=service or ...,
            channel=channel,
            description=text,
            location=f"{i} Queen St",
        )
        set_created_at(engine, reference, start + timedelta(days=i))
        made.append(reference)
    newest_first = made[::-1]
    assert listed(client) == newest_first
    assert listed(client, "kind=complaint") == [made[4], made[0]]
    assert listed(client, "division=TS") == [made[2], made[1]]
    assert listed(client, "category=TS-POTHOLE") == [made[2]]
    assert listed(client, "channel=rest") == [made[3], made[2]]
    assert listed(client, "kind=service_request&division=TS") == [made[2]]
    # Dates are the City's calendar days, both ends included.
    assert listed(client, "from=2026-03-03&to=2026-03-04") == [made[2], made[1]]
    # Text search: words, the place, the reference in any spelling; % and _ are plain characters.
    assert listed(client, "q=skipped") == [made[0]]
    assert listed(client, "q=3+queen") == [made[3]]
    assert listed(client, f"q={made[1].lower().replace('-', '')}") == [made[1]]
    assert listed(client, "q=100%25") == [made[0]]
    assert listed(client, "q=right_lane") == [made[2]]
    assert listed(client, "q=t_e") == []
    # What a complaint is about, as the assistant recorded it.
    with Session(engine) as session:
        session.execute(update(Case).where(Case.reference == made[0]).values(details={"complaint_category": "policy"}))
        session.commit()
    assert listed(client, "subject=policy") == [made[0]]
    assert listed(client, "subject=staff") == []
    assert "A City rule or policy" in client.get(f"/staff/cases/{made[0]}").text
    # Status, open cases, and cases assigned to me.
    with Session(engine) as session:
        session.execute(update(Case).where(Case.reference == made[1]).values(status=CaseStatus.CLOSED))
        session.execute(update(Case).where(Case.reference == made[3]).values(assignee_id=agent.id))
        session.commit()
    assert listed(client, "status=closed") == [made[1]]
    assert made[1] not in listed(client, "status=open")
    assert listed(client, "assignee=me") == [made[3]]
    text = client.get("/staff/cases?kind=complaint").text
    assert "2 cases match." in text


def test_bad_filters_are_explained_not_ignored(app: FastAPI) -> None:
    client, _ = signed_in(app, Role.AGENT)
    new_case(client)
    response = client.get("/staff/cases?kind=question&from=yesterday&division=NOPE&category=X&status=odd&subject=y")
    assert response.status_code == 200
    for message in (
        "Choose a kind",
        "YYYY-MM-DD",
        "Choose a division",
        "Choose a category",
        "Choose a status",
        "Choose what the complaint is about",
    ):
        assert message in response.text
    assert ROW.findall(response.text) == []


@both_databases
def test_overdue_and_due_soon_cases_stand_out_and_filter(app: FastAPI, engine: Engine) -> None:
    client, _ = signed_in(app, Role.AGENT)
    late, soon, later = (new_case(client, description=f"case {i}") for i in range(3))
    now = utcnow()
    with Session(engine) as session:
        for reference, due in (
            (late, now - timedelta(hours=1)),
            (soon, now + timedelta(minutes=30)),
            (later, now + timedelta(days=30)),
        ):
            session.execute(update(Case).where(Case.reference == reference).values(due_at=due))
        session.commit()
    assert listed(client, "overdue=overdue") == [late]
    assert listed(client, "overdue=due_soon") == [soon]
    page = client.get("/staff/cases").text
    assert re.search(rf'<tr class="row-overdue">\s*<th scope="row"><a href="/staff/cases/{late}"', page)
    assert re.search(rf'<tr class="row-due_soon">\s*<th scope="row"><a href="/staff/cases/{soon}"', page)
    assert page.count('badge-overdue">Overdue<') == 1 and page.count('badge-soon">Due soon<') == 1


@both_databases
def test_keyset_paging_walks_every_case_once_both_ways(app: FastAPI, engine: Engine) -> None:
    client, _ = signed_in(app, Role.AGENT)
    start = datetime(2026, 5, 1, tzinfo=timezone.utc)
    made = []
    for i in range(120):
        reference = new_case(client, description=f"case {i}", sender_id=f"s{i}")
        # Pairs of cases share a creation time: the id breaks the tie.
        set_created_at(engine, reference, start + timedelta(minutes=i // 2))
        made.append(reference)
    with Session(engine) as session:
        expected = list(session.scalars(select(Case.reference).order_by(Case.created_at.desc(), Case.id.desc())))
    pages, url = [], "/staff/cases"
    while True:
        html = client.get(url).text
        pages.append(ROW.findall(html))
        older = re.search(r'href="(/staff/cases\?[^"]*older=[^"]+)" rel="next"', html)
        if not older:
            break
        url = older.group(1).replace("&amp;", "&")
    assert [len(page) for page in pages] == [50, 50, 20]
    assert [reference for page in pages for reference in page] == expected
    # And back: "Newer cases" from the last page gives the middle page, then the first.
    back = []
    html = client.get(url).text
    while newer := re.search(r'href="(/staff/cases\?[^"]*newer=[^"]+)" rel="prev"', html):
        html = client.get(newer.group(1).replace("&amp;", "&")).text
        back.append(ROW.findall(html))
    assert back == [pages[1], pages[0]]
    # Filters are kept while paging.
    assert "kind=complaint&amp;older=" not in client.get("/staff/cases?kind=service_request").text
    assert "kind=service_request&amp;older=" in client.get("/staff/cases?kind=service_request").text


def test_a_malformed_cursor_starts_from_the_newest(app: FastAPI) -> None:
    client, _ = signed_in(app, Role.AGENT)
    made = [new_case(client) for _ in range(2)]
    assert listed(client, "older=nonsense") == made[::-1]
    assert listed(client, "newer=1.x") == made[::-1]


@both_databases
def test_the_case_page_shows_every_field_and_the_whole_conversation(app: FastAPI, engine: Engine) -> None:
    client, _ = signed_in(app, Role.AGENT)
    reference = new_case(
        client,
        kind="complaint",
        division="SWMS",
        service_code="SWMS-MISSED-PICKUP",
        sender_id="conv-page",
        description="the garbage wasnt picked up AGAIN",
        location="45 Elm Street",
        details={
            "outcome": "pick it up today",
            "contact": {"method": "email", "consent": True},
            "attachments": ["photo-1.jpg"],
        },
    )
    t = load(engine, reference).created_at.timestamp()
    events.create(engine)  # Rasa's table, with an id each database fills in
    talk = Conversation(engine, "conv-page")
    talk.session_start(t - 60)
    talk.user(t - 50, "the garbage wasnt picked up AGAIN", "complaint", 0.93)
    talk.bot(t - 49, "Sorry about that. Where was it?")
    talk.user(t - 20, "45 Elm Street", "inform", 0.71)
    talk._add(
        "user",
        t - 15,
        {
            "text": "here is a photo",
            "metadata": {
                "attachments": [
                    {"url": "https://api.twilio.example/Media/ME1", "content_type": "image/jpeg"},
                    "not a mapping",
                ]
            },
            "parse_data": {"intent": {"name": "inform", "confidence": 0.5}},
        },
    )
    talk.bot(t, f"Thanks. Your reference is {reference}.")
    # A relayed staff reply arrives as an external event: not something the resident said.
    talk._add(
        "user",
        t + 5,
        {
            "text": "EXTERNAL: EXTERNAL_staff_reply",
            "metadata": {"is_external": True},
            "parse_data": {"intent": {"name": "EXTERNAL_staff_reply"}},
        },
    )
    talk.bot(t + 5, f"About your report {reference}: we are on it")
    html = client.get(f"/staff/cases/{reference}").text
    for expected in (
        f'Complaint <span class="reference">{reference}</span>',
        "45 Elm Street",
        "Solid Waste Management Services",
        "Missed collection",
        "Web chat (REST)",
        "conv-page",
        "pick it up today",
        "photo-1.jpg",
        "Not recorded yet",
        "Nobody yet",
        "Method: Email; Agreed to be contacted: Yes",
    ):
        assert expected in html, expected
    turns = re.findall(r'<li class="turn turn-(resident|bot)">.*?<p class="resident-text">(.*?)</p>', html, re.S)
    assert turns == [
        ("resident", "the garbage wasnt picked up AGAIN"),
        ("bot", "Sorry about that. Where was it?"),
        ("resident", "45 Elm Street"),
        ("resident", "here is a photo"),
        ("bot", f"Thanks. Your reference is {reference}."),
        ("bot", f"About your report {reference}: we are on it"),
    ]
    assert "image/jpeg: <code>https://api.twilio.example/Media/ME1</code>" in html
    assert "With 1 attachment (listed under Attachments)." in html
    assert "read as complaint, 93% sure" in html and "read as inform, 71% sure" in html
    assert html.count("<time datetime=") >= 6


def history(engine: Engine, reference: str) -> list[tuple[str, str | None, str | None, str | None]]:
    with Session(engine) as session:
        case = session.scalars(select(Case).where(Case.reference == reference)).one()
        rows = session.scalars(select(CaseUpdate).where(CaseUpdate.case_id == case.id).order_by(CaseUpdate.id))
        return [(u.kind.value, u.old_value, u.new_value, u.text) for u in rows]


def audit(engine: Engine, reference: str) -> list[AuditEntry]:
    with Session(engine) as session:
        case = session.scalars(select(Case).where(Case.reference == reference)).one()
        return list(session.scalars(select(AuditEntry).where(AuditEntry.case_id == case.id).order_by(AuditEntry.id)))


@both_databases
def test_a_complaint_from_acknowledgement_to_closing(app: FastAPI, engine: Engine) -> None:
    client, agent = signed_in(app, Role.AGENT, name="Ann Agent")
    other = make_user(app, Role.AGENT, email="second@city.example", name="Sam Second")
    reference = new_case(client, kind="complaint", division="TW")
    case = load(engine, reference)
    levels = app.state.service_levels
    path = f"/staff/cases/{reference}"

    assert post_form(client, f"{path}/acknowledge", {"text": "Called to say we have it"}).status_code == 303
    case = load(engine, reference)
    assert case.status is CaseStatus.ACKNOWLEDGED and case.acknowledged_at is not None
    assert case.due_at == case.respond_due_at  # the next deadline is now the response
    refused = post_refused(client, f"{path}/acknowledge", {})
    assert "already acknowledged" in refused.text

    assert post_form(client, f"{path}/assign", {"assignee": str(agent.id)}).status_code == 303
    assert load(engine, reference).status is CaseStatus.IN_PROGRESS

    # Moving it to Solid Waste brings Solid Waste's 7-day stage-1 limit.
    assert (
        post_form(
            client,
            f"{path}/reassign",
            {"division": "SWMS", "category": "SWMS-MISSED-PICKUP", "reason": "It is about collection"},
        ).status_code
        == 303
    )
    case = load(engine, reference)
    assert (case.division, case.service_code) == ("SWMS", "SWMS-MISSED-PICKUP")
    assert case.respond_due_at == levels.add_working_days(case.created_at, 7)
    mismatch = post_refused(client, f"{path}/reassign", {"division": "TW", "category": "TS-POTHOLE"})
    assert "belongs to Transportation Services" in mismatch.text

    assert post_form(client, f"{path}/note", {"text": "Route 12 was short-staffed"}).status_code == 303
    assert (
        post_form(
            client, f"{path}/action", {"action_kind": "corrective_action", "text": "Sent a truck the same day"}
        ).status_code
        == 303
    )
    assert (
        post_form(
            client, f"{path}/action", {"action_kind": "preventive_action", "text": "Added a spare crew on Mondays"}
        ).status_code
        == 303
    )

    # Closing a complaint without a recorded contact is refused, with the reason, and changes nothing.
    refused = post_refused(client, f"{path}/close", {"text": "done"})
    assert refused.status_code == 200
    assert "only be closed after contact with the resident is recorded" in refused.text
    assert load(engine, reference).status is CaseStatus.IN_PROGRESS

    local_now = utcnow().astimezone(levels.zone).strftime("%Y-%m-%dT%H:%M")
    future = (utcnow() + timedelta(days=2)).astimezone(levels.zone).strftime("%Y-%m-%dT%H:%M")
    early = post_refused(client, f"{path}/contact", {"method": "phone", "contacted_at": future, "summary": "x"})
    assert "in the future" in early.text
    assert (
        post_form(
            client,
            f"{path}/contact",
            {"method": "phone", "contacted_at": local_now, "summary": "Explained the missed pickup"},
        ).status_code
        == 303
    )
    assert post_form(client, f"{path}/close", {"text": "Resident satisfied"}).status_code == 303
    case = load(engine, reference)
    assert case.status is CaseStatus.CLOSED and case.closed_at and case.resolved_at and case.due_at is None

    # A supervisor reopens it; the response clock starts again.
    supervisor, _ = signed_in(app, Role.SUPERVISOR, email="sup@city.example")
    assert post_form(supervisor, f"{path}/reopen", {"reason": "The bin was missed again"}).status_code == 303
    case = load(engine, reference)
    assert case.status is CaseStatus.IN_PROGRESS and case.closed_at is None and case.due_at is not None

    assert history(engine, reference) == [
        ("status", "new", "acknowledged", "Called to say we have it"),
        ("assignment", None, "Ann Agent", None),
        ("status", "acknowledged", "in_progress", None),
        ("division", "TW", "SWMS", "It is about collection"),
        ("category", None, "SWMS-MISSED-PICKUP", "It is about collection"),
        ("note", None, None, "Route 12 was short-staffed"),
        ("corrective_action", None, None, "Sent a truck the same day"),
        ("preventive_action", None, None, "Added a spare crew on Mondays"),
        ("contact", None, None, "Explained the missed pickup"),
        ("status", "in_progress", "closed", "Resident satisfied"),
        ("status", "closed", "in_progress", "The bin was missed again"),
    ]
    entries = audit(engine, reference)
    assert [e.action for e in entries] == [
        "acknowledge",
        "assign",
        "reassign",
        "note",
        "corrective_action",
        "preventive_action",
        "contact",
        "close",
        "reopen",
    ]
    assert {e.actor for e in entries[:-1]} == {"agent@city.example"} and entries[-1].actor == "sup@city.example"
    assert entries[0].before == {"status": "new", "acknowledged_at": None, "due_at": entries[0].before["due_at"]}
    assert entries[0].after["status"] == "acknowledged"
    assert entries[2].before["division"] == "TW" and entries[2].after["division"] == "SWMS"
    assert entries[6].after["summary"] == "Explained the missed pickup"
    page = client.get(path).text
    assert "Sam Second" in page  # a possible handler
    del other


@both_databases
def test_a_complaint_is_resolved_only_after_a_recorded_contact(app: FastAPI, engine: Engine) -> None:
    client, _ = signed_in(app, Role.AGENT)
    reference = new_case(client, kind="complaint", division="TW")
    path = f"/staff/cases/{reference}"
    assert (
        "can be resolved only after contact with the resident is recorded. Now: not recorded yet"
        in client.get(path).text
    )
    # Refused with the reason and what to do, the summary kept in the form, and nothing changed or audited.
    refused = post_refused(client, f"{path}/resolve", {"summary": "Sent a crew"})
    assert refused.status_code == 200
    assert "A complaint can only be resolved after contact with the resident is recorded." in refused.text
    assert "then resolve it." in refused.text and "Sent a crew" in refused.text
    assert load(engine, reference).status is CaseStatus.NEW
    assert history(engine, reference) == [] and audit(engine, reference) == []

    local_now = utcnow().astimezone(app.state.service_levels.zone).strftime("%Y-%m-%dT%H:%M")
    assert (
        post_form(
            client,
            f"{path}/contact",
            {"method": "email", "contacted_at": local_now, "summary": "Told them a crew is coming"},
        ).status_code
        == 303
    )
    assert post_form(client, f"{path}/resolve", {"summary": "Sent a crew"}).status_code == 303
    case = load(engine, reference)
    assert case.status is CaseStatus.RESOLVED and case.resolved_at is not None and case.due_at is None
    # Compliments and service requests need no contact to be resolved.
    for kind in ("compliment", "service_request"):
        other = new_case(client, kind=kind)
        assert post_form(client, f"/staff/cases/{other}/resolve", {"summary": "Done"}).status_code == 303, kind


@both_databases
def test_reclassifying_is_recorded_and_moves_the_deadlines(tmp_path: object, make_app: object, engine: Engine) -> None:
    path_ = tmp_path / "levels.yml"  # type: ignore[operator]
    path_.write_text("kinds:\n  service_request: {respond_stage_1: 3}\n")
    app = make_app(service_levels_path=path_)  # type: ignore[operator]
    client, _ = signed_in(app, Role.AGENT)
    reference = new_case(client, kind="complaint", division="TS")
    missing = post_refused(client, f"/staff/cases/{reference}/reclassify", {"kind": "service_request"})
    assert "Please write why the kind changes" in missing.text
    response = post_form(
        client,
        f"/staff/cases/{reference}/reclassify",
        {"kind": "service_request", "reason": "A first report of a pothole"},
    )
    assert response.status_code == 303
    case = load(engine, reference)
    assert case.kind is CaseKind.SERVICE_REQUEST and case.reference.startswith("C-")
    assert case.respond_due_at == app.state.service_levels.add_working_days(case.created_at, 3)
    assert history(engine, reference) == [
        ("reclassification", "complaint", "service_request", "A first report of a pothole")
    ]
    assert audit(engine, reference)[0].before["kind"] == "complaint"
    # Once a service request, closing needs no contact.
    assert post_form(client, f"/staff/cases/{reference}/close", {}).status_code == 303


@both_databases
def test_escalation_needs_a_different_handler_and_restarts_the_clock_at_stage_2(app: FastAPI, engine: Engine) -> None:
    client, agent = signed_in(app, Role.AGENT)
    supervisor = make_user(app, Role.SUPERVISOR, email="sup@city.example", name="Sue Supervisor")
    reviewer_elsewhere = make_user(app, Role.DIVISION_REVIEWER, email="rev@city.example", divisions=["UF"])
    reference = new_case(client, kind="complaint", division="TW")
    path = f"/staff/cases/{reference}"
    assert post_form(client, f"{path}/assign", {"assignee": str(agent.id)}).status_code == 303
    same = post_refused(client, f"{path}/escalate", {"handler": str(agent.id), "reason": "Resident unhappy"})
    assert "different handler" in same.text
    blind = post_refused(client, f"{path}/escalate", {"handler": str(reviewer_elsewhere.id), "reason": "x"})
    assert "could not see this case" in blind.text
    assert (
        post_form(client, f"{path}/escalate", {"handler": str(supervisor.id), "reason": "Resident unhappy"}).status_code
        == 303
    )
    case = load(engine, reference)
    assert (case.stage, case.assignee_id, case.status) == (2, supervisor.id, CaseStatus.IN_PROGRESS)
    assert case.respond_due_at == app.state.service_levels.add_working_days(case.escalated_at, 20)
    again = post_refused(client, f"{path}/escalate", {"handler": str(agent.id), "reason": "x"})
    assert again.status_code == 200
    assert history(engine, reference)[-3:] == [
        ("escalation", "1", "2", "Resident unhappy"),
        ("assignment", "Agent", "Sue Supervisor", None),
        ("status", "new", "in_progress", None),
    ]
    # A division reviewer cannot escalate.
    reviewer, _ = signed_in(app, Role.DIVISION_REVIEWER, email="tw@city.example", divisions=["TW"])
    other = new_case(client, kind="complaint", division="TW")
    assert (
        post_form(reviewer, f"/staff/cases/{other}/escalate", {"handler": str(agent.id), "reason": "x"}).status_code
        == 403
    )


@both_databases
def test_compliments_are_forwarded_to_the_named_team(app: FastAPI, engine: Engine) -> None:
    client, _ = signed_in(app, Role.AGENT)
    compliment = new_case(client, kind="compliment", division="TS", description="The crew on Elm St was amazing")
    complaint = new_case(client, kind="complaint")
    assert (
        post_form(
            client, f"/staff/cases/{compliment}/forward", {"team": "Elm St road crew", "text": "Well done!"}
        ).status_code
        == 303
    )
    assert history(engine, compliment) == [("forward", None, "Elm St road crew", "Well done!")]
    assert "Forwarded to Elm St road crew" in client.get(f"/staff/cases/{compliment}").text
    refused = post_refused(client, f"/staff/cases/{complaint}/forward", {"team": "Crew"})
    assert "Only compliments" in refused.text


def test_actions_on_a_closed_case_ask_to_reopen_first(app: FastAPI) -> None:
    client, _ = signed_in(app, Role.AGENT)
    reference = new_case(client, kind="service_request")
    assert post_form(client, f"/staff/cases/{reference}/close", {}).status_code == 303
    for action, data in (("resolve", {"summary": "x"}), ("assign", {"assignee": ""})):
        response = post_refused(client, f"/staff/cases/{reference}/{action}", data)
        assert "reopen it before" in response.text


def test_unknown_cases_and_actions_are_404(app: FastAPI) -> None:
    client, _ = signed_in(app, Role.AGENT)
    assert client.get("/staff/cases/C-2222222").status_code == 404
    assert client.get("/staff/cases/nonsense").status_code == 404
    reference = new_case(client)
    assert post_form(client, f"/staff/cases/{reference}/explode", {}).status_code == 404


def test_a_failed_action_keeps_what_was_typed(app: FastAPI) -> None:
    client, _ = signed_in(app, Role.AGENT)
    reference = new_case(client, kind="complaint")
    response = post_refused(
        client,
        f"/staff/cases/{reference}/contact",
        {"method": "email", "contacted_at": "not a time", "summary": "Sent the details"},
    )
    assert response.status_code == 200
    assert "Give the date and time of the contact." in response.text
    assert ">Sent the details</textarea>" in response.text
    assert re.search(r"<details open>\s*<summary>Record contact with the resident</summary>", response.text)


@pytest.mark.parametrize("field, value", [("text", ""), ("text", "x" * 4001), ("text", "a\x00b")])
def test_notes_must_be_reasonable(app: FastAPI, field: str, value: str) -> None:
    client, _ = signed_in(app, Role.AGENT)
    reference = new_case(client)
    response = post_refused(client, f"/staff/cases/{reference}/note", {field: value})
    assert response.status_code == 200


def test_the_case_page_shows_answers_in_words_and_the_date_a_relative_day_meant(app: FastAPI, engine: Engine) -> None:
    client, _ = signed_in(app, Role.AGENT)
    reference = new_case(
        client,
        kind="service_request",
        division="TS",
        service_code="TS-POTHOLE",
        channel="sms",
        details={
            "when": "yesterday evening",
            "service_attributes": {"lane_position": "curb_lane"},
            "contact": {"method": "channel", "consent": True},
        },
    )
    set_created_at(engine, reference, datetime(2026, 3, 4, 15, 0, tzinfo=timezone.utc))  # Wed 4 Mar in Toronto
    html = client.get(f"/staff/cases/{reference}").text
    facts = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", html.split("<h3>Other answers</h3>")[1], re.S))
    assert facts["Lane position"] == "Curb lane"
    assert facts["How to reach them"] == "Method: Reply on the channel they used (SMS); Agreed to be contacted: Yes"
    assert facts["When"] == (
        'yesterday evening <span class="meant">(<time datetime="2026-03-03">Tue 3 Mar 2026</time>)</span>'
    )
    for code in ("curb_lane", "lane_position", "Method: channel", "service_attributes"):
        assert code not in html, code


def test_an_answer_that_is_not_a_relative_day_is_shown_as_given(app: FastAPI) -> None:
    client, _ = signed_in(app, Role.AGENT)
    reference = new_case(client, details={"when": "<b>around Easter</b>"})
    html = client.get(f"/staff/cases/{reference}").text
    assert "<dt>When</dt><dd>&lt;b&gt;around Easter&lt;/b&gt;</dd>" in html


@pytest.mark.parametrize(
    "said, meant",
    [
        ("today", "2026-03-04"),
        ("this morning around 7", "2026-03-04"),
        ("Yesterday", "2026-03-03"),
        ("last night", "2026-03-03"),
        ("the day before yesterday", "2026-03-02"),
        ("3 days ago", "2026-03-01"),
        ("two days ago", "2026-03-02"),
        ("a week ago", "2026-02-25"),
        ("last Monday", "2026-03-02"),
        ("last Wednesday", "2026-02-25"),
        ("since last friday", "2026-02-27"),
        ("on Sunday", "2026-03-01"),
        ("in the spring", None),
        ("every day", None),
        ("", None),
    ],
)
def test_simple_relative_days_are_resolved_against_the_day_the_case_came(said: str, meant: str | None) -> None:
    received = datetime(2026, 3, 5, 2, 30, tzinfo=timezone.utc)  # still Wed 4 Mar in Toronto
    found = resolve_day(said, received, ZoneInfo("America/Toronto"))
    assert (found.isoformat() if found else None) == meant


@both_databases
def test_the_transcript_shows_the_button_the_resident_pressed(app: FastAPI, engine: Engine) -> None:
    client, _ = signed_in(app, Role.AGENT)
    reference = new_case(client, sender_id="conv-buttons")
    t = load(engine, reference).created_at.timestamp()
    events.create(engine, checkfirst=True)
    talk = Conversation(engine, "conv-buttons")
    talk.session_start(t - 60)
    talk.user(t - 50, "pothole on Elm", "service_request", 0.9)
    talk._add(
        "bot",
        t - 40,
        {
            "text": "Is that right?",
            "data": {
                "buttons": [
                    {"title": "Yes, send it", "payload": "yes"},
                    {"title": "Change something", "payload": "no"},
                    {"title": "<i>odd</i>", "payload": "odd"},
                    {"title": 5, "payload": "bad"},
                ]
            },
        },
    )
    talk.user(t - 30, "no", "deny", 0.99)
    talk.user(t - 20, "yes", "affirm", 0.99)  # typed, with no buttons offered since the last turn
    talk._add("bot", t - 10, {"text": "Which one?", "data": {"buttons": [{"title": "<i>odd</i>", "payload": "odd"}]}})
    talk.user(t - 5, "odd", "inform", 0.5)
    html = client.get(f"/staff/cases/{reference}").text
    turns = re.findall(
        r'<li class="turn turn-resident">.*?<p class="resident-text">(.*?)</p>\s*(<p class="hint '
        r'pressed">.*?</p>)?',
        html,
        re.S,
    )
    assert turns == [
        ("pothole on Elm", ""),
        (
            "Change something",
            '<p class="hint pressed">The answer of an offered button (pressed, or typed the same); '
            "the assistant received <code>no</code></p>",
        ),
        ("yes", ""),
        (
            "&lt;i&gt;odd&lt;/i&gt;",
            '<p class="hint pressed">The answer of an offered button (pressed, or typed the same); '
            "the assistant received <code>odd</code></p>",
        ),
    ]
    transcript = client.get(f"/api/cases/{reference}", headers=STAFF).json()["transcript"]
    assert [turn["button_title"] for turn in transcript if turn["role"] == "resident"] == [
        None,
        "Change something",
        None,
        "<i>odd</i>",
    ]
    assert transcript[1]["buttons"][:2] == [
        {"title": "Yes, send it", "payload": "yes"},
        {"title": "Change something", "payload": "no"},
    ]


@both_databases
def test_only_complaints_are_escalated_and_service_requests_are_not_offered_it(app: FastAPI, engine: Engine) -> None:
    client, _ = signed_in(app, Role.SUPERVISOR)
    other = make_user(app, Role.AGENT, email="other@city.example", name="Oli Other")
    request = new_case(client, kind="service_request", division="TS")
    complaint = new_case(client, kind="complaint", division="TS")
    assert "Escalate to stage 2" not in client.get(f"/staff/cases/{request}").text
    assert "Escalate to stage 2" in client.get(f"/staff/cases/{complaint}").text
    refused = post_refused(
        client,
        f"/staff/cases/{request}/escalate",
        {"handler": str(other.id), "reason": "Loud"},
        page=f"/staff/cases/{complaint}",
    )
    assert "Only complaints have a stage 2" in refused.text
    assert load(engine, request).stage == 1


def test_a_refused_action_redirects_and_its_message_is_shown_once_on_its_own_case(app: FastAPI) -> None:
    client, _ = signed_in(app, Role.AGENT)
    reference = new_case(client, kind="complaint")
    elsewhere = new_case(client, kind="complaint")
    refused = post_refused(client, f"/staff/cases/{reference}/close", {"text": "Sorted <b>out</b>"})
    assert "only be closed after contact" in refused.text
    assert ">Sorted &lt;b&gt;out&lt;/b&gt;</textarea>" in refused.text  # kept, as text
    assert re.search(r"<details open>\s*<summary>Close</summary>", refused.text)
    again = client.get(f"/staff/cases/{reference}?refused=close")
    assert again.status_code == 200 and 'role="alert"' not in again.text  # read once: a reload shows the case
    # A refusal cookie is only believed for its own case and session.
    post_form(client, f"/staff/cases/{reference}/close", {"text": "x"})
    assert 'role="alert"' not in client.get(f"/staff/cases/{elsewhere}?refused=close").text
    other, _ = signed_in(app, Role.AGENT, email="other@city.example")
    response = post_form(client, f"/staff/cases/{reference}/close", {"text": "y"})
    other.cookies.set("staff_refused", response.cookies["staff_refused"])
    assert 'role="alert"' not in other.get(f"/staff/cases/{reference}?refused=close").text


def test_a_refusal_with_very_long_typing_still_says_why(app: FastAPI) -> None:
    client, _ = signed_in(app, Role.AGENT)
    reference = new_case(client, kind="complaint")
    noise = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(4000))  # text that barely compresses
    refused = post_refused(client, f"/staff/cases/{reference}/close", {"text": noise})
    assert "only be closed after contact" in refused.text and "type it again" in refused.text


def test_the_list_keeps_its_main_filters_in_one_row_and_the_others_folded(app: FastAPI) -> None:
    client, _ = signed_in(app, Role.AGENT)
    new_case(client, division="TS", description="word " * 100)
    page = client.get("/staff/cases").text
    row = page.split('<div class="filter-row">')[1].split("</div>")[0]
    assert re.findall(r'<label for="(f-[a-z]+)">', row) == ["f-q", "f-kind", "f-status", "f-overdue"]
    assert re.search(r'<details class="more-filters">\s*<summary>More filters</summary>', page)
    used = client.get("/staff/cases?division=TS&channel=rest").text
    assert re.search(r'<details class="more-filters" open>\s*<summary>More filters \(2 in use\)</summary>', used)
    # The whole of a long description is in the cell's title; the cell shows its start.
    assert re.search(r'<td class="c-words" title="(word ){50,}[^"]*…">(word ){20,}[^<]*…</td>', page)
    assert '<time datetime="' in page.split("<tbody>")[1]
