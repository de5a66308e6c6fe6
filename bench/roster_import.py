"""Benchmark: import a 100,000-row roster (rows per second, peak memory).

    .venv/bin/python bench/roster_import.py [--rows 100000] [--database-url URL]

Generates a deterministic roster (valid codici fiscali, municipalities of the
seven less developed regions, a third new hires) into a temporary CSV, then
runs the same engine as ``lms staff import`` twice on an empty database built
by the migrations: the first run inserts everything, the second finds every
row unchanged. Prints a table; not a test (timings depend on the machine).

Measured on a shared 2-core machine (25 Nov 2026; other work kept the load
near 2.5, so wall-clock times vary by ±20 %), three runs each, before and
after the bulk paths of :mod:`lms.enrolments.staff_import` (accounts created
before staff records; COPY and ``= ANY(array)`` lookups on PostgreSQL,
multi-row INSERT … RETURNING elsewhere):

=============  ==================  ==================  ==============
database       first import (new)  second (unchanged)  peak RSS MiB
=============  ==================  ==================  ==============
SQLite before  6.2-8.4 s           4.3-5.2 s           260 then 342
SQLite after   6.3-7.5 s           3.7-4.8 s           226 then 269
PG 15 before   18-23 s             11-16 s             271 then 349
PG 15 after    6.0-6.8 s           4.0-5.1 s           229 then 271
=============  ==================  ==================  ==============

On PostgreSQL that is about 16,000 rows/s (first) and 23,000 rows/s (second).
SQLite's CPU time, which the load disturbs less, is the same for the first
import (5.5-6.0 s) and 10 % lower for the second (3.4-3.7 s against 3.8-4.1 s).
Reading and validating the file is 1.5-2 s of each run.

Since then the import also writes the report facts, the audit log and the
accounts' status: on 4 December PostgreSQL took 22.5 s for the first import
until the facts' refresh named its people in one array and the audit's
objects went by COPY (16 s, 6,200 rows/s; bench/results.md, issue #19,
fourth pass). ``make bench`` runs this on SQLite unless
``LMS_BENCH_ROSTER_DATABASE_URL`` names a database for it (emptied).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from codicefiscale import codicefiscale
from flask_migrate import upgrade
from sqlalchemy import select, text

from config import TestingConfig
from lms import create_app
from lms.enrolments.import_flow import run_import
from lms.extensions import db
from lms.register.istat import shipped_register
from lms.register.models import Authority, Region
from lms.register.operations import load_register

FIRST = ["Giuseppe", "Maria", "Antonio", "Anna", "Francesco", "Giulia", "Salvatore", "Rosa"]
LAST = ["Russo", "Esposito", "Romano", "Greco", "Bruno", "Ferrara", "Colombo", "Rizzo"]
HEADER = "codice_fiscale;first_name;last_name;email;authority_code;category;hired_on\n"


def _codice_fiscale(rng: random.Random, first: str, last: str, used: set[str]) -> str:
    # The library's encode() looks the birthplace up each time (3-4 ms); the
    # parts it is made of are fast, so build the code from them (born in Napoli).
    while True:
        born = date(1960, 1, 1) + timedelta(days=rng.randrange(15000))
        stem = (
            codicefiscale.encode_lastname(last)
            + codicefiscale.encode_firstname(first)
            + codicefiscale.encode_birthdate(born.strftime("%d/%m/%Y"), rng.choice("MF"))
            + "F839"
        )
        code = stem + codicefiscale.encode_cin(stem)
        if code not in used:
            used.add(code)
            return code


def write_roster(path: Path, rows: int, authority_codes: list[str], seed: int = 2026) -> None:
    """A deterministic roster of *rows* people."""
    rng = random.Random(seed)
    used: set[str] = set()
    with path.open("w", encoding="cp1252", newline="") as out:
        out.write(HEADER)
        for n in range(rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            cf = _codice_fiscale(rng, first, last, used)
            category = "neoassunto" if n % 3 == 0 else "in servizio"
            hired = (date(2015, 1, 1) + timedelta(days=rng.randrange(3600))).strftime("%d/%m/%Y")
            out.write(
                f"{cf};{first};{last};{first.lower()}.{last.lower()}.{n}@example.org;"
                f"{rng.choice(authority_codes)};{category};{hired}\n"
            )


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    figures: dict[str, object] = {"rows": args.rows}
    work = Path(tempfile.mkdtemp(prefix="lms-bench-"))
    url = args.database_url or f"sqlite:///{work / 'bench.sqlite3'}"
    config = type("Bench", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url})
    app = create_app(config)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        load_register(shipped_register())
        db.session.commit()
        codes = list(
            db.session.scalars(
                select(Authority.code)
                .join(Region)
                .where(Region.less_developed.is_(True), Authority.kind == "comune")
            )
        )
        roster = work / "roster.csv"
        started = time.perf_counter()
        write_roster(roster, args.rows, codes)
        generated = time.perf_counter() - started
        data = roster.read_bytes()
        figures["database"] = db.engine.dialect.name
        print(
            f"database: {db.engine.dialect.name}; roster: {args.rows} rows, "
            f"{len(data) / 2**20:.1f} MiB (generated in {generated:.1f} s)"
        )
        print(f"{'run':<28}{'seconds':>10}{'rows/s':>12}{'peak RSS MiB':>15}")
        for key, label in (
            ("first", "first import (all new)"),
            ("second", "second import (unchanged)"),
        ):
            started = time.perf_counter()
            outcome = run_import(data, roster.name, importer=None, apply=True)
            db.session.commit()
            seconds = time.perf_counter() - started
            if outcome.errors:
                print("errors:", outcome.errors[:5])
                sys.exit(1)
            print(
                f"{label:<28}{seconds:>10.1f}{args.rows / seconds:>12,.0f}{peak_rss_mib():>15.0f}"
            )
            figures[f"{key}_s"] = seconds
            figures[f"{key}_rows_per_s"] = args.rows / seconds
            figures[f"{key}_peak_rss_mib"] = peak_rss_mib()
        db.engine.dispose()
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
