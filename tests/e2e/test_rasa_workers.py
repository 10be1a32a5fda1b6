"""Rasa's workers each listen on the port (serving/reuse_port.py): a Sanic app run the same way, two workers."""

from __future__ import annotations

import asyncio
import http.client
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from types import SimpleNamespace
from typing import DefaultDict, Iterator, List, Tuple

import pytest

from live import ROOT, free_port, listening_sockets

from serving import reuse_port

APP = textwrap.dedent("""
    import asyncio, os, sys
    from sanic import Sanic, response
    from serving import reuse_port

    reuse_port.install()
    app = Sanic("workers")

    @app.get("/")
    async def pid(request):
        return response.text(str(os.getpid()))

    @app.get("/slow")
    async def slow(request):
        await asyncio.sleep(float(request.args.get("seconds", "1")))
        return response.text(str(os.getpid()))

    app.run(host="127.0.0.1", port=int(sys.argv[1]), workers=2, access_log=False)
""")


def worker_pid(port: int) -> str:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", headers={"Connection": "close"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.read().decode()


@contextmanager
def two_workers() -> Iterator[Tuple[int, subprocess.Popen]]:
    """Run the app above with two workers; yield its port once both listen, and stop it afterwards."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", APP, str(port)], cwd=ROOT, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while listening_sockets(port) < 2:
            assert server.poll() is None and time.monotonic() < deadline, "the workers did not start listening"
            time.sleep(0.1)
        yield port, server
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        assert server.wait(timeout=30) is not None
    assert listening_sockets(port) == 0


def test_each_worker_listens_on_the_port_and_takes_connections():
    with two_workers() as (port, server):
        # Sanic's own way has one socket, opened before the workers fork.
        assert listening_sockets(port) == 2
        answered_by = {worker_pid(port) for _ in range(40)}
        assert len(answered_by) == 2 and str(server.pid) not in answered_by


def ask(connection: http.client.HTTPConnection, path: str) -> Tuple[str, str]:
    """Send a request on a kept-alive connection; return the worker's pid and the reply's Connection header."""
    connection.request("GET", path)
    reply = connection.getresponse()
    return reply.read().decode(), reply.getheader("Connection", "")


def test_a_worker_busier_than_its_peer_closes_connections_and_an_even_one_keeps_them():
    at_once = reuse_port.SLACK + 2
    with two_workers() as (port, _server):
        by_worker: DefaultDict[str, List[http.client.HTTPConnection]] = defaultdict(list)
        opened: List[http.client.HTTPConnection] = []
        while max((len(held) for held in by_worker.values()), default=0) < at_once:  # the kernel spreads them
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            opened.append(connection)
            pid, header = ask(connection, "/")
            assert header == "keep-alive"  # one request at a time: the workers are even
            by_worker[pid].append(connection)
        busy = next(held for held in by_worker.values() if len(held) >= at_once)[:at_once]
        try:
            # Requests at once on one worker, none on the other: the first SLACK keep their connections; the two
            # after them, which make it answer more than SLACK above the other worker, are answered with a close.
            with ThreadPoolExecutor(at_once) as pool:
                answers = list(pool.map(lambda connection: ask(connection, "/slow?seconds=1"), busy))
            assert len({pid for pid, _ in answers}) == 1
            assert sorted(header for _, header in answers) == ["close"] * 2 + ["keep-alive"] * reuse_port.SLACK
            # Afterwards the worker is even again: a connection it kept stays open.
            kept = busy[[header for _, header in answers].index("keep-alive")]
            assert ask(kept, "/")[1] == "keep-alive"
        finally:
            for connection in opened:
                connection.close()


def test_a_port_another_server_listens_on_is_refused():
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # as the workers of a first server do
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        second = subprocess.Popen([sys.executable, "-c", APP, str(taken.getsockname()[1])], cwd=ROOT,
                                  start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            _, errors = second.communicate(timeout=60)  # a server that shares the port would run on
        finally:
            if second.poll() is None:
                os.killpg(second.pid, signal.SIGKILL)
    assert second.returncode != 0
    assert "Address already in use" in errors


def test_a_request_that_fails_or_is_cancelled_is_no_longer_counted():
    in_flight = reuse_port.InFlight(2)
    started = asyncio.Event()

    async def fail(_request: object) -> None:
        raise RuntimeError("handler failed")

    async def wait(_request: object) -> None:
        started.set()
        await asyncio.sleep(60)

    async def scenario() -> None:
        request = SimpleNamespace(stream=SimpleNamespace(keep_alive=True))
        with pytest.raises(RuntimeError):
            await in_flight.counted(fail)(request)
        assert in_flight.counts[:] == [0, 0]
        waiting = asyncio.ensure_future(in_flight.counted(wait)(request))
        await started.wait()
        assert in_flight.counts[:] == [1, 0]
        waiting.cancel()  # the client went away
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert in_flight.counts[:] == [0, 0] and request.stream.keep_alive

    asyncio.run(scenario())
