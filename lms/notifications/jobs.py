"""The notifications' two jobs, the same on every set-up.

- :func:`run_day`: plan everything today calls for (reminders, overdue notices,
  digests, events), commit, then send what is pending. Once a day, early.
- :func:`run_events`: plan the enrolment and completion messages of the last
  days, and live sessions' invitations, changes and cancellations, commit, then
  send what is pending (retries included). Every few minutes.

On PostgreSQL the job queue runs them (:mod:`lms.notifications.queue`, a
``lms notify worker`` per machine); on the embedded SQLite set-up ``lms notify
run`` does, from cron or a systemd timer (docs/deploy.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lms.core.transaction import commit
from lms.core.types import utcnow
from lms.notifications.plan import PlanReport, plan_day, plan_events
from lms.notifications.send import SendReport, send_pending


@dataclass(frozen=True)
class RunReport:
    """What one run planned and sent."""

    planned: PlanReport
    sent: SendReport


def run_day(now: datetime | None = None, *, send: bool = True) -> RunReport:
    """Plan today's messages, commit, and send the pending ones."""
    now = now or utcnow()
    planned = plan_day(now)
    commit()  # the plan stands before anything leaves
    return RunReport(planned, send_pending(now) if send else SendReport())


def run_events(now: datetime | None = None) -> RunReport:
    """Plan the messages of recent events (enrolments, completions, sessions), commit, send."""
    now = now or utcnow()
    planned = plan_events(now)
    commit()
    return RunReport(planned, send_pending(now))
