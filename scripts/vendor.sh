#!/usr/bin/env bash
# Refresh the front-end files vendored under lms/static/vendor/ from the npm
# registry. Needs Node's npm; `make run` and `make test` do not (the built files
# are committed). Versions are pinned here: change them, run `make vendor`,
# review the diff, commit.
set -euo pipefail

BOOTSTRAP_ITALIA=2.18.3
CHARTJS=4.5.1
AXE_CORE=4.11.0

root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/lms/static/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$work"
npm pack --silent "bootstrap-italia@$BOOTSTRAP_ITALIA" "chart.js@$CHARTJS" "axe-core@$AXE_CORE" >/dev/null
for tgz in *.tgz; do mkdir -p "${tgz%.tgz}" && tar -xzf "$tgz" -C "${tgz%.tgz}"; done

bi="$work/bootstrap-italia-$BOOTSTRAP_ITALIA/package"
rm -rf "$dest/bootstrap-italia" && mkdir -p "$dest/bootstrap-italia"/{css,js,svg,fonts}
# Drop the Video.js icon font (a data: URL): we embed no video player, and the
# CSP's font-src 'self' would refuse it on every page.
sed -E 's/@font-face\{font-family:VideoJS;src:url\(data:[^)]*\) format\("woff"\);font-weight:normal;font-style:normal\}//' \
  "$bi/dist/css/bootstrap-italia.min.css" > "$dest/bootstrap-italia/css/bootstrap-italia.min.css"
cp "$bi/dist/js/bootstrap-italia.bundle.min.js" "$dest/bootstrap-italia/js/"
cp "$bi/dist/svg/sprites.svg" "$dest/bootstrap-italia/svg/"
# woff2 and woff only: every browser we support reads one of them.
for family in Titillium_Web Lora Roboto_Mono; do
  mkdir -p "$dest/bootstrap-italia/fonts/$family"
  cp "$bi/dist/fonts/$family/"*.woff* "$dest/bootstrap-italia/fonts/$family/"
  cp "$bi/dist/fonts/$family/"*.txt "$dest/bootstrap-italia/fonts/$family/"
done
cp "$bi/LICENSE" "$dest/bootstrap-italia/LICENSE"

cj="$work/chart.js-$CHARTJS/package"
rm -rf "$dest/chart.js" && mkdir -p "$dest/chart.js"
cp "$cj/dist/chart.umd.min.js" "$dest/chart.js/"
cp "$cj/LICENSE.md" "$dest/chart.js/LICENSE.md"

ax="$work/axe-core-$AXE_CORE/package"
rm -rf "$dest/axe-core" && mkdir -p "$dest/axe-core"
cp "$ax/axe.min.js" "$dest/axe-core/"
cp "$ax/LICENSE" "$dest/axe-core/LICENSE"

cat > "$dest/VERSIONS.txt" <<TXT
Vendored from the npm registry by scripts/vendor.sh (make vendor).
bootstrap-italia $BOOTSTRAP_ITALIA  BSD-3-Clause  (fonts: SIL OFL 1.1 / Apache-2.0, licences beside them)
chart.js $CHARTJS  MIT
axe-core $AXE_CORE  MPL-2.0 (used by the browser tests only)
TXT
echo "vendored into $dest"
