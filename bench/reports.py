"""Benchmark: coverage reports and learner exports at programme scale.

    .venv/bin/python bench/reports.py [--database-url URL] [--generate] [--repeat 5]
        [--export-rows 1000000]

Runs against a database made by ``bench/generate.py`` (by default the SQLite
file ``bench/data/programme.sqlite3``; ``--generate`` makes it first, 100,000
staff and 1,000,000 enrolments). Measures, as the reports run in the app (as an
administrator: every authority, as of the generator's last day):

- coverage by region and by authority: the best of ``--repeat`` runs, against
  a *floor* taken in the same run: one hand-written SQL aggregate over the same
  tables (staff, enrolments, completions grouped by region) that computes only
  staff, enrolled and completed. The ratio says how much the full definitions
  (as-of dates, overdue, hours, best scores) cost over the bare join;
- learner detail CSV and XLSX: rows per second, and the process's peak
  resident memory after writing a tenth of the rows and then all of them:
  "flat" means the second export (ten times the rows) raised the peak by less
  than a tenth. The CSV twice: as of ``--as-of`` (the exact path, keys
  ``csv_*``) and as of today (the facts table, ``csv_facts_*``), each as the
  download writes it (:func:`lms.reports.learners.learner_csv_chunks`);
- coverage on both paths too: ``coverage_*_s`` as of ``--as-of``,
  ``coverage_facts_*_s`` as of today.

Prints a table; not a test (timings depend on the machine).
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date
from itertools import islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, text

from config import TestingConfig
from lms import create_app
from lms.core.export import write_xlsx
from lms.core.types import today_in_italy
from lms.enrolments.models import Enrolment
from lms.extensions import db
from lms.reports.coverage import coverage_by_authority, coverage_by_region
from lms.reports.filters import ReportFilters
from lms.reports.learners import COLUMNS, learner_csv_chunks, learner_rows

DEFAULT_DATABASE = Path(__file__).resolve().parent / "data" / "programme.sqlite3"

FLOOR_SQL = """
SELECT a.region_id,
       COUNT(*) AS staff,
       SUM(CASE WHEN e.n > 0 THEN 1 ELSE 0 END) AS enrolled,
       SUM(CASE WHEN e.n > 0 AND e.n = e.done THEN 1 ELSE 0 END) AS completed
