"""Run the production profile on one machine, and stop it cleanly: the same code as `make run`, other settings.

- PostgreSQL 15 keeps the cases (database `intake`) and Rasa's tracker store (database `rasa`);
- Redis holds Rasa's lock store, so that one conversation's messages are handled one at a time whichever Rasa
  server receives them;
- several Rasa servers (`deploy/endpoints.production.yml`) and several action servers, behind nginx
  (`deploy/nginx.conf.template`), which sends each conversation to one Rasa server while it is up and to the next
  one when it is not;
- the backend with several uvicorn workers.

PostgreSQL, Redis and nginx come from Debian's packages (scripts/ensure_services.sh installs them when missing and
we are root); each runs as a private instance on 127.0.0.1 with its data under the cluster's folder. `make cluster`
runs this in the foreground (Ctrl-C stops everything); tests/cluster/ and benchmarks/scale.py start a `Cluster` on
free ports in a folder of their own.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stack import BACKEND_BIN, BOT_BIN, ROOT, Service, Stack, _answers, load_or_create_secrets, serve, write_private  # noqa: E402

DEPLOY = ROOT / "deploy"
ENDPOINTS = DEPLOY / "endpoints.production.yml"
PRODUCTION_ENV = DEPLOY / "production.env"
NGINX_TEMPLATE = DEPLOY / "nginx.conf.template"
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
DB_USER = "intake"
CASES_DB, TRACKER_DB = "intake", "rasa"
# Passwords of the servers only this profile has; the services' tokens stay in secrets.env as for `make run`.
INFRA_SECRET_NAMES = ("INTAKE_POSTGRES_PASSWORD", "INTAKE_REDIS_PASSWORD")


def read_env_file(path: Path) -> dict[str, str]:
    """Return the NAME=value lines of an environment file (comments and blank lines skipped)."""
    values = {}
    for line in path.read_text().splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and not name.startswith("#"):
            values[name.strip()] = value.strip()
    return values


def ensure_services() -> None:
    """Install PostgreSQL, Redis and nginx from Debian's packages when missing (scripts/ensure_services.sh)."""
    subprocess.run([str(ROOT / "scripts" / "ensure_services.sh")], check=True)


def as_user(user: str) -> list[str]:
    """Return the command prefix that runs a program as `user` when we are root (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return []
    return ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups"]


def program(name: str, *fallbacks: str) -> str:
    """Return the path of a program, looked for on PATH and then in the packages' usual places."""
    found = shutil.which(name) or next((f for f in fallbacks if Path(f).exists()), None)
    if not found:
        raise RuntimeError(f"{name} is not installed: run scripts/ensure_services.sh")
    return found


