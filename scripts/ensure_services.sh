#!/usr/bin/env bash
# Make sure the servers of the production profile are installed from Debian's packages: PostgreSQL 15, Redis and
# nginx. Prints nothing when they are all there; installs the missing ones with apt-get when run as root; otherwise
# says what to install and fails. scripts/cluster.py runs it before it starts anything.
#
# Only the programs are wanted: the packages' own system services are not started (scripts/cluster.py runs private
# instances on 127.0.0.1, in a folder of its own), so a temporary policy-rc.d keeps apt from starting them.
set -euo pipefail

pg_bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
missing=()
[ -x "$pg_bin/postgres" ] && [ -x "$pg_bin/initdb" ] || missing+=(postgresql-15)
command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "error: missing ${missing[*]}. Install them (e.g. sudo apt-get install ${missing[*]})," >&2
  echo "       or run this as root on Debian to have them installed." >&2
  exit 1
fi

policy=/usr/sbin/policy-rc.d
made_policy=
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod 755 "$policy"
  made_policy=1
fi
cleanup() { [ -z "$made_policy" ] || rm -f "$policy"; }
trap cleanup EXIT

echo "==> installing ${missing[*]} with apt-get" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
