"""Rasa's workers each listen on the port (serving/reuse_port.py): a Sanic app run the same way, two workers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request

from live import ROOT, free_port, listening_sockets

APP = textwrap.dedent("""
    import os, sys
    from sanic import Sanic, response
    from serving import reuse_port

    reuse_port.install()
    app = Sanic("workers")

    @app.get("/")
    async def pid(request):
        return response.text(str(os.getpid()))

    app.run(host="127.0.0.1", port=int(sys.argv[1]), workers=2, access_log=False)
""")


def worker_pid(port: int) -> str:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", headers={"Connection": "close"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.read().decode()


def test_each_worker_listens_on_the_port_and_takes_connections():
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", APP, str(port)], cwd=ROOT, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while listening_sockets(port) < 2:
            assert server.poll() is None and time.monotonic() < deadline, "the workers did not start listening"
            time.sleep(0.1)
        # Sanic's own way has one socket, opened before the workers fork.
        assert listening_sockets(port) == 2
        answered_by = {worker_pid(port) for _ in range(40)}
        assert len(answered_by) == 2 and str(server.pid) not in answered_by
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        assert server.wait(timeout=30) is not None
    assert listening_sockets(port) == 0


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
