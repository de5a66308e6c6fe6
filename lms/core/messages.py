"""Sentences for people, translated only when they are shown.

The engines that check files (:mod:`lms.core.tabular`, :mod:`lms.enrolments.roster`)
are plain functions that know nothing of requests or languages, yet their errors
end up on a page in the reader's language and on the command line in English.
So they do not build text: they return :class:`Message` values, an Italian
msgid (the catalogue's key, like every msgid of the project) with its values,
and whoever shows one calls ``str()`` on it where the language is known:

- a page, in a request: Flask-Babel's language of the signed-in person;
- the command line: ``with flask_babel.force_locale("en"):`` (see :func:`in_english`);
- with no app at all: the Italian msgid, filled in.

``_l("…", name=value)`` makes one and marks the msgid for ``pybabel extract``
(the project's extraction keywords are ``_l`` and ``lazy_gettext``). Unlike
Flask-Babel's ``lazy_gettext``, a :class:`Message` has no ``__html__``: Jinja
escapes it like any text, which matters because the values come from uploaded
files. Values may be messages themselves; they are translated with the sentence.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from flask_babel import force_locale, get_locale, gettext


class Message:
    """An Italian msgid and its values; ``str()`` translates it into the current language."""

    __slots__ = ("msgid", "params")

    def __init__(self, msgid: str, /, **params: Any) -> None:
        self.msgid = msgid
        self.params = params

    def __str__(self) -> str:
        return gettext(self.msgid, **self.params)

    def __repr__(self) -> str:
        return f"Message({self.msgid!r}, {self.params!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message):
            return NotImplemented
        return type(self) is type(other) and (self.msgid, self.params) == (
            other.msgid,
            other.params,
        )

    def __hash__(self) -> int:
        return hash((self.msgid, tuple(sorted(self.params))))


def _l(msgid: str, /, **params: Any) -> Message:
    """A :class:`Message`; the name is the catalogue's extraction keyword."""
    return Message(msgid, **params)


class EnglishOriginal(Message):
    """A library's own English sentence, and our message for every other language.

    The library (email_validator, the csv module, openpyxl) speaks only English.
    In English its sentence is shown as it is, word for word, as the command
    line always printed it; in any other language *message* is shown instead.
    """

    __slots__ = ("original",)

    def __init__(self, original: str, message: Message) -> None:
        super().__init__(message.msgid, **message.params)
        self.original = original

    def __str__(self) -> str:
        locale = get_locale()
        if locale is not None and locale.language == "en":
            return self.original
        return super().__str__()


class Joined(Message):
    """Texts and messages shown one after the other, each worded when shown."""

    __slots__ = ()

    def __init__(self, parts: list[object], separator: str) -> None:
        super().__init__("", parts=parts, separator=separator)

    def __str__(self) -> str:
        return self.params["separator"].join(str(part) for part in self.params["parts"])


@contextmanager
def english() -> Iterator[None]:
    """Messages are rendered in English inside this block (needs an app context)."""
    with force_locale("en"):
        yield


def in_english(messages: Iterable[object]) -> list[str]:
    """*messages* as English text (the command line's language); needs an app context."""
    with english():
        return [str(message) for message in messages]
