"""Tune the sentence encoder as config.yml asks (SentenceEncoderFeaturizer's `tuning`) on nlu_data/, unless the
folder for exactly these examples and settings exists; print that folder (nothing when config.yml tunes nothing).

scripts/train.sh runs it before Rasa trains, so the tuned encoder a model names is always on disk, even when Rasa's
own cache supplies the featurizer's training result. Rasa's training would tune the same folder itself if missing.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

FEATURIZER = "nlu_components.sentence_featurizer.SentenceEncoderFeaturizer"


def main() -> int:
    import yaml

    config = yaml.safe_load((ROOT / "config.yml").read_text())
    entry = next((c for c in config.get("pipeline", []) if c.get("name") == FEATURIZER), None)
    if entry is None or entry.get("tuning") is None:
        return 0
    from rasa.shared.nlu.training_data.loading import load_data

    from nlu_components.encoder import model_dir
    from nlu_components.encoder_tuning import tune

    examples = [(e.get("text"), e.get("intent")) for e in load_data(str(ROOT / "nlu_data")).intent_examples]
    base = Path(entry["model_dir"]) if entry.get("model_dir") else model_dir()
    print(tune(examples, entry["tuning"], base))
    return 0


if __name__ == "__main__":
    sys.exit(main())
