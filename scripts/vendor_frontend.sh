#!/usr/bin/env bash
# Vendor GOV.UK Frontend and htmx into service/static/ (idempotent: re-running
# rebuilds the same files). Needs npm (registry access), tar, perl, sha256sum.
#
#   service/static/govuk/govuk-frontend-6.6.0.min.css  GDS Transport removed, /assets/ URLs rewritten
#   service/static/govuk/govuk-frontend-6.6.0.min.js   ES module (sourceMappingURL comment dropped)
#   service/static/govuk/LICENSE                        MIT (not shipped in the npm tarball)
#   service/static/htmx-2.0.11.min.js, htmx-LICENSE     0BSD
#
# Not vendored: assets/fonts (GDS Transport is for GOV.UK only), favicons, GOV.UK
# icons/logos, manifest.json. The only image the CSS references is govuk-crest.svg,
# used solely by .govuk-footer__copyright-logo (the Crown copyright footer), which
# this service must not use, so it is deliberately left out (its URL is still
# rewritten, so it would 404 harmlessly if that class were ever used).
set -euo pipefail

GOVUK_VERSION=6.6.0
HTMX_VERSION=2.0.11
# sha256 of the registry tarballs (published npm versions are immutable).
GOVUK_SHA256=52c4eb554e54d8a6e4ba801e9da5ec3a5b930fd2f117a39677f0b6296e954751
HTMX_SHA256=165a2655073e9e6e55e307a7c74e8ebcdb76afb7701f9c16cfd106a13add408e

SYSTEM_FONT_STACK='system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif'
# Images the CSS references that we must not ship (Crown / GOV.UK branding).
EXCLUDED_IMAGES=(govuk-crest.svg)

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
static="$root/service/static"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# --- fetch ---------------------------------------------------------------
(
  cd "$tmp"
  npm pack --silent --pack-destination "$tmp" \
    "govuk-frontend@$GOVUK_VERSION" "htmx.org@$HTMX_VERSION" >/dev/null
  echo "$GOVUK_SHA256  govuk-frontend-$GOVUK_VERSION.tgz" | sha256sum --check --quiet
  echo "$HTMX_SHA256  htmx.org-$HTMX_VERSION.tgz" | sha256sum --check --quiet
  mkdir govuk htmx
  tar -xzf "govuk-frontend-$GOVUK_VERSION.tgz" -C govuk --strip-components=1
  tar -xzf "htmx.org-$HTMX_VERSION.tgz" -C htmx --strip-components=1
)
gdist="$tmp/govuk/dist/govuk"

# --- build into a staging dir, then swap in ------------------------------
out="$tmp/out"
mkdir -p "$out/govuk"

css="$out/govuk/govuk-frontend-$GOVUK_VERSION.min.css"
FONT_STACK="$SYSTEM_FONT_STACK" perl -0pe '
  # the GDS Transport licence banner and its @font-face blocks
  s~/\*!\s*Copyright[^*]*?Margaret Calvert.*?\*/~~gs;
  s~\@font-face\s*\{[^}]*GDS Transport[^}]*\}~~gi;
  # any quoting/spacing/case of  "GDS Transport", arial, sans-serif
  s~(["\x27]?)GDS Transport\1\s*,\s*(["\x27]?)arial\2\s*,\s*sans-serif~$ENV{FONT_STACK}~gi;
  # absolute asset URLs -> where the static router serves them
  s~url\(\s*(["\x27]?)/assets/~url($1/static/govuk/assets/~g;
  # we do not ship the source map
  s~/\*#\s*sourceMappingURL=[^*]*\*/\s*~~g;
' "$gdist/govuk-frontend.min.css" > "$css"

if grep -qi 'GDS Transport' "$css"; then
  echo "vendor_frontend: 'GDS Transport' still present in $css" >&2; exit 1
fi
if grep -Eq "url\(\s*[\"']?/assets" "$css"; then
  echo "vendor_frontend: absolute url(/assets...) still present in $css" >&2; exit 1
fi

# Copy the images the CSS references (fonts were removed above), minus excluded ones.
while IFS= read -r img; do
  skip=
  for ex in "${EXCLUDED_IMAGES[@]}"; do [[ "$img" == "$ex" ]] && skip=1; done
  [[ -n "$skip" ]] && continue
  mkdir -p "$out/govuk/assets/images"
  cp "$gdist/assets/images/$img" "$out/govuk/assets/images/$img"
done < <(grep -oE '/static/govuk/assets/images/[^)"'"'"'?#]+' "$css" | sed 's#.*/##' | sort -u)
if grep -oE '/static/govuk/assets/[^)"'"'"'?#]+' "$css" | grep -v '/assets/images/' | grep -q .; then
  echo "vendor_frontend: CSS references assets outside images/:" >&2
  grep -oE '/static/govuk/assets/[^)"'"'"'?#]+' "$css" | grep -v '/assets/images/' >&2; exit 1
fi

# JS: ES module exactly as shipped, minus the source map comment.
perl -0pe 's{\s*//#\s*sourceMappingURL=\S+\s*\z}{\n}' \
  "$gdist/govuk-frontend.min.js" > "$out/govuk/govuk-frontend-$GOVUK_VERSION.min.js"

# govuk-frontend's npm tarball carries no licence file (package.json says MIT);
# text from https://github.com/alphagov/govuk-frontend/blob/main/LICENSE.txt
cat > "$out/govuk/LICENSE" <<'EOF'
The MIT License (MIT)

Copyright (C) 2017 Crown Copyright (Government Digital Service)

Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the "Software"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies
of the Software, and to permit persons to whom the Software is furnished to do
so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
EOF

cp "$tmp/htmx/dist/htmx.min.js" "$out/htmx-$HTMX_VERSION.min.js"
cp "$tmp/htmx/LICENSE" "$out/htmx-LICENSE"

# --- install (only the vendored paths; app.js / app.css are left alone) ---
mkdir -p "$static"
rm -rf "$static/govuk"
rm -f "$static"/htmx-*.min.js "$static/htmx-LICENSE"
cp -R "$out/govuk" "$static/govuk"
cp "$out/htmx-$HTMX_VERSION.min.js" "$out/htmx-LICENSE" "$static/"

echo "vendor_frontend: vendored govuk-frontend $GOVUK_VERSION and htmx.org $HTMX_VERSION into ${static#"$root"/}"
(cd "$static" && find govuk htmx-* -type f -exec ls -l {} + | awk '{print "  " $5 "\t" $9}')
