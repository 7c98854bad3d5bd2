#!/usr/bin/env bash
# What the tests on PostgreSQL need (idempotent): the server's own programs (initdb, pg_ctl, postgres), version 15 or
# later, from Debian's `postgresql` package when they are missing. Nothing is started here and no cluster is made:
# each test run starts its own throwaway server in a temporary folder (tests/postgres_support.py), on loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."

MIN_VERSION=15

# Prints the folder that holds initdb, pg_ctl and postgres, version MIN_VERSION or later ("" when there is none):
# Debian's /usr/lib/postgresql/<version>/bin, newest first, then PATH.
server_bindir() {
  local dir version
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4,4nr); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
      version="$(basename "$(dirname "$dir")")"
      if [[ "$version" =~ ^[0-9]+$ ]] && [ "$version" -ge "$MIN_VERSION" ]; then
        echo "$dir"
        return
      fi
    fi
  done
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && command -v postgres >/dev/null 2>&1; then
    # "postgres (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)": the major version is the first number
    version="$(postgres --version | sed -E 's/^[^0-9]*([0-9]+).*/\1/')"
    if [[ "$version" =~ ^[0-9]+$ ]] && [ "$version" -ge "$MIN_VERSION" ]; then
      dirname "$(command -v postgres)"
    fi
  fi
}

if [ -n "$(server_bindir)" ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "postgres_setup: installing Debian's postgresql" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  if [ -z "$(server_bindir)" ]; then
    echo "postgres_setup: Debian's postgresql was installed, but no PostgreSQL $MIN_VERSION or later (initdb," \
      "pg_ctl, postgres) is in /usr/lib/postgresql/*/bin; the tests on PostgreSQL cannot run" >&2
    exit 1
  fi
else
  echo "postgres_setup: PostgreSQL $MIN_VERSION or later (initdb, pg_ctl, postgres) is missing and cannot be" \
    "installed here (needs root and apt-get); install Debian's postgresql package (or PostgreSQL $MIN_VERSION+ with" \
    "its programs on PATH): the tests on PostgreSQL cannot run without it" >&2
  exit 1
fi
