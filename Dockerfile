# Handover: one container running `handover serve`, with its database and other data on a volume at /data.
# Build and run it with compose (compose.yaml); docs/operations.md says how to run, upgrade and back it up.
FROM python:3.11-slim

# Production settings that belong to the image (the rest come from deploy/handover.env). TZ makes "today" (due dates,
# working days open) England's date rather than UTC's, also between midnight and 1 a.m. in summer.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HANDOVER_MODE=production \
    HANDOVER_DATA_DIR=/data \
    HANDOVER_HOST=0.0.0.0 \
    HANDOVER_PORT=8000 \
    TZ=Europe/London

# What the handover's PDF copy needs from the system (WeasyPrint: Pango, HarfBuzz's subsetter, fonts), the same list
# as scripts/pdf_setup.sh; installed when the image is built, never downloaded when a document is made. Not pinned to
# versions: the base image's Debian release fixes them, and a pin would refuse that release's security updates.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-liberation \
    && rm -rf /var/lib/apt/lists/*

# The service runs as this unprivileged user; only /data is writable by it.
RUN test -f /usr/share/zoneinfo/Europe/London \
    && groupadd --system --gid 10001 handover \
    && useradd --system --uid 10001 --gid handover --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin handover \
    && mkdir /data \
    && chown handover:handover /data \
    && chmod 0700 /data

WORKDIR /app
COPY pyproject.toml ./
COPY service/ service/
COPY checklists/ checklists/
COPY templates/ templates/

# Why an editable install: service/settings.py finds checklists/, templates/ and service/static/ relative to its own
# file (PROJECT_ROOT = the folder above service/). A normal `pip install .` would copy service/ into site-packages,
# PROJECT_ROOT would point there, and the templates and checklists would not be found (only the checklists folder
# can be moved by a setting). `pip install -e .` installs the runtime dependencies (not the [test] extra) and the
# `handover` command, but imports service/ from /app, where checklists/ and templates/ sit beside it.
# The last line fails the build if that ever stops being true.
RUN pip install --no-cache-dir -e . \
    && python -m compileall -q service \
    && python -c "from service import settings as s; \
assert str(s.PROJECT_ROOT) == '/app', s.PROJECT_ROOT; \
assert (s.PROJECT_ROOT / 'templates' / 'base.html').is_file(); \
assert (s.PROJECT_ROOT / 'service' / 'static').is_dir(); \
assert any((s.PROJECT_ROOT / 'checklists').glob('*.toml'))"

USER 10001:10001
VOLUME ["/data"]
EXPOSE 8000

# Ready = the database answers and is fully migrated, and the checklists are loaded. Slim images have no curl, so
# Python's urllib asks; any error or non-2xx answer (503 while not ready) makes the check fail.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"]

# The database is created or migrated when the service opens it, so a new version upgrades it on start.
# `handover init-db` does the same step on its own (see docs/operations.md).
CMD ["handover", "serve"]
