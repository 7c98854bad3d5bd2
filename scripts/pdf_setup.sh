#!/usr/bin/env bash
# What the handover's PDF copy (service/documents.py, WeasyPrint) needs from the system, installed only when missing
# (idempotent): Pango and its FreeType backend, HarfBuzz's font subsetter, and fonts (DejaVu and Liberation). They
# come from Debian's packages, here and in the Dockerfile; nothing is downloaded when a document is made.
set -euo pipefail
cd "$(dirname "$0")/.."

# The same list as the Dockerfile's.
PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-liberation)

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "pdf_setup: installing ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "pdf_setup: ${missing[*]} missing and cannot be installed here (needs root and apt-get);" \
    "the handover's PDF copy will answer 503 until they are installed" >&2
fi
