"""The staff pages' layout in headless Chromium (Debian's, driven by Playwright) against the real running stack.

The case list shows 15 or more cases on a 1280 x 800 screen, each on one line, with its filters in one row; no page
scrolls sideways on a phone (390 x 844); the case page names codes and dates a relative day; a refused action
leaves the browser on the case page, not on the address it posted to. Each page is checked with axe-core, and
screenshots of the case list, a case page and the analytics, at both sizes, go to var/test-artefacts/.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from channel_live import artefact_path
from live import ROOT, http
from playwright.sync_api import Browser, Page, expect, sync_playwright

CHROMIUM = os.environ.get("INTAKE_CHROMIUM", "/usr/bin/chromium")
AXE_RULES = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
    "resultTypes": ["violations"],
}
EMAIL = "e2e-layout@city.example"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SEEDED = 40
WORDS = [
    "The green bin was not picked up again this week and it is starting to smell; the whole street is affected",
    "Streetlight flickering all night outside the school on Queen St W, it has been like this for two weeks now",
    "Huge pothole in the curb lane, a cyclist nearly fell this morning when a car pushed past",
    "The crew who fixed the water main were polite and quick, please thank them",
    "Nobody answered when I called 311 twice about the same missed collection",
]
KINDS = ["service_request", "service_request", "service_request", "compliment", "complaint"]
ROUTES = [("SWMS", "SWMS-MISSED-PICKUP"), ("TS", "TS-STREETLIGHT"), ("TS", "TS-POTHOLE"), ("TW", None), ("SWMS", None)]
CHANNELS = ["web", "sms", "telegram", "rest", "web"]


@pytest.fixture(scope="module")
def password(stack) -> str:
    secret = secrets.token_urlsafe(18)
    done = subprocess.run(
        [
            str(ROOT / ".venvs" / "backend" / "bin" / "python"),
            "-m",
            "backend.manage",
            "create-admin",
            "--email",
            EMAIL,
            "--name",
            "Lay Out",
        ],
        input=secret + "\n",
        text=True,
        capture_output=True,
        cwd=ROOT,
        env=stack.environment(),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return secret


def create_case(stack, **fields: Any) -> dict[str, Any]:
    token = stack.environment()["INTAKE_ACTIONS_TOKEN"]
    body = {
        "kind": "complaint",
        "description": "x",
        "channel": "web",
        "sender_id": f"e2e-layout-{secrets.token_hex(4)}",
        **fields,
    }
    status, case = http("POST", f"{stack.backend_url}/api/cases", body, headers={"Authorization": f"Bearer {token}"})
    assert status == 201, case
    return case


@pytest.fixture(scope="module")
def cases(stack) -> dict[str, str]:
    """Seed enough cases to fill more than a screen; return the references of a few to look at."""
    made: dict[str, str] = {}
    for i in range(SEEDED):
        division, service = ROUTES[i % 5]
        fields: dict[str, Any] = {
            "kind": KINDS[i % 5],
            "description": WORDS[i % 5],
            "channel": CHANNELS[i % 5],
            "location": f"{10 + i} Queen St W",
            "division": division,
        }
        if service:
            fields["service_code"] = service
        made.setdefault(KINDS[i % 5], create_case(stack, **fields)["reference"])
    made["pothole"] = create_case(
        stack,
        kind="service_request",
        division="TS",
        service_code="TS-POTHOLE",
        channel="sms",
        description="A deep pothole in the curb lane on Elm Street that almost broke my tire",
        location="45 Elm Street",
        details={
            "when": "yesterday",
            "service_attributes": {"lane_position": "curb_lane"},
            "contact": {"method": "channel", "consent": True},
        },
    )["reference"]
    return made


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()


def signed_in(browser: Browser, stack, password: str, viewport: dict[str, int]) -> Page:
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    page.goto(f"{stack.backend_url}/staff/sign-in")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cases")
    return page


def serious_violations(page: Page) -> list[str]:
    page.wait_for_load_state()
    found = Axe().run(page, options=AXE_RULES).response["violations"]
    for violation in found:
        print(f"axe {violation['impact']}: {violation['id']} ({len(violation['nodes'])} nodes)")
    return [f"{v['id']}: {v['help']}" for v in found if v["impact"] in ("serious", "critical")]


def sideways(page: Page) -> int:
    """Return by how many pixels the page is wider than the window (0 when it never scrolls sideways)."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def rows_on_screen(page: Page) -> int:
    """Return how many case rows are wholly inside the window without scrolling."""
    return int(
        page.evaluate("""() => [...document.querySelectorAll('table.cases tbody tr')]
        .filter(r => { const b = r.getBoundingClientRect(); return b.height > 0 && b.bottom <= window.innerHeight; })
        .length""")
    )


