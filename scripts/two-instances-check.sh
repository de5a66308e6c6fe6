#!/usr/bin/env bash
# Check that two app instances on one PostgreSQL database work as one site:
# starts two gunicorn servers (deploy/gunicorn.conf.py, production settings, the
# same secret key) and moves a session, a quiz attempt, a roster upload, failed
# sign-ins and a sign-out from one to the other (tests/test_two_instances.py).
#
#   scripts/two-instances-check.sh postgresql+psycopg://USER@HOST:5432/SCRATCH_DB [redis://HOST:6379/0]
#
# The database is EMPTIED and rebuilt by the migrations: give it a scratch
# database (createdb lms_check), never the production one. Redis defaults to
# redis://127.0.0.1:6379/0; when it does not answer, the shared-limit check is
# skipped (and says so). Needs `pip install -e '.[test]'`.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $# -lt 1 || "$1" != postgresql* ]]; then
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi
export LMS_TEST_DATABASE_URL="$1"
export LMS_TEST_REDIS_URL="${2:-redis://127.0.0.1:6379/0}"
python="${PYTHON:-.venv/bin/python}"
exec "$python" -m pytest tests/test_two_instances.py -v -rs -p no:cacheprovider
