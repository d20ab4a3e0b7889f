#!/usr/bin/env bash
# A throwaway PostgreSQL server for the test suite (CI or a developer machine).
#
#   eval "$(scripts/postgres-test-server.sh start)"   # installs if needed, starts, exports the URL
#   make test                                          # tests use NEWSGRAPH_TEST_DATABASE_URL
#   scripts/postgres-test-server.sh stop               # stops it and deletes its folder
#
# `start` prints one line, `export NEWSGRAPH_TEST_DATABASE_URL=postgresql://...`, on
# stdout (everything else goes to stderr), so it can be eval'd. The cluster lives
# in $NEWSGRAPH_PG_DIR (default: /tmp/newsgraph-test-pg), listens on 127.0.0.1
# only, on $NEWSGRAPH_PG_PORT (default 55432), trusts local connections and runs
# without fsync: it is for tests, never for data. When run as root the server
# runs as the `postgres` user (initdb and postgres refuse root). When the server
# binaries are missing it runs `apt-get update` and `apt-get install -y postgresql`.
#
# Without this script the tests start a throwaway server of their own when the
# binaries exist (tests/pg.py); the script is for CI set-ups that prefer one
# server for the whole run, or machines that still need the install.
set -euo pipefail

DIR="${NEWSGRAPH_PG_DIR:-/tmp/newsgraph-test-pg}"
PORT="${NEWSGRAPH_PG_PORT:-55432}"
DATABASE=newsgraph_test

log() { echo "postgres-test-server: $*" >&2; }

find_bin() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n | tail -n 1 || true)
  if [[ -n "$found" && -x "$found/initdb" ]]; then echo "$found"; fi
}

as_server_user() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

install_if_missing() {
  if [[ -n "$(find_bin)" ]]; then return; fi
  if [[ $(id -u) -ne 0 ]]; then
    log "PostgreSQL server binaries not found and not root: install the postgresql package first"
    exit 1
  fi
  log "installing postgresql (apt-get)"
  apt-get update >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2
  # The Debian package starts its own cluster on 5432; we use ours and leave that one alone.
}

start() {
  install_if_missing
  local bin
  bin=$(find_bin)
  if [[ -z "$bin" ]]; then
    log "no initdb found under /usr/lib/postgresql/*/bin after installing"
    exit 1
  fi
  if [[ -f "$DIR/data/postmaster.pid" ]] && as_server_user "$bin/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
    log "already running in $DIR"
  else
    rm -rf "$DIR"
    mkdir -p "$DIR"
    if [[ $(id -u) -eq 0 ]]; then chown postgres:postgres "$DIR"; fi
    as_server_user "$bin/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >&2
    as_server_user "$bin/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 start \
      -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >&2
    as_server_user "$bin/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -q -c "CREATE DATABASE $DATABASE" >&2
  fi
  echo "export NEWSGRAPH_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:$PORT/$DATABASE"
}

stop() {
  local bin
  bin=$(find_bin)
  if [[ -n "$bin" && -f "$DIR/data/postmaster.pid" ]]; then
    as_server_user "$bin/pg_ctl" -D "$DIR/data" -m fast -w stop >&2 || true
  fi
  rm -rf "$DIR"
  log "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
