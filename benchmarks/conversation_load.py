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
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from stack import BOT_BIN, Stack  # noqa: E402

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
ANSWERS: List[Tuple[str, str]] = [
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
STREETS = ["Elm Street", "Queen St W", "Dundas St", "Maple Avenue", "Birch Road", "King Street East", "Oak Crescent",
           "Bathurst St", "Cedar Lane", "Pine Drive", "Willow Way", "Main Street", "College St", "Harbord St"]


def details(rng: random.Random) -> Dict[str, Any]:
    """Return one resident's own place and numbers for the templates above."""
    street, cross = rng.sample(STREETS, 2)
    return {"street": street, "cross": cross, "number": rng.randint(1, 2999), "hours": rng.randint(2, 11),
            "size": rng.randint(5, 40), "phone": f"{rng.randint(0, 9999):04d}"}


# The baseline's own training data: greetings, moods, yes and no, goodbyes.
BASELINE_MESSAGES = ["hi", "I am sad", "yes", "great", "no", "very good", "hello", "I am feeling very bad", "bye"]


@dataclass
class Conversation:
    """One resident's conversation: what they sent, how long each reply took, and how it ended."""

    sender: str
    sent: List[str] = field(default_factory=list)
    latencies: List[float] = field(default_factory=list)
    reference: Optional[str] = None
    error: Optional[str] = None


@dataclass
class Result:
    """The figures of one load run."""

    name: str
    conversations: List[Conversation]
    seconds: float

    @property
    def latencies(self) -> List[float]:
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


def next_answer(replies: List[str], own: Dict[str, Any]) -> Optional[str]:
    """Return the resident's answer to the assistant's last question, or None if it asked nothing we know."""
    text = " ".join(replies).lower()
    return next((answer.format(**own) for question, answer in ANSWERS if question in text), None)


THINK = {"seconds": 0.0}  # the mean pause before each message after the first (--think)


async def say(session: aiohttp.ClientSession, url: str, conversation: Conversation, text: str) -> List[str]:
    """Send one message (after a resident's pause), time the reply, and return the assistant's texts."""
    if conversation.sent and THINK["seconds"]:
        await asyncio.sleep(random.uniform(0.5, 1.5) * THINK["seconds"])
    started = time.perf_counter()
    # Each resident has their own address, as the proxy in front reports it (the stack trusts one proxy here).
    digest = hashlib.sha256(conversation.sender.encode()).digest()
    address = f"10.{digest[0]}.{digest[1]}.{digest[2]}"
    async with session.post(url, json={"sender": conversation.sender, "message": text},
                            headers={"X-Forwarded-For": address}) as response:
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


async def run_load(name: str, url: str, concurrency: int, rounds: int, turns: Optional[int] = None) -> Result:
    """Run `concurrency` residents at once, each holding `rounds` conversations one after another."""
    conversations: List[Conversation] = []
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


async def warm_up(url: str, intake: bool) -> None:
    """Run one conversation first, so that loading and caches are not measured."""
    async with aiohttp.ClientSession() as session:
        conversation = Conversation(sender=f"warm-up-{time.time()}")
        if intake:
            await intake_conversation(session, url, conversation, FIRST_MESSAGES[0])
        else:
            await baseline_conversation(session, url, conversation, 3)
    if conversation.error:
        raise SystemExit(f"warm-up failed: {conversation.error}")


def check_cases(stack: Stack, result: Result) -> Tuple[int, int]:
    """Return how many conversations have their case, and how many of those have every resident turn in it."""
    import urllib.request

    token = stack.environment()["INTAKE_STAFF_TOKEN"]
    present = complete = 0
    for conversation in result.conversations:
        if not conversation.reference:
            continue
        request = urllib.request.Request(f"{stack.backend_url}/api/cases/{conversation.reference}",
                                         headers={"Authorization": f"Bearer {token}"})
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
            [str(BOT_BIN / "rasa"), "train", "--config", str(BASELINE_DIR / "config.yml"), "--domain",
             str(initial / "domain.yml"), "--data", str(initial / "data"), "--out", str(ROOT / "models"),
             "--fixed-model-name", model.name.removesuffix(".tar.gz")],
            cwd=ROOT, check=True, stdout=sys.stderr, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        )
    return model


def start_baseline(model: Path, port: int, log: Path) -> subprocess.Popen:
    """Start the baseline assistant on Rasa's REST channel (in-memory tracker store, as rasa init sets it up)."""
    return subprocess.Popen(
        [str(BOT_BIN / "rasa"), "run", "--model", str(model), "--credentials", str(BASELINE_DIR / "credentials.yml"),
         "--interface", "127.0.0.1", "--port", str(port)],
        cwd=log.parent, stdout=open(log, "ab"), stderr=subprocess.STDOUT, start_new_session=True,
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


def report(result: Result, cases: Optional[Tuple[int, int]] = None) -> Dict[str, Any]:
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
    print(json.dumps(figures), flush=True)
    for conversation in [c for c in result.conversations if c.error][:5]:
        print(f"  error in {conversation.sender}: {conversation.error}", file=sys.stderr)
    return figures


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, type=Path, help="the intake model (scripts/train.sh prints it)")
    parser.add_argument("--concurrency", type=int, default=20, help="conversations at the same time (20)")
    parser.add_argument("--rounds", type=int, default=3, help="conversations each simulated resident holds (3)")
    parser.add_argument("--think", type=float, default=0.0,
                        help="mean seconds a resident takes before each answer (0: answer at once)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run each load this many times on the same servers; the median run is compared (1)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the rasa init baseline")
    args = parser.parse_args(argv)
    THINK["seconds"] = args.think

    with tempfile.TemporaryDirectory(prefix="conversation-load-") as folder, contextlib.ExitStack() as running:
        var_dir = Path(folder)
        # Residents reach Rasa through a proxy that names their address (X-Forwarded-For), as behind nginx: every
        # limit applies as it would in service.
        stack = Stack(model=args.model.resolve(), var_dir=var_dir, backend_port=free_port(),
                      actions_port=free_port(), rasa_port=free_port(), settings={"SANIC_PROXIES_COUNT": "1"})
        print(f"==> starting the assistant ({args.model.name}) on free ports", file=sys.stderr)
        running.callback(stack.stop)
        stack.start()
        stack.wait_until_ready()
        url = f"{stack.rasa_url}/webhooks/rest/webhook"
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
                baseline_runs.append(report(asyncio.run(
                    run_load("rasa-init", baseline_url, args.concurrency, args.rounds, turns=turns))))

    failed = sum(run["errors"] + run["conversations"] - run["transcripts_complete"] for run in runs)
    if baseline_runs:
        ours, baseline = median_run(runs), median_run(baseline_runs)
        speed = baseline["turns_per_second"]
        ratio = ours["turns_per_second"] / speed if speed else float("inf")
        print(json.dumps({"throughput_vs_baseline": round(ratio, 2), "compared": "median runs"}), flush=True)
    return 0 if failed == 0 else 1


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


def median_run(runs: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Return the run with the median throughput (the lower middle one of an even number)."""
    return sorted(runs, key=lambda run: run["turns_per_second"])[(len(runs) - 1) // 2]


if __name__ == "__main__":
    sys.exit(main())
