"""The web chat widget in headless Chromium (Debian's, driven by Playwright) against the real running stack.

Everything the resident does here is done with the keyboard only. Screenshots go to var/test-artefacts/.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from channel_live import artefact_path, converse, get_case
from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

CHROMIUM = os.environ.get("INTAKE_CHROMIUM", "/usr/bin/chromium")
DESKTOP = {"width": 1280, "height": 800}
NARROW = {"width": 320, "height": 640}
AXE_RULES = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
    "resultTypes": ["violations"],
}
FIRST = "There is a deep pothole in the right lane that almost broke my tire"
# A city page with loud styles of its own, which the widget must neither break nor be broken by.
CITY_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Parks and Recreation</title>
<style>body{{font:14px Georgia,serif;margin:0}} button{{background:#c00;font-size:9px;padding:0}}
main{{padding:1rem}} a{{color:#0645ad}}</style></head>
<body><header><a href="#main">Skip to content</a></header><main id="main"><h1>Parks and Recreation</h1>
<p>Find a park near you. <a href="#hours">Opening hours</a></p></main>
<script src="/static/widget.js" data-rasa-url="{rasa_url}" defer></script></body></html>"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()


def new_page(browser: Browser, stack, viewport=DESKTOP, scale: float = 1) -> Page:
    context = browser.new_context(viewport=viewport, device_scale_factor=scale)
    # A page Playwright serves itself (the city page below) has no address, so Chromium asks before it may reach
    # Rasa on this machine's loopback address; a real city page on the internet reaching Rasa would not ask.
    context.grant_permissions(["clipboard-read", "clipboard-write", "local-network-access"], origin=stack.backend_url)
    page = context.new_page()
    page.set_default_timeout(60_000)
    return page


def open_city_page(page: Page, stack) -> None:
    """Load a page of 'the city's site' that embeds the widget with its one script tag."""
    url = f"{stack.backend_url}/parks.html"
    page.route(
        url, lambda route: route.fulfill(content_type="text/html", body=CITY_PAGE.format(rasa_url=stack.rasa_url))
    )
    page.goto(url)
    page.wait_for_selector(".intake-chat:not([hidden])", state="attached")


def focused(page: Page) -> dict:
    return page.evaluate("""() => { const e = document.activeElement; const s = getComputedStyle(e);
        return {tag: e.tagName, text: (e.textContent || '').trim(), id: e.id, cls: e.className || '',
                inWidget: !!e.closest('.intake-chat'), outline: s.outlineStyle,
                outlineWidth: parseFloat(s.outlineWidth)}; }""")


def tab_to(page: Page, matches, limit: int = 30) -> dict:
    """Press Tab until the focused element matches; check every stop in the widget shows a visible focus ring."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        element = focused(page)
        if element["inWidget"] and element["tag"] != "BODY":
            assert element["outline"] != "none" and element["outlineWidth"] >= 2, element
        if matches(element):
            return element
    raise AssertionError(f"focus never reached the element; last: {focused(page)}")


def bot_texts(page: Page) -> list[str]:
    return page.eval_on_selector_all(".intake-chat__msg--bot", "els => els.map(e => e.textContent.slice(5))")


def say(page: Page, text: str) -> list[str]:
    """Type a message into the focused input and press Enter; return the assistant's new replies."""
    assert focused(page)["tag"] == "INPUT", focused(page)
    before = len(bot_texts(page))
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    page.wait_for_function(
        f"document.querySelectorAll('.intake-chat__msg--bot').length > {before} && "
        "document.querySelector('.intake-chat__status').textContent === ''"
    )
    replies = bot_texts(page)[before:]
    assert not any("can't connect" in reply for reply in replies), replies
    return replies


def serious_violations(page: Page) -> list[str]:
    results = Axe().run(page, options=AXE_RULES)
    found = results.response["violations"]
    for violation in found:
        print(f"axe {violation['impact']}: {violation['id']} ({len(violation['nodes'])} nodes)")
    return [f"{v['id']}: {v['help']}" for v in found if v["impact"] in ("serious", "critical")]


