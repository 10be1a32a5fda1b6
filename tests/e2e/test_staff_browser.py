"""Staff work a real case in headless Chromium (Debian's, driven by Playwright) against the real running stack.

A resident complains through the REST channel; staff sign in (keyboard only), find the case, read the
conversation behind it, are stopped from closing the complaint before contact with the resident is recorded,
record the contact, close it, and see it counted in the analytics. Every page is checked with axe-core. A reply on
a Telegram case reaches the resident's chat; resident markup stays text. Screenshots go to var/test-artefacts/.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
from collections.abc import Callable, Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from channel_live import artefact_path, converse
from live import ROOT, Resident, http
from playwright.sync_api import Browser, Page, expect, sync_playwright
from stand_ins import telegram_update

CHROMIUM = os.environ.get("INTAKE_CHROMIUM", "/usr/bin/chromium")
AXE_RULES = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
    "resultTypes": ["violations"],
}
ADMIN_EMAIL = "e2e-admin@city.example"
FIRST = "The garbage truck skipped my street again and nobody answered when I called 311 about it"


@pytest.fixture(scope="module")
def admin_password(stack) -> str:
    """Create the first admin with the real command, the password on standard input."""
    password = secrets.token_urlsafe(18)
    done = subprocess.run(
        [
            str(ROOT / ".venvs" / "backend" / "bin" / "python"),
            "-m",
            "backend.manage",
            "create-admin",
            "--email",
            ADMIN_EMAIL,
            "--name",
            "Ada Admin",
        ],
        input=password + "\n",
        text=True,
        capture_output=True,
        cwd=ROOT,
        env=stack.environment(),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return password


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, stack, admin_password: str) -> Iterator[Page]:
    """A signed-in staff page; any JavaScript dialog (an injected alert) fails the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in_with_the_keyboard(page, stack, admin_password)
    yield page
    context.close()
    assert dialogs == [], f"a script ran: {dialogs}"


def focused(page: Page) -> dict[str, str]:
    return page.evaluate("""() => { const e = document.activeElement; const s = getComputedStyle(e);
        return {id: e.id, tag: e.tagName, text: (e.textContent || '').trim(), outline: s.outlineStyle,
                shadow: s.boxShadow}; }""")


def tab_to(page: Page, wanted: Callable[[dict[str, str]], bool], limit: int = 60) -> dict[str, str]:
    """Press Tab until the focused element is the wanted one; check that focus is visible there."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        element = focused(page)
        if wanted(element):
            assert element["outline"] != "none" or element["shadow"] != "none", f"focus not visible: {element}"
            return element
    raise AssertionError("the element was not reachable with Tab")


def sign_in_with_the_keyboard(page: Page, stack, password: str) -> None:
    page.goto(f"{stack.backend_url}/staff/cases")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    assert serious_violations(page) == []
    tab_to(page, lambda e: e["id"] == "email")
    page.keyboard.type(ADMIN_EMAIL)
    tab_to(page, lambda e: e["id"] == "password")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cases")


def serious_violations(page: Page) -> list[str]:
    page.wait_for_load_state()  # axe needs the whole document; on a busy machine it can still be loading
    found = Axe().run(page, options=AXE_RULES).response["violations"]
    for violation in found:
        print(f"axe {violation['impact']}: {violation['id']} ({len(violation['nodes'])} nodes)")
    return [f"{v['id']}: {v['help']}" for v in found if v["impact"] in ("serious", "critical")]


def open_action(page: Page, summary: str) -> None:
    """Open one action's panel with the keyboard."""
    page.locator("summary", has_text=summary).focus()
    page.keyboard.press("Enter")


def closed_complaints(page: Page, stack) -> int:
    """Return how many complaints the analytics count as closed (the figure under 'Time to close')."""
    page.goto(f"{stack.backend_url}/staff/analytics?kind=complaint")
    text = page.locator(".key-numbers").inner_text()
    return int(re.search(r"90% within .*?, over (\d+) cases?\s*$", text, re.S).group(1))


