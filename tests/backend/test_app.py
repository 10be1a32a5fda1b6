"""The app as a whole: web page, health check, body limit, and what the backend may import."""

from __future__ import annotations

import ast
import asyncio
import json
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from backend.middleware import BodySizeLimitMiddleware

BACKEND = Path(__file__).resolve().parents[2] / "backend"


def test_root_serves_the_web_page(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == (BACKEND / "static" / "index.html").read_text(encoding="utf-8")


def test_static_files_are_served_under_static(client: TestClient) -> None:
    others = [path for path in (BACKEND / "static").iterdir() if path.is_file() and path.name != "index.html"]
    for path in others:
        response = client.get(f"/static/{path.name}")
        assert response.status_code == 200
        assert response.content == path.read_bytes()
    assert client.get("/static/no-such-file.js").status_code == 404
    assert client.get("/static/../config.py").status_code == 404


def test_healthz_checks_the_database(client: TestClient, make_app: Callable[..., FastAPI], tmp_path: Path) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    folder = tmp_path / "not-a-file.db"
    folder.mkdir()  # a folder where the database file should be: SQLite cannot open it
    broken = TestClient(make_app(database_url=f"sqlite:///{folder}", tracker_database_url=f"sqlite:///{folder}"))
    response = broken.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}


def test_unknown_paths_are_404_json(client: TestClient) -> None:
    response = client.get("/api/nothing")
    assert response.status_code == 404


def _run_middleware(chunks: list[bytes], limit: int) -> tuple[int, bytes | None]:
    """Send `chunks` through the middleware; return the status and what the app received (None if not called)."""
    received: list[bytes] = []
    sent: list[dict[str, object]] = []

    async def app(scope: dict[str, object], receive: Callable[..., object], send: Callable[..., object]) -> None:
        message = await receive()  # type: ignore[misc]
        received.append(message["body"])
        await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[misc]
        await send({"type": "http.response.body", "body": b"ok"})  # type: ignore[misc]

    last = len(chunks) - 1
    messages = [{"type": "http.request", "body": chunk, "more_body": i < last} for i, chunk in enumerate(chunks)]

    async def receive() -> dict[str, object]:
        return messages.pop(0)

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": []}
    asyncio.run(BodySizeLimitMiddleware(app, max_bytes=limit)(scope, receive, send))  # type: ignore[arg-type]
    return int(sent[0]["status"]), (received[0] if received else None)  # type: ignore[call-overload]


def test_the_body_limit_counts_streamed_chunks() -> None:
    assert _run_middleware([b"a" * 10, b"b" * 10], limit=20) == (200, b"a" * 10 + b"b" * 10)
    status, received = _run_middleware([b"a" * 10, b"b" * 11], limit=20)
    assert (status, received) == (413, None)


def test_the_body_limit_trusts_a_large_content_length_without_reading() -> None:
    sent: list[dict[str, object]] = []

    async def app(scope: object, receive: object, send: object) -> None:
        raise AssertionError("the app must not be called")

    async def receive() -> dict[str, object]:
        raise AssertionError("the body must not be read")

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": [(b"content-length", b"70000")]}
    asyncio.run(BodySizeLimitMiddleware(app)(scope, receive, send))  # type: ignore[arg-type]
    assert sent[0]["status"] == 413
    assert "65536" in json.loads(sent[1]["body"])["detail"]  # type: ignore[arg-type]


def test_the_backend_never_imports_rasa() -> None:
    for path in BACKEND.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert top not in {"rasa", "rasa_sdk", "actions", "channels"}, f"{path}: imports {name}"