def test_a_keyboard_only_conversation_on_the_demo_page_ends_with_a_reference_to_copy(browser, stack):
    page = new_page(browser, stack)
    page.goto(f"{stack.backend_url}/")
    tab_to(page, lambda e: e["tag"] == "INPUT")
    reference, transcript = converse(lambda text, topic: say(page, text), FIRST, {"location": "45 Elm Street"})

    assert page.input_value(".intake-chat__ref") == reference
    tab_to(page, lambda e: e["text"] == "Copy")
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('.intake-chat__copied').textContent.startsWith('Copied')")
    assert page.evaluate("navigator.clipboard.readText()") == reference

    case = get_case(stack, reference)
    assert case["channel"] == "web" and case["location"] == "45 Elm Street"
    assert serious_violations(page) == []
    page.screenshot(path=str(artefact_path("web-demo-desktop.png")), full_page=True)

    # The conversation and the reference are still there after a reload.
    shown = bot_texts(page)
    page.reload()
    page.wait_for_selector(".intake-chat:not([hidden])")
    assert bot_texts(page) == shown
    assert page.input_value(".intake-chat__ref") == reference
    # ... and the log opens at its newest message, not at the greeting.
    assert page.evaluate("""() => { const log = document.querySelector('.intake-chat__log');
        return log.scrollTop + log.clientHeight >= log.scrollHeight - 2; }""")
    page.context.close()


def test_the_widget_embeds_on_any_page_and_never_traps_the_keyboard(browser, stack):
    page = new_page(browser, stack)
    open_city_page(page, stack)
    launcher = tab_to(page, lambda e: e["text"] == "Chat with 311")
    assert launcher["tag"] == "BUTTON"
    page.keyboard.press("Enter")
    assert focused(page)["tag"] == "INPUT"  # opening moves focus to the message box
    assert say(page, "hello")

    # Escape closes the panel and gives focus back to the button that opened it.
    page.keyboard.press("Escape")
    assert focused(page)["text"] == "Chat with 311"
    assert page.is_hidden(".intake-chat__panel")

    # With the panel open, Tab leaves it after its last control: no trap.
    page.keyboard.press("Enter")
    for _ in range(30):
        page.keyboard.press("Tab")
        if not focused(page)["inWidget"]:
            break
    else:
        raise AssertionError("focus stayed inside the chat")
    page.context.close()


def test_the_widget_passes_axe_and_reflows_at_320_px_and_200_percent_zoom(browser, stack):
    zoomed = {"width": 640, "height": 400}  # a 1280 x 800 window at 200% zoom
    for name, viewport, scale in (("desktop", DESKTOP, 1), ("320", NARROW, 1), ("zoom-200", zoomed, 2)):
        page = new_page(browser, stack, viewport, scale)
        open_city_page(page, stack)
        tab_to(page, lambda e: e["text"] == "Chat with 311")
        page.keyboard.press("Enter")
        say(page, "hello")
        assert page.get_attribute(".intake-chat__log", "role") == "log"
        assert page.get_attribute(".intake-chat__log", "aria-live") == "polite"

        # No sideways scrolling, and the message box and its button are on screen.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], (name, width)
        for selector in (".intake-chat__form input", ".intake-chat__form button"):
            box = page.locator(selector).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], (name, selector, box)

        # Every control is at least 24 by 24 CSS pixels.
        sizes = page.eval_on_selector_all(
            ".intake-chat button:not([hidden]), .intake-chat input",
            "els => els.filter(e => e.offsetParent).map(e => [e.textContent || e.id, e.getBoundingClientRect().width,"
            " e.getBoundingClientRect().height])",
        )
        assert sizes and all(w >= 24 and h >= 24 for _, w, h in sizes), sizes

        assert serious_violations(page) == [], name
        page.screenshot(path=str(artefact_path(f"web-widget-{name}.png")))
        page.context.close()