FROM staff_members s
JOIN authorities a ON a.id = s.authority_id
LEFT JOIN (
    SELECT en.staff_id, COUNT(*) AS n, COUNT(cc.id) AS done
    FROM enrolments en
    JOIN staff_members sm ON sm.id = en.staff_id
    LEFT JOIN course_completions cc
           ON cc.user_id = sm.user_id AND cc.course_id = en.course_id
    GROUP BY en.staff_id
) e ON e.staff_id = s.id
GROUP BY a.region_id
"""


def best_of(repeat: int, work: Callable[[], object]) -> float:
    """The fastest of *repeat* runs of *work*, in seconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def peak_rss_mib() -> float:
    """This process's peak resident memory since the last :func:`reset_peak`, in MiB."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak() -> None:
    """Start measuring the peak afresh (Linux: writing 5 to clear_refs resets VmHWM)."""
    clear_refs = Path("/proc/self/clear_refs")
    if clear_refs.exists():
        clear_refs.write_text("5")


def measure_export(
    write: Callable[[Iterator[list[object]]], None], filters: ReportFilters, rows: int
) -> tuple[float, float]:
    """Seconds to write the first *rows* learner rows, and the peak RSS during it (MiB)."""
    gc.collect()
    reset_peak()
    started = time.perf_counter()
    write(islice((row.cells() for row in learner_rows(filters)), rows))
    seconds = time.perf_counter() - started
    db.session.rollback()
    return seconds, peak_rss_mib()


def measure_csv(path: Path, filters: ReportFilters, rows: int) -> tuple[float, float]:
    """Seconds to write the learner CSV's first *rows* rows as the download does, and the peak RSS.

    The chunks are written until *rows* line ends after the header's have gone
    by (the bench's data has no line break inside a cell); the last chunk may
    hold a few more rows, counted.
    """
    gc.collect()
    reset_peak()
    written = -1  # the header's line end
    started = time.perf_counter()
    chunks = learner_csv_chunks(filters)
    with path.open("wb") as file:
        for chunk in chunks:
            file.write(chunk)
            written += chunk.count(b"\r\n")
            if written >= rows:
                break
    chunks.close()  # the query's cursor, if the rows did not run out
    seconds = time.perf_counter() - started
    db.session.rollback()
    return written / seconds, peak_rss_mib()


def main() -> None:  # noqa: C901, PLR0915 - the benchmark, measure after measure
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=f"sqlite:///{DEFAULT_DATABASE}")
    parser.add_argument("--generate", action="store_true", help="generate the data first")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--export-rows", type=int, default=1_000_000)
    parser.add_argument("--as-of", default="2026-06-30", help="as-of date (YYYY-MM-DD)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    figures: dict[str, object] = {}
    if args.generate:
        from generate import generate  # noqa: PLC0415 - bench/generate.py, beside this file

        generate(args.database_url)
    config = type("Bench", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": args.database_url})
    app = create_app(config)
    results: list[tuple[str, str, str]] = []
    with app.app_context():
        enrolments = db.session.scalar(select(func.count()).select_from(Enrolment)) or 0
        if not enrolments:
            sys.exit("no data: run bench/generate.py first, or pass --generate")
        filters = ReportFilters(reader=None, as_of=date.fromisoformat(args.as_of))
        # As of today the reports read the facts table (ReportFilters.uses_facts).
        today = today_in_italy()
        today_filters = ReportFilters(reader=None, as_of=today)
        if not today_filters.uses_facts or filters.uses_facts:
            sys.exit(f"--as-of {args.as_of} must be before today to measure the exact path")
        print(f"database: {db.engine.dialect.name}; enrolments: {enrolments:,}")

        # Exports first: the peak memory they reach is then theirs, not the coverage's.
        target = min(args.export_rows, enrolments)
        with tempfile.TemporaryDirectory() as work_dir:
            out = Path(work_dir)

            def write_excel(rows: Iterator[list[object]]) -> None:
                write_xlsx(out / "learners.xlsx", COLUMNS, rows, title="learners")

            def export(key: str, label: str, measure: Callable[[int], tuple[float, float]]) -> None:
                peaks = []
                gc.collect()
                reset_peak()
                baseline = peak_rss_mib()
                for rows in (target // 10, target):
                    rate, peak = measure(rows)
                    peaks.append(peak)
                    figures[f"{key}_rows"] = rows
                    figures[f"{key}_rows_per_s"] = rate
                    results.append(
                        (
                            f"{label}, {rows:,} rows",
                            f"{rate:,.0f} rows/s",
                            f"peak RSS {peak:.0f} MiB",
                        )
                    )
                # Flat: with ten times the rows the peak rises over the resident
                # memory before the export no more than with the first tenth
                # (plus 16 MiB of allocator noise).
                first, second = peaks[0] - baseline, peaks[1] - baseline
                flat = "flat" if second <= first + 16 else "GROWS"
                figures[f"{key}_peak_mib"] = peaks
                figures[f"{key}_memory_flat"] = flat == "flat"
                results.append(
                    (
                        f"{label}: memory, 10x the rows",
                        flat,
                        f"+{first:.0f} then +{second:.0f} MiB over {baseline:.0f}",
                    )
                )

            def xlsx(rows: int) -> tuple[float, float]:
                seconds, peak = measure_export(write_excel, filters, rows)
                return rows / seconds, peak

            csv_file = out / "learners.csv"
            export(
                "csv_facts",
                f"learners CSV as of today ({today})",
                lambda rows: measure_csv(csv_file, today_filters, rows),
            )
            export(
                "csv",
                f"learners CSV as of {filters.as_of}",
                lambda rows: measure_csv(csv_file, filters, rows),
            )
            export("xlsx", f"learners XLSX as of {filters.as_of}", xlsx)
        floor = best_of(args.repeat, lambda: db.session.execute(text(FLOOR_SQL)).all())
        results.append(("floor: hand-written SQL aggregate", f"{floor:.3f} s", "1.0x"))
        figures["floor_s"] = floor
        for key, label, work in (
            ("region", "coverage by region", lambda: coverage_by_region(filters)),
            ("authority", "coverage by authority", lambda: coverage_by_authority(filters)),
            (
                "facts_region",
                "coverage by region, today",
                lambda: coverage_by_region(today_filters),
            ),
            (
                "facts_authority",
                "coverage by authority, today",
                lambda: coverage_by_authority(today_filters),
            ),
        ):
            seconds = best_of(args.repeat, work)
            figures[f"coverage_{key}_s"] = seconds
            results.append((label, f"{seconds:.3f} s", f"{seconds / floor:.1f}x floor"))

        db.engine.dispose()

    if args.json:
        figures["enrolments"] = enrolments
        args.json.write_text(json.dumps(figures, indent=2))
    width = max(len(r[0]) for r in results) + 2
    print(f"\n{'measure':<{width}}{'result':>20}{'':>4}{'against':<24}")
    for label, value, against in results:
        print(f"{label:<{width}}{value:>20}    {against:<24}")


if __name__ == "__main__":
    main()
