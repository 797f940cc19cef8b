#!/usr/bin/env bash
# Stops a PostgreSQL started by tools/postgres/start.sh and deletes its directory.
#   tools/postgres/stop.sh "$TOMA_PG_DIR"
set -euo pipefail

dir="${1:?usage: stop.sh <TOMA_PG_DIR printed by start.sh>}"
if [[ ! -f "$dir/data/PG_VERSION" ]]; then
  echo "postgres: $dir holds no cluster started by start.sh" >&2
  exit 1
fi
bin="$(ls -d "${TOMA_PG_ROOT:-/usr/lib/postgresql}"/*/bin | sort -V | tail -n 1)"
as_pg=()
if [[ "$(id -u)" -eq 0 ]]; then
  as_pg=(runuser -u postgres --)
fi
cd /
# Throwaway data: no need for a clean checkpoint.
${as_pg[@]+"${as_pg[@]}"} "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
rm -rf "$dir"
