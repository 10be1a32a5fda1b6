#!/usr/bin/env bash
# Train the Rasa model unless one for exactly this config, domain and data exists; print its path last.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup_env.sh bot >&2
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
