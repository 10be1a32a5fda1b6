"""Load test: N concurrent complete conversations through the REST channel, the whole loop running.

The assistant runs as `make run` runs it (Rasa with the SQL tracker store, the action server, the backend), on
free ports with a throw-away database. Each simulated resident starts a complaint, a compliment or a service
request and answers every question until a reference number comes, as fast as the replies arrive (no think
time: the harshest closed loop), or after `--think` seconds on average, as a resident typing would. Afterwards
every case is read back through the staff API and its transcript compared with what the resident sent.

The same load then runs against the baseline: the assistant `rasa init` creates (its data, Rasa's default
config: DIET, ResponseSelector, TEDPolicy, UnexpecTEDIntentPolicy), trained once into models/baseline-<hash>.tar.gz,
with the same number of concurrent conversations and turns.

    .venvs/bot/bin/python benchmarks/conversation_load.py --model "$(scripts/train.sh)" --concurrency 20

Prints turns/s, turn latency p50/p95/p99, errors, cases created and transcripts complete, for both; with `--repeat N`
each load runs N times on the same servers, the two loads taking turns (this machine's speed varies from minute to
minute), and the median runs are compared. Exits 1 if any conversation failed or any case lacks its transcript.

With `--ablation` the same intake load runs against the same bot with different sets of the project's patches to
Rasa and Sanic (serving/patches.py): stock Rasa (INTAKE_STOCK_RASA=1, only the intent guard), all patches, and every
speed patch left out alone (INTAKE_SPEED_PATCHES_OFF=name). Rasa is restarted for each run (the backend and the
action server stay up) and the variants take turns, in a rotated order each repeat, so that all meet the machine's
speed of the same minutes. The summary gives each variant's median turns/s and p95 with their spread over the
repeats, and each patch's gain: within each repeat, turns/s with all patches over turns/s without it (and p95
without it over p95 with all), the median over the repeats.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import importlib.util
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))
from stack import BOT_BIN, Stack  # noqa: E402

from serving.patches import OFF_VARIABLE, SPEED_PATCHES, STOCK_VARIABLE  # noqa: E402  (imports nothing of Rasa)

BASELINE_DIR = ROOT / "benchmarks" / "baseline_bot"
REFERENCE_MARK = "reference number is "

# What each resident says first, in turn; then the answers to the questions, found by words in the question.
# The read-back repeats the other questions' labels ("Where:"), so it is looked for first. Places, numbers and
# details differ from one conversation to the next, as residents' words do (the assistant keeps the vectors of
# repeated answers such as "yes"; free text must not be served from that cache); short answers stay the same.
FIRST_MESSAGES = [
    "The garbage truck driver yelled at me on {street} and threw my bin onto the road",
    "the crew on {street} was amazing today, they fixed the water main in {hours} hours",
    "big pothole on {street} near {cross}, about {size} cm deep",
    "my green bin wasnt picked up this week at {number} {street}",
]
ANSWERS: list[tuple[str, str]] = [
    ("shall i send it", "yes"),
    ("public map", "no"),
    ("just to check", "not sure"),
    ("reference number of your first report", "no"),
    ("call you back", "no"),
    ("who would you like to thank", "the water crew on {street}"),
    ("what happened", "The driver threw my bin on the road outside number {number}"),
    ("what needs to be fixed", "A pothole {size} cm deep in the right lane"),
    ("what did they do", "They fixed the main in {hours} hours and cleaned up after"),
    ("what was missed", "green bin"),
    ("you can say skip", "skip"),
    ("reply with a number", "not sure"),
    ("where", "{number} {street}"),
    ("when did it happen", "yesterday morning around {hours} o'clock"),
    ("is that right", "yes"),
    ("put this right", "An apology, and my bin back by the curb at {number}"),
    ("hear back", "no"),
    ("how should we reach you", "phone"),
    ("phone number", "416-555-{phone}"),
    ("may city staff", "yes"),
    ("make this a complaint", "no"),
]
STREETS = [
    "Elm Street",
    "Queen St W",
    "Dundas St",
    "Maple Avenue",
    "Birch Road",
    "King Street East",
    "Oak Crescent",
    "Bathurst St",
    "Cedar Lane",
    "Pine Drive",
    "Willow Way",
    "Main Street",
    "College St",
    "Harbord St",
]


def details(rng: random.Random) -> dict[str, Any]:
    """Return one resident's own place and numbers for the templates above."""
    street, cross = rng.sample(STREETS, 2)
    return {
        "street": street,
        "cross": cross,
        "number": rng.randint(1, 2999),
        "hours": rng.randint(2, 11),
        "size": rng.randint(5, 40),
        "phone": f"{rng.randint(0, 9999):04d}",
    }


