#!/usr/bin/env bash
# What the browser tests (tests/browser/) need besides Python packages, installed only when missing (idempotent):
#   - Debian's Chromium at /usr/bin/chromium (Playwright drives it; `playwright install` is never used, and this
#     script downloads no browser build of its own);
#   - axe-core from the npm registry, into .cache/axe (gitignored), injected into pages by the accessibility checks.
set -euo pipefail
cd "$(dirname "$0")/.."

AXE_VERSION="4"
AXE_DIR=".cache/axe"

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "browser_setup: installing Debian's chromium" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "browser_setup: /usr/bin/chromium is missing and cannot be installed here (needs root and apt-get);" \
      "the browser tests will be skipped" >&2
  fi
fi

if [ ! -f "$AXE_DIR/node_modules/axe-core/axe.min.js" ]; then
  if command -v npm >/dev/null 2>&1; then
    echo "browser_setup: installing axe-core@$AXE_VERSION into $AXE_DIR" >&2
    mkdir -p "$AXE_DIR"
    npm install --prefix "$AXE_DIR" --no-audit --no-fund --loglevel=error "axe-core@$AXE_VERSION" >/dev/null
  else
    echo "browser_setup: npm is missing, so axe-core cannot be installed; the accessibility checks will fail" >&2
  fi
fi
