#!/usr/bin/env bash
# Install Developers Italia's spid-sp-test (the SPID/CIE conformance tool) in its own
# virtualenv, .venv-spid-sp-test, from scripts/spid-sp-test-requirements.txt (exact
# versions). Its own venv because its pins (packaging 21.2, pyparsing 2, ...) would
# fight the app's constraints.txt. Idempotent: reinstalls only when the list changes.
# tests/test_spid_conformance.py runs it (LMS_SPID_SP_TEST names another install).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=.venv-spid-sp-test
STAMP=$VENV/.installed-stamp
REQS=scripts/spid-sp-test-requirements.txt

if [ -f "$STAMP" ] && [ "$STAMP" -nt "$REQS" ] && [ -x "$VENV/bin/spid_sp_test" ]; then
  echo "spid-sp-test: already installed in $VENV ($("$VENV/bin/spid_sp_test" --version 2>/dev/null | tail -n1))"
  exit 0
fi
echo "spid-sp-test: installing in $VENV" >&2
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip >&2
"$VENV/bin/python" -m pip install --quiet --no-deps -r "$REQS" >&2
"$VENV/bin/python" -m pip check >&2
touch "$STAMP"
echo "spid-sp-test: installed in $VENV ($("$VENV/bin/spid_sp_test" --version 2>/dev/null | tail -n1))"
