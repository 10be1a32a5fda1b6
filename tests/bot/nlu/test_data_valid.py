"""The domain, rules, stories and NLU data pass `rasa data validate` with nothing left unexplained."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import validate_data

ROOT = Path(__file__).resolve().parents[3]


def test_rasa_data_validate_is_clean():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "validate_data.py")], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "data validation: clean" in result.stdout


def test_an_unused_response_and_an_unknown_warning_are_reported():
    output = "\n".join(
        [
            "UserWarning: The utterance 'utter_nobody_sends_this' is not used in any story or rule.",
            "UserWarning: The utterance 'utter_ask_report_form_location' is not used in any story or rule.",
            "UserWarning: The utterance 'utter_restart' is not used in any story or rule.",
            "UserWarning: Issue found in 'bot/rules/x.yml': something else",
        ]
    )
    found = validate_data.problems(output)
    assert found == [
        "response utter_nobody_sends_this is used nowhere (no story, rule, form or action)",
        "UserWarning: Issue found in 'bot/rules/x.yml': something else",
    ]
