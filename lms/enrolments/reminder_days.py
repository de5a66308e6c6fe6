"""Reminder days: the days before a due date on which its people are reminded.

A list of days is written as text, ``"14,7,1"``: whole days between 1 and
:data:`MAX_REMINDER_DAYS`, separated by commas (or semicolons). It is stored
normalised, largest first and each day once (``"14,7,1"``); the empty string is
no reminder before the due date. On a standing rule
(:attr:`lms.enrolments.models.EnrolmentRule.reminder_days`) None means the
deployment's own list (``LMS_REMINDER_DAYS``), which is read with the same rules.

Here, below both the enrolments that store a rule's days and the notifications
that plan the reminders (:mod:`lms.notifications.plan`), so that the form, the
command line and the planner read a list the same way. The errors are
:class:`~lms.core.messages.Message` values, translated where they are shown.
"""

from __future__ import annotations

from collections.abc import Iterable

from lms.core.messages import Message, _l

#: Largest number of days before a due date a reminder may be set to.
MAX_REMINDER_DAYS = 365
#: Most reminders a list may have (the stored text, ten days of three digits, fits in 40).
MAX_REMINDERS = 10


class ReminderDaysError(ValueError):
    """A list of reminder days that is not one; ``str()`` says why, in the current language."""

    def __init__(self, message: Message | str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)


def parse_reminder_days(text: str) -> tuple[int, ...]:
    """``"14,3"`` as (14, 3): whole days between 1 and 365, largest first; "" is none.

    Empty items (``"14,,3"``, a trailing comma) are passed over; each day counts once.
    """
    days: set[int] = set()
    for part in text.replace(";", ",").split(","):
        item = part.strip()
        if not item:
            continue
        # Three digits at most before int(): a 5,000-digit number is refused, not converted.
        if (
            not item.isascii()
            or not item.isdigit()
            or len(item) > len(str(MAX_REMINDER_DAYS))
            or not 1 <= int(item) <= MAX_REMINDER_DAYS
        ):
            raise ReminderDaysError(
                _l(
                    "«%(value)s» non è un numero di giorni tra 1 e %(max)d",
                    value=item[:20],
                    max=MAX_REMINDER_DAYS,
                )
            )
        days.add(int(item))
    if len(days) > MAX_REMINDERS:
        raise ReminderDaysError(
            _l(
                "Al massimo %(max)d promemoria: ne sono indicati %(count)d",
                max=MAX_REMINDERS,
                count=len(days),
            )
        )
    return tuple(sorted(days, reverse=True))


def format_reminder_days(days: Iterable[int]) -> str:
    """The stored form of a list of days: ``"14,3"`` (checked as :func:`parse_reminder_days`)."""
    return ",".join(str(d) for d in parse_reminder_days(",".join(str(d) for d in days)))


def describe_days(days: tuple[int, ...]) -> Message:
    """A list of days as a reader sees it: "14, 7, 1 giorni prima", "1 giorno prima", "nessuno"."""
    if not days:
        return _l("nessuno")
    if days == (1,):
        return _l("1 giorno prima")
    return _l("%(days)s giorni prima", days=", ".join(str(d) for d in days))


def describe_rule_days(stored: str | None, default: str) -> Message:
    """A rule's stored days (None: the deployment's *default* list) for the rules' pages."""
    if stored is None:
        try:
            default_days = parse_reminder_days(default)
        except ReminderDaysError:  # a bad setting stops the planner, which says why
            return _l("predefiniti")
        return _l("predefiniti (%(days)s)", days=describe_days(default_days))
    try:
        return describe_days(parse_reminder_days(stored))
    except ReminderDaysError:  # written by hand in the database
        return _l("non validi: %(value)s", value=stored)
