"""Score NLU models on the held-out messages: per-kind precision/recall/F1, macro-F1, confusion matrix, the same
under typo noise, training time and parse latency. Prints figures; it is a benchmark, not a test.

    .venvs/bot/bin/python benchmarks/nlu.py --config config.yml --config benchmarks/default_config.yml
    .venvs/bot/bin/python benchmarks/nlu.py --model models/intake-<hash>.tar.gz

Each `--config` is trained from scratch (`rasa train nlu` with an empty Rasa cache, so nothing is reused) on
nlu_data/ and timed; each `--model` is scored as it is. It ends with one line per model, side by side.
`make bench-nlu` compares the project's config, a lighter one and Rasa's default (DIET) in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")

KINDS = ("complaint", "compliment", "service_request", "other")
HELDOUT = ROOT / "tests" / "data" / "nlu_heldout.yml"
# Outside-style sets, written apart from the training data in the voice of people outside the project: careful
# messages of every kind, and raw public records (brand tweets, 311 descriptions, everyday chatbot requests).
OUTSIDE = ROOT / "tests" / "data" / "nlu_outside_dev.yml"
OUTSIDE_HARD = ROOT / "tests" / "data" / "nlu_outside_hard.yml"
SETS = {"held-out": HELDOUT, "outside": OUTSIDE, "outside-hard": OUTSIDE_HARD}

# The benchmark scores exactly the mapping from intent to kind that `make classify` prints.
sys.path.insert(0, str(ROOT / "scripts"))
from classify import kind_of  # noqa: E402


def load_heldout(path: Path = HELDOUT) -> list[tuple[str, str]]:
    """Return (text, kind) pairs from a Rasa NLU YAML file."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [(e.get("text"), kind_of(e.get("intent"))) for e in data.intent_examples]


def add_typos(text: str, rng: random.Random, share: float = 0.1) -> str:
    """Swap or drop a letter in about `share` of the words."""
    words = text.split(" ")
    for i, word in enumerate(words):
        if len(word) > 3 and rng.random() < share:
            j = rng.randrange(len(word) - 1)
            words[i] = (
                word[:j] + word[j + 1] + word[j] + word[j + 2 :] if rng.random() < 0.5 else word[:j] + word[j + 1 :]
            )
    return " ".join(words)


def scores(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, dict[str, float]]:
    """Return precision, recall and F1 per kind, and the macro-F1 under key 'macro'."""
    table: dict[str, dict[str, float]] = {}
    for kind in KINDS:
        tp = sum(1 for g, p in zip(gold, predicted) if g == p == kind)
        fp = sum(1 for g, p in zip(gold, predicted) if p == kind and g != kind)
        fn = sum(1 for g, p in zip(gold, predicted) if g == kind and p != kind)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        table[kind] = {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}
    table["macro"] = {"f1": statistics.mean(table[k]["f1"] for k in KINDS)}
    return table


