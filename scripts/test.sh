#!/usr/bin/env bash
# Sets up everything the tests need (idempotent) and runs every check: lint, format, types, tests.
set -euo pipefail
cd "$(dirname "$0")/.."

# An existing environment (a folder or a link to one) is kept: `python3 -m venv` fails on a link.
.venv/bin/python -c '' 2>/dev/null || python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -e '.[test]'
bash scripts/browser_setup.sh  # Debian's Chromium (if missing) and axe-core; never downloads a browser
bash scripts/oidc_setup.sh  # Node and the test OpenID provider (oidc-provider, pinned), if missing
bash scripts/pdf_setup.sh  # Pango and fonts for the handover's PDF copy (if missing)
bash scripts/postgres_setup.sh  # PostgreSQL 15+ server programs (if missing) for the throwaway test servers

.venv/bin/ruff check service tests
.venv/bin/ruff format --check service tests
.venv/bin/mypy service
bash scripts/check_deploy.sh

# The suite runs twice, side by side (one pass a core): on SQLite, the default, with every browser test; and on
# PostgreSQL (a throwaway server the tests start), every test but those about the SQLite file itself, and the main
# browser journey. Arguments given to this script go to the SQLite pass. Each pass ends with its 25 slowest tests.
postgresql_log=$(mktemp)
postgresql_tmp=$(mktemp -d)  # its own temporary folders, apart from the other pass's
(HANDOVER_TEST_DATABASE=postgresql .venv/bin/pytest tests --ignore=tests/browser -p no:cacheprovider \
        --basetemp="$postgresql_tmp/suite" --durations=25 \
    && HANDOVER_TEST_DATABASE=postgresql .venv/bin/pytest tests/browser/test_journeys.py -p no:cacheprovider \
        --basetemp="$postgresql_tmp/journey") > "$postgresql_log" 2>&1 &
postgresql_pass=$!
sqlite_status=0
.venv/bin/pytest --durations=25 "$@" || sqlite_status=$?
postgresql_status=0
wait "$postgresql_pass" || postgresql_status=$?
echo "== the PostgreSQL pass"
cat "$postgresql_log"
rm -rf "$postgresql_log" "$postgresql_tmp"
[ "$sqlite_status" = 0 ] && [ "$postgresql_status" = 0 ]
