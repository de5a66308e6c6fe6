"""What the live-session operations refuse, with a message a person can act on."""

from __future__ import annotations

from collections.abc import Iterable

from lms.core.messages import Message


class LiveError(Exception):
    """An operation of lms.live refused: nothing was written.

    ``message`` is a :class:`~lms.core.messages.Message`: ``str()`` gives it in
    the current language (a page's reader, the command line's English).
    """

    def __init__(self, message: Message) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)


class NotAttendable(LiveError):
    """People who are neither enrolled in the edition's course nor signed up to the edition."""

    def __init__(self, message: Message, staff_ids: Iterable[int]) -> None:
        super().__init__(message)
        self.staff_ids = sorted(set(staff_ids))
