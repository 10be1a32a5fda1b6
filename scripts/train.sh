#!/usr/bin/env bash
# Train the Rasa model unless one for exactly this config, domain and data exists; print its path last.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup_env.sh bot >&2
scripts/fetch_encoder.sh >&2
# The rule-based spaCy pipeline is loaded by path when the model runs, so it must exist whether or not we train.
spacy_stamp=build/spacy_rules/.script-hash
spacy_hash=$(sha256sum scripts/build_spacy.py | cut -d' ' -f1)
if [ ! -f "$spacy_stamp" ] || [ "$(cat "$spacy_stamp")" != "$spacy_hash" ]; then
  echo "==> building the rule-based spaCy pipeline in build/spacy_rules" >&2
  rm -rf build/spacy_rules && mkdir -p build
  TF_CPP_MIN_LOG_LEVEL=3 .venvs/bot/bin/python scripts/build_spacy.py build/spacy_rules >&2
  echo "$spacy_hash" > "$spacy_stamp"
fi
# The sentence encoder fine-tuned on nlu_data/ (config.yml's `tuning`), in build/encoder-tuned/<hash of data,
# weights, settings and code>: made when missing (a few minutes), found in a second otherwise. Done whether or not
# Rasa trains, because the model names the folder it runs with.
TF_CPP_MIN_LOG_LEVEL=3 .venvs/bot/bin/python scripts/tune_encoder.py >&2
hash=$(.venvs/bot/bin/python scripts/model_hash.py)
model=models/intake-$hash.tar.gz
if [ ! -f "$model" ]; then
  data=(nlu_data bot/rules)
  [ -d bot/stories ] && data+=(bot/stories)
  echo "==> training $model (config, domain or data changed)" >&2
  start=$(date +%s)
  .venvs/bot/bin/rasa train --config config.yml --domain bot/domain --data "${data[@]}" \
    --out models --fixed-model-name "intake-$hash" >&2
  echo "==> trained in $(( $(date +%s) - start )) s" >&2
fi
echo "$model"
