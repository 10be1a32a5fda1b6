"""Scale-out benchmark: 200 concurrent complete conversations through nginx against two Rasa servers, then against
one, in the same run, on the production profile (scripts/cluster.py: PostgreSQL, Redis lock store, two action
servers, the backend with two workers).

Each simulated resident starts a complaint, a compliment or a service request and answers every question until a
reference number comes, as fast as the replies arrive (benchmarks/conversation_load.py holds the residents).
Afterwards every conversation is checked through the staff API: exactly one case, the reference the resident was
told, every message the resident sent in its transcript; and no reference may repeat across the whole run.
The memory of every server (with its worker and child processes) is sampled during each load; the peak is shown.

    .venvs/bot/bin/python benchmarks/scale.py --model "$(scripts/train.sh)"      (make bench-scale)

Everything listens on 127.0.0.1 and stops at the end; each load is bounded by its conversation count and by
--max-seconds. The simulated residents run on the same machine, and take their share of its cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import threading
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "benchmarks"))
from cluster import Cluster  # noqa: E402
from conversation_load import Result, report, run_load, warm_up  # noqa: E402

MIB = 2**20


def own_rss() -> int:
    """Return this process's resident memory alone (the servers it started are its children)."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class MemorySampler:
    """Sample every server's resident memory every `every` seconds in a thread; keep the peak of each."""

    def __init__(self, cluster: Cluster, every: float = 2.0) -> None:
        self.cluster = cluster
        self.every = every
        self.peak: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._sample()

    def _sample(self) -> None:
        readings = self.cluster.memory()
        readings["load generator"] = own_rss()
        for name, rss in readings.items():
            self.peak[name] = max(self.peak.get(name, 0), rss)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._sample()

    def figures(self) -> dict[str, int]:
        """Return each server's peak memory in MiB, and their total."""
        figures = {name: round(rss / MIB) for name, rss in self.peak.items()}
        figures["total (servers)"] = sum(v for name, v in figures.items() if name != "load generator")
        return figures


def check_conversations(cluster: Cluster, result: Result, seen: set[str]) -> dict[str, int]:
    """Check each finished conversation's case through the staff API; return how many passed each check."""
    token = cluster.environment()["INTAKE_STAFF_TOKEN"]

    def get(path: str) -> Any:
        request = urllib.request.Request(f"{cluster.backend_url}{path}", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    counts = {
        "finished": 0,
        "exactly_one_case": 0,
        "reference_matches": 0,
        "transcript_complete": 0,
        "repeated_references": 0,
    }
    for conversation in result.conversations:
        if not conversation.reference:
            continue
        counts["finished"] += 1
        cases = get(f"/api/cases?sender_id={urllib.parse.quote(conversation.sender)}")["items"]
        if len(cases) != 1:
            continue
        counts["exactly_one_case"] += 1
        reference = cases[0]["reference"]
        if reference in seen:
            counts["repeated_references"] += 1
        seen.add(reference)
        if reference != conversation.reference:
            continue
        counts["reference_matches"] += 1
        transcript = get(f"/api/cases/{reference}")["transcript"]
        said = [turn["text"] for turn in transcript if turn["role"] == "resident"]
        told = any(reference in (turn["text"] or "") for turn in transcript if turn["role"] == "bot")
        if said == conversation.sent and told:
            counts["transcript_complete"] += 1
    return counts


def load(cluster: Cluster, name: str, conversations: int, max_seconds: float, seen: set[str]) -> dict[str, Any]:
    """Run one load through nginx and return its figures: speed, errors, case checks, memory."""
    url = f"{cluster.rasa_url}/webhooks/rest/webhook"
    print(f"==> {conversations} concurrent conversations through nginx, {name}", file=sys.stderr, flush=True)
    with MemorySampler(cluster) as memory:
        result = asyncio.run(asyncio.wait_for(run_load(name, url, conversations, 1), timeout=max_seconds))
    figures = report(result)
    figures.update(check_conversations(cluster, result, seen))
    figures["memory_peak_mib"] = memory.figures()
    print(
        json.dumps(
            {
                "assistant": name,
                "checks": {
                    k: figures[k]
                    for k in (
                        "finished",
                        "exactly_one_case",
                        "reference_matches",
                        "transcript_complete",
                        "repeated_references",
                    )
                },
                "memory_peak_mib": figures["memory_peak_mib"],
            }
        ),
        flush=True,
    )
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, type=Path, help="the intake model (scripts/train.sh prints it)")
    parser.add_argument("--conversations", type=int, default=200, help="concurrent conversations per load (200)")
    parser.add_argument("--max-seconds", type=float, default=900, help="give up on a load after this long (900)")
    args = parser.parse_args(argv)

    # PostgreSQL runs as its own user, who must be able to enter the folder (not a private temporary one).
    folder = Path(tempfile.mkdtemp(prefix="intake-scale-"))
    # Every simulated resident comes from this machine's address: lift the per-address limit meant for the open
    # internet (the per-conversation limit still applies).
    cluster = Cluster.on_free_ports(
        args.model.resolve(),
        folder,
        rasa_servers=2,
        action_servers=2,
        settings={"INTAKE_RATE_LIMIT_PER_IP_PER_MINUTE": "1000000"},
    )
    seen: set[str] = set()
    runs = []
    try:
        print(
            "==> starting the production profile on free ports (PostgreSQL, Redis, 2 action servers, backend "
            "with 2 workers, 2 Rasa servers, nginx)",
            file=sys.stderr,
            flush=True,
        )
        cluster.start()
        cluster.wait_until_ready()
        url = f"{cluster.rasa_url}/webhooks/rest/webhook"

        async def warm_both() -> None:  # a few conversations, so that each Rasa server has had some
            await asyncio.gather(*(warm_up(url, intake=True) for _ in range(4)))

        asyncio.run(warm_both())
        runs.append(load(cluster, "two-rasa-servers", args.conversations, args.max_seconds, seen))
        cluster.use_rasa_servers(1)
        asyncio.run(warm_up(url, intake=True))
        runs.append(load(cluster, "one-rasa-server", args.conversations, args.max_seconds, seen))
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)

    two, one = runs
    print(
        json.dumps(
            {
                "throughput_two_vs_one": round(two["turns_per_second"] / one["turns_per_second"], 2)
                if one["turns_per_second"]
                else None,
                "p95_two_vs_one": round(two["p95_ms"] / one["p95_ms"], 2) if one["p95_ms"] else None,
                "distinct_references": len(seen),
                "cores": os.cpu_count(),
            }
        ),
        flush=True,
    )
    ok = all(
        run["errors"] == 0 and run["repeated_references"] == 0 and run["transcript_complete"] == run["conversations"]
        for run in runs
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