def test_the_resident_can_choose_larger_text_and_it_is_remembered(browser, stack):
    page = new_page(browser, stack)
    page.goto(f"{stack.backend_url}/")
    size = lambda: page.evaluate(  # noqa: E731
        "parseFloat(getComputedStyle(document.querySelector('.intake-chat__msg')).fontSize)"
    )
    normal = size()
    button = tab_to(page, lambda e: e["text"] == "Larger text")
    assert button["tag"] == "BUTTON"
    page.keyboard.press("Enter")
    assert page.get_attribute("text=Larger text", "aria-pressed") == "true"
    assert size() >= 1.2 * normal
    page.reload()
    page.wait_for_selector(".intake-chat:not([hidden])")
    assert size() >= 1.2 * normal
    page.screenshot(path=str(artefact_path("web-demo-larger-text.png")))
    page.context.close()


# A page of the city's site whose widget talks to a stand-in assistant on the same address (routed by the test), so
# that what the assistant answers is known: buttons, a reference number, long replies.
STAND_IN_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Report a problem</title></head>
<body><main><h1>Report a problem</h1><div id="chat"></div></main>
<script src="/static/widget.js" data-container="chat" data-rasa-url="{base}/stand-in" defer></script></body></html>"""


class StandInAssistant:
    """Answers the widget's web chat calls with the next reply in a list, and remembers what was sent."""

    def __init__(self, page: Page, stack, replies: list[list]) -> None:
        self.replies = list(replies)
        self.sent: list[str] = []
        base = stack.backend_url
        page.route(
            f"{base}/report.html",
            lambda route: route.fulfill(content_type="text/html", body=STAND_IN_PAGE.format(base=base)),
        )
        page.route(f"{base}/stand-in/webhooks/web/pending", lambda route: route.fulfill(json=[]))
        page.route(f"{base}/stand-in/webhooks/web/webhook", self._answer)
        self.url = f"{base}/report.html"

    def _answer(self, route) -> None:
        self.sent.append(json.loads(route.request.post_data or "{}").get("message"))
        route.fulfill(json=self.replies.pop(0) if self.replies else [{"text": "Thanks."}])


def open_stand_in_page(page: Page, assistant: StandInAssistant) -> None:
    page.goto(assistant.url)
    page.wait_for_selector(".intake-chat:not([hidden])")


def at_the_end(page: Page) -> bool:
    """Return True when the log overflows and is scrolled to its end (within 3 s: a new message scrolls smoothly)."""
    try:
        page.wait_for_function(
            """() => { const log = document.querySelector('.intake-chat__log');
            return log.scrollHeight > log.clientHeight + 50
                && log.scrollTop + log.clientHeight >= log.scrollHeight - 2; }""",
            timeout=3000,
        )
    except PlaywrightTimeout:
        return False
    return True


def test_quick_answers_come_after_the_message_box_and_focus_returns_to_it(browser, stack):
    page = new_page(browser, stack)
    assistant = StandInAssistant(
        page,
        stack,
        [
            [
                {
                    "text": "So it is a pothole on Elm St. Is that right?",
                    "buttons": [
                        {"title": "Yes, send it", "payload": "yes"},
                        {"title": "Change something", "payload": "no"},
                    ],
                }
            ]
        ],
    )
    open_stand_in_page(page, assistant)
    tab_to(page, lambda e: e["tag"] == "INPUT")
    say(page, "pothole on Elm St")
    assert page.text_content(".intake-chat__hint") == "Press Enter to send, or choose a quick answer below."
    # From the message box: Send, then the quick answers.
    assert tab_to(page, lambda e: e["inWidget"], limit=1)["text"] == "Send"
    assert tab_to(page, lambda e: e["inWidget"], limit=1)["text"] == "Yes, send it"
    assert tab_to(page, lambda e: e["inWidget"], limit=1)["text"] == "Change something"
    assert serious_violations(page) == []
    page.screenshot(path=str(artefact_path("web-widget-quick-answers.png")))
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('.intake-chat__status').textContent === ''")
    assert assistant.sent == ["pothole on Elm St", "no"]  # the payload goes to the assistant ...
    said = page.eval_on_selector_all(".intake-chat__msg--resident", "els => els.map(e => e.textContent)")
    assert said[-1] == "You: Change something"  # ... and the resident sees what they chose
    assert focused(page)["tag"] == "INPUT"  # not the page: the pressed button is gone
    assert page.is_hidden(".intake-chat__choices")
    page.context.close()


