"""Benchmark: planning a day's reminders at programme scale (issue #16).

    .venv/bin/python bench/notify_plan.py [--database-url URL] [--repeat 3] [--json FILE]

Runs against a database made by ``bench/generate.py`` (by default the SQLite
file ``bench/data/programme.sqlite3``) and plans the reminders of the
generator's last instant, :data:`generate.END` (20 November 2026, 18:00 UTC),
with the deployment's settings (``REMINDER_DAYS`` 14,3, three weekly overdue
repeats, digests on Monday): :func:`lms.notifications.plan.plan_day`, one
``INSERT … SELECT … ON CONFLICT DO NOTHING`` per kind, as ``lms notify`` runs it.

Each round empties the outbox (``notifications``), then times

- the **first plan** of the day: every row inserted, then the commit;
- a **second plan** of the same day: nothing to insert (every row hits a unique
  index: the ``ON CONFLICT`` path), then the commit.

The best of ``--repeat`` rounds is reported, with the rows each kind planned
and the time of each kind's statement (taken from the driver: SQLAlchemy's
cursor events, the statement recognised by its kind parameter). The outbox is
emptied again at the end, so the generated world is left as it was.

Prints a table; not a test (timings depend on the machine).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete, event, func, select

from config import TestingConfig
from lms import create_app
from lms.enrolments.models import Enrolment
from lms.extensions import db
from lms.notifications.models import Notification
from lms.notifications.plan import PlanReport, Settings, plan_day

DEFAULT_DATABASE = Path(__file__).resolve().parent / "data" / "programme.sqlite3"
#: A kind as the planner binds it: "enrolled", "due:14", "overdue:2", "hr-digest"…
_KIND = re.compile(r"(enrolled|completed|digest|hr-digest|due:\d+|overdue:\d+)")


class StatementClock:
    """Seconds spent in the driver per kind of message (the kind is a bound parameter)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._started: list[float] = []

    @staticmethod
    def kind(parameters: Any) -> str:
        values = parameters.values() if isinstance(parameters, dict) else parameters or ()
        for value in values:
            if isinstance(value, str) and _KIND.fullmatch(value):
                return value
        return "other"

    def before(self, *_args: object) -> None:
        self._started.append(time.perf_counter())

    def after(
        self,
        _conn: object,
        _cursor: object,
        _statement: str,
        parameters: Any,
        *_args: object,
    ) -> None:
        seconds = time.perf_counter() - self._started.pop()
        kind = self.kind(parameters)
        self.seconds[kind] = self.seconds.get(kind, 0.0) + seconds

    @contextmanager
    def listening(self) -> Iterator[StatementClock]:
        self.seconds = {}
        engine = db.engine
        event.listen(engine, "before_cursor_execute", self.before)
        event.listen(engine, "after_cursor_execute", self.after)
        try:
            yield self
        finally:
            event.remove(engine, "before_cursor_execute", self.before)
            event.remove(engine, "after_cursor_execute", self.after)


def empty_outbox() -> None:
    """Delete every planned message (the bench's own database) and commit."""
    db.session.execute(delete(Notification))
    db.session.commit()


def timed_plan(settings: Settings, clock: StatementClock) -> tuple[PlanReport, float, dict]:
    """One plan of :data:`generate.END` and its commit: (report, seconds, seconds by kind)."""
    from generate import END  # noqa: PLC0415 - bench/generate.py, beside this file

    now = END.replace(tzinfo=UTC)
    with clock.listening():
        started = time.perf_counter()
        report = plan_day(now, settings)
        db.session.commit()
        seconds = time.perf_counter() - started
    return report, seconds, dict(clock.seconds)


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=f"sqlite:///{DEFAULT_DATABASE}")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    config = type("Bench", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": args.database_url})
    app = create_app(config)
    clock = StatementClock()
    figures: dict[str, Any] = {}
    with app.app_context():
        enrolments = db.session.scalar(select(func.count()).select_from(Enrolment)) or 0
        if not enrolments:
            sys.exit("no data: run bench/generate.py first")
        settings = Settings.from_config()
        print(f"database: {db.engine.dialect.name}; enrolments: {enrolments:,}; {settings}")
        best: dict[str, Any] = {}
        for round_number in range(1, args.repeat + 1):
            empty_outbox()
            first, first_s, first_kinds = timed_plan(settings, clock)
            second, second_s, second_kinds = timed_plan(settings, clock)
            print(
                f"  round {round_number}: first plan {first.total:,} rows in {first_s:.2f} s, "
                f"second plan {second.total:,} rows in {second_s:.2f} s"
            )
            if "first_s" in best and best["counts"] != first.counts:
                raise RuntimeError(f"round {round_number} planned other rows: {first.counts}")
            for key, seconds, kinds in (
                ("first", first_s, first_kinds),
                ("second", second_s, second_kinds),
            ):
                if seconds < best.get(f"{key}_s", float("inf")):
                    best[f"{key}_s"] = seconds
                    best[f"{key}_kind_s"] = kinds
            best["counts"] = first.counts
            best["second_rows"] = max(best.get("second_rows", 0), second.total)
        stored = db.session.scalar(select(func.count()).select_from(Notification)) or 0
        empty_outbox()
        db.engine.dispose()
    counts: dict[str, int] = best["counts"]
    figures.update(
        enrolments=enrolments,
        rows=sum(counts.values()),
        stored=stored,
        **best,
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    from run_all import kind_order  # noqa: PLC0415 - bench/run_all.py, beside this file

    kinds = sorted(set(counts) | set(best["first_kind_s"]), key=kind_order)
    print(f"\n{'kind':<14}{'rows':>10}{'first s':>10}{'second s':>10}")
    for kind in kinds:
        print(
            f"{kind:<14}{counts.get(kind, 0):>10,}{best['first_kind_s'].get(kind, 0):>10.3f}"
            f"{best['second_kind_s'].get(kind, 0):>10.3f}"
        )
    print(f"{'total':<14}{figures['rows']:>10,}{best['first_s']:>10.3f}{best['second_s']:>10.3f}")
    print(f"second plan inserted {best['second_rows']} rows; {stored:,} in the outbox after it")


if __name__ == "__main__":
    main()
