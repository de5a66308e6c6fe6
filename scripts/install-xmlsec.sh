#!/usr/bin/env bash
# Make sure Debian's xmlsec1 is installed: pysaml2 (the SPID/CIE sign-in, lms/spid)
# signs and verifies XML by calling the `xmlsec1` program. Idempotent; says what it did.
# Without it the app still runs; only SPID/CIE sign-in cannot be enabled.
set -euo pipefail

if command -v xmlsec1 >/dev/null 2>&1; then
  echo "xmlsec1: already installed ($(xmlsec1 --version 2>/dev/null | head -n1))"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "xmlsec1: not installed and apt-get is not available: SPID tests will be skipped" >&2
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "xmlsec1: not installed; run as root (or: sudo apt-get install xmlsec1) to install it" >&2
  exit 0
fi
echo "xmlsec1: installing Debian's xmlsec1 package" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends xmlsec1 >&2
echo "xmlsec1: installed ($(xmlsec1 --version 2>/dev/null | head -n1))"
