"""Rasa's Sanic workers, each with its own listening socket on the shared port (SO_REUSEPORT).

Sanic 21.12 opens one socket in the main process and hands it to every worker. Every worker is then woken for each
new connection and the one already running usually wins it, so under load one worker took three turns in four while
the other core idled. With a socket per worker the kernel gives each new connection to one worker, spread by its
addresses, and a worker only listens once it has loaded the model.

The kernel spreads connections, not requests: a client that keeps its connection open (a proxy, a load test) sends
all its requests to one worker, and with a few dozen such connections one worker often held three in five of them
while the other had time to spare (the load benchmark's 20 residents). So the workers share how many requests each
is answering (`InFlight`), and a worker answering more than two requests above the least busy worker answers with
`Connection: close`. The client's next request opens a new connection, which the kernel gives to either worker: the
busy worker sheds connections until the load is even, and while it is even every connection stays open. A worker
that dies leaves its last count behind; the others then close connections more often than they need to, which
costs a reconnection, never an answer.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import socket
from multiprocessing.sharedctypes import RawArray
from typing import Any, Awaitable, Callable, Dict, List

import sanic.app
from sanic.server import HttpProtocol, serve
from sanic.server import serve_multiple as sanic_serve_multiple
from sanic.server.events import trigger_events


# A worker closes a request's connection when it answers more than this many requests above the least busy worker.
SLACK = 2


class InFlight:
    """How many requests each worker is answering, in memory the workers share (each writes only its own count)."""

    def __init__(self, workers: int) -> None:
        self.counts = RawArray("i", workers)
        self.index = 0  # this process's worker, set before it is forked

    def busier_than_peers(self) -> bool:
        """Say whether this worker answers more than SLACK requests above the least busy worker."""
        counts = self.counts[:]
        return counts[self.index] > min(counts) + SLACK

    def counted(self, handle: Callable[[Any], Awaitable[Any]]) -> Callable[[Any], Awaitable[Any]]:
        """Wrap Sanic's request handler: count the request while it is answered, and close its connection
        afterwards when this worker is busier than its peers."""
        counts = self.counts

        async def handle_request(request: Any) -> Any:
            index = self.index
            counts[index] += 1
            try:
                if self.busier_than_peers() and request.stream is not None:
                    request.stream.keep_alive = False  # the reply says `Connection: close`
                return await handle(request)
            finally:
                counts[index] -= 1

        return handle_request


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
    in_flight = InFlight(workers)
    settings["protocol"] = _counting(settings.get("protocol") or HttpProtocol, in_flight)
    fork = multiprocessing.get_context("fork")
    for index in range(workers):
        in_flight.index = index  # the forked worker keeps the index it was forked with
        process = fork.Process(target=serve, kwargs=settings, daemon=True)
        process.start()
        processes.append(process)
    for process in processes:
        process.join()
    trigger_events(main_stop, loop)
    loop.close()


def _counting(protocol: type, in_flight: InFlight) -> type:
    """Sanic's connection protocol, with its request handler counted by `in_flight`."""

    class CountingProtocol(protocol):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.request_handler = in_flight.counted(self.request_handler)

    return CountingProtocol


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
