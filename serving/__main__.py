"""`python -m serving <rasa run options>`: `rasa run`, with its workers each listening on the port
(serving/reuse_port.py), the model graph run without dask's scheduler (serving/graph_runner.py), the policies'
dialogue states kept per conversation instead of replayed at every call (serving/policy_states.py), event classes
found from a table (serving/event_types.py), slots copied directly (serving/slot_copies.py), the calls to the action
server kept alive and written by orjson (serving/action_calls.py), the loaded model's objects set aside from the
garbage collector (serving/heap.py), no resident's message read as an `/intent` command whatever the channel
(serving/intent_guard.py), and the API token read from INTAKE_RASA_TOKEN, so it never shows in the process list."""

from __future__ import annotations

import os
import sys

from rasa.__main__ import main

from serving import (action_calls, event_types, graph_runner, heap, intent_guard, policy_states, reuse_port,
                     slot_copies)

TOKEN_VARIABLE = "INTAKE_RASA_TOKEN"


def rasa_arguments(arguments: list[str], environ: dict[str, str]) -> list[str]:
    """`rasa run` and the given options, plus `--auth-token` from the environment when the API is enabled."""
    token = environ.get(TOKEN_VARIABLE, "")
    if "--enable-api" in arguments and not token:
        raise SystemExit(f"{TOKEN_VARIABLE} is empty: the Rasa API needs a token.")
    # "=" keeps a token that starts with "-" from being read as an option.
    return ["rasa", "run", *arguments, *([f"--auth-token={token}"] if "--enable-api" in arguments else [])]


if __name__ == "__main__":
    sys.argv = rasa_arguments(sys.argv[1:], dict(os.environ))
    intent_guard.install()
    reuse_port.install()
    graph_runner.install()
    policy_states.install()
    event_types.install()
    slot_copies.install()
    action_calls.install()
    heap.install()
    main()
