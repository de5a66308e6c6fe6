"""Send what the outbox holds: claim a batch, send it over one connection, record each.

Exactly once, as far as SMTP allows: a row is marked ``sent`` in its own commit
right after the server accepted its message. A sender that dies between the two
leaves the row pending under its claim; once the claim runs out
(:data:`CLAIM_MINUTES`) another run sends it again. So a crash sends a message
at most once more, and never loses one. A second run finds nothing pending and
sends nothing.

Failures: a server that does not answer (``DOWN``) or defers (4xx) puts the row
back with a back-off that doubles from :data:`FIRST_RETRY_MINUTES` up to a day,
and gives it up after ``NOTIFY_MAX_ATTEMPTS`` attempts; a permanent refusal (5xx)
marks it ``refused`` and, for a learner, notes the refused address on the staff
record, which the HR manager sees on the person's page.

Each claimed batch is its own transaction, and each message's record another:
this is a command's work, not a request's (the views never send reminders).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.orm import selectinload

from lms.core.mail import Delivery, Mailer, Outcome
from lms.core.types import rome_date, utcnow
from lms.extensions import db
from lms.notifications.messages import Cancel, compose
from lms.notifications.models import Notification, Status
from lms.register.models import StaffMember

log = logging.getLogger(__name__)

#: How long a sender owns the rows it claimed (then a crashed sender's rows go again).
CLAIM_MINUTES = 15
FIRST_RETRY_MINUTES = 5
MAX_RETRY = timedelta(days=1)


@dataclass
class SendReport:
    """What one run of the sender did."""

    sent: int = 0
    refused: int = 0
    deferred: int = 0
    failed: int = 0
    cancelled: int = 0
    empty: int = 0
    #: The server did not answer: the run stopped, the rest waits for the next one.
    server_down: bool = False
    by_kind: dict[str, int] = field(default_factory=dict)


def retry_delay(attempts: int) -> timedelta:
    """The wait after the *attempts*-th failed attempt: 5, 10, 20 … minutes, at most a day."""
    return min(timedelta(minutes=FIRST_RETRY_MINUTES * 2 ** max(attempts - 1, 0)), MAX_RETRY)


def _due(now: datetime) -> list:
    return [
        Notification.status == Status.PENDING,
        Notification.next_attempt_at <= now,
        or_(Notification.claimed_until.is_(None), Notification.claimed_until < now),
    ]


def claim(now: datetime, size: int) -> list[int]:
    """Take up to *size* pending rows for :data:`CLAIM_MINUTES` and commit; their ids.

    On PostgreSQL, rows another sender is claiming at the same moment are skipped
    (``FOR UPDATE SKIP LOCKED``); the UPDATE's own condition keeps two senders
    from taking the same row on either database.
    """
    candidates = (
        select(Notification.id)
        .where(*_due(now))
        .order_by(Notification.id)
        .limit(size)
        .with_for_update(skip_locked=True)
    )
    ids = list(
        db.session.scalars(
            update(Notification)
            .where(Notification.id.in_(candidates.scalar_subquery()), *_due(now))
            .values(claimed_until=now + timedelta(minutes=CLAIM_MINUTES))
            .returning(Notification.id)
            # A bulk claim: the rows already loaded in this session are not refreshed.
            .execution_options(synchronize_session=False)
        )
    )
    db.session.commit()
    return sorted(ids)


def _record(
    notification: Notification, delivery: Delivery, now: datetime, report: SendReport
) -> None:
    notification.attempts += 1
    notification.claimed_until = None
    if delivery.outcome is Outcome.SENT:
        notification.status = Status.SENT
        notification.sent_at = now
        notification.last_error = None
        report.sent += 1
        report.by_kind[notification.kind] = report.by_kind.get(notification.kind, 0) + 1
        return
    notification.last_error = delivery.reason[:200] or delivery.outcome.value
    if delivery.outcome is Outcome.REFUSED:
        notification.status = Status.REFUSED
        report.refused += 1
        staff = notification.staff
        if staff is not None:
            staff.email_refused_at = now
            staff.email_refused_reason = notification.last_error
        return
    if notification.attempts >= int(current_app.config["NOTIFY_MAX_ATTEMPTS"]):
        notification.status = Status.FAILED
        report.failed += 1
        return
    notification.next_attempt_at = now + retry_delay(notification.attempts)
    report.deferred += 1


def _release(ids: list[int], now: datetime) -> None:
    """Give back rows claimed but not tried (the server went down): try them soon again."""
    if ids:
        db.session.execute(
            update(Notification)
            .where(Notification.id.in_(ids), Notification.status == Status.PENDING)
            .values(
                claimed_until=None,
                next_attempt_at=now + timedelta(minutes=FIRST_RETRY_MINUTES),
            )
        )
        db.session.commit()


def send_batch(ids: list[int], now: datetime, report: SendReport, mailer: Mailer) -> None:
    """Compose and send the claimed rows *ids*, committing each one's record."""
    today = rome_date(now)
    rows = db.session.scalars(
        select(Notification)
        .where(Notification.id.in_(ids))
        .options(selectinload(Notification.staff).selectinload(StaffMember.authority))
        .order_by(Notification.id)
    ).all()
    for index, notification in enumerate(rows):
        try:
            message = compose(notification, today, now)
        except Exception:  # a message that cannot be written must not block the others
            log.exception("could not compose notification %d", notification.id)
            db.session.rollback()
            notification.status = Status.FAILED
            notification.claimed_until = None
            notification.last_error = "could not be composed (see the log)"
            report.failed += 1
            db.session.commit()
            continue
        if isinstance(message, Cancel):
            notification.status = Status.EMPTY if message.empty else Status.CANCELLED
            notification.claimed_until = None
            notification.last_error = message.reason
            if message.empty:
                report.empty += 1
            else:
                report.cancelled += 1
            db.session.commit()
            continue
        delivery = mailer.deliver(message)
        if delivery.outcome is Outcome.DOWN:
            report.server_down = True
            notification.attempts += 1
            notification.last_error = delivery.reason or "server down"
            db.session.commit()
            _release([r.id for r in rows[index:]], now)
            return
        _record(notification, delivery, now, report)
        db.session.commit()


def send_pending(
    now: datetime | None = None,
    *,
    batch_size: int | None = None,
    max_batches: int | None = None,
    mailer_factory: Callable[[], Mailer] = Mailer,
) -> SendReport:
    """Send every pending message whose time has come, batch after batch (one connection each)."""
    now = now or utcnow()
    size = batch_size or int(current_app.config["NOTIFY_BATCH_SIZE"])
    report = SendReport()
    batches = 0
    while max_batches is None or batches < max_batches:
        ids = claim(now, size)
        if not ids:
            break
        batches += 1
        with mailer_factory() as mailer:
            send_batch(ids, now, report, mailer)
        if report.server_down:
            log.warning("SMTP server down: %d message(s) wait for the next run", len(ids))
            break
    return report
