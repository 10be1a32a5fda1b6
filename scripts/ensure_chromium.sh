#!/usr/bin/env bash
# Make sure Debian's chromium is installed for the browser tests (Playwright drives it; nothing downloads a browser).
# Prints the path of the chromium binary. Installs the Debian package with apt-get when missing and we are root.
set -euo pipefail

for candidate in "${INTAKE_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then echo "$candidate"; exit 0; fi
done
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "==> installing Debian's chromium with apt-get (for the browser tests)" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  echo /usr/bin/chromium
  exit 0
fi
echo "error: chromium is not installed. Install Debian's package (sudo apt-get install chromium)" >&2
echo "       or set INTAKE_CHROMIUM to a Chromium binary." >&2
exit 1