def test_after_a_reload_the_conversation_opens_at_its_newest_message(browser, stack):
    page = new_page(browser, stack)
    long_reply = [{"text": "Thanks. " + "Here is what happens next, step by step. " * 6}]
    assistant = StandInAssistant(page, stack, [long_reply] * 5 + [[{"text": "What is the address?"}]])
    open_stand_in_page(page, assistant)
    tab_to(page, lambda e: e["tag"] == "INPUT")
    for i in range(6):
        say(page, f"message {i}")
    assert at_the_end(page)
    page.reload()
    page.wait_for_selector(".intake-chat:not([hidden])")
    assert at_the_end(page)  # the current question, not the greeting
    assert bot_texts(page)[-1] == "What is the address?"
    box = page.locator(".intake-chat__msg--bot").last.bounding_box()
    log = page.locator(".intake-chat__log").bounding_box()
    assert box and log and box["y"] + box["height"] <= log["y"] + log["height"] + 1
    page.screenshot(path=str(artefact_path("web-widget-after-reload.png")))
    page.context.close()


def test_starting_a_new_conversation_asks_first_and_names_the_reference(browser, stack):
    page = new_page(browser, stack)
    assistant = StandInAssistant(page, stack, [[{"text": "Thanks. Your reference number is S-4F7KQ2X."}]])
    open_stand_in_page(page, assistant)
    tab_to(page, lambda e: e["tag"] == "INPUT")
    say(page, "pothole on Elm St")
    assert page.input_value(".intake-chat__ref") == "S-4F7KQ2X"

    tab_to(page, lambda e: e["text"] == "Start a new conversation")
    page.keyboard.press("Enter")
    question = page.locator(".intake-chat__confirm-text")
    assert "S-4F7KQ2X" in question.text_content() and "note the number first" in question.text_content()
    assert focused(page)["cls"] == "intake-chat__confirm-text"
    assert serious_violations(page) == []
    page.screenshot(path=str(artefact_path("web-widget-start-again.png")))
    # Keeping it changes nothing and gives focus back.
    tab_to(page, lambda e: e["text"] == "Keep this conversation", limit=3)
    page.keyboard.press("Enter")
    assert focused(page)["text"] == "Start a new conversation"
    assert page.input_value(".intake-chat__ref") == "S-4F7KQ2X" and page.is_hidden(".intake-chat__confirm")
    # Escape keeps it too; saying yes starts again.
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    assert focused(page)["text"] == "Start a new conversation" and page.is_hidden(".intake-chat__confirm")
    page.keyboard.press("Enter")
    tab_to(page, lambda e: e["text"] == "Yes, start a new conversation", limit=3)
    page.keyboard.press("Enter")
    assert page.is_hidden(".intake-chat__reference")
    assert page.text_content(".intake-chat__status") == "A new conversation has started."
    assert len(bot_texts(page)) == 1 and focused(page)["tag"] == "INPUT"
    page.context.close()


def test_the_pages_have_a_favicon(browser, stack):
    page = new_page(browser, stack)
    for path in ("/", "/staff/sign-in"):
        page.goto(f"{stack.backend_url}{path}")
        href = page.get_attribute("link[rel='icon']", "href")
        assert href, path
        icon = page.request.get(f"{stack.backend_url}{href}")
        assert icon.ok and icon.headers["content-type"].startswith("image/svg+xml"), path
    page.context.close()
