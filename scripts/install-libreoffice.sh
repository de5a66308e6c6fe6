#!/usr/bin/env bash
# Make sure LibreOffice Calc is installed: the spreadsheet tests
# (tests/test_spreadsheet_program.py) open the downloads in a real spreadsheet
# program, LibreOffice headless (`soffice --headless --convert-to csv`), and check
# what a person sees. Debian's libreoffice-calc, without the recommended extras.
# Idempotent; says what it did. Without it the app runs; only those tests skip
# (outside CI: with CI=true or LMS_REQUIRE_SPREADSHEET=1 they fail instead).
set -euo pipefail

if command -v soffice >/dev/null 2>&1; then
  echo "soffice: already installed ($(soffice --version 2>/dev/null | head -n1 || echo 'version unknown'))"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "soffice: not installed and apt-get is not available: spreadsheet tests will be skipped" >&2
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "soffice: not installed; run as root (or: sudo apt-get install --no-install-recommends libreoffice-calc) to install it" >&2
  exit 0
fi
echo "soffice: installing Debian's libreoffice-calc package" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends libreoffice-calc >&2
echo "soffice: installed ($(soffice --version 2>/dev/null | head -n1 || echo 'version unknown'))"
