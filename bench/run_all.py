"""``make bench``: every benchmark of issue #7, one table, written into bench/results.md.

    .venv/bin/python bench/run_all.py [--quick] [--database-url URL] [--skip NAME ...]

Runs, each in its own process (so that one's memory does not count in the
next one's peak):

1. ``generate.py`` when the database has no data (the SQLite file
   ``bench/data/programme.sqlite3``, 100,000 staff and 1,000,000 enrolments,
   about 80 s; ``--quick``: ``programme-quick.sqlite3``, a tenth of that);
2. ``roster_import.py``: 100,000 rows (``--quick``: 20,000) into an empty
   SQLite database of its own (``LMS_BENCH_ROSTER_DATABASE_URL`` for another
   database: it is emptied, never point it at the generated one);
3. ``reports.py``: coverage against the SQL floor, learner CSV and XLSX of
   1,000,000 rows (``--quick``: 100,000);
4. ``load.py``: bare endpoint, home and module page, 50 clients, 15 s a run,
   2 rounds (``--quick``: 5 s, 1 round);
5. ``quiz_submit.py``: 200 learners at once (``--quick``: 50).

``LMS_BENCH_DATABASE_URL`` (or ``--database-url``) runs 1, 3, 4 and 5 on
another database, e.g. PostgreSQL. Prints the table, and replaces this
database's section of bench/results.md (between its ``bench:`` markers: the
notes around them are kept) with the machine's description and the figures.
``BENCH_QUICK=1`` is ``--quick``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from harness import BENCH_DIR, bench_app_context, describe_url

RESULTS = BENCH_DIR / "results.md"
STEPS = ("roster", "reports", "load", "quiz")


def machine(url: str) -> list[tuple[str, str]]:
    """What the figures were measured on."""
    proc = Path("/proc/cpuinfo")
    cpuinfo = proc.read_text(errors="replace") if proc.exists() else ""
    models = re.findall(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    mem = re.search(r"^MemTotal:\s+(\d+) kB", meminfo, re.MULTILINE)
    osname = platform.platform()
    release = Path("/etc/os-release")
    if release.exists():
        found = re.search(r'^PRETTY_NAME="?([^"\n]+)', release.read_text(), re.MULTILINE)
        osname = f"{found.group(1)}, Linux {platform.release()}" if found else osname
    rows = [
        ("date", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("CPU", f"{models[0] if models else platform.processor() or '?'} x {os.cpu_count()}"),
        ("RAM", f"{int(mem.group(1)) / 2**20:.1f} GiB" if mem else "?"),
        ("OS", osname),
        ("Python", platform.python_version()),
        ("SQLite", sqlite3.sqlite_version),
    ]
    if url.startswith("postgresql"):
        from sqlalchemy import text  # noqa: PLC0415

        from lms.extensions import db  # noqa: PLC0415

        with bench_app_context(url):
            version = db.session.scalar(text("SHOW server_version"))
            db.engine.dispose()
        rows.append(("PostgreSQL", str(version)))
    rows.append(("database", describe_url(url)))
    return rows


def load_average() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def has_data(url: str) -> bool:
    """Whether *url* holds generated data already."""
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return False
    from sqlalchemy import func, inspect, select  # noqa: PLC0415

    from lms.enrolments.models import Enrolment  # noqa: PLC0415
    from lms.extensions import db  # noqa: PLC0415

    with bench_app_context(url):
        try:
            if not inspect(db.engine).has_table("enrolments"):
                return False
            return bool(db.session.scalar(select(func.count()).select_from(Enrolment)))
        finally:
            db.engine.dispose()


def run(script: str, *args: str) -> dict:
    """Run ``bench/<script>`` with *args* and ``--json``; its figures."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as file:
        out = Path(file.name)
    command = [sys.executable, str(BENCH_DIR / script), *args, "--json", str(out)]
    print(f"\n== {script} {' '.join(args)}  (load average {load_average()})", flush=True)
    started = time.perf_counter()
    # The app logs every sign-in at INFO: keep the bench output readable.
    with subprocess.Popen(  # noqa: S603 - our own scripts
        command, cwd=BENCH_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        for line in process.stdout or ():
            if " INFO " not in line:
                print(line, end="", flush=True)
    figures = json.loads(out.read_text()) if out.exists() and out.stat().st_size else {}
    out.unlink(missing_ok=True)
    figures["_seconds"] = time.perf_counter() - started
    figures["_exit"] = process.returncode
    return figures


def verdict(ok: bool | None) -> str:  # noqa: FBT001
    """The table's last column."""
    return "n/a" if ok is None else ("met" if ok else "**not met**")


def table(results: dict, quick: bool) -> list[tuple[str, str, str, str]]:  # noqa: C901, FBT001, PLR0912 - one branch a figure
    """(measure, result, target, met) rows."""
    rows: list[tuple[str, str, str, str]] = []
    roster = results.get("roster")
    if roster:
        if "first_rows_per_s" in roster:
            n = roster["rows"]
            rows += [
                (
                    f"roster import, {n:,} new rows",
                    f"{roster['first_rows_per_s']:,.0f} rows/s ({roster['first_s']:.1f} s)",
                    ">= 5,000 rows/s",
                    verdict(roster["first_rows_per_s"] >= 5000),  # noqa: PLR2004
                ),
                (
                    f"roster import, {n:,} unchanged rows",
                    f"{roster['second_rows_per_s']:,.0f} rows/s ({roster['second_s']:.1f} s)",
                    ">= 5,000 rows/s",
                    verdict(roster["second_rows_per_s"] >= 5000),  # noqa: PLR2004
                ),
                (
                    "roster import, peak RSS",
                    f"{roster['second_peak_rss_mib']:.0f} MiB",
                    "(reported)",
                    "n/a",
                ),
            ]
        else:
            rows.append(("roster import", f"failed (exit {roster['_exit']})", "", "**not met**"))
    reports = results.get("reports")
    if reports:
        if "floor_s" in reports:
            floor = reports["floor_s"]
            rows.append(("coverage: SQL floor", f"{floor:.3f} s", "(floor)", "n/a"))
            for key in ("region", "authority"):
                seconds = reports[f"coverage_{key}_s"]
                rows.append(
                    (
                        f"coverage by {key}",
                        f"{seconds:.3f} s = {seconds / floor:.1f}x floor",
                        "< 1 s and <= 2x floor",
                        verdict(seconds < 1 and seconds <= 2 * floor),
                    )
                )
            for key, label in (("csv", "CSV"), ("xlsx", "XLSX")):
                peaks = reports[f"{key}_peak_mib"]
                rows.append(
                    (
                        f"learners {label}, {reports[f'{key}_rows']:,} rows",
                        f"{reports[f'{key}_rows_per_s']:,.0f} rows/s",
                        ">= 100,000 rows/s" if key == "csv" else "(reported)",
                        verdict(reports[f"{key}_rows_per_s"] >= 100_000) if key == "csv" else "n/a",  # noqa: PLR2004
                    )
                )
                rows.append(
                    (
                        f"learners {label}, peak RSS at 1/10 then all rows",
                        f"{peaks[0]:.0f} then {peaks[1]:.0f} MiB",
                        "flat in the rows",
                        verdict(reports[f"{key}_memory_flat"]),
                    )
                )
        else:
            rows.append(("reports", f"failed (exit {reports['_exit']})", "", "**not met**"))
    load = results.get("load")
    if load:
        if "results" in load:
            summary = load["results"]
            bare = summary["bare"]["rps"]
            labels = (("bare", "bare endpoint"), ("home", "home page"), ("module", "module page"))
            for key, label in labels:
                s = summary[key]
                figure = (
                    f"{s['rps']:,.0f} req/s ({s['rps'] / bare:.2f}x bare), "
                    f"p50 {s['p50_ms']:.0f} ms, p99 {s['p99_ms']:.0f} ms"
                )
                if s["errors"]:
                    figure += f", {s['errors']:.0f} errors"
                if key == "bare":
                    rows.append((f"{label}, {load['clients']} clients", figure, "(floor)", "n/a"))
                else:
                    rows.append(
                        (
                            f"{label}, {load['clients']} clients",
                            figure,
                            "p99 < 100 ms, >= 1/3 of bare",
                            verdict(s["p99_ms"] < 100 and s["rps"] >= bare / 3 and not s["errors"]),  # noqa: PLR2004
                        )
                    )
        else:
            rows.append(("load", f"failed (exit {load['_exit']})", "", "**not met**"))
    quiz = results.get("quiz")
    if quiz:
        if "ok" in quiz:
            rows.append(
                (
                    f"quiz submission, {quiz['learners']} learners at once",
                    (
                        f"{quiz['attempts']} attempts, {quiz['graded']} graded, "
                        f"{len(quiz['problems'])} problems; "
                        f"submit p95 {quiz['submit_p95_ms']:,.0f} ms"
                    ),
                    "none lost or duplicated; p95 reported",
                    verdict(quiz["ok"]),
                )
            )
        else:
            rows.append(("quiz submission", f"failed (exit {quiz['_exit']})", "", "**not met**"))
    if quick:
        rows = [(f"{m} (quick)", r, t, v) for m, r, t, v in rows]
    return rows


def markdown(url: str, rows: list, about: list, notes: list[str]) -> str:
    """This database's section of results.md."""
    lines = ["| machine | |", "|---|---|", *(f"| {k} | {v} |" for k, v in about), ""]
    lines += ["| measure | result | target | |", "|---|---|---|---|"]
    lines += [f"| {m} | {r} | {t} | {v} |" for m, r, t, v in rows]
    lines += ["", *notes]
    kind = "postgresql" if url.startswith("postgresql") else "sqlite"
    return f"<!-- bench:{kind}:begin -->\n" + "\n".join(lines) + f"\n<!-- bench:{kind}:end -->"


def write_results(section: str, url: str) -> None:
    """Replace this database's section of results.md (or append it)."""
    kind = "postgresql" if url.startswith("postgresql") else "sqlite"
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results (issue #7)\n"
    pattern = re.compile(rf"<!-- bench:{kind}:begin -->.*?<!-- bench:{kind}:end -->", re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section, text)
    else:
        title = "PostgreSQL" if kind == "postgresql" else "SQLite"
        text = text.rstrip() + f"\n\n## Latest `make bench` on {title}\n\n{section}\n"
    RESULTS.write_text(text)


def main() -> None:
    """Run every benchmark; print and record the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--quick", action="store_true", default=bool(os.environ.get("BENCH_QUICK")))
    parser.add_argument("--skip", nargs="*", choices=STEPS, default=[])
    parser.add_argument("--no-write", action="store_true", help="do not touch results.md")
    args = parser.parse_args()
    quick = args.quick
    default = BENCH_DIR / "data" / ("programme-quick.sqlite3" if quick else "programme.sqlite3")
    url = args.database_url or os.environ.get("LMS_BENCH_DATABASE_URL") or f"sqlite:///{default}"
    started = time.perf_counter()
    loads = [load_average()]
    about = machine(url)
    print("\n".join(f"{k}: {v}" for k, v in about))
    if not has_data(url):
        size = ["--staff", "10000", "--enrolments", "100000"] if quick else []
        print(f"\n== generate.py {' '.join(size)} (no data in {describe_url(url)} yet)", flush=True)
        subprocess.run(  # noqa: S603 - our own script
            [sys.executable, str(BENCH_DIR / "generate.py"), "--database-url", url, *size],
            cwd=BENCH_DIR,
            check=True,
        )
    results: dict[str, dict] = {}
    if "roster" not in args.skip:
        roster_url = os.environ.get("LMS_BENCH_ROSTER_DATABASE_URL")
        results["roster"] = run(
            "roster_import.py",
            "--rows",
            "20000" if quick else "100000",
            *(["--database-url", roster_url] if roster_url else []),
        )
    if "reports" not in args.skip:
        results["reports"] = run(
            "reports.py",
            "--database-url",
            url,
            "--repeat",
            "2" if quick else "3",
            "--export-rows",
            "100000" if quick else "1000000",
        )
    loads.append(load_average())
    if "load" not in args.skip:
        results["load"] = run(
            "load.py",
            "--database-url",
            url,
            "--seconds",
            "5" if quick else "15",
            "--rounds",
            "1" if quick else "2",
        )
    loads.append(load_average())
    if "quiz" not in args.skip:
        results["quiz"] = run(
            "quiz_submit.py", "--database-url", url, "--learners", "50" if quick else "200"
        )
    loads.append(load_average())
    rows = table(results, quick)
    width = [max(len(r[i]) for r in rows) for i in range(4)]
    print(f"\n== results ({describe_url(url)}; {time.perf_counter() - started:.0f} s in all)")
    for row in [("measure", "result", "target", ""), *rows]:
        cells = (cell.replace("**", "").ljust(w) for cell, w in zip(row, width, strict=True))
        print("  ".join(cells))
    notes = [
        (
            f"Load average (1, 5, 15 min) before and between the steps: {'; '.join(loads)}"
            f" ({os.cpu_count()} CPUs). Run time {time.perf_counter() - started:.0f} s."
        ),
    ]
    if "load" in results and results["load"].get("tool") == "python":
        notes.append("wrk was not available: the load figures come from the Python client.")
    if not args.no_write:
        write_results(markdown(url, rows, about, notes), url)
        print(f"\nwritten to {RESULTS.relative_to(BENCH_DIR.parent)}")
    if any(r.get("_exit") for r in results.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
