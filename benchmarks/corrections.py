"""Does learning from staff corrections move the outside-style figure? Prints figures; not a test.

    .venvs/bot/bin/python benchmarks/corrections.py --model "$(scripts/train.sh)" [--include-other]

1. Classifies tests/data/nlu_stream.yml (about 300 first messages as residents write them, labelled by kind,
   written apart from the training data and from the held-out and outside sets) with the current model.
2. Every message the assistant filed as the wrong kind of case is reclassified by staff through the backend's own
   code (benchmarks/corrections_backend.py in the backend's environment: a throwaway SQLite database, the case as
   the assistant made it, the message in Rasa's tracker table, ``reclassify`` with a reason), and the export that
   ``make corrections`` runs writes the review file. A message read as "other" never became a case, and a case
   cannot be made "other" (it is not a kind of case), so those misreads are not corrections; ``--include-other``
   counts them too, as if staff could move any message to any kind (other -> out_of_scope).
3. Copies nlu_data/ with the review file added, as a person accepting every candidate would, and trains the NLU
   model (config.yml, ``rasa train nlu``), and, from the same copy without the file, a baseline, so that the
   difference is the corrections' alone (nlu_data/ may have changed since the current model was trained).
4. Prints macro-F1 and F1 per kind of each model on the outside and outside-hard sets (and the held-out set), only
   aggregate figures: the outside sets' messages are never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")

from nlu import KINDS, SETS, load_heldout, predict, scores  # noqa: E402

STREAM = ROOT / "tests" / "data" / "nlu_stream.yml"
CASE_KINDS = ("complaint", "compliment", "service_request")
BACKEND_PY = ROOT / ".venvs" / "backend" / "bin" / "python"
RASA = ROOT / ".venvs" / "bot" / "bin" / "rasa"


def misread(pairs: Sequence[tuple[str, str]], predicted: Sequence[str], include_other: bool) -> list[dict[str, str]]:
    """Return the stream messages staff would reclassify: filed as one kind of case, really another."""
    found = []
    for (text, gold), kind in zip(pairs, predicted):
        if gold == kind:
            continue
        if include_other or (kind in CASE_KINDS and gold in CASE_KINDS):
            found.append({"text": text, "assistant_kind": kind, "staff_kind": gold})
    return found


def export(items: list[dict[str, str]], folder: Path) -> tuple[Path, dict[str, int]]:
    """Reclassify the cases and export the review file with the backend's code; return its path and counts."""
    source, out = folder / "misread.json", folder / "nlu_corrections.yml"
    source.write_text(json.dumps(items), encoding="utf-8")
    done = subprocess.run(
        [str(BACKEND_PY), str(ROOT / "benchmarks" / "corrections_backend.py"), str(source), str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return out, json.loads(done.stdout.strip().splitlines()[-1])


def train(nlu: Path, out: Path, name: str) -> tuple[Path, float]:
    """Train an NLU model with config.yml on the folder `nlu`; return its path and the training time."""
    env = {**os.environ, "RASA_CACHE_DIRECTORY": str(out / f"cache-{name}"), "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [
        str(RASA),
        "train",
        "nlu",
        "--config",
        "config.yml",
        "--nlu",
        str(nlu),
        "--out",
        str(out),
        "--fixed-model-name",
        name,
    ]
    print(f"training {name} ...", flush=True)
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    print(f"trained {name} in {seconds:.0f} s", flush=True)
    return out / f"{name}.tar.gz", seconds


def figures(model: Path, sets: dict[str, list[tuple[str, str]]]) -> dict[str, dict[str, dict[str, float]]]:
    """Return the score table of `model` on each set."""
    tables = {}
    for name, pairs in sets.items():
        predicted, _ = asyncio.run(predict(model, [t for t, _ in pairs]))
        tables[name] = scores([k for _, k in pairs], predicted)
    return tables


def print_table(results: dict[str, dict[str, dict[str, dict[str, float]]]], sets: dict[str, list]) -> None:
    columns = ["macro", *KINDS]
    for name, pairs in sets.items():
        print(f"\n{name} set, {len(pairs)} messages: F1")
        print(f"{'model':<28}" + "".join(f"{c:>17}" for c in columns))
        first = None
        for model, tables in results.items():
            row = [tables[name]["macro"]["f1"], *(tables[name][k]["f1"] for k in KINDS)]
            print(f"{model:<28}" + "".join(f"{v:>17.3f}" for v in row))
            first = first or row
        if len(results) > 1:
            print(f"{'last minus first':<28}" + "".join(f"{(v - f) * 100:>+16.1f}p" for v, f in zip(row, first)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True, help="the current model (scripts/train.sh prints it)")
    parser.add_argument("--stream", type=Path, default=STREAM, help="labelled first messages (default: %(default)s)")
    parser.add_argument(
        "--include-other",
        action="store_true",
        help="also correct messages read as other, or really other (out_of_scope)",
    )
    parser.add_argument(
        "--no-baseline",
        action="store_true",
        help="compare with the current model instead of a baseline retrained from the same copy",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))

    stream = load_heldout(args.stream)
    predicted, _ = asyncio.run(predict(args.model, [t for t, _ in stream]))
    stream_table = scores([k for _, k in stream], predicted)
    wrong = sum(1 for (_, gold), kind in zip(stream, predicted) if gold != kind)
    items = misread(stream, predicted, args.include_other)
    print(
        f"stream: {len(stream)} messages, macro-F1 {stream_table['macro']['f1']:.3f} with {args.model.name}; "
        f"{wrong} misread, {len(items)} of them corrected by staff"
        + ("" if args.include_other else " (the rest were read as other, or are other: no case, no kind)")
    )
    by_kinds: dict[str, int] = {}
    for item in items:
        key = f"{item['assistant_kind']} -> {item['staff_kind']}"
        by_kinds[key] = by_kinds.get(key, 0) + 1
    print("corrections: " + ", ".join(f"{key} {n}" for key, n in sorted(by_kinds.items())))

    sets = {name: load_heldout(path) for name, path in SETS.items()}
    with tempfile.TemporaryDirectory(prefix="intake-bench-corrections-") as name:
        folder = Path(name)
        review, counts = export(items, folder)
        print(f"export: {json.dumps(counts)}")
        data = folder / "nlu_data"
        shutil.copytree(ROOT / "nlu_data", data)
        results: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
        if args.no_baseline:
            results[f"current ({args.model.name[:18]})"] = figures(args.model, sets)
        else:
            baseline, _ = train(data, folder, "baseline")
            results["baseline (same nlu_data)"] = figures(baseline, sets)
        shutil.copy(review, data / "staff_corrections.yml")
        corrected, _ = train(data, folder, "with-corrections")
        results["with corrections"] = figures(corrected, sets)
    print_table(results, sets)
    return 0


if __name__ == "__main__":
    sys.exit(main())