def test_the_case_list_shows_15_cases_a_screen_on_one_line_each(browser, stack, password, cases) -> None:
    page = signed_in(browser, stack, password, DESKTOP)
    page.goto(f"{stack.backend_url}/staff/cases")
    page.screenshot(path=str(artefact_path("staff-cases-desktop.png")))
    shown = rows_on_screen(page)
    print(f"cases above the fold at 1280x800: {shown}")
    assert shown >= 15, shown
    # The filters take one row (the others wait behind "More filters"), and each case is one line.
    filters = page.locator("form.filters").bounding_box()
    assert filters and filters["height"] <= 130, filters
    # Every reference whole (not cut off), every row one line.
    lines = page.evaluate("""() => [...document.querySelectorAll('table.cases tbody tr')].map(r => {
        const th = r.querySelector('th'); return [th.scrollWidth <= th.clientWidth, r.getBoundingClientRect().height,
        th.textContent]; })""")
    assert all(whole and height < 36 for whole, height, _ in lines), lines
    words = page.locator("table.cases tbody td.c-words").first.bounding_box()
    assert words and words["width"] >= 280, words
    assert sideways(page) == 0
    assert serious_violations(page) == []

    # The other filters open with the keyboard, and say when they are in use.
    page.locator("summary", has_text="More filters").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Channel")).to_be_visible()
    page.get_by_label("Channel").select_option("sms")
    page.get_by_role("button", name="Show cases").click()
    expect(page.locator("summary", has_text="More filters (1 in use)")).to_be_visible()
    expect(page.get_by_label("Channel")).to_be_visible()
    assert page.locator("table.cases tbody tr").count() >= 8
    page.context.close()


def test_no_staff_page_scrolls_sideways_on_a_phone(browser, stack, password, cases) -> None:
    page = signed_in(browser, stack, password, PHONE)
    page.goto(f"{stack.backend_url}/staff/cases")
    page.screenshot(path=str(artefact_path("staff-cases-phone.png")))
    assert sideways(page) == 0
    print(f"cases above the fold at 390x844: {rows_on_screen(page)}")
    assert rows_on_screen(page) >= 3
    assert serious_violations(page) == []
    for name, path in (("case", f"/staff/cases/{cases['pothole']}"), ("analytics", "/staff/analytics")):
        page.goto(f"{stack.backend_url}{path}")
        page.screenshot(path=str(artefact_path(f"staff-{name}-phone.png")))
        assert sideways(page) == 0, name
        if name == "case":  # the reference stays whole in the heading
            assert page.evaluate("document.querySelector('h1 .reference').getClientRects().length") == 1
        assert serious_violations(page) == [], name
    page.context.close()


def test_the_case_page_names_codes_and_dates_a_relative_day(browser, stack, password, cases) -> None:
    page = signed_in(browser, stack, password, DESKTOP)
    page.goto(f"{stack.backend_url}/staff/cases/{cases['pothole']}")
    answers = page.locator("h3:has-text('Other answers') + dl.facts")
    expect(answers).to_contain_text("Lane position")
    expect(answers).to_contain_text("Curb lane")
    expect(answers).to_contain_text("Reply on the channel they used (SMS)")
    expect(answers.locator("dd .meant time")).to_have_count(1)  # "yesterday" with the date it meant
    text = answers.inner_text()
    assert "curb_lane" not in text and "channel;" not in text, text
    assert "Escalate to stage 2" not in page.locator(".case-actions").inner_text()  # a service request
    assert serious_violations(page) == []
    page.screenshot(path=str(artefact_path("staff-case-desktop.png")))
    page.screenshot(path=str(artefact_path("staff-case-desktop-full.png")), full_page=True)
    page.context.close()


def test_a_refused_action_leaves_the_browser_on_the_case_page(browser, stack, password, cases) -> None:
    page = signed_in(browser, stack, password, DESKTOP)
    reference = cases["complaint"]
    page.goto(f"{stack.backend_url}/staff/cases/{reference}")
    assert "Escalate to stage 2" in page.locator(".case-actions").inner_text()
    page.locator("summary", has_text="Close").focus()
    page.keyboard.press("Enter")
    page.get_by_label("Closing note (optional)").fill("Sorted <b>out</b>")
    page.get_by_role("button", name="Close the case").click()
    expect(page.get_by_role("alert")).to_contain_text("only be closed after contact with the resident is recorded")
    assert page.url == f"{stack.backend_url}/staff/cases/{reference}?refused=close#messages"
    expect(page.get_by_label("Closing note (optional)")).to_have_value("Sorted <b>out</b>")
    assert serious_violations(page) == []
    # Reloading shows the case again: nothing is posted twice, and the message was for that one time.
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_contain_text(reference)
    expect(page.get_by_role("alert")).to_have_count(0)
    page.context.close()


def test_the_analytics_show_short_times_in_hours(browser, stack, password, cases) -> None:
    page = signed_in(browser, stack, password, DESKTOP)
    reference = cases["service_request"]
    page.goto(f"{stack.backend_url}/staff/cases/{reference}")
    page.locator("summary", has_text="Acknowledge").focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Acknowledge the case").click()
    expect(page.get_by_role("status")).to_have_text("The case is acknowledged.")
    page.goto(f"{stack.backend_url}/staff/analytics")
    acknowledge = page.locator(".key-numbers div", has_text="Time to acknowledge").inner_text()
    assert "0.0 days" not in acknowledge and ("minute" in acknowledge or "hour" in acknowledge), acknowledge
    themes = page.get_by_role("table", name="Key themes").inner_text().lower()
    for place in ("queen", "elm street"):
        assert place not in themes, themes
    assert serious_violations(page) == []
    page.screenshot(path=str(artefact_path("staff-analytics-desktop.png")))
    page.screenshot(path=str(artefact_path("staff-analytics-desktop-full.png")), full_page=True)
    page.context.close()
