"""Check the domain, rules, stories and NLU data with `rasa data validate`, and fail on anything it finds.

Rasa cannot see two kinds of use, so its warnings about them are checked here instead of being ignored:
- responses Rasa's default actions send, and responses the action server sends by name (`response="utter_..."` in
  actions/), and form questions
  (`utter_ask_...`), which forms ask without a story: each must really be referenced, or it is reported as unused;
- `EXTERNAL_...` intents, which the backend triggers through Rasa's HTTP API and no resident types: each must be
  used in a rule or story.
Every other warning or error fails. Prints what it found; exit code 0 when clean.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RASA = ROOT / ".venvs" / "bot" / "bin" / "rasa"
COMMAND = [str(RASA), "data", "validate", "--config", "config.yml", "--domain", "bot/domain",
           "--data", "nlu_data", "bot/rules", "bot/stories"]  # fmt: skip
UNUSED = re.compile(r"The utterance '(?P<name>[^']+)' is not used in any story or rule")
EXTERNAL = re.compile(r"The intent '(?P<name>EXTERNAL_[^']+)' is listed in the domain file, but is not found")
# Responses Rasa's own default actions send (action_restart, action_default_fallback, action_back).
RASA_DEFAULT_RESPONSES = {"utter_restart", "utter_default", "utter_back"}
PROBLEM = re.compile(r"(UserWarning|WARNING|ERROR|Error|error)[: ]")


def source_text(folder: Path) -> str:
    """Return the text of every Python file under `folder`."""
    return "\n".join(path.read_text(encoding="utf-8") for path in sorted(folder.rglob("*.py")))


def story_text() -> str:
    """Return the text of every rule and story file."""
    return "\n".join(
        p.read_text(encoding="utf-8") for d in ("bot/rules", "bot/stories") for p in (ROOT / d).rglob("*.yml")
    )


def problems(output: str) -> list[str]:
    """Return the lines of Rasa's output that are real problems (see the module docstring)."""
    actions = source_text(ROOT / "actions")
    stories = story_text()
    found = []
    for line in output.splitlines():
        if (match := UNUSED.search(line)) is not None:
            name = match.group("name")
            if (
                name in RASA_DEFAULT_RESPONSES
                or name.startswith("utter_ask_")
                or re.search(rf"[\"']{re.escape(name)}[\"']", actions)
            ):
                continue
            found.append(f"response {name} is used nowhere (no story, rule, form or action)")
        elif (match := EXTERNAL.search(line)) is not None:
            if match.group("name") not in stories:
                found.append(f"intent {match.group('name')} is triggered by no rule or story")
        elif PROBLEM.search(line) and "tensorflow" not in line.lower() and "cuda" not in line.lower():
            found.append(line.strip())
    return found


def main() -> int:
    result = subprocess.run(COMMAND, cwd=ROOT, capture_output=True, text=True, env={"TF_CPP_MIN_LOG_LEVEL": "3",
                            "PATH": "/usr/bin:/bin", "HOME": str(Path.home())})  # fmt: skip
    output = result.stdout + result.stderr
    found = problems(output)
    if result.returncode != 0:
        found.append(f"rasa data validate exited with {result.returncode}")
    for line in found:
        print(f"- {line}")
    print("data validation: clean" if not found else f"data validation: {len(found)} problem(s)")
    return 0 if not found else 1


if __name__ == "__main__":
    sys.exit(main())