async def predict(model: Path, texts: Sequence[str]) -> tuple[list[str], list[float]]:
    """Return the kind predicted for each text and the parse latency of each, in ms."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    kinds, latencies = [], []
    for text in texts:
        start = time.perf_counter()
        parse = await agent.parse_message(text)
        latencies.append((time.perf_counter() - start) * 1000)
        kinds.append(kind_of((parse.get("intent") or {}).get("name")))
    return kinds, latencies


def report(title: str, gold: Sequence[str], predicted: Sequence[str]) -> float:
    table = scores(gold, predicted)
    print(f"\n{title}")
    print(f"{'kind':<16}{'precision':>10}{'recall':>8}{'f1':>7}{'n':>5}")
    for kind in KINDS:
        row = table[kind]
        print(f"{kind:<16}{row['precision']:>10.3f}{row['recall']:>8.3f}{row['f1']:>7.3f}{row['support']:>5.0f}")
    print(f"{'macro-F1':<16}{table['macro']['f1']:>25.3f}")
    print("confusion (rows gold, columns predicted): " + " ".join(k[:10] for k in KINDS))
    for g in KINDS:
        print(
            f"  {g:<16}" + "".join(f"{sum(1 for a, b in zip(gold, predicted) if a == g and b == p):>8}" for p in KINDS)
        )
    return table["macro"]["f1"]


def evaluate(model: Path, texts: Sequence[str], gold: Sequence[str]) -> tuple[float, float, float, float, list[float]]:
    """Print the tables for one model; return macro-F1, macro-F1 under typos, parse latency p50 and p95, and the
    macro-F1 on each outside-style set."""
    noisy = [add_typos(t, random.Random(i)) for i, t in enumerate(texts)]
    predicted, latencies = asyncio.run(predict(model, list(texts) + noisy))
    clean_f1 = report(f"held-out set, {len(texts)} messages ({model.name})", gold, predicted[: len(texts)])
    outside_f1 = []
    for name in ("outside", "outside-hard"):
        pairs = load_heldout(SETS[name])
        outside, _ = asyncio.run(predict(model, [t for t, _ in pairs]))
        outside_f1.append(report(f"{name} set, {len(pairs)} messages ({model.name})", [k for _, k in pairs], outside))
    noisy_f1 = report("same messages with typos in 10% of words", gold, predicted[len(texts) :])
    latencies.sort()
    p50, p95 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.95)]
    print(f"\nmacro-F1 {clean_f1:.3f}, under typos {noisy_f1:.3f} ({(clean_f1 - noisy_f1) * 100:+.1f} points lost)")
    print(f"parse latency p50 {p50:.1f} ms, p95 {p95:.1f} ms over {len(latencies)} parses")
    return clean_f1, noisy_f1, p50, p95, outside_f1


def quiet_logs() -> None:
    """Keep Rasa's per-message debug lines out of a benchmark's output."""
    logging.basicConfig(level=logging.ERROR)
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))


def train(config: Path, out: Path) -> tuple[Path, float]:
    """Train an NLU model from `config` from scratch; return its path and the training time in seconds."""
    name = config.stem
    env = {**os.environ, "RASA_CACHE_DIRECTORY": str(out / f"cache-{name}"), "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [str(ROOT / ".venvs" / "bot" / "bin" / "rasa"), "train", "nlu", "--config", str(config),
               "--nlu", "nlu_data", "--out", str(out), "--fixed-model-name", name]  # fmt: skip
    print(f"training {config} ...", flush=True)
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    print(f"trained {config} in {seconds:.0f} s", flush=True)
    return out / f"{name}.tar.gz", seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, action="append", default=[], help="trained model; repeat to compare")
    parser.add_argument("--config", type=Path, action="append", default=[], help="config to train; repeatable")
    args = parser.parse_args()
    if not args.model and not args.config:
        parser.error("give at least one --model or --config")
    quiet_logs()
    pairs = load_heldout()
    texts, gold = [t for t, _ in pairs], [k for _, k in pairs]
    with tempfile.TemporaryDirectory(prefix="intake-bench-nlu-") as folder:
        candidates: list[tuple[str, Path, float | None]] = [(m.name, m, None) for m in args.model]
        for config in args.config:
            model, seconds = train(config, Path(folder))
            candidates.append((str(config), model, seconds))
        rows = [(name, seconds, *evaluate(model, texts, gold)) for name, model, seconds in candidates]
    print(
        f"\n{'model':<34}{'held-out':>9}{'typos':>7}{'lost':>6}{'outside':>8}{'hard':>7}{'train s':>9}{'p50 ms':>8}"
        f"{'p95 ms':>8}"
    )
    for name, seconds, clean_f1, noisy_f1, p50, p95, (outside_f1, hard_f1) in rows:
        trained = f"{seconds:>9.0f}" if seconds is not None else f"{'-':>9}"
        lost = (clean_f1 - noisy_f1) * 100
        print(
            f"{name:<34}{clean_f1:>9.3f}{noisy_f1:>7.3f}{lost:>6.1f}{outside_f1:>8.3f}{hard_f1:>7.3f}{trained}"
            f"{p50:>8.1f}{p95:>8.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
