#!/usr/bin/env bash
# Make sure a PostgreSQL server answers on 127.0.0.1:5432 (user postgres, trust
# auth), starting or installing Debian's `postgresql` if needed, and create an
# empty test database. Prints `export LMS_TEST_DATABASE_URL=…` for eval.
set -euo pipefail
HOST=127.0.0.1 PORT=5432 DB=${LMS_TEST_DB_NAME:-lms_test}

answers() { pg_isready -q -h "$HOST" -p "$PORT" 2>/dev/null; }

if ! command -v pg_isready >/dev/null 2>&1 || ! answers; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    echo "installing PostgreSQL (Debian package)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
  fi
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  conf=/etc/postgresql/$version/main
  # Local trust auth for the test server only.
  if ! grep -q "lms-ci" "$conf/pg_hba.conf"; then
    sed -i '1i host all all 127.0.0.1/32 trust # lms-ci\nlocal all all trust # lms-ci' "$conf/pg_hba.conf"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
  for _ in $(seq 1 30); do answers && break; sleep 1; done
fi
answers || { echo "PostgreSQL does not answer on $HOST:$PORT" >&2; exit 1; }

psql -q -h "$HOST" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 \
  -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >&2
echo "export LMS_TEST_DATABASE_URL=postgresql+psycopg://postgres@$HOST:$PORT/$DB"