def test_staff_follow_a_real_complaint_from_the_conversation_to_the_analytics(page: Page, stack) -> None:
    resident = Resident(stack, f"e2e-staff-{secrets.token_hex(3)}")
    reference, _ = converse(lambda text, topic: resident.say(text), FIRST, {"location": "45 Elm Street"})
    assert reference.startswith("C-")
    before = closed_complaints(page, stack)
    assert serious_violations(page) == []

    # Find it: search for the resident's words among complaints.
    page.goto(f"{stack.backend_url}/staff/cases")
    page.get_by_label("Search words, place or reference").fill("skipped my street")
    page.get_by_label("Kind").select_option("complaint")
    page.get_by_role("button", name="Show cases").click()
    assert serious_violations(page) == []
    page.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Complaint {reference}")

    # The whole conversation: the resident's words with the classifier's reading, and the bot's answers.
    turns = page.locator(".transcript > li")
    expect(turns.first).to_contain_text(FIRST)
    expect(turns.first).to_contain_text("read as complaint")
    expect(page.locator(".turn-resident", has_text="45 Elm Street")).to_have_count(1)
    expect(page.locator(".turn-bot", has_text=reference)).to_have_count(1)
    assert page.locator(".transcript time").count() == turns.count()
    assert serious_violations(page) == []

    # Closing before contact with the resident is refused, and says why.
    open_action(page, "Close")
    page.get_by_role("button", name="Close the case").click()
    expect(page.get_by_role("alert")).to_contain_text("only be closed after contact with the resident is recorded")
    expect(page.locator(".badge-status")).not_to_have_text("Closed")

    open_action(page, "Record contact with the resident")
    page.get_by_label("How", exact=True).select_option("phone")
    page.get_by_label("Summary of the contact").fill("Called the resident; the truck came back the same afternoon.")
    page.get_by_role("button", name="Record the contact").click()
    expect(page.get_by_role("status")).to_have_text("The contact with the resident is recorded.")

    open_action(page, "Close")
    page.get_by_label("Closing note (optional)").fill("Resident satisfied.")
    page.get_by_role("button", name="Close the case").click()
    expect(page.locator(".badge-status")).to_have_text("Closed")
    expect(page.locator(".history")).to_contain_text("By phone")
    page.screenshot(path=str(artefact_path("staff-case-closed.png")), full_page=True)

    assert closed_complaints(page, stack) == before + 1
    kinds = page.get_by_role("table", name="Cases by kind: the numbers")
    assert int(kinds.get_by_role("row", name=re.compile("^Complaint")).locator("td").inner_text()) >= 1
    assert serious_violations(page) == []
    page.screenshot(path=str(artefact_path("staff-analytics.png")), full_page=True)
    for name in ("Audit log", "Accounts"):  # the admin's other pages
        page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(name)
        assert serious_violations(page) == [], name


def test_a_reply_goes_back_to_the_residents_telegram_chat(page: Page, stack, stand_ins) -> None:
    api = stand_ins.telegram
    assert api.wait_until(lambda: bool(api.webhook.get("url"))), "the Telegram channel never registered"
    chat_id = 880_000 + secrets.randbelow(99_999)

    def say(text: str, topic: str) -> list[str]:
        before = len(api.sent_to(chat_id))
        status, answer = api.deliver(telegram_update(chat_id, text))
        assert status == 200, answer
        return [message["text"] for message in api.sent_to(chat_id)[before:]]

    reference, _ = converse(say, "The crew that fixed the water main on my street was wonderful", {})
    page.goto(f"{stack.backend_url}/staff/cases/{reference}")
    sent_before = len(api.sent_to(chat_id))
    open_action(page, "Reply to the resident")
    page.get_by_label("Reply", exact=True).fill("Thank you, we passed your kind words to the crew.")
    page.get_by_role("button", name="Send the reply").click()
    expect(page.get_by_role("status")).to_have_text("The reply is recorded on the case.")
    expect(page.locator(".history")).to_contain_text("Sent on the resident's channel")
    received = api.wait_for_messages(chat_id, sent_before + 1)[sent_before:]
    assert [m["text"] for m in received] == [
        f"About your report {reference}: Thank you, we passed your kind words to the crew."
    ]


def test_resident_markup_is_only_text_in_the_browser(page: Page, stack) -> None:
    token = stack.environment()["INTAKE_ACTIONS_TOKEN"]
    payload = (
        'My bin <script>alert("script")</script> <img src=x onerror="alert(\'image\')"> '
        "<a href=\"javascript:alert('link')\">photo</a>"
    )
    status, case = http(
        "POST",
        f"{stack.backend_url}/api/cases",
        {
            "kind": "complaint",
            "description": payload,
            "location": "<b>12 Elm St</b>",
            "channel": "rest",
            "sender_id": f"e2e-markup-{secrets.token_hex(3)}",
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert status == 201, case
    for path in (f"/staff/cases?q={case['reference']}", f"/staff/cases/{case['reference']}"):
        page.goto(f"{stack.backend_url}{path}")
        page.wait_for_load_state("load")
        assert page.locator("main script, main img, main a[href^='javascript:'], main b").count() == 0, path
    page.goto(f"{stack.backend_url}/staff/cases/{case['reference']}")
    expect(page.locator(".facts .resident-text").first).to_have_text(payload)
