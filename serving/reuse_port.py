"""Rasa's Sanic workers, each with its own listening socket on the shared port (SO_REUSEPORT).

Sanic 21.12 opens one socket in the main process and hands it to every worker. Every worker is then woken for each
new connection and the one already running usually wins it, so under load one worker took three turns in four while
the other core idled. With a socket per worker the kernel gives each new connection to one worker, spread by its
addresses, and a worker only listens once it has loaded the model.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import socket
from typing import Any, Dict, List

import sanic.app
from sanic.server import serve
from sanic.server import serve_multiple as sanic_serve_multiple
from sanic.server.events import trigger_events


def serve_multiple(server_settings: Dict[str, Any], workers: int) -> None:
    """Start `workers` processes that each bind host:port with SO_REUSEPORT; stop them all on SIGINT or SIGTERM."""
    if server_settings.get("sock") is not None or server_settings.get("unix"):
        sanic_serve_multiple(server_settings, workers)  # a socket given by the caller is shared as before
        return
    _refuse_a_taken_port(server_settings["host"], server_settings["port"])
    settings = {**server_settings, "reuse_port": True, "run_multiple": True}
    main_start, main_stop = settings.pop("main_start", None), settings.pop("main_stop", None)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    trigger_events(main_start, loop)

    processes: List[multiprocessing.process.BaseProcess] = []

    def stop_workers(signum: int, _frame: Any) -> None:
        for process in processes:
            if process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)

    signal.signal(signal.SIGINT, stop_workers)
    signal.signal(signal.SIGTERM, stop_workers)
    fork = multiprocessing.get_context("fork")
    for _ in range(workers):
        process = fork.Process(target=serve, kwargs=settings, daemon=True)
        process.start()
        processes.append(process)
    for process in processes:
        process.join()
    trigger_events(main_stop, loop)
    loop.close()


def _refuse_a_taken_port(host: str, port: int) -> None:
    """Raise OSError (address in use) when another server listens on the port, as Sanic's own way does. Sockets
    with SO_REUSEPORT share a port with any other such socket of the same user: without this check, a second
    server started on the same port by mistake would silently take part of the first one's traffic."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


def install() -> None:
    """Make Sanic's multi-worker run use `serve_multiple` above (Sanic's `app.run` calls it by this name)."""
    sanic.app.serve_multiple = serve_multiple  # type: ignore[attr-defined]