# The baseline's own training data: greetings, moods, yes and no, goodbyes.
BASELINE_MESSAGES = ["hi", "I am sad", "yes", "great", "no", "very good", "hello", "I am feeling very bad", "bye"]


@dataclass
class Conversation:
    """One resident's conversation: what they sent, how long each reply took, and how it ended."""

    sender: str
    sent: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    reference: str | None = None
    error: str | None = None


@dataclass
class Result:
    """The figures of one load run."""

    name: str
    conversations: list[Conversation]
    seconds: float

    @property
    def latencies(self) -> list[float]:
        return [latency for c in self.conversations for latency in c.latencies]

    def percentile(self, p: float) -> float:
        values = sorted(self.latencies)
        if not values:
            return float("nan")
        return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]

    @property
    def errors(self) -> int:
        return sum(1 for c in self.conversations if c.error)

    @property
    def turns_per_second(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def next_answer(replies: list[str], own: dict[str, Any]) -> str | None:
    """Return the resident's answer to the assistant's last question, or None if it asked nothing we know."""
    text = " ".join(replies).lower()
    return next((answer.format(**own) for question, answer in ANSWERS if question in text), None)


THINK = {"seconds": 0.0}  # the mean pause before each message after the first (--think)


async def say(session: aiohttp.ClientSession, url: str, conversation: Conversation, text: str) -> list[str]:
    """Send one message (after a resident's pause), time the reply, and return the assistant's texts."""
    if conversation.sent and THINK["seconds"]:
        await asyncio.sleep(random.uniform(0.5, 1.5) * THINK["seconds"])
    started = time.perf_counter()
    # Each resident has their own address, as the proxy in front reports it (the stack trusts one proxy here).
    digest = hashlib.sha256(conversation.sender.encode()).digest()
    address = f"10.{digest[0]}.{digest[1]}.{digest[2]}"
    async with session.post(
        url, json={"sender": conversation.sender, "message": text}, headers={"X-Forwarded-For": address}
    ) as response:
        body = await response.json(content_type=None)
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}")
    conversation.latencies.append(time.perf_counter() - started)
    conversation.sent.append(text)
    return [reply.get("text", "") for reply in body or []]


async def intake_conversation(session: aiohttp.ClientSession, url: str, conversation: Conversation, first: str) -> None:
    """Report something and answer every question until the reference number comes."""
    own = details(random.Random(conversation.sender))
    try:
        replies = await say(session, url, conversation, first.format(**own))
        for _ in range(20):
            joined = " ".join(replies)
            if REFERENCE_MARK in joined:
                conversation.reference = joined.split(REFERENCE_MARK, 1)[1][:9]
                return
            answer = next_answer(replies, own)
            if answer is None:
                raise RuntimeError(f"unexpected question: {joined[:120]!r}")
            replies = await say(session, url, conversation, answer)
        raise RuntimeError("no reference after 20 turns")
    except Exception as error:  # a benchmark counts every failure, whatever it is
        conversation.error = f"{type(error).__name__}: {error}"


async def baseline_conversation(
    session: aiohttp.ClientSession, url: str, conversation: Conversation, turns: int
) -> None:
    """Say as many of rasa init's own messages as an intake conversation has turns."""
    try:
        for index in range(turns):
            replies = await say(session, url, conversation, BASELINE_MESSAGES[index % len(BASELINE_MESSAGES)])
            if not replies:
                raise RuntimeError("no reply")
    except Exception as error:
        conversation.error = f"{type(error).__name__}: {error}"


