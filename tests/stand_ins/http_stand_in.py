"""A threaded local HTTP server that records requests, for the platform stand-ins to build on."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

Reply = tuple[int, dict[str, Any]]


class StandInServer:
    """Serve `handle(method, path, headers, form_or_json)` on 127.0.0.1 and a free port, in a daemon thread."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                kind = self.headers.get("Content-Type", "")
                if "json" in kind:
                    body: Any = json.loads(raw or b"null")
                else:
                    body = {k: v[0] for k, v in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items()}
                status, payload = stand_in.handle(self.command, self.path.partition("?")[0], self.headers, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def handle(self, method: str, path: str, headers: Any, body: Any) -> Reply:
        raise NotImplementedError

    def wait_until(self, condition: Callable[[], bool], timeout: float = 60.0) -> bool:
        """Wait until `condition()` holds (checked whenever a request arrives); return whether it did."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while not condition():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.lock.wait(left)
            return True

    def __enter__(self) -> StandInServer:
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
