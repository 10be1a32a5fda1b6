"""The project's patches to Rasa and Sanic (serving/patches.py): installed from one place when the server starts, never
by importing a module; each refuses other versions of Rasa and Sanic than it was written for; INTAKE_STOCK_RASA=1
leaves out every speed patch and keeps the intent guard."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from serving import patches
from serving.patches import PATCHES, SPEED_PATCHES, WrongVersion

ROOT = Path(__file__).resolve().parents[3]
GUARDS = [patch.name for patch in PATCHES if not patch.speed]

# Run in a process of its own: records what each patch's targets are, runs `action`, and prints which patches'
# targets it changed.
PROBE = textwrap.dedent("""
    import importlib, json, sys
    sys.path.insert(0, {root!r})
    from serving.patches import PATCHES

    def where(target):
        module, _, path = target.partition(":")
        owner = importlib.import_module(module)
        *parents, last = path.split(".")
        for parent in parents:
            owner = getattr(owner, parent)
        return owner.__dict__.get(last)

    before = {{target: where(target) for patch in PATCHES for target in patch.targets}}
    {action}
    changed = [patch.name for patch in PATCHES if any(where(t) is not before[t] for t in patch.targets)]
    print("CHANGED " + json.dumps(changed))
""")


def changed_by(action: str, environ: dict[str, str]) -> list[str]:
    """Run `action` in a fresh bot process and return the patches whose targets it changed."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(root=str(ROOT), action=action)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3", **environ},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    [line] = [line for line in done.stdout.splitlines() if line.startswith("CHANGED ")]
    return json.loads(line.removeprefix("CHANGED "))


def test_importing_stores_or_serving_installs_nothing():
    modules = [
        "stores",
        "stores.tracker_store",
        "stores.lock_store",
        "stores.sqlite",
        "serving",
        "serving.__main__",
        *(patch.module for patch in PATCHES),
        "serving.patches",
    ]
    assert changed_by("; ".join(f"import {module}" for module in modules), {}) == []


def test_the_server_installs_every_patch_by_default():
    assert changed_by("from serving import patches; patches.install()", {}) == [patch.name for patch in PATCHES]


@pytest.mark.parametrize("stock", ["1", "true", "yes"])
def test_stock_mode_installs_no_speed_patch_and_keeps_the_intent_guard(stock):
    assert changed_by("from serving import patches; patches.install()", {"INTAKE_STOCK_RASA": stock}) == GUARDS
    assert "intent_guard" in GUARDS


def test_one_speed_patch_can_be_left_out_for_bisecting():
    changed = changed_by("from serving import patches; patches.install()", {"INTAKE_SPEED_PATCHES_OFF": "graph_runner"})
    assert changed == [patch.name for patch in PATCHES if patch.name != "graph_runner"]


def test_the_guard_is_selected_in_both_modes_and_the_speed_patches_only_without_stock():
    assert [p.name for p in patches.selected({})] == [p.name for p in PATCHES]
    assert [p.name for p in patches.selected({"INTAKE_STOCK_RASA": "1"})] == GUARDS
    assert [p.name for p in patches.selected({"INTAKE_STOCK_RASA": "0"})] == [p.name for p in PATCHES]
    everything_off = {"INTAKE_SPEED_PATCHES_OFF": ",".join(SPEED_PATCHES)}
    assert [p.name for p in patches.selected(everything_off)] == GUARDS


def test_a_wrong_switch_refuses_to_start():
    with pytest.raises(SystemExit, match="names no speed patch: intent_guard"):
        patches.selected({"INTAKE_SPEED_PATCHES_OFF": "intent_guard"})  # the guard cannot be switched off
    with pytest.raises(SystemExit, match="INTAKE_STOCK_RASA must be 1 or 0"):
        patches.selected({"INTAKE_STOCK_RASA": "stock"})


@pytest.mark.parametrize("patch", PATCHES, ids=lambda patch: patch.name)
@pytest.mark.parametrize(
    "rasa_version, sanic_version",
    [("3.6.20", "21.12.2"), ("3.7.0", "21.12.2"), ("3.6.21", "22.3.0"), ("3.6.21", "21.9.3")],
)
def test_a_patch_refuses_other_versions_naming_itself_and_the_versions(patch, rasa_version, sanic_version):
    with pytest.raises(WrongVersion) as refused:
        patches.check_versions(patch, rasa_version, sanic_version)
    message = str(refused.value)
    assert f"serving patch '{patch.name}'" in message
    assert "written for Rasa 3.6.21 and Sanic 21.12.x" in message
    assert f"Rasa {rasa_version} and Sanic {sanic_version} are installed: refusing to start" in message


def test_each_patch_accepts_the_versions_it_was_written_for():
    for patch in PATCHES:
        patches.check_versions(patch, "3.6.21", "21.12.2")
        patches.check_versions(patch, "3.6.21", "21.12.0")
    assert patches.installed_versions()[0] == "3.6.21" and patches.installed_versions()[1].startswith("21.12.")


@pytest.mark.parametrize("environ", [{}, {"INTAKE_STOCK_RASA": "1"}])
def test_a_wrong_version_installs_nothing_at_all(environ):
    before = patches.installed()
    with pytest.raises(WrongVersion, match="serving patch 'intent_guard'"):
        patches.install(environ, versions=("3.6.22", "21.12.2"))
    assert patches.installed() == before


def test_the_server_refuses_to_start_on_another_rasa():
    # `python -m serving` as the stack runs it, with Rasa's version changed before the patches are checked.
    program = textwrap.dedent(f"""
        import runpy, sys
        sys.path.insert(0, {str(ROOT)!r})
        import rasa
        rasa.__version__ = "3.7.0"
        sys.argv = ["serving", "--port", "1"]
        runpy.run_module("serving", run_name="__main__")
    """)
    done = subprocess.run(
        [sys.executable, "-c", program],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert done.returncode == 1
    assert (
        "serving patch 'intent_guard' (serving.intent_guard) was written for Rasa 3.6.21 and Sanic 21.12.x, but "
        "Rasa 3.7.0 and Sanic 21.12.2 are installed: refusing to start"
    ) in done.stderr