async def run_load(name: str, url: str, concurrency: int, rounds: int, turns: int | None = None) -> Result:
    """Run `concurrency` residents at once, each holding `rounds` conversations one after another."""
    conversations: list[Conversation] = []
    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=concurrency * 2)
    run_id = f"{int(time.time())}"

    async def resident(number: int, session: aiohttp.ClientSession) -> None:
        if THINK["seconds"]:
            # Residents arrive at their own moments, not all in the same millisecond.
            await asyncio.sleep(random.uniform(0, 2 * THINK["seconds"]))
        for round_ in range(rounds):
            conversation = Conversation(sender=f"load-{name}-{run_id}-{number}-{round_}")
            conversations.append(conversation)
            if turns is None:
                first = FIRST_MESSAGES[(number + round_) % len(FIRST_MESSAGES)]
                await intake_conversation(session, url, conversation, first)
            else:
                await baseline_conversation(session, url, conversation, turns)

    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(resident(number, session) for number in range(concurrency)))
        seconds = time.perf_counter() - started
    return Result(name, conversations, seconds)


async def warm_up(url: str, intake: bool, tries: int = 1) -> None:
    """Run one conversation first, so that loading and caches are not measured (up to `tries` times, until one
    ends well)."""
    for attempt in range(tries):
        async with aiohttp.ClientSession() as session:
            conversation = Conversation(sender=f"warm-up-{time.time()}")
            if intake:
                await intake_conversation(session, url, conversation, FIRST_MESSAGES[attempt % len(FIRST_MESSAGES)])
            else:
                await baseline_conversation(session, url, conversation, 3)
        if not conversation.error:
            return
        print(f"  warm-up conversation failed: {conversation.error}", file=sys.stderr)
    raise SystemExit(f"warm-up failed: {conversation.error}")


def check_cases(stack: Stack, result: Result) -> tuple[int, int]:
    """Return how many conversations have their case, and how many of those have every resident turn in it."""
    import urllib.request

    token = stack.environment()["INTAKE_STAFF_TOKEN"]
    present = complete = 0
    for conversation in result.conversations:
        if not conversation.reference:
            continue
        request = urllib.request.Request(
            f"{stack.backend_url}/api/cases/{conversation.reference}", headers={"Authorization": f"Bearer {token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                case = json.loads(response.read())
        except OSError:
            continue
        present += 1
        said = [turn["text"] for turn in case["transcript"] if turn["role"] == "resident"]
        answered = any(conversation.reference in (turn["text"] or "") for turn in case["transcript"])
        if said[: len(conversation.sent)] == conversation.sent and answered:
            complete += 1
    return present, complete


def initial_project() -> Path:
    """Return the folder of the project `rasa init` writes, inside the installed Rasa (not imported)."""
    spec = importlib.util.find_spec("rasa")
    assert spec is not None and spec.submodule_search_locations, "Rasa is not installed"
    return Path(list(spec.submodule_search_locations)[0]) / "cli" / "initial_project"


def baseline_model() -> Path:
    """Return the baseline model, training it once (Rasa's default config takes minutes on 2 cores)."""
    initial = initial_project()
    inputs = [BASELINE_DIR / "config.yml", initial / "domain.yml", *sorted((initial / "data").glob("*.yml"))]
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in inputs)).hexdigest()[:16]
    model = ROOT / "models" / f"baseline-{digest}.tar.gz"
    if not model.exists():
        print(f"==> training the rasa init baseline into {model.relative_to(ROOT)} (once)", file=sys.stderr)
        subprocess.run(
            [
                str(BOT_BIN / "rasa"),
                "train",
                "--config",
                str(BASELINE_DIR / "config.yml"),
                "--domain",
                str(initial / "domain.yml"),
                "--data",
                str(initial / "data"),
                "--out",
                str(ROOT / "models"),
                "--fixed-model-name",
                model.name.removesuffix(".tar.gz"),
            ],
            cwd=ROOT,
            check=True,
            stdout=sys.stderr,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        )
    return model


