#!/usr/bin/env bash
# What the sign-in tests' OpenID provider needs (idempotent): Node, from Debian's packages when `node` is missing, and
# the provider's packages, pinned by tests/oidc/package-lock.json, into tests/oidc/node_modules (gitignored).
# The provider (tests/oidc/provider.mjs) runs only on loopback, only while the tests that start it run.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "oidc_setup: installing Debian's nodejs and npm" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "oidc_setup: node is missing and cannot be installed here (needs root and apt-get);" \
      "the sign-in tests with the council's provider will be skipped" >&2
    exit 0
  fi
fi

# oidc-provider 9 and jose 6 need Node 20 or later (WebCrypto as a global); Debian 12's own nodejs is 18
major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 20 ]; then
  echo "oidc_setup: node $(node --version) is too old for the test provider (20 or later is needed);" \
    "the sign-in tests with the council's provider will be skipped" >&2
  exit 0
fi

# installed already, from this lock file: nothing to do
if [ ! -d tests/oidc/node_modules/oidc-provider ] \
    || [ tests/oidc/package-lock.json -nt tests/oidc/node_modules/.package-lock.json ]; then
  echo "oidc_setup: installing the test provider's packages (npm ci in tests/oidc)" >&2
  npm ci --prefix tests/oidc --no-audit --no-fund --loglevel=error >/dev/null
fi
