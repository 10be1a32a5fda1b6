"""`python -m serving <rasa run options>`: `rasa run` with the project's patches to Rasa and Sanic installed first
(serving/patches.py: the intent guard always, the speed patches unless INTAKE_STOCK_RASA=1), and the API token read
from INTAKE_RASA_TOKEN, so it never shows in the process list."""

from __future__ import annotations

import os
import sys

TOKEN_VARIABLE = "INTAKE_RASA_TOKEN"


def rasa_arguments(arguments: list[str], environ: dict[str, str]) -> list[str]:
    """`rasa run` and the given options, plus `--auth-token` from the environment when the API is enabled."""
    token = environ.get(TOKEN_VARIABLE, "")
    if "--enable-api" in arguments and not token:
        raise SystemExit(f"{TOKEN_VARIABLE} is empty: the Rasa API needs a token.")
    # "=" keeps a token that starts with "-" from being read as an option.
    return ["rasa", "run", *arguments, *([f"--auth-token={token}"] if "--enable-api" in arguments else [])]


if __name__ == "__main__":
    from serving import patches

    patches.main(rasa_arguments(sys.argv[1:], dict(os.environ))[1:])
