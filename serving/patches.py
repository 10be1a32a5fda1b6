"""Every change this project makes to Rasa's and Sanic's own code, installed from here when a server starts.

Each patch replaces or wraps parts of Rasa 3.6.21 (private ones among them), so each names the versions of Rasa and
Sanic it was written for, and `install` refuses to start (SystemExit, naming the patch and both versions) when the
installed Rasa or Sanic is another. Nothing is installed by importing a module of `serving` or `stores`: only
`install` does, and `python -m serving` (every Rasa server of this project: scripts/stack.py, scripts/cluster.py)
calls it first.

Two kinds of patch:
- guards, installed always: no resident's message read as an `/intent` command (serving/intent_guard.py);
- speed patches, installed unless switched off, to bisect a suspected bug against stock Rasa:
  `INTAKE_STOCK_RASA=1` installs none of them; `INTAKE_SPEED_PATCHES_OFF=name,name` leaves out the ones named.
The stores loaded from the endpoints file (stores/) are not patches: their fixes for database faults stay on.

A speed patch stays only while `make bench-conversation` shows it buys at least 10% of turns/s or of p95
(docs/benchmarks.md, "Conversation speed and the patches to Rasa"). Four did not and were removed: each Rasa worker
listening on its own socket (SO_REUSEPORT, with connections closed to even out the workers), the policies' dialogue
states kept per conversation, event classes found from a table, and slots copied directly.

`python -m serving.patches <rasa command and options>` runs any `rasa` command (`test core`, `shell`) with the
patches the environment selects, as the server would have them.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

RASA_VERSION = "3.6.21"
SANIC_SERIES = "21.12"  # any 21.12.x
STOCK_VARIABLE = "INTAKE_STOCK_RASA"
OFF_VARIABLE = "INTAKE_SPEED_PATCHES_OFF"


@dataclass(frozen=True)
class Patch:
    """A module of `serving` whose `install()` changes Rasa or Sanic, and what it changes."""

    name: str
    speed: bool  # False: a guard, on in every mode
    targets: tuple[str, ...]  # "module:attribute.path" that `install()` replaces
    rasa: str = RASA_VERSION
    sanic: str = SANIC_SERIES

    @property
    def module(self) -> str:
        return f"serving.{self.name}"


PATCHES: tuple[Patch, ...] = (
    Patch("intent_guard", speed=False, targets=("rasa.core.agent:Agent.handle_message",)),
    Patch("graph_runner", speed=True, targets=("rasa.core.processor:DaskGraphRunner",)),
    Patch(
        "action_calls",
        speed=True,
        targets=("rasa.utils.endpoints:EndpointConfig.session", "rasa.core.run:close_resources"),
    ),
    Patch("action_results", speed=True, targets=("rasa.core.actions.action:RemoteAction._validate_action_result",)),
    Patch("heap", speed=True, targets=("rasa.core.run:load_agent_on_start",)),
)
SPEED_PATCHES = tuple(patch.name for patch in PATCHES if patch.speed)

_installed: list = []


class WrongVersion(SystemExit):
    """A patch was written for other versions of Rasa or Sanic than those installed."""


def installed_versions() -> tuple[str, str]:
    import rasa
    import sanic

    return rasa.__version__, sanic.__version__


def check_versions(patch: Patch, rasa_version: str, sanic_version: str) -> None:
    """Raise WrongVersion unless Rasa is exactly the patch's version and Sanic is of its series."""
    if rasa_version == patch.rasa and sanic_version.startswith(f"{patch.sanic}."):
        return
    raise WrongVersion(
        f"serving patch '{patch.name}' ({patch.module}) was written for Rasa {patch.rasa} and Sanic {patch.sanic}.x, "
        f"but Rasa {rasa_version} and Sanic {sanic_version} are installed: refusing to start. Check the patch "
        f"against these versions (or remove it) and update the versions it names in serving/patches.py."
    )


def selected(environ: Mapping[str, str]) -> tuple[Patch, ...]:
    """The patches the environment asks for: the guards always; the speed patches unless INTAKE_STOCK_RASA is set
    (1, true, yes) or they are named in INTAKE_SPEED_PATCHES_OFF."""
    stock = environ.get(STOCK_VARIABLE, "").strip().lower()
    if stock not in ("", "0", "1", "true", "false", "yes", "no"):
        raise SystemExit(f"{STOCK_VARIABLE} must be 1 or 0, not {stock!r}")
    off = {name.strip() for name in environ.get(OFF_VARIABLE, "").split(",") if name.strip()}
    unknown = off - set(SPEED_PATCHES)
    if unknown:
        raise SystemExit(
            f"{OFF_VARIABLE} names no speed patch: {', '.join(sorted(unknown))} "
            f"(the speed patches: {', '.join(SPEED_PATCHES)})"
        )
    if stock in ("1", "true", "yes"):
        off = set(SPEED_PATCHES)
    return tuple(patch for patch in PATCHES if not patch.speed or patch.name not in off)


def install(environ: Mapping[str, str] | None = None, versions: tuple[str, str] | None = None) -> tuple[str, ...]:
    """Check every selected patch's versions, then install them (each once per process); return their names."""
    patches = selected(os.environ if environ is None else environ)
    rasa_version, sanic_version = versions or installed_versions()
    for patch in patches:
        check_versions(patch, rasa_version, sanic_version)
    for patch in patches:
        if patch.name not in _installed:
            importlib.import_module(patch.module).install()
            _installed.append(patch.name)
    names = tuple(patch.name for patch in patches)
    left_out = [name for name in SPEED_PATCHES if name not in names]
    # Before Rasa sets up its logging: straight to the server's log.
    print(
        f"Rasa {rasa_version} and Sanic {sanic_version} patched with {', '.join(names)}"
        + (f"; speed patches left out: {', '.join(left_out)}" if left_out else ""),
        file=sys.stderr,
        flush=True,
    )
    return names


def installed() -> tuple[str, ...]:
    """The patches installed in this process so far."""
    return tuple(_installed)


def main(arguments: Sequence[str]) -> None:
    """Run `rasa <arguments>` with the selected patches."""
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *arguments]
    rasa_main()


if __name__ == "__main__":
    main(sys.argv[1:])
