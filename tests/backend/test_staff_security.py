"""Security of the staff pages: resident text is only ever text, a reviewer is kept to their divisions (403), and
a form without its CSRF token changes nothing (403). Sign-in, sessions and roles are in test_staff_access.py."""

from __future__ import annotations

import re

from backend_testing import both_databases
from fastapi import FastAPI
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from staff_testing import (  # noqa: F401  (the underscored names are autouse fixtures)
    _empty_staff_tables,
    _quick_password_hashing,
    csrf_of,
    load,
    make_user,
    new_case,
    post_form,
    signed_in,
)
from test_transcripts import Conversation

from backend.audit.models import AuditEntry
from backend.staff.permissions import Role
from backend.transcripts.tables import events

SCRIPT = "<script>alert(1)</script>"
IMAGE = '<img src=x onerror="alert(2)">'
LINK = '<a href="javascript:alert(3)">see my photos</a> or javascript:alert(4)'
PAYLOAD = f"Missed pickup {SCRIPT} {IMAGE} {LINK}"


def audit_entries(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def assert_only_text(html: str, where: str) -> None:
    """Fail when any part of the payload came through as markup rather than as escaped text."""
    for raw in ("<script>alert", "<img src=x", 'onerror="alert', 'href="javascript:', "href='javascript:"):
        assert raw not in html, f"{where}: {raw!r} is markup"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, f"{where}: the script text is not shown"
    assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;" in html, f"{where}: the image text is not shown"
    assert re.search(r"<script\b", html) is None, f"{where}: a script element"


@both_databases
def test_a_residents_markup_is_shown_as_text_on_every_page(app: FastAPI, engine: Engine) -> None:
    client, _ = signed_in(app, Role.ADMIN, name=f"Admin {SCRIPT}")
    reference = new_case(
        client,
        kind="compliment",
        description=PAYLOAD,
        location=f"12 Elm St {IMAGE}",
        sender_id=f"conv-{SCRIPT}"[:255],
        details={f"key {SCRIPT}": f"value {IMAGE}", "attachments": [LINK]},
    )
    events.create(engine)
    created = load(engine, reference).created_at.timestamp()
    talk = Conversation(engine, f"conv-{SCRIPT}")
    talk.user(created - 30, PAYLOAD, "compliment", 0.9)
    talk.bot(created - 29, f"You said: {PAYLOAD}")
    # Staff text can carry the same markup (a pasted email, say): it is escaped too.
    for path, data in (
        ("note", {"text": PAYLOAD}),
        ("forward", {"team": f"Crew {SCRIPT}", "text": PAYLOAD}),
        ("reassign", {"division": "TS", "reason": PAYLOAD}),
    ):
        assert post_form(client, f"/staff/cases/{reference}/{path}", data).status_code == 303, path
    # A second case from another resident with the same words, so that they can become a theme.
    new_case(client, kind="compliment", description=PAYLOAD, sender_id="another-resident")
    pages = {
        "case list": client.get("/staff/cases").text,
        "search": client.get("/staff/cases", params={"q": "<script>"}).text,
        "case page": client.get(f"/staff/cases/{reference}").text,
        "audit log": client.get("/staff/audit").text,
        "case audit": client.get(f"/staff/audit?case={reference}").text,
        "accounts": client.get("/staff/users").text,
    }
    for where, html in pages.items():
        if where == "accounts":  # the staff member's own name carries the script there
            assert "Admin &lt;script&gt;alert(1)&lt;/script&gt;" in html and re.search(r"<script\b", html) is None
        else:
            assert_only_text(html, where)
    analytics = client.get("/staff/analytics").text
    assert re.search(r"<script\b", analytics) is None and "<img" not in analytics
    # Themes are words: the markup's words may surface as plain words, never as tags.
    assert "missed pickup" in analytics


def test_staff_pages_forbid_scripts_framing_and_caching(app: FastAPI) -> None:
    client, _ = signed_in(app, Role.AGENT)
    reference = new_case(client)
    for path in ("/staff/sign-in", "/staff/cases", f"/staff/cases/{reference}", "/staff/analytics"):
        headers = client.get(path).headers
        policy = headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy  # so no script may run at all
        assert "frame-ancestors 'none'" in policy
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["cache-control"] == "no-store"
    assert "content-security-policy" not in client.get("/").headers  # the resident's chat page is not staff's


STAFF_FORMS = [
    "/staff/sign-out",
    "/staff/password",
    "/staff/users",
    "/staff/users/1",
    "/staff/users/1/password",
    *[
        f"/staff/cases/{{reference}}/{action}"
        for action in (
            "acknowledge",
            "assign",
            "reassign",
            "reclassify",
            "note",
            "contact",
            "action",
            "escalate",
            "resolve",
            "close",
            "reopen",
            "reply",
            "forward",
        )
    ],
]


def test_every_staff_form_without_its_csrf_token_is_refused(app: FastAPI, engine: Engine) -> None:
    client, _ = signed_in(app, Role.ADMIN)
    reference = new_case(client, kind="compliment")
    data = {
        "text": "hello",
        "reason": "because",
        "summary": "done",
        "password": "another long password",
        "display_name": "X",
        "role": "agent",
        "email": "x@city.example",
        "team": "Crew",
    }
    before = audit_entries(engine)
    for path in STAFF_FORMS:
        for token in (None, "", "forged-token"):
            sent = {**data, "csrf_token": token} if token is not None else data
            response = client.post(path.format(reference=reference), data=sent, follow_redirects=False)
            assert response.status_code == 403, (path, token)
            assert "nothing was changed" in response.text
    assert audit_entries(engine) == before
    assert client.get("/staff/cases").status_code == 200  # still signed in: the forms were refused, not the session


@both_databases
def test_a_division_reviewer_sees_only_their_divisions(app: FastAPI) -> None:
    client, _ = signed_in(app, Role.DIVISION_REVIEWER, divisions=["SWMS"])
    ours = new_case(client, division="SWMS")
    theirs = new_case(client, division="TW")
    nobodys = new_case(client)
    assert client.get(f"/staff/cases/{ours}").status_code == 200
    for reference in (theirs, nobodys):
        response = client.get(f"/staff/cases/{reference}")
        assert response.status_code == 403
        assert "division you do not review" in response.text
        assert (
            post_form(client, f"/staff/cases/{reference}/note", {"text": "x"}, page="/staff/cases").status_code == 403
        )
    listed = client.get("/staff/cases").text
    assert ours in listed and theirs not in listed and nobodys not in listed
    # Asking for another division by filter shows nothing of it either.
    assert theirs not in client.get("/staff/cases?division=TW").text
    assert client.get("/staff/analytics?division=TW").status_code == 422


def test_a_division_reviewer_gets_403_on_another_divisions_case_page_and_actions(app: FastAPI, engine: Engine) -> None:
    reviewer, _ = signed_in(app, Role.DIVISION_REVIEWER, divisions=["UF"])
    theirs = new_case(reviewer, division="TW", kind="complaint")
    before = audit_entries(engine)
    assert reviewer.get(f"/staff/cases/{theirs}").status_code == 403
    token = csrf_of(reviewer.get("/staff/cases").text)
    for action in ("note", "close", "reassign", "contact"):
        response = reviewer.post(
            f"/staff/cases/{theirs}/{action}",
            follow_redirects=False,
            data={"csrf_token": token, "text": "x", "division": "UF"},
        )
        assert response.status_code == 403, action
    assert audit_entries(engine) == before