def start_baseline(model: Path, port: int, log: Path) -> subprocess.Popen:
    """Start the baseline assistant on Rasa's REST channel (in-memory tracker store, as rasa init sets it up)."""
    return subprocess.Popen(
        [
            str(BOT_BIN / "rasa"),
            "run",
            "--model",
            str(model),
            "--credentials",
            str(BASELINE_DIR / "credentials.yml"),
            "--interface",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=log.parent,
        stdout=open(log, "ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )


def wait_for(url: str, process: subprocess.Popen, timeout: float = 300) -> None:
    """Wait until the URL answers 200, or fail if the process dies or it takes too long."""
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} not ready after {timeout:.0f} s")


def group_cpu_seconds(group: int) -> float:
    """The CPU time (user and system) used so far by the live processes of a process group (Rasa and its workers).
    Less swayed by other programs on the machine than turns/s: what a turn costs, not how long it waited."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[2]) == group:  # process group; then utime and stime, in clock ticks
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def report(result: Result, cases: tuple[int, int] | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Print one run's figures and return them."""
    figures = {
        "assistant": result.name,
        "conversations": len(result.conversations),
        "turns": len(result.latencies),
        "seconds": round(result.seconds, 1),
        "turns_per_second": round(result.turns_per_second, 2),
        "p50_ms": round(result.percentile(50) * 1000),
        "p95_ms": round(result.percentile(95) * 1000),
        "p99_ms": round(result.percentile(99) * 1000),
        "mean_ms": round(statistics.fmean(result.latencies) * 1000) if result.latencies else None,
        "errors": result.errors,
        "think_seconds": THINK["seconds"],
    }
    if cases is not None:
        figures["cases_created"], figures["transcripts_complete"] = cases
    figures.update(extra or {})
    print(json.dumps(figures), flush=True)
    for conversation in [c for c in result.conversations if c.error][:5]:
        print(f"  error in {conversation.sender}: {conversation.error}", file=sys.stderr)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, type=Path, help="the intake model (scripts/train.sh prints it)")
    parser.add_argument("--concurrency", type=int, default=20, help="conversations at the same time (20)")
    parser.add_argument("--rounds", type=int, default=3, help="conversations each simulated resident holds (3)")
    parser.add_argument(
        "--think", type=float, default=0.0, help="mean seconds a resident takes before each answer (0: answer at once)"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run each load this many times on the same servers; the median run is compared (1)",
    )
    parser.add_argument("--no-baseline", action="store_true", help="skip the rasa init baseline")
    parser.add_argument(
        "--ablation",
        action="store_true",
        help="run the intake load on stock Rasa, all patches, and each speed patch left out alone",
    )
    parser.add_argument(
        "--variants", nargs="*", help="with --ablation, only these variants ('stock', 'all', 'without <patch>')"
    )
    args = parser.parse_args(argv)
    THINK["seconds"] = args.think

    with tempfile.TemporaryDirectory(prefix="conversation-load-") as folder, contextlib.ExitStack() as running:
        var_dir = Path(folder)
        # Residents reach Rasa through a proxy that names their address (X-Forwarded-For), as behind nginx: every
        # limit applies as it would in service.
        stack = Stack(
            model=args.model.resolve(),
            var_dir=var_dir,
            backend_port=free_port(),
            actions_port=free_port(),
            rasa_port=free_port(),
            settings={"SANIC_PROXIES_COUNT": "1"},
        )
        print(f"==> starting the assistant ({args.model.name}) on free ports", file=sys.stderr)
        running.callback(stack.stop)
        stack.start()
        stack.wait_until_ready()
        url = f"{stack.rasa_url}/webhooks/rest/webhook"
        if args.ablation:
            baseline_url = None if args.no_baseline else start_baseline_for(running, var_dir)
            print(f"==> {args.concurrency} concurrent conversations x {args.rounds} per variant", file=sys.stderr)
            runs = run_ablation(stack, args, baseline_url)
            return (
                0
                if all(run["errors"] == 0 and run["transcripts_complete"] == run["conversations"] for run in runs)
                else 1
            )
        asyncio.run(warm_up(url, intake=True))
        baseline_url = None if args.no_baseline else start_baseline_for(running, var_dir)
        # The two loads take turns, run after run, so that both meet the machine's speed of the same minutes.
        print(f"==> {args.concurrency} concurrent conversations x {args.rounds}", file=sys.stderr)
        runs, baseline_runs = [], []
        turns = 0  # the baseline's conversations have as many turns as the first intake run's, on average
        for _ in range(args.repeat):
            intake = asyncio.run(run_load("intake", url, args.concurrency, args.rounds))
            runs.append(report(intake, check_cases(stack, intake)))
            turns = turns or max(1, round(len(intake.latencies) / max(1, len(intake.conversations))))
            if baseline_url:
                baseline_runs.append(
                    report(asyncio.run(run_load("rasa-init", baseline_url, args.concurrency, args.rounds, turns=turns)))
                )

    failed = sum(run["errors"] + run["conversations"] - run["transcripts_complete"] for run in runs)
    if baseline_runs:
        ours, baseline = median_run(runs), median_run(baseline_runs)
        speed = baseline["turns_per_second"]
        ratio = ours["turns_per_second"] / speed if speed else float("inf")
        print(json.dumps({"throughput_vs_baseline": round(ratio, 2), "compared": "median runs"}), flush=True)
    return 0 if failed == 0 else 1


def ablation_variants(names: list[str] | None = None) -> list[tuple[str, dict[str, str]]]:
    """(name, Rasa's environment) of stock Rasa, all patches, and each speed patch left out alone; or those named."""
    every = [("stock", {STOCK_VARIABLE: "1", OFF_VARIABLE: ""}), ("all", {STOCK_VARIABLE: "0", OFF_VARIABLE: ""})]
    every += [(f"without {patch}", {STOCK_VARIABLE: "0", OFF_VARIABLE: patch}) for patch in SPEED_PATCHES]
    if not names:
        return every
    unknown = set(names) - {name for name, _ in every}
    if unknown:
        raise SystemExit(f"no such variant: {', '.join(sorted(unknown))}")
    return [variant for variant in every if variant[0] in names]


def restart_rasa(stack: Stack, environ: dict[str, str], timeout: float = 300) -> None:
    """Stop the stack's Rasa server and start it again with `environ` added to its environment; return once every
    worker has loaded the model (each logs "Rasa server is up and running")."""
    service = stack.service("rasa")
    if service.process is not None and service.process.poll() is None:
        os.killpg(service.process.pid, signal.SIGTERM)
        try:
            service.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(service.process.pid, signal.SIGKILL)
            service.process.wait()
    env = stack.environment()
    for name in ("INTAKE_LOCK_SQLITE_PATH", "INTAKE_LIMITS_SQLITE_PATH"):  # what the workers share starts empty
        path = Path(env[name])
        for leftover in path.parent.glob(f"{path.name}*"):
            leftover.unlink()
    log_path = stack.var_dir / "log" / "rasa.log"
    start = log_path.stat().st_size if log_path.exists() else 0
    with open(log_path, "ab") as log:
        service.process = subprocess.Popen(
            service.command,
            cwd=ROOT,
            env={**env, **service.env, **environ},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    workers = int(service.env.get("SANIC_WORKERS", "1"))
    deadline = time.monotonic() + timeout
    while True:
        with open(log_path, "rb") as log:
            log.seek(start)
            if log.read().count(b"Rasa server is up and running") >= workers:
                break
        if service.process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"Rasa did not start with {environ}:\n{stack.log_tail('rasa')}")
        time.sleep(0.5)
    stack.wait_for(["rasa"], timeout)


def run_ablation(stack: Stack, args: argparse.Namespace, baseline_url: str | None) -> list[dict[str, Any]]:
    """Run the intake load against each variant in turn, `args.repeat` times, in a rotated order each time; and the
    rasa init baseline's load among them when it runs."""
    url = f"{stack.rasa_url}/webhooks/rest/webhook"
    variants: list[tuple[str, dict[str, str] | None]] = list(ablation_variants(args.variants))
    if baseline_url:
        variants.append(("rasa-init", None))
    runs: list[dict[str, Any]] = []
    turns = 0  # the baseline's conversations have as many turns as the intake's, on average
    for repeat in range(args.repeat):
        shift = repeat % len(variants)
        for name, environ in variants[shift:] + variants[:shift]:
            print(f"==> repeat {repeat + 1}/{args.repeat}: {name}", file=sys.stderr, flush=True)
            if environ is None:
                assert baseline_url is not None
                result = asyncio.run(run_load(name, baseline_url, args.concurrency, args.rounds, turns=turns or 7))
                runs.append(
                    {
                        **report(result),
                        "variant": name,
                        "repeat": repeat,
                        "transcripts_complete": len(result.conversations),
                    }
                )
                continue
            restart_rasa(stack, environ)
            asyncio.run(warm_up(url, intake=True, tries=3))
            rasa = stack.service("rasa").process
            assert rasa is not None
            cpu = group_cpu_seconds(rasa.pid)
            result = asyncio.run(run_load(name.replace(" ", "-"), url, args.concurrency, args.rounds))
            cpu = group_cpu_seconds(rasa.pid) - cpu
            turns = turns or max(1, round(len(result.latencies) / max(1, len(result.conversations))))
            figures = report(
                result,
                check_cases(stack, result),
                {"rasa_cpu_ms_per_turn": round(cpu * 1000 / max(1, len(result.latencies)), 2)},
            )
            runs.append({**figures, "variant": name, "repeat": repeat})
    summarize_ablation(runs, [name for name, _ in variants])
    return runs


def summarize_ablation(runs: list[dict[str, Any]], names: list[str]) -> None:
    """Print each variant's median turns/s, p95 and Rasa's CPU per turn with their range over the repeats, and what
    each patch gains: within each repeat, the figure with all patches against the figure without it, then the median
    (and range) over the repeats. On the stock row, all patches against none."""

    def spread(values: list[float], digits: int) -> str:
        return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"

    def gain(values: list[float]) -> str:
        return f"{statistics.median(values):+.0%} ({min(values):+.0%} to {max(values):+.0%})" if values else "-"

    by = {(run["variant"], run["repeat"]): run for run in runs}
    repeats = sorted({run["repeat"] for run in runs})
    print(
        "\n| variant | runs | turns/s median (range) | p95 ms | Rasa CPU ms/turn | gain with the patch: turns/s "
        "| p95 | CPU/turn | errors |\n|---|---|---|---|---|---|---|---|---|"
    )
    for name in names:
        mine = [by[(name, r)] for r in repeats if (name, r) in by]
        pairs = [(by[("all", r)], by[(name, r)]) for r in repeats if ("all", r) in by and (name, r) in by]
        gains = ["-", "-", "-"]
        if name not in ("all", "rasa-init") and pairs:
            gains = [
                gain([a["turns_per_second"] / b["turns_per_second"] - 1 for a, b in pairs]),
                gain([b["p95_ms"] / a["p95_ms"] - 1 for a, b in pairs]),
                gain(
                    [
                        b["rasa_cpu_ms_per_turn"] / a["rasa_cpu_ms_per_turn"] - 1
                        for a, b in pairs
                        if "rasa_cpu_ms_per_turn" in b
                    ]
                ),
            ]
        cpu = [run["rasa_cpu_ms_per_turn"] for run in mine if "rasa_cpu_ms_per_turn" in run]
        errors = sum(run["errors"] + run["conversations"] - run["transcripts_complete"] for run in mine)
        print(
            f"| {name} | {len(mine)} | {spread([run['turns_per_second'] for run in mine], 1)} | "
            f"{spread([run['p95_ms'] for run in mine], 0)} | {spread(cpu, 2) if cpu else '-'} | "
            f"{' | '.join(gains)} | {errors} |",
            flush=True,
        )


def start_baseline_for(running: contextlib.ExitStack, var_dir: Path) -> str:
    """Start the baseline assistant (stopped when `running` closes), warm it up and return its REST webhook."""
    model = baseline_model()
    port = free_port()
    process = start_baseline(model, port, var_dir / "baseline.log")

    def stop() -> None:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)

    running.callback(stop)
    wait_for(f"http://127.0.0.1:{port}/webhooks/rest/", process)
    url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    asyncio.run(warm_up(url, intake=False))
    return url


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the run with the median throughput (the lower middle one of an even number)."""
    return sorted(runs, key=lambda run: run["turns_per_second"])[(len(runs) - 1) // 2]


if __name__ == "__main__":
    sys.exit(main())
