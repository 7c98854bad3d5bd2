#!/usr/bin/env bash
# Sets up the service (idempotent), loads the demo data and users if the database is empty, and starts it
# on http://127.0.0.1:8000. Data is kept in ./data (HANDOVER_DATA_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."

# An existing environment (a folder or a link to one) is kept: `python3 -m venv` fails on a link.
.venv/bin/python -c '' 2>/dev/null || python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -e .
bash scripts/pdf_setup.sh  # Pango and fonts for the handover's PDF copy (if missing)

.venv/bin/handover demo
echo "Handover is starting on http://${HANDOVER_HOST:-127.0.0.1}:${HANDOVER_PORT:-8000} (Ctrl+C stops it)"
exec .venv/bin/handover serve
