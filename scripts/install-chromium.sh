#!/usr/bin/env bash
# Make sure a Chromium for the browser tests (tests/e2e) is installed: Debian's
# `chromium` package, driven by Playwright's Python package with executable_path
# (Playwright's own browser download is not used). Idempotent; says what it did.
# Uses $LMS_CHROMIUM when set (an existing Chromium elsewhere), else /usr/bin/chromium.
set -euo pipefail
CHROMIUM=${LMS_CHROMIUM:-/usr/bin/chromium}

if [ -x "$CHROMIUM" ]; then
  echo "chromium: already installed at $CHROMIUM ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi
if [ "$CHROMIUM" != /usr/bin/chromium ]; then
  echo "chromium: LMS_CHROMIUM=$CHROMIUM does not exist; not installing anything" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium: not installed and apt-get is not available: browser tests will be skipped" >&2
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "chromium: not installed; run as root (or: sudo apt-get install chromium) to install it" >&2
  exit 0
fi
echo "chromium: installing Debian's chromium package" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq chromium >&2
echo "chromium: installed at $CHROMIUM ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
