"""Learning from staff on the real stack: a resident's report filed as the wrong kind, staff change the kind on the
case page in Chromium, and `python -m backend.manage export-corrections` (what `make corrections` runs) writes the
resident's first message, without their phone number or email, as a candidate example under the kind staff chose.
"""

from __future__ import annotations

import os
import secrets
import stat
import subprocess
from pathlib import Path

import yaml
from channel_live import converse
from live import ROOT, Resident, get_case
from playwright.sync_api import expect, sync_playwright

CHROMIUM = os.environ.get("INTAKE_CHROMIUM", "/usr/bin/chromium")
EMAIL = "corrections-admin@city.example"
PHONE = "416-555-0177"
RESIDENT_EMAIL = "marguerite.resident@example.org"
# Praise the classifier reads as praise, though the resident is unhappy: staff make it a complaint.
FIRST = f"The snow crew did a lovely job on every street but mine, reach me at {PHONE} or {RESIDENT_EMAIL}"


def backend_command(stack, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ROOT / ".venvs" / "backend" / "bin" / "python"), "-m", "backend.manage", *args],
        input=stdin,
        text=True,
        capture_output=True,
        cwd=ROOT,
        env=stack.environment(),
        timeout=120,
    )


def test_a_kind_staff_change_becomes_a_redacted_candidate_example(stack, tmp_path: Path) -> None:
    resident = Resident(stack, f"e2e-corrections-{secrets.token_hex(3)}")
    reference, _ = converse(
        lambda text, topic: resident.say(text),
        FIRST,
        {"location": "45 Elm Street", "person": "the snow crew", "description": "They skipped us"},
    )
    first_kind = get_case(stack, reference)["kind"]
    new_kind = "service_request" if first_kind == "complaint" else "complaint"

    password = secrets.token_urlsafe(18)
    made = backend_command(stack, "create-admin", "--email", EMAIL, "--name", "Cora Corrections", stdin=password + "\n")
    assert made.returncode == 0, made.stderr
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page()
        page.set_default_timeout(60_000)
        page.goto(f"{stack.backend_url}/staff/cases/{reference}")
        page.get_by_label("Email").fill(EMAIL)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"{stack.backend_url}/staff/cases/{reference}")
        page.locator("summary", has_text="Change the kind").click()
        page.get_by_label("This case is really a").select_option(new_kind)
        page.get_by_label("Why").fill(f"Unhappy that the crew skipped the street; call {PHONE}")
        page.get_by_role("button", name="Change the kind").click()
        expect(page.locator("body")).to_contain_text("The kind is changed")
        browser.close()
    assert get_case(stack, reference)["kind"] == new_kind

    out = tmp_path / "nlu_corrections.yml"
    done = backend_command(stack, "export-corrections", "--out", str(out))
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    for private in (PHONE, PHONE.replace("-", ""), RESIDENT_EMAIL):
        assert private not in text, text
    assert reference in text  # the comment says which case it came from
    [block] = [b for b in yaml.safe_load(text)["nlu"] if b["intent"] == new_kind]
    [example] = [entry["text"] for entry in block["examples"] if "snow crew" in entry["text"]]
    assert example.startswith("The snow crew did a lovely job on every street but mine"), example
