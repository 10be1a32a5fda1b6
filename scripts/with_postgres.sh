#!/usr/bin/env bash
# Run a command beside a throwaway PostgreSQL 15 cluster: scripts/with_postgres.sh CMD [ARGS...].
# The cluster lives in a temporary folder, listens on 127.0.0.1 on a free port, and is stopped and removed when the
# command ends. The command sees INTAKE_TEST_POSTGRES_URL (postgresql+psycopg://...) and its exit code is returned.
set -euo pipefail

[ $# -gt 0 ] || { echo "usage: $0 CMD [ARGS...]" >&2; exit 2; }

pg_bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
if [ ! -x "$pg_bin/initdb" ] || [ ! -x "$pg_bin/pg_ctl" ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "==> installing postgresql-15 with apt-get" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null
  else
    echo "error: PostgreSQL 15 is not installed ($pg_bin/initdb is missing)." >&2
    echo "       Install it (e.g. sudo apt-get install postgresql-15) or set PG_BIN to its bin folder." >&2
    exit 1
  fi
fi

# PostgreSQL refuses to run as root: run the server as the postgres user (or nobody) when we are root.
as_owner=()
owner=$(id -un)
if [ "$(id -u)" -eq 0 ]; then
  owner=postgres
  id -u "$owner" >/dev/null 2>&1 || owner=nobody
  as_owner=(runuser -u "$owner" --)
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/intake-pg.XXXXXX")
chmod 700 "$dir"
[ "$(id -u)" -eq 0 ] && chown "$owner" "$dir"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
user=intake
database=intake_test

cleanup() {
  "${as_owner[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"${as_owner[@]}" "$pg_bin/initdb" -D "$dir/data" -U "$user" --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
"${as_owner[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null \
  || { cat "$dir/server.log" >&2; exit 1; }
"${as_owner[@]}" "$pg_bin/createdb" -h 127.0.0.1 -p "$port" -U "$user" "$database"

export INTAKE_TEST_POSTGRES_URL="postgresql+psycopg://$user@127.0.0.1:$port/$database"
echo "==> PostgreSQL 15 on 127.0.0.1:$port (database $database)" >&2
status=0
"$@" || status=$?
exit "$status"
