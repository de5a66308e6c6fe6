#!/usr/bin/env bash
# The suite, as `make test` runs it: on SQLite (browser tests and coverage
# included) and, when LMS_TEST_DATABASE_URL names a PostgreSQL database, again
# on PostgreSQL. The two passes share nothing (each has its own database), so
# they run side by side: on CI's two cores that takes the time of the longer
# pass rather than of both. The PostgreSQL pass writes to a log that is printed
# when it ends; the command fails if either pass fails.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PYTEST_ARGS=${PYTEST_ARGS:-}

pg_status=0
pg_pid=""
pg_log=""
if [ -n "${LMS_TEST_DATABASE_URL:-}" ]; then
  # spid-sp-test (minutes of it) runs in the PostgreSQL pass, the shorter one.
  export LMS_SPID_CONFORMANCE_PASS=postgresql
  pg_log=$(mktemp -t lms-pytest-postgresql.XXXXXX.log)
  echo "== PostgreSQL pass ($LMS_TEST_DATABASE_URL) started beside the SQLite pass; its log: $pg_log =="
  # shellcheck disable=SC2086 # PYTEST_ARGS is a list of words
  $BIN/python -m pytest -p no:cacheprovider $PYTEST_ARGS >"$pg_log" 2>&1 &
  pg_pid=$!
else
  echo "LMS_TEST_DATABASE_URL is not set: PostgreSQL pass skipped (.ci/run sets it)"
fi

echo "== SQLite pass (browser tests and coverage included) =="
# shellcheck disable=SC2086
env -u LMS_TEST_DATABASE_URL $BIN/python -m pytest --cov --cov-report=term $PYTEST_ARGS
sqlite_status=$?

if [ -n "$pg_pid" ]; then
  wait "$pg_pid"
  pg_status=$?
  echo
  echo "== PostgreSQL pass ($LMS_TEST_DATABASE_URL): exit status $pg_status =="
  cat "$pg_log"
  rm -f "$pg_log"
fi

echo
echo "== SQLite pass: exit status $sqlite_status${pg_pid:+; PostgreSQL pass: exit status $pg_status} =="
if [ "$sqlite_status" -ne 0 ]; then exit "$sqlite_status"; fi
exit "$pg_status"
