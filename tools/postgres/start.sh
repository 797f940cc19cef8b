#!/usr/bin/env bash
# Starts a throwaway PostgreSQL for tests: its own cluster in a fresh directory, no fsync, trust
# authentication on the addresses it listens on, a database and user both named "toma".
#
#   tools/postgres/start.sh [port]          port defaults to 55432
#
# Environment:
#   TOMA_PG_DIR     where the cluster lives (default: a new directory under /tmp); must not exist
#                   or be empty
#   TOMA_PG_LISTEN  comma-separated addresses to listen on (default 127.0.0.1); every one must
#                   exist on this machine (the multi-process tests add their namespace bridge's)
#   TOMA_PG_TRUST   extra CIDR allowed in (default none), e.g. 10.201.0.0/24
#   TOMA_PG_NO_INSTALL=1  never apt-get install PostgreSQL, fail instead
#   TOMA_PG_ROOT    where the versioned server directories are (default /usr/lib/postgresql)
#
# Installs Debian's postgresql package when no server binaries are found and we are root.
# Prints, on its last lines, shell assignments the caller reads:
#   TOMA_PG_DIR=...  TOMA_PG_URL=jdbc:postgresql://127.0.0.1:55432/toma  TOMA_PG_USER=toma
#   TOMA_PG_PASSWORD=toma
# Stop and remove it with tools/postgres/stop.sh "$TOMA_PG_DIR".
set -euo pipefail

port="${1:-55432}"
listen="${TOMA_PG_LISTEN:-127.0.0.1}"

pg_root="${TOMA_PG_ROOT:-/usr/lib/postgresql}"
find_bin() {
  { ls -d "$pg_root"/*/bin 2>/dev/null || true; } | sort -V | tail -n 1
}

bin="$(find_bin)"
if [[ -z "$bin" || ! -x "$bin/initdb" ]]; then
  if [[ "${TOMA_PG_NO_INSTALL:-0}" == 1 || "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null; then
    echo "postgres: no PostgreSQL server binaries under $pg_root/*/bin, and not installing them (TOMA_PG_NO_INSTALL=1, not root, or no apt-get)" >&2
    exit 2
  fi
  echo "postgres: installing Debian's postgresql package" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends postgresql >&2; then
    apt-get update >&2
    apt-get install -y --no-install-recommends postgresql >&2
  fi
  bin="$(find_bin)"
fi

dir="${TOMA_PG_DIR:-$(mktemp -d /tmp/toma-pg.XXXXXX)}"
mkdir -p "$dir"
chmod 755 "$dir"

# initdb refuses to run as root: run the server as the postgres user the package created.
as_pg=()
if [[ "$(id -u)" -eq 0 ]]; then
  if ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir "$dir" --shell /usr/sbin/nologin postgres
  fi
  chown postgres: "$dir"
  as_pg=(runuser -u postgres --)
fi
run_pg() { ${as_pg[@]+"${as_pg[@]}"} "$@"; }
# The caller's directory may be closed to the postgres user (a clone under /root).
cd "$dir"

run_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
if [[ -n "${TOMA_PG_TRUST:-}" ]]; then
  echo "host all all ${TOMA_PG_TRUST} trust" >>"$dir/data/pg_hba.conf"
fi

# A test database: durability is not what is under test, speed is.
run_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start -o \
  "-c listen_addresses='${listen}' -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >&2 \
  || { cat "$dir/server.log" >&2; exit 1; }

run_pg "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q \
  -c "CREATE USER toma PASSWORD 'toma'" -c "CREATE DATABASE toma OWNER toma" >&2

host="${listen%%,*}"
echo "TOMA_PG_DIR=$dir"
echo "TOMA_PG_URL=jdbc:postgresql://${host}:${port}/toma"
echo "TOMA_PG_USER=toma"
echo "TOMA_PG_PASSWORD=toma"
