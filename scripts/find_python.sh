#!/usr/bin/env bash
# Print the path of a Python 3.10 interpreter (Rasa Open Source 3.6 needs 3.8-3.10), or explain how to get one.
set -euo pipefail

is_310() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' >/dev/null 2>&1; }

candidates=()
[ -n "${INTAKE_PYTHON:-}" ] && candidates+=("$INTAKE_PYTHON")
command -v python3.10 >/dev/null 2>&1 && candidates+=("$(command -v python3.10)")
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root)
  for v in "$root"/versions/3.10*/bin/python3.10; do [ -x "$v" ] && candidates+=("$v"); done
fi
for v in "$HOME"/.pyenv/versions/3.10*/bin/python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do
  [ -x "$v" ] && candidates+=("$v")
done

for c in "${candidates[@]}"; do
  # pyenv shims exist even when the version is not selected; resolve to a real interpreter.
  real=$("$c" -c 'import sys; print(sys.executable)' 2>/dev/null || true)
  if [ -n "$real" ] && is_310 "$real"; then echo "$real"; exit 0; fi
done

cat >&2 <<'MSG'
error: no Python 3.10 found.
Rasa Open Source 3.6 runs on Python 3.8-3.10 only. Install Python 3.10, for example:
  pyenv install 3.10.13          (with pyenv)
  apt-get install python3.10     (on a distribution that packages it)
or point INTAKE_PYTHON at a python3.10 executable, then run the command again.
MSG
exit 1
