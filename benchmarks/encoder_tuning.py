"""Does fine-tuning the sentence encoder on nlu_data/ make the classifier generalise better? (issue 17 item 2)

    .venvs/bot/bin/python benchmarks/encoder_tuning.py --epochs 1 --labels intent --seed 17

trains config.yml with the featurizer's `tuning` set to the given settings (nlu_components/encoder_tuning.py; the
tuned encoder is made in build/encoder-tuned/<hash> unless there) by `rasa train nlu` with an empty Rasa cache, and
scores it with benchmarks/nlu.py --model: held-out, outside and outside-hard tables, parse latency. `--no-tuning`
trains the published encoder the same way, for a baseline.

Measured on 2026-12-06 (2 cores, shared and busy: wall times are 1.5-2.5x the CPU times), 3,444 examples in 21
intents, batch 32, lr 2e-5, max 64 tokens; macro-F1 (complaint F1):

| setting                         | held-out      | outside       | outside-hard  | tuning CPU s |
|---------------------------------|---------------|---------------|---------------|--------------|
| published encoder (frozen)      | 0.937 (0.917) | 0.979 (0.976) | 0.899 (0.874) | -            |
| intents, 0.5 epoch, seed 17     | 0.934 (0.909) | 0.980 (0.973) | 0.909 (0.881) | 82           |
| intents, 1 epoch, seed 17       | 0.941 (0.936) | 0.984 (0.984) | 0.914 (0.891) | 139          |
| intents, 1 epoch, seed 23       | 0.943 (0.929) | 0.979 (0.979) | 0.912 (0.893) | 131          |
| four kinds, 1 epoch, seed 17    | 0.937 (0.915) | 0.982 (0.979) | 0.917 (0.895) | 134          |
| four kinds, 1 epoch, seed 23    | 0.934 (0.914) | 0.982 (0.981) | 0.912 (0.892) | 127          |
| adopted: intents, 1 epoch, seed 17, examples sorted (scripts/train.sh) | see docs/benchmarks.md |

The rows above the last were measured with this experiment's first version (same network and recipe, examples in
file order instead of sorted, so other batches). One epoch over the intents was adopted (config.yml): it passes the
bar with both seeds (outside-hard +1.3 to +1.5 points, complaint F1 +1.7 to +1.9, held-out and outside not lower),
keeps the held-out set and typos better than the four kinds, and half an epoch helps less (+1.0, held-out -0.3).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
FEATURIZER = "nlu_components.sentence_featurizer.SentenceEncoderFeaturizer"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--labels", choices=("intent", "kind"), default="intent")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument("--no-tuning", action="store_true", help="the published encoder, for a baseline")
    args = parser.parse_args()

    config = yaml.safe_load((ROOT / "config.yml").read_text())
    entry = next(c for c in config["pipeline"] if c.get("name") == FEATURIZER)
    entry["tuning"] = (
        None if args.no_tuning else {"epochs": args.epochs, "labels": args.labels, "seed": args.seed, "lr": args.lr}
    )
    with tempfile.TemporaryDirectory(prefix="intake-encoder-tuning-") as folder:
        work = Path(folder)
        (work / "config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
        env = {**os.environ, "RASA_CACHE_DIRECTORY": str(work / "cache"), "TF_CPP_MIN_LOG_LEVEL": "3"}
        started = time.perf_counter()
        subprocess.run(
            [
                str(ROOT / ".venvs" / "bot" / "bin" / "rasa"),
                "train",
                "nlu",
                "--config",
                str(work / "config.yml"),
                "--nlu",
                "nlu_data",
                "--out",
                str(work),
                "--fixed-model-name",
                "tuned",
            ],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        print(f"tuning (unless cached) and rasa train nlu: {time.perf_counter() - started:.0f} s", flush=True)
        subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "nlu.py"), "--model", str(work / "tuned.tar.gz")],
            cwd=ROOT,
            env=env,
            check=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
