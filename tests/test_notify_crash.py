"""Killing the sender mid-batch and running it again loses and doubles nothing (issue #16).

The sender marks each row ``sent`` in its own commit right after the server's
250. Here a real sender (a child process with its own app, on the same database
file or server) sends to an SMTP server of the test's own that answers the
first :data:`ANSWERED` messages, then receives one more and holds its answer:
the server has the message, the sender never hears that it was accepted. The
test kills the sender with SIGKILL at that moment (no ``finally``, no clean-up)
and runs the sender again, as the next scheduled run would, against the usual
loopback server.

Expected: everyone gets their message; the one in flight, and only that one,
arrives twice; the rows a dead sender claimed wait for its claim to run out
(:data:`~lms.notifications.send.CLAIM_MINUTES`), never sent by two at once.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from conftest import make_test_app
from flask import Flask
from sqlalchemy import func, select

from lms.core.types import ROME
from lms.courses.models import Course
from lms.enrolments.models import Enrolment
from lms.extensions import db as _db
from lms.notifications.models import Notification, Status
from lms.notifications.plan import plan_day
from lms.notifications.send import CLAIM_MINUTES, send_pending
from lms.register.models import Authority, StaffCategory, StaffMember

PEOPLE = 30
#: The holding server answers this many messages, then holds the next one's answer.
ANSWERED = 10
#: Upper bounds for things that take well under a second; never a measured time.
HOLD_SECONDS = 60.0
CHILD_SECONDS = 60.0
DAY = date(2027, 3, 2)  # a Tuesday: no digest day, only the enrolment messages


def _morning(day: date) -> datetime:
    """07:00 in Italy on *day*, in UTC."""
    return datetime.combine(day, time(7), tzinfo=ROME).astimezone(UTC)


class HoldingInbox:
    """An SMTP handler that records every message on arrival and holds one answer.

    Message number ``answer_first + 1`` is recorded, then its 250 waits for
    :attr:`release` (set by the test after killing the sender), so the sender
    is killed while the server already has the message.
    """

    def __init__(self, answer_first: int) -> None:
        self.answer_first = answer_first
        self.recipients: list[str] = []
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, _server: object, _session: object, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        self.recipients.extend(envelope.rcpt_tos)
        if len(self.recipients) > self.answer_first:
            self.holding.set()
            # In a thread: the server's loop stays free to see the client go away.
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, HOLD_SECONDS)
        return "250 OK"


@pytest.fixture
def holding_server() -> Iterator[tuple[int, HoldingInbox]]:
    inbox = HoldingInbox(ANSWERED)
    with socket.socket() as probe:  # a free port (aiosmtpd cannot start on port 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    inbox.release.set()
    controller.stop()


def _send_in_child(database_url: str, port: int, now: datetime) -> None:
    """The sender, in a process of its own with its own app (and its own connections)."""
    app = make_test_app(
        database_url, SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_STARTTLS=False, SMTP_USER=""
    )
    with app.app_context():
        send_pending(now)


@dataclass
class Crash:
    now: datetime
    planned: set[str]  # every address a message was planned for
    first_server: list[str]  # what the holding server received (the held one last)
    mail_app: Flask  # an app on the usual loopback server

    def rows(self) -> Counter[Status]:
        _db.session.expire_all()
        return Counter(
            dict(
                _db.session.execute(
                    select(Notification.status, func.count()).group_by(Notification.status)
                ).all()
            )
        )

    def send(self, at: datetime) -> int:
        """Run the sender at *at* in the mail app; how many it sent."""
        with self.mail_app.app_context():
            return send_pending(at).sent


def _learners(make_authority: Callable[..., Authority], now: datetime) -> set[str]:
    authority = make_authority()
    course = Course(slug="etica", title="Etica pubblica", hours=Decimal(2), source_hash="x")
    _db.session.add(course)
    _db.session.flush()
    addresses = set()
    for n in range(PEOPLE):
        email = f"persona{n:02d}@example.org"
        staff = StaffMember(
            codice_fiscale=f"RSSMRA80A01H{n:03d}U",
            first_name="Lucia",
            last_name=f"Persona {n}",
            email=email,
            authority_id=authority.id,
            category=StaffCategory.NEW_HIRE,
        )
        _db.session.add(staff)
        _db.session.flush()
        _db.session.add(
            Enrolment(staff_id=staff.id, course_id=course.id, enrolled_at=now - timedelta(hours=1))
        )
        addresses.add(email)
    _db.session.commit()
    return addresses


@pytest.fixture
def crash(
    database_url: str,
    make_authority: Callable[..., Authority],
    new_app: Callable[..., Flask],
    holding_server: tuple[int, HoldingInbox],
    smtp_settings: dict[str, object],
) -> Crash:
    """Plan 30 enrolment messages, then kill a sender while the server holds message 11."""
    port, inbox = holding_server
    now = _morning(DAY)
    planned = _learners(make_authority, now)
    report = plan_day(now)
    _db.session.commit()
    assert report.counts == {"enrolled": PEOPLE} | {
        k: 0 for k, v in report.counts.items() if k != "enrolled"
    }
    # The child gets no open connection of ours: it makes its own.
    _db.session.remove()
    _db.engine.dispose()

    child = multiprocessing.get_context("fork").Process(
        target=_send_in_child, args=(database_url, port, now), daemon=True
    )
    child.start()
    try:
        held = inbox.holding.wait(HOLD_SECONDS)
        assert held, f"the sender never reached message {ANSWERED + 1} (exit code {child.exitcode})"
        child.kill()  # SIGKILL: the sender dies between the server's receipt and its record
    finally:
        child.kill()
        child.join(CHILD_SECONDS)
    assert child.exitcode == -9
    inbox.release.set()
    assert len(inbox.recipients) == ANSWERED + 1
    return Crash(now, planned, list(inbox.recipients), new_app(**smtp_settings))


def test_killing_the_sender_mid_batch_and_running_it_again_loses_and_doubles_nothing(
    crash: Crash, smtp_server
):
    # What the dead sender left: the answered messages recorded, the rest pending
    # under its claim (the held one among them: its 250 never came back).
    assert crash.rows() == {Status.SENT: ANSWERED, Status.PENDING: PEOPLE - ANSWERED}
    held = crash.first_server[-1]
    sent_before = set(
        _db.session.scalars(
            select(StaffMember.email)
            .join(Notification, Notification.staff_id == StaffMember.id)
            .where(Notification.status == Status.SENT)
        )
    )
    assert sent_before == set(crash.first_server[:-1])

    # The next run, an hour later (the claim has run out), on the usual server.
    assert crash.send(crash.now + timedelta(hours=1)) == PEOPLE - ANSWERED
    second_server = [str(m["To"]) for m in smtp_server.messages]
    assert held in second_server

    delivered = Counter(crash.first_server) + Counter(second_server)
    assert set(delivered) == crash.planned  # nobody lost
    assert {a for a, n in delivered.items() if n > 1} == {held}  # only the one in flight...
    assert delivered[held] == 2
    assert sum(delivered.values()) == PEOPLE + 1
    assert crash.rows() == {Status.SENT: PEOPLE}

    # A third run has nothing left to send.
    assert crash.send(crash.now + timedelta(hours=2)) == 0
    assert len(smtp_server.messages) == PEOPLE - ANSWERED
    assert crash.rows() == {Status.SENT: PEOPLE}


def test_rows_a_dead_sender_claimed_wait_for_its_claim_to_run_out(crash: Crash, smtp_server):
    claimed_until = crash.now + timedelta(minutes=CLAIM_MINUTES)
    claims = set(
        _db.session.scalars(
            select(Notification.claimed_until).where(Notification.status == Status.PENDING)
        )
    )
    assert claims == {claimed_until}

    # Runs while the claim holds (five minutes later, and at its very last moment)
    # leave the dead sender's rows alone: nothing goes twice at the same time.
    for at in (crash.now + timedelta(minutes=5), claimed_until):
        assert crash.send(at) == 0
        assert smtp_server.messages == []
        assert crash.rows() == {Status.SENT: ANSWERED, Status.PENDING: PEOPLE - ANSWERED}

    # Once it has run out, the next run sends them, each once.
    assert crash.send(claimed_until + timedelta(minutes=1)) == PEOPLE - ANSWERED
    second_server = [str(m["To"]) for m in smtp_server.messages]
    assert len(second_server) == len(set(second_server)) == PEOPLE - ANSWERED
    assert set(second_server) == crash.planned - set(crash.first_server[:-1])
    assert crash.rows() == {Status.SENT: PEOPLE}
