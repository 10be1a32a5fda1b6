"""Dependencies point one way: actions -> HTTP -> backend; the backend never imports Rasa; the bot never the backend."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_packages(folder: str) -> Iterator[tuple[Path, str]]:
    for path in sorted((ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield path, alias.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                yield path, node.module.split(".")[0]


@pytest.mark.parametrize(
    "folder, forbidden",
    [
        ("backend", {"rasa", "rasa_sdk", "actions", "channels", "nlu_components", "stores"}),
        ("actions", {"backend", "rasa", "channels", "nlu_components", "stores"}),
        # Channels keep their per-sender state in the files Rasa's workers share (stores/sqlite.py), not the reverse.
        ("channels", {"backend", "actions", "rasa_sdk", "nlu_components"}),
        ("nlu_components", {"backend", "actions", "channels", "rasa_sdk", "stores"}),
        ("stores", {"backend", "actions", "channels", "rasa_sdk", "nlu_components"}),
        ("serving", {"backend", "actions", "channels", "rasa_sdk", "nlu_components", "stores"}),
        # The reference format, shared by the backend and the assistant, depends on neither.
        (
            "case_references",
            {"backend", "actions", "channels", "rasa", "rasa_sdk", "nlu_components", "stores", "serving"},
        ),
    ],
)
def test_no_import_against_the_direction(folder: str, forbidden: set[str]) -> None:
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}" for path, name in imported_packages(folder) if name in forbidden
    ]
    assert wrong == []
