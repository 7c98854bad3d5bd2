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
.venv/bin/pytest "$@"
