"""`python -m serving` runs `rasa run` with the API token from the environment, never on the command line."""

from __future__ import annotations

import pytest

from serving.__main__ import rasa_arguments


def test_the_token_comes_from_the_environment():
    arguments = rasa_arguments(["--port", "5005", "--enable-api"], {"INTAKE_RASA_TOKEN": "-starts-with-a-dash"})
    assert arguments == ["rasa", "run", "--port", "5005", "--enable-api", "--auth-token=-starts-with-a-dash"]
    assert rasa_arguments(["--port", "5005"], {}) == ["rasa", "run", "--port", "5005"]


def test_the_api_is_not_served_without_a_token():
    with pytest.raises(SystemExit, match="INTAKE_RASA_TOKEN"):
        rasa_arguments(["--enable-api"], {"INTAKE_RASA_TOKEN": ""})
