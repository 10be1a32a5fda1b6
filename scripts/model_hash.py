"""Print the content hash of everything a trained model depends on (config, domain, training data, components).

Used to name the model file so that unchanged data is never retrained.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INPUTS = [
    "config.yml",
    "bot/domain",
    "bot/rules",
    "bot/stories",
    "nlu_data",
    "nlu_components",
    "requirements/bot.lock.txt",
    "requirements/encoder.lock.txt",
    "scripts/build_spacy.py",
    "scripts/tune_encoder.py",
]


def model_hash(root: Path = ROOT) -> str:
    """Return a short hash over the names and contents of every training input under root."""
    digest = hashlib.sha256()
    for entry in INPUTS:
        path = root / entry
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file.exists() and "__pycache__" not in file.parts and file.suffix != ".pyc":
                digest.update(str(file.relative_to(root)).encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


if __name__ == "__main__":
    sys.stdout.write(model_hash() + "\n")
