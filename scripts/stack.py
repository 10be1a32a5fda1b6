"""Start the whole assistant on one machine (backend, action server, Rasa), wait until it answers, stop it cleanly.

`make run` uses it in the foreground; the end-to-end tests use the same `Stack` with their own ports and folder.
It needs only the standard library, and the environments and model that `make run` prepares.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOT_BIN = ROOT / ".venvs" / "bot" / "bin"
BACKEND_BIN = ROOT / ".venvs" / "backend" / "bin"
# The Telegram secret token is ours to choose: the channel registers its webhook with it (see channels/telegram.py).
# INTAKE_RASA_TOKEN guards Rasa's HTTP API, through which the backend relays staff replies to residents.
# INTAKE_ACTIONS_SECRET is what Rasa sends with every action call; the action server answers nothing without it.
SECRET_NAMES = (
    "INTAKE_STAFF_TOKEN",
    "INTAKE_ACTIONS_TOKEN",
    "INTAKE_TELEGRAM_SECRET_TOKEN",
    "INTAKE_RASA_TOKEN",
    "INTAKE_ACTIONS_SECRET",
)


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` so that only its owner can ever read it: a new file made with mode 600, then renamed
    over the old one (never a file readable by others until a chmod)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def load_or_create_secrets(
    var_dir: Path, names: Sequence[str] = SECRET_NAMES, filename: str = "secrets.env"
) -> dict[str, str]:
    """Return the tokens the services share, generating any that are missing into var/secrets.env (mode 600)."""
    path = var_dir / filename
    values: dict[str, str] = {}
    old_text = path.read_text() if path.exists() else None
    for line in (old_text or "").splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip() in names:
            values[name.strip()] = value.strip()
    for name in names:
        if os.environ.get(name):
            values[name] = os.environ[name]
        values.setdefault(name, secrets.token_urlsafe(32))
    text = "".join(f"{name}={values[name]}\n" for name in names)
    var_dir.mkdir(parents=True, exist_ok=True)
    if text != old_text or path.stat().st_mode & 0o077:
        write_private(path, text)
    return values


@dataclass
class Service:
    """One server process of the stack, with the URL that says it is ready."""

    name: str
    command: list[str]
    ready_url: str
    process: subprocess.Popen | None = None
    env: dict[str, str] = field(default_factory=dict)  # settings for this server only


@dataclass
class Stack:
    """The backend, the action server and Rasa, wired together through environment variables."""

    model: Path
    var_dir: Path = ROOT / "var"
    host: str = "127.0.0.1"
    backend_port: int = 8000
    actions_port: int = 5055
    rasa_port: int = 5005
    web_origins: list[str] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)  # more environment for the services (tests' stand-ins)
    services: list[Service] = field(default_factory=list)

    @property
    def database_path(self) -> Path:
        return self.var_dir / "intake.db"

    @property
    def backend_url(self) -> str:
        return f"http://{self.host}:{self.backend_port}"

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    def environment(self) -> dict[str, str]:
        """Return the environment every service gets: settings from the caller's, plus the wiring."""
        env = dict(os.environ)
        env.update(load_or_create_secrets(self.var_dir))
        env.update(self.settings)
        env.setdefault("INTAKE_DATABASE_URL", f"sqlite:///{self.database_path}")
        env.setdefault("INTAKE_CHANNEL_STATE_PATH", str(self.var_dir / "channels.db"))
        env.setdefault("INTAKE_TRACKER_SQLITE_PATH", str(self.database_path))
        # What the Rasa workers share while they run: the conversation locks (stores/lock_store.py) and the rate
        # limits' counts (channels/limits.py). Both start empty with the server.
        env.setdefault("INTAKE_LOCK_SQLITE_PATH", str(self.var_dir / "locks.db"))
        env.setdefault("INTAKE_LIMITS_SQLITE_PATH", str(self.var_dir / "limits.db"))
        # The action server's durable outbox for cases the backend could not take (actions/outbox.py).
        env.setdefault("INTAKE_OUTBOX_PATH", str(self.var_dir / "outbox.db"))
        # The action server is Rasa's alone: on the loopback, whatever interface the other servers listen on.
        env["INTAKE_ACTION_SERVER_URL"] = f"http://127.0.0.1:{self.actions_port}/webhook"
        env["INTAKE_BACKEND_URL"] = self.backend_url
        env["INTAKE_RASA_URL"] = self.rasa_url
        env["INTAKE_RASA_PUBLIC_URL"] = env.get("INTAKE_RASA_PUBLIC_URL") or self.rasa_url
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        # One message's matrix products are small: extra BLAS threads only spin, taking a core from another worker.
        env.setdefault("OPENBLAS_NUM_THREADS", "1")
        env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
        env["PYTHONPATH"] = str(ROOT)
        return env

    def rasa_workers(self) -> int:
        """Return how many Rasa worker processes to run: INTAKE_RASA_WORKERS, else one per core up to 2 (each holds
        the model, about 630 MB)."""
        configured = self.settings.get("INTAKE_RASA_WORKERS") or os.environ.get("INTAKE_RASA_WORKERS", "")
        if configured.strip():
            workers = int(configured)
            if workers < 1:
                raise ValueError("INTAKE_RASA_WORKERS must be 1 or more")
            return workers
        return max(1, min(2, os.cpu_count() or 1))

    def _origins(self) -> list[str]:
        # The backend's own page, plus the city pages that embed the chat widget (INTAKE_WEB_ORIGINS).
        return [f"http://{h}:{self.backend_port}" for h in ("localhost", "127.0.0.1")] + self.web_origins

    def migrate(self, env: dict[str, str]) -> None:
        """Bring the database schema up to date."""
        subprocess.run([str(BACKEND_BIN / "python"), "-m", "backend.manage", "migrate"], cwd=ROOT, env=env, check=True)

    def start(self) -> None:
        """Migrate the database and start the three servers in the background, logging under var/log/."""
        env = self.environment()
        self.migrate(env)
        log_dir = self.var_dir / "log"
        log_dir.mkdir(parents=True, exist_ok=True)
        for name in ("INTAKE_LOCK_SQLITE_PATH", "INTAKE_LIMITS_SQLITE_PATH"):
            path = Path(env[name])
            for leftover in path.parent.glob(f"{path.name}*"):  # the file and its -wal and -shm companions
                leftover.unlink()
        self.services = [
            Service(
                "backend",
                [
                    str(BACKEND_BIN / "uvicorn"),
                    "backend.main:app",
                    "--host",
                    self.host,
                    "--port",
                    str(self.backend_port),
                    "--no-access-log",
                ],
                f"{self.backend_url}/healthz",
            ),
            Service(
                "actions",
                # rasa-sdk's action server on this machine's loopback only, answering only calls that carry
                # INTAKE_ACTIONS_SECRET (actions/server.py).
                [
                    str(BOT_BIN / "python"),
                    "-m",
                    "actions.server",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.actions_port),
                ],
                f"http://127.0.0.1:{self.actions_port}/health",
            ),
            Service(
                "rasa",
                # `rasa run` with the patches of serving/patches.py and the API token read from
                # INTAKE_RASA_TOKEN, out of the process list (serving/__main__.py).
                [
                    str(BOT_BIN / "python"),
                    "-m",
                    "serving",
                    "--model",
                    str(self.model),
                    "--endpoints",
                    "bot/endpoints.yml",
                    "--credentials",
                    "bot/credentials.yml",
                    "--interface",
                    self.host,
                    "--port",
                    str(self.rasa_port),
                    "--enable-api",
                    "--cors",
                    *self._origins(),
                ],
                f"{self.rasa_url}/webhooks/rest/",
                env={
                    # Rasa's workers share Sanic's one listening socket.
                    "SANIC_WORKERS": str(self.rasa_workers()),
                },
            ),
        ]
        for service in self.services:
            log = open(log_dir / f"{service.name}.log", "ab")
            service.process = subprocess.Popen(
                service.command,
                cwd=ROOT,
                env={**env, **service.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_until_ready(self, timeout: float = 240.0) -> None:
        """Wait until every service answers its ready URL; raise with the log's tail if one dies or times out."""
        self.wait_for([service.name for service in self.services], timeout)

    def wait_for(self, names: Sequence[str], timeout: float = 240.0) -> None:
        """Wait until these services are ready; raise with the log's tail if one dies or time runs out."""
        deadline = time.monotonic() + timeout
        for name in names:
            service = self.service(name)
            while not self._ready(service):
                assert service.process is not None
                if service.process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {service.process.returncode}:\n{self.log_tail(name)}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} not ready after {timeout:.0f} s:\n{self.log_tail(name)}")
                time.sleep(0.5)

    def _ready(self, service: Service) -> bool:
        return _answers(service.ready_url)

    def service(self, name: str) -> Service:
        """Return the service with this name."""
        return next(service for service in self.services if service.name == name)

    def log_tail(self, name: str, lines: int = 30) -> str:
        """Return the last lines of a service's log."""
        path = self.var_dir / "log" / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else "(no log)"

    def stop(self) -> None:
        """Ask every server to stop, then make sure it has."""
        for service in reversed(self.services):
            if service.process and service.process.poll() is None:
                os.killpg(service.process.pid, signal.SIGTERM)
        for service in reversed(self.services):
            if service.process:
                try:
                    service.process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(service.process.pid, signal.SIGKILL)
                    service.process.wait()


def _answers(url: str) -> bool:
    if url.startswith("tcp://"):  # a server that speaks no HTTP (PostgreSQL, Redis): ready when it accepts
        host, _, port = url[len("tcp://") :].rpartition(":")
        try:
            with socket.create_connection((host, int(port)), timeout=2):
                return True
        except OSError:
            return False
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, type=Path, help="trained model (.tar.gz)")
    args = parser.parse_args(argv)
    stack = Stack(
        model=args.model.resolve(),
        var_dir=Path(os.environ.get("INTAKE_VAR_DIR", ROOT / "var")).resolve(),
        host=os.environ.get("INTAKE_HOST", "127.0.0.1"),
        backend_port=int(os.environ.get("INTAKE_BACKEND_PORT", "8000")),
        actions_port=int(os.environ.get("INTAKE_ACTIONS_PORT", "5055")),
        rasa_port=int(os.environ.get("INTAKE_RASA_PORT", "5005")),
        web_origins=[o.strip() for o in os.environ.get("INTAKE_WEB_ORIGINS", "").split(",") if o.strip()],
    )
    return serve(
        stack,
        starting="the backend, the action server and Rasa (loading the model takes about 30 s)",
        banner=lambda: (
            f"The assistant is running. Logs are in {stack.var_dir / 'log'}.\n"
            f"  Web chat page:   {stack.backend_url}/\n"
            f"  Backend API:     {stack.backend_url}/docs (staff token in {stack.var_dir / 'secrets.env'})\n"
            f"  Rasa REST:       {stack.rasa_url}/webhooks/rest/webhook\n"
            f"  SMS (Twilio):    {stack.rasa_url}/webhooks/sms/webhook\n"
            f"  Telegram:        {stack.rasa_url}/webhooks/telegram/webhook\n"
            f"  Action server:   http://127.0.0.1:{stack.actions_port}/health (Rasa's only)"
        ),
        log_dir=stack.var_dir / "log",
    )


def serve(stack: Stack, *, starting: str, banner: Callable[[], str], log_dir: Path) -> int:
    """Start `stack`, print `banner()` once it answers, and run until Ctrl-C, SIGTERM or a server dies; then stop it."""
    # Ctrl-C and SIGTERM both stop everything, even when started from a shell that ignores SIGINT.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    print(f"==> starting {starting}", flush=True)
    try:
        stack.start()
        stack.wait_until_ready()
        print(f"\n{banner()}\nPress Ctrl-C to stop.", flush=True)
        while all(s.process and s.process.poll() is None for s in stack.services):
            time.sleep(1)
        dead = [s.name for s in stack.services if s.process and s.process.poll() is not None]
        print(f"error: {', '.join(dead)} stopped unexpectedly; see {log_dir}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\n==> stopping", flush=True)
        return 0
    except (RuntimeError, subprocess.CalledProcessError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
