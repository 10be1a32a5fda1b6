"""The web chat widget in headless Chromium (Debian's, driven by Playwright) against the real running stack.

Everything the resident does here is done with the keyboard only. Screenshots go to var/test-artefacts/.
"""

from __future__ import annotations

import os
from typing import Iterator, List

import pytest
from axe_playwright_python.sync_playwright import Axe
from channel_live import artefact_path, converse, get_case
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = os.environ.get("INTAKE_CHROMIUM", "/usr/bin/chromium")
DESKTOP = {"width": 1280, "height": 800}
NARROW = {"width": 320, "height": 640}
AXE_RULES = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa",
                                                     "best-practice"]}, "resultTypes": ["violations"]}
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
    page.route(url, lambda route: route.fulfill(content_type="text/html",
                                                body=CITY_PAGE.format(rasa_url=stack.rasa_url)))
    page.goto(url)
    page.wait_for_selector(".intake-chat:not([hidden])", state="attached")


def focused(page: Page) -> dict:
    return page.evaluate("""() => { const e = document.activeElement; const s = getComputedStyle(e);
        return {tag: e.tagName, text: (e.textContent || '').trim(), id: e.id, cls: e.className || '',
                inWidget: !!e.closest('.intake-chat'), outline: s.outlineStyle, outlineWidth: parseFloat(s.outlineWidth)}; }""")


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


def bot_texts(page: Page) -> List[str]:
    return page.eval_on_selector_all(".intake-chat__msg--bot", "els => els.map(e => e.textContent.slice(5))")


def say(page: Page, text: str) -> List[str]:
    """Type a message into the focused input and press Enter; return the assistant's new replies."""
    assert focused(page)["tag"] == "INPUT", focused(page)
    before = len(bot_texts(page))
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.querySelectorAll('.intake-chat__msg--bot').length > {before} && "
                           "document.querySelector('.intake-chat__status').textContent === ''")
    replies = bot_texts(page)[before:]
    assert not any("can't connect" in reply for reply in replies), replies
    return replies


def serious_violations(page: Page) -> List[str]:
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
            " e.getBoundingClientRect().height])")
        assert sizes and all(w >= 24 and h >= 24 for _, w, h in sizes), sizes

        assert serious_violations(page) == [], name
        page.screenshot(path=str(artefact_path(f"web-widget-{name}.png")))
        page.context.close()


def test_the_resident_can_choose_larger_text_and_it_is_remembered(browser, stack):
    page = new_page(browser, stack)
    page.goto(f"{stack.backend_url}/")
    size = lambda: page.evaluate(  # noqa: E731
        "parseFloat(getComputedStyle(document.querySelector('.intake-chat__msg')).fontSize)")
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