@dataclass
class Cluster(Stack):
    """The production profile on one machine. Inherited ports: `rasa_port` is nginx's public listener (residents
    reach Rasa there), `actions_port` nginx's listener for action calls, `backend_port` the backend's own."""

    rasa_port: int = 8080
    actions_port: int = 5055
    api_port: int = 5004  # nginx's listener for Rasa's HTTP API (backend and action servers only)
    tls_port: int = 8443  # nginx's public listener over TLS (a self-signed certificate for 127.0.0.1 here)
    rasa_ports: list[int] = field(default_factory=lambda: [5005, 5006])
    action_ports: list[int] = field(default_factory=lambda: [5056, 5057])
    backend_workers: int = 2
    postgres_port: int = 5433
    redis_port: int = 6380
    postgres_dir: Path | None = None  # default: <var_dir>/postgres

    @classmethod
    def on_free_ports(
        cls, model: Path, var_dir: Path, rasa_servers: int = 2, action_servers: int = 2, **options: object
    ) -> Cluster:
        """Return a cluster whose every listener is on a free port of 127.0.0.1."""
        from socket import socket

        def free() -> int:
            with socket() as sock:
                sock.bind(("127.0.0.1", 0))
                return sock.getsockname()[1]

        return cls(
            model=model,
            var_dir=var_dir,
            backend_port=free(),
            actions_port=free(),
            rasa_port=free(),
            api_port=free(),
            tls_port=free(),
            rasa_ports=[free() for _ in range(rasa_servers)],
            action_ports=[free() for _ in range(action_servers)],
            postgres_port=free(),
            redis_port=free(),
            **options,
        )  # type: ignore[arg-type]

    # --- Where things are -------------------------------------------------------------------------------------

    @property
    def public_tls_url(self) -> str:
        return f"https://{self.host}:{self.tls_port}"

    @property
    def tls_dir(self) -> Path:
        return self.var_dir / "tls"

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    @property
    def pg_dir(self) -> Path:
        return self.postgres_dir or self.var_dir / "postgres"

    @property
    def log_dir(self) -> Path:
        return self.var_dir / "log"

    def database_url(self, database: str, driver: str = "postgresql+psycopg") -> str:
        """Return the SQLAlchemy URL of one of the cluster's PostgreSQL databases."""
        password = self._infra_secrets()["INTAKE_POSTGRES_PASSWORD"]
        return f"{driver}://{DB_USER}:{password}@{self.host}:{self.postgres_port}/{database}"

    def _infra_secrets(self) -> dict[str, str]:
        return load_or_create_secrets(self.var_dir, INFRA_SECRET_NAMES, "infra-secrets.env")

    def environment(self) -> dict[str, str]:
        """Return the services' environment: deploy/production.env under the caller's, then the wiring."""
        env = super().environment()
        for name, value in read_env_file(PRODUCTION_ENV).items():
            if name not in os.environ:
                env[name] = value
        infra = self._infra_secrets()
        env.update(
            {
                "INTAKE_DATABASE_URL": self.database_url(CASES_DB),
                "INTAKE_TRACKER_DATABASE_URL": self.database_url(TRACKER_DB),
                "INTAKE_TRACKER_DB_HOST": self.host,
                "INTAKE_TRACKER_DB_PORT": str(self.postgres_port),
                "INTAKE_TRACKER_DB_NAME": TRACKER_DB,
                "INTAKE_TRACKER_DB_USER": DB_USER,
                "INTAKE_TRACKER_DB_PASSWORD": infra["INTAKE_POSTGRES_PASSWORD"],
                "INTAKE_REDIS_HOST": self.host,
                "INTAKE_REDIS_PORT": str(self.redis_port),
                "INTAKE_REDIS_PASSWORD": infra["INTAKE_REDIS_PASSWORD"],
                "INTAKE_RASA_URL": self.api_url,
            }
        )
        env.update(self.settings)
        return env

    def _origins(self) -> list[str]:
        # The web chat page comes through nginx's public listener, the same origin as the webhooks.
        return [f"http://{h}:{self.rasa_port}" for h in ("localhost", "127.0.0.1")] + self.web_origins

    # --- The servers ------------------------------------------------------------------------------------------

    def _service_list(self) -> list[Service]:
        # `rasa run` as make run runs it (serving/__main__.py): the API token comes from INTAKE_RASA_TOKEN.
        rasa_cmd = [
            str(BOT_BIN / "python"),
            "-m",
            "serving",
            "--model",
            str(self.model),
            "--endpoints",
            str(ENDPOINTS),
            "--credentials",
            "bot/credentials.yml",
            "--interface",
            self.host,
            "--enable-api",
            "--cors",
            *self._origins(),
        ]
        return [
            Service(
                "postgres",
                [
                    *as_user("postgres"),
                    str(PG_BIN / "postgres"),
                    "-D",
                    str(self.pg_dir / "data"),
                    "-p",
                    str(self.postgres_port),
                    "-k",
                    str(self.pg_dir),
                    "-c",
                    f"listen_addresses={self.host}",
                    "-c",
                    "max_connections=200",
                ],
                f"tcp://{self.host}:{self.postgres_port}",
            ),
            Service(
                "redis",
                [program("redis-server", "/usr/bin/redis-server"), str(self.var_dir / "redis" / "redis.conf")],
                f"tcp://{self.host}:{self.redis_port}",
            ),
            # Behind nginx: the scheme and address nginx forwards are believed from nginx's address only, so staff
            # cookies are Secure whenever the resident's side of nginx was HTTPS.
            Service(
                "backend",
                [
                    str(BACKEND_BIN / "uvicorn"),
                    "backend.main:app",
                    "--host",
                    self.host,
                    "--port",
                    str(self.backend_port),
                    "--workers",
                    str(self.backend_workers),
                    "--no-access-log",
                    "--proxy-headers",
                    "--forwarded-allow-ips",
                    self.host,
                ],
                f"{self.backend_url}/healthz",
            ),
            # On the loopback, answering only Rasa's calls, which carry INTAKE_ACTIONS_SECRET (actions/server.py).
            *[
                Service(
                    f"actions-{i}",
                    [str(BOT_BIN / "python"), "-m", "actions.server", "--host", "127.0.0.1", "--port", str(port)],
                    f"http://127.0.0.1:{port}/health",
                )
                for i, port in enumerate(self.action_ports, 1)
            ],
            *[
                Service(f"rasa-{i}", [*rasa_cmd, "--port", str(port)], f"http://{self.host}:{port}/webhooks/rest/")
                for i, port in enumerate(self.rasa_ports, 1)
            ],
            Service(
                "nginx",
                [
                    program("nginx", "/usr/sbin/nginx"),
                    "-p",
                    str(self.var_dir / "nginx"),
                    "-c",
                    str(self.var_dir / "nginx" / "nginx.conf"),
                    "-e",
                    str(self.log_dir / "nginx-error.log"),
                    "-g",
                    "daemon off;",
                ],
                f"{self.rasa_url}/webhooks/rest/",
            ),
        ]

    def service_environment(self, name: str, env: dict[str, str]) -> dict[str, str]:
        """Return the environment of one server: the shared one, plus what is its alone."""
        if name.startswith("actions-") and name != "actions-1":
            # The action servers of a machine share one outbox file; one of them delivers it, so that a resident
            # is told a delayed reference once (the others still write to it, and read it for status look-ups).
            return {**env, "INTAKE_OUTBOX_AUTOSTART": "0"}
        return env

    def start(self) -> None:
        """Prepare what is missing (database cluster, configuration files), then start every server."""
        ensure_services()
        env = self.environment()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            # PostgreSQL runs as its own user, and nginx's workers as nobody: both must get through this folder.
            self.var_dir.chmod(self.var_dir.stat().st_mode | 0o011)
        self._init_postgres()
        self._write_redis_conf()
        self.write_tls_certificate()
        self.write_nginx_conf()
        self.services = self._service_list()
        for service in self.services[:2]:
            self.launch(service.name, env)
        self.wait_for(["postgres", "redis"], timeout=60)
        self._create_databases()
        self.migrate(env)
        for service in self.services[2:]:
            self.launch(service.name, env)

    def _init_postgres(self) -> None:
        data = self.pg_dir / "data"
        if (data / "PG_VERSION").exists():
            return
        self.pg_dir.mkdir(parents=True, exist_ok=True)
        self.pg_dir.chmod(0o700)
        password_file = self.pg_dir / "initdb-password"
        write_private(password_file, self._infra_secrets()["INTAKE_POSTGRES_PASSWORD"] + "\n")
        if os.geteuid() == 0:
            shutil.chown(self.pg_dir, "postgres", "postgres")
            shutil.chown(password_file, "postgres", "postgres")
            if subprocess.run([*as_user("postgres"), "test", "-w", str(self.pg_dir)]).returncode != 0:
                raise RuntimeError(
                    f"PostgreSQL runs as the postgres user, who cannot reach {self.pg_dir}: "
                    "use a folder whose parents every user may enter"
                )
        try:
            subprocess.run(
                [
                    *as_user("postgres"),
                    str(PG_BIN / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    DB_USER,
                    "--auth=scram-sha-256",
                    f"--pwfile={password_file}",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=open(self.log_dir / "initdb.log", "ab"),
            )
        finally:
            password_file.unlink()

    def _create_databases(self) -> None:
        env = {**os.environ, "PGPASSWORD": self._infra_secrets()["INTAKE_POSTGRES_PASSWORD"]}
        where = ["-h", self.host, "-p", str(self.postgres_port), "-U", DB_USER]
        existing = subprocess.run(
            [str(PG_BIN / "psql"), *where, "-d", "postgres", "-tAc", "SELECT datname FROM pg_database"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        for database in (CASES_DB, TRACKER_DB):
            if database not in existing:
                subprocess.run([str(PG_BIN / "createdb"), *where, database], env=env, check=True)

    def _write_redis_conf(self) -> None:
        folder = self.var_dir / "redis"
        folder.mkdir(parents=True, exist_ok=True)
        conf = folder / "redis.conf"
        # Locks live for a minute at most: nothing to persist. The password is in the file, not on a command line.
        write_private(
            conf,
            (
                f"bind {self.host}\nport {self.redis_port}\nprotected-mode yes\n"
                f"requirepass {self._infra_secrets()['INTAKE_REDIS_PASSWORD']}\n"
                f'dir {folder}\nsave ""\nappendonly no\ndaemonize no\nlogfile ""\n'
            ),
        )

    def write_tls_certificate(self) -> Path:
        """Make a self-signed certificate for the host (and localhost) unless there is one; return its path.

        A deployment gives nginx its own certificate instead (deploy/nginx.conf.template)."""
        certificate, key = self.tls_dir / "cert.pem", self.tls_dir / "key.pem"
        if certificate.exists() and key.exists():
            return certificate
        self.tls_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        subprocess.run(
            [
                program("openssl", "/usr/bin/openssl"),
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "825",
                "-subj",
                f"/CN={self.host}",
                "-addext",
                f"subjectAltName=IP:{self.host},DNS:localhost",
                "-keyout",
                str(key),
                "-out",
                str(certificate),
            ],
            check=True,
            capture_output=True,
            preexec_fn=lambda: os.umask(0o077),  # the key is owner-only from the moment it exists
        )
        return certificate

    def write_nginx_conf(self, rasa_ports: Sequence[int] | None = None) -> Path:
        """Write nginx's configuration from deploy/nginx.conf.template (Rasa servers: `rasa_ports`, default all)."""
        env = self.environment()
        folder = self.var_dir / "nginx"
        folder.mkdir(parents=True, exist_ok=True)
        per_minute = int(env.get("INTAKE_RATE_LIMIT_PER_IP_PER_MINUTE") or 300)

        def servers(ports: Sequence[int]) -> str:
            return "\n".join(f"        server {self.host}:{port} max_fails=1 fail_timeout=10s;" for port in ports)

        values = {
            "worker_processes": "1",
            "run_dir": str(folder),
            "log_dir": str(self.log_dir),
            "host": self.host,
            "public_port": str(self.rasa_port),
            "api_port": str(self.api_port),
            "actions_port": str(self.actions_port),
            "rasa_servers": servers(self.rasa_ports if rasa_ports is None else rasa_ports),
            "action_servers": servers(self.action_ports),
            "backend_servers": servers([self.backend_port]),
            "per_ip_per_minute": str(per_minute),
            "per_ip_burst": str(max(10, per_minute // 4)),
            "tls_port": str(self.tls_port),
            "tls_certificate": str(self.tls_dir / "cert.pem"),
            "tls_certificate_key": str(self.tls_dir / "key.pem"),
        }
        text = NGINX_TEMPLATE.read_text()
        for name, value in values.items():
            text = text.replace(f"{{{{ {name} }}}}", value)
        if re.search(r"\{\{ \w+ \}\}", text):
            raise RuntimeError(f"{NGINX_TEMPLATE} has a placeholder without a value")
        path = folder / "nginx.conf"
        path.write_text(text)
        return path

    def use_rasa_servers(self, count: int) -> None:
        """Send conversations to the first `count` Rasa servers only; stop the others (benchmarks compare)."""
        self.write_nginx_conf(self.rasa_ports[:count])
        self.service("nginx").process.send_signal(signal.SIGHUP)  # type: ignore[union-attr]
        time.sleep(2)  # the new workers take over; the old ones finish what they hold
        for port_index in range(count, len(self.rasa_ports)):
            self.stop_service(f"rasa-{port_index + 1}")

    # --- Starting and stopping one server ---------------------------------------------------------------------

    def launch(self, name: str, env: dict[str, str] | None = None) -> None:
        """Start one server in the background, logging to <var_dir>/log/<name>.log."""
        service = self.service(name)
        log = open(self.log_dir / f"{name}.log", "ab")
        service.process = subprocess.Popen(
            service.command,
            cwd=ROOT,
            env=self.service_environment(name, env or self.environment()),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_service(self, name: str, timeout: float = 240.0) -> None:
        """Start a stopped server again with the same command and settings, and wait until it answers."""
        self.launch(name)
        self.wait_for([name], timeout)

    def stop_service(self, name: str, sig: int = signal.SIGTERM) -> None:
        """Stop one server (SIGKILL: as a crash would) and wait until it is gone."""
        service = self.service(name)
        process = service.process
        if process is None or process.poll() is not None:
            return
        if name == "postgres" and sig == signal.SIGTERM:
            # SIGTERM would wait for every client to leave; SIGINT is PostgreSQL's clean, fast shutdown. Only the
            # postmaster gets it: it stops its own children in order.
            process.send_signal(signal.SIGINT)
        else:
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def _ready(self, service: Service) -> bool:
        if service.name == "postgres":  # it accepts TCP connections before it accepts sessions
            return (
                subprocess.run(
                    [str(PG_BIN / "pg_isready"), "-q", "-h", self.host, "-p", str(self.postgres_port)]
                ).returncode
                == 0
            )
        return _answers(service.ready_url)

    def wait_until_ready(self, timeout: float = 300.0) -> None:
        """Wait until every server answers."""
        self.wait_for([s.name for s in self.services], timeout)

    def stop(self) -> None:
        """Stop every server, PostgreSQL last."""
        for service in reversed(self.services):
            self.stop_service(service.name)

    def memory(self) -> dict[str, int]:
        """Return each server's resident memory in bytes, with its child processes (workers, PostgreSQL's)."""
        running = [s for s in self.services if s.process and s.process.poll() is None]
        return {s.name: process_tree_rss(s.process.pid) for s in running}  # type: ignore[union-attr]


def process_tree_rss(pid: int) -> int:
    """Return the resident memory of a process and all its descendants, in bytes (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    total, todo = 0, [pid]
    page = os.sysconf("SC_PAGE_SIZE")
    while todo:
        current = todo.pop()
        try:
            total += int(Path(f"/proc/{current}/statm").read_text().split()[1]) * page
        except (OSError, IndexError, ValueError):
            pass
        todo.extend(children.get(current, []))
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, type=Path, help="trained model (.tar.gz)")
    parser.add_argument("--rasa", type=int, default=2, help="Rasa servers (2)")
    parser.add_argument("--actions", type=int, default=2, help="action servers (2)")
    parser.add_argument("--backend-workers", type=int, default=2, help="uvicorn workers of the backend (2)")
    parser.add_argument("--port", type=int, default=8080, help="nginx's public port (8080)")
    parser.add_argument("--tls-port", type=int, default=8443, help="nginx's public port over TLS (8443)")
    args = parser.parse_args(argv)
    cluster = Cluster(
        model=args.model.resolve(),
        var_dir=Path(os.environ.get("INTAKE_CLUSTER_DIR", ROOT / "var" / "cluster")).resolve(),
        rasa_port=args.port,
        tls_port=args.tls_port,
        rasa_ports=[5005 + i for i in range(args.rasa)],
        action_ports=[5056 + i for i in range(args.actions)],
        backend_workers=args.backend_workers,
        web_origins=[o.strip() for o in os.environ.get("INTAKE_WEB_ORIGINS", "").split(",") if o.strip()],
    )
    return serve(
        cluster,
        starting=f"PostgreSQL, Redis, the backend, {args.actions} action servers, {args.rasa} Rasa servers and nginx "
        "(loading the model takes a minute or two)",
        banner=lambda: (
            f"The cluster is running. Data and logs are in {cluster.var_dir}.\n"
            f"  Web chat page and staff pages: {cluster.rasa_url}/ and {cluster.public_tls_url}/ (self-signed)\n"
            f"  Webhooks:        {cluster.rasa_url}/webhooks/{{rest,web,sms,telegram}}/webhook\n"
            f"  Rasa servers:    {', '.join(str(p) for p in cluster.rasa_ports)} (Rasa's API through "
            f"{cluster.api_url}, token in {cluster.var_dir / 'secrets.env'})\n"
            f"  Action servers:  {', '.join(str(p) for p in cluster.action_ports)}; backend: {cluster.backend_url}\n"
            f"  PostgreSQL:      {cluster.host}:{cluster.postgres_port}; Redis: {cluster.host}:{cluster.redis_port}"
        ),
        log_dir=cluster.log_dir,
    )


if __name__ == "__main__":
    sys.exit(main())
