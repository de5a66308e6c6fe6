#!/usr/bin/env bash
# Nightly backup of the LMS database: pg_dump's custom format (-Fc) to a dated
# file, checked readable, and files older than LMS_BACKUP_DAYS removed.
#
#   scripts/backup-postgres.sh [DIRECTORY]
#
# The database is LMS_DATABASE_URL (the app's own variable: postgresql+psycopg://…
# is accepted) or, without it, libpq's PGHOST/PGUSER/PGDATABASE/… and ~/.pgpass.
# DIRECTORY defaults to LMS_BACKUP_DIR, then /var/backups/lms; LMS_BACKUP_DAYS to 14.
# Restore: docs/deploy.md, "Backups and restore".
set -euo pipefail

dir="${1:-${LMS_BACKUP_DIR:-/var/backups/lms}}"
days="${LMS_BACKUP_DAYS:-14}"
url="${LMS_DATABASE_URL:-}"
url="${url/postgresql+psycopg:/postgresql:}"   # SQLAlchemy's driver suffix means nothing to libpq

if [[ ! "$days" =~ ^[0-9]+$ ]] || (( days < 1 )); then
    echo "LMS_BACKUP_DAYS must be a number of days (1 or more), not '$days'" >&2
    exit 2
fi
if [[ -n "$url" && "$url" != postgresql:* && "$url" != postgres:* ]]; then
    echo "LMS_DATABASE_URL is not a PostgreSQL address" >&2
    exit 2
fi

umask 077  # the dump holds personal data
mkdir -p "$dir"
stamp="$(date +%Y%m%d-%H%M%S)"
final="$dir/lms-$stamp.dump"
partial="$final.partial"
trap 'rm -f "$partial"' EXIT

if [[ -n "$url" ]]; then
    pg_dump --format=custom --compress=6 --file="$partial" --dbname="$url"
else
    pg_dump --format=custom --compress=6 --file="$partial"
fi
pg_restore --list "$partial" >/dev/null  # a readable archive, or fail here
mv "$partial" "$final"
trap - EXIT

# Keep the last $days days (and never delete the file just written).
find "$dir" -maxdepth 1 -type f -name 'lms-*.dump' -mtime "+$((days - 1))" ! -path "$final" -delete
find "$dir" -maxdepth 1 -type f -name 'lms-*.dump.partial' -mmin +1440 -delete

echo "$final ($(du -h "$final" | cut -f1))"
