"""The end-to-end test stories in tests/stories pass against the trained model, with no prediction error: each
message is understood as its story says (intent and entities, from the words, by the model) and each action follows.
Rasa reads a file as test stories, words and all, only when its name starts with `test_`.

They run twice: with the project's patches to Rasa as the server installs them (serving/patches.py; the model graph
run node after node among them), and on stock Rasa (INTAKE_STOCK_RASA=1: only the intent guard), so that a patch
that changes what the assistant understands or does shows as a difference between the two."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("stock", ["0", "1"], ids=["patched", "stock"])
def test_every_test_story_is_followed_exactly(tmp_path, stock):
    model = os.environ.get("INTAKE_MODEL")
    if not model:
        pytest.fail("INTAKE_MODEL is not set: run the tests with `make test`")
    done = subprocess.run(
        # `rasa test core` with the patches the environment selects, as `python -m serving` installs them.
        [
            sys.executable,
            "-m",
            "serving.patches",
            "test",
            "core",
            "--model",
            model,
            "--stories",
            "tests/stories",
            "--fail-on-prediction-errors",
            "--e2e",
            "--out",
            str(tmp_path / "results"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={
            **os.environ,
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "PYTHONPATH": str(ROOT),
            "INTAKE_STOCK_RASA": stock,
            "INTAKE_SPEED_PATCHES_OFF": "",
        },
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    installed = "patched with intent_guard; speed patches left out:" if stock == "1" else "patched with intent_guard, "
    assert installed in done.stderr, done.stderr[-2000:]
    files = sorted((ROOT / "tests/stories").glob("*.yml"))
    assert files and all(path.name.startswith("test_") for path in files)
    written = sum(len(yaml.safe_load(path.read_text())["stories"]) for path in files)
    report = json.loads((tmp_path / "results" / "story_report.json").read_text())["conversation_accuracy"]
    assert report == {"accuracy": 1.0, "correct": written, "with_warnings": 0, "total": written}
