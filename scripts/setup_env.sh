#!/usr/bin/env bash
# Create or refresh one virtual environment from its lock file: scripts/setup_env.sh bot|backend.
# The environment is rebuilt only when its lock file changes (a stamp holds the lock's hash).
set -euo pipefail
cd "$(dirname "$0")/.."

name=${1:?usage: setup_env.sh bot|backend}
lock=requirements/$name.lock.txt
venv=.venvs/$name
stamp=$venv/.lock-hash
[ -f "$lock" ] || { echo "error: $lock is missing" >&2; exit 1; }
want=$(sha256sum "$lock" | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi

python=$(scripts/find_python.sh)
uv=.venvs/tools/bin/uv
if [ ! -x "$uv" ]; then
  echo "==> installing uv into .venvs/tools (with $python)"
  "$python" -m venv .venvs/tools
  .venvs/tools/bin/python -m pip install --quiet --disable-pip-version-check "uv==0.13.9"
fi

echo "==> building the $name environment in $venv from $lock"
start=$(date +%s)
[ -d "$venv" ] || "$uv" venv --quiet --python "$python" "$venv"
VIRTUAL_ENV=$PWD/$venv "$uv" pip sync --quiet --python "$venv/bin/python" "$lock"
VIRTUAL_ENV=$PWD/$venv "$uv" pip check --python "$venv/bin/python"
echo "$want" > "$stamp"
echo "==> $name environment ready in $(( $(date +%s) - start )) s"
