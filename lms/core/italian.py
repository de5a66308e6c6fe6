"""Italian elision before numbers: "l'1 dic 2026", "con l'83,3 %", "dall'8 marzo".

Messages put an article before a value ("completato il %(date)s", "con il
%(score)s"): Italian drops the article's vowel before a word said with a vowel,
and a number is said as a word: *uno* (1), *otto* (8, 80-89, 800…), *undici* (11,
11.000…), *un milione*. So "il 1 dic 2026" is written "l'1 dic 2026" and "almeno
il 80 %" "almeno l'80 %", while "il 18 dic" (*diciotto*) and "il 100 %" (*cento*)
stay. No msgid can know the number, so the rule runs on the finished sentence:
:func:`install` makes every translated message of the Italian interface (pages,
e-mails, Python's ``gettext`` and :class:`~lms.core.messages.Message`) go through
:func:`elide`. Dates written with a leading zero (``01/12/2026``) and ordinals
(``1°``) are left as they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final, TypeVar

from flask import Flask
from flask_babel import Domain, get_locale
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

#: Each article or articulated preposition, and what it becomes before a vowel.
_ELIDED: Final = {
    "il": "l'",
    "lo": "l'",
    "la": "l'",
    "del": "dell'",
    "dello": "dell'",
    "della": "dell'",
    "dal": "dall'",
    "dallo": "dall'",
    "dalla": "dall'",
    "al": "all'",
    "allo": "all'",
    "alla": "all'",
    "nel": "nell'",
    "nello": "nell'",
    "nella": "nell'",
    "sul": "sull'",
    "sullo": "sull'",
    "sulla": "sull'",
}
#: An article, spaces, then a number that does not start with 0: its whole part
#: (Italian thousands groups "1.000" included), not followed by more digits, an
#: ordinal sign or a slash (a date such as 1/12 is said "primo dicembre").
_BEFORE_NUMBER: Final = re.compile(
    r"\b(?P<article>" + "|".join(sorted(_ELIDED, key=len, reverse=True)) + r")"
    r"[ \u00a0]+(?P<number>[1-9][0-9]*(?:\.[0-9]{3})*)(?![0-9°ºª/]|\.[0-9])",
    re.IGNORECASE,
)


#: Numbers said with a vowel besides those that begin with 8 (otto, ottanta…,
#: ottocento…): uno, undici, undicimila…, un milione…, undici milioni….
_VOWEL_RANGES: Final = (
    range(1, 2),
    range(11, 12),
    range(11_000, 12_000),
    range(1_000_000, 2_000_000),
    range(11_000_000, 12_000_000),
)


def said_with_a_vowel(number: int) -> bool:
    """Whether *number*, said in Italian, begins with a vowel (uno, otto…, undici…)."""
    return str(number)[0] == "8" or any(number in numbers for numbers in _VOWEL_RANGES)


def _elided(match: re.Match[str]) -> str:
    article, number = match["article"], match["number"]
    if not said_with_a_vowel(int(number.replace(".", ""))):
        return match[0]
    elided = _ELIDED[article.lower()]
    if article[0].isupper():
        elided = elided[0].upper() + elided[1:]
    return elided + number


def elide(text: str) -> str:
    """*text* with "il 1", "del 8", "al 11"… written as Italian does ("l'1", "dell'8", "all'11")."""
    return _BEFORE_NUMBER.sub(_elided, text)


_Text = TypeVar("_Text", bound=str)


def _in_italian() -> bool:
    locale = get_locale()
    return locale is None or locale.language == "it"


def elide_message(text: _Text) -> _Text:
    """:func:`elide` for the Italian interface; *text* as it is in any other language.

    Markup stays Markup: the elision adds an apostrophe to text, never to a tag.
    """
    if not _in_italian() or not isinstance(text, str):
        return text
    elided = elide(text)
    if elided == text:
        return text
    # Safe: the input was Markup already, and only an apostrophe was added to its text.
    return Markup(elided) if isinstance(text, Markup) else elided  # type: ignore[return-value]  # noqa: S704


class ElidingDomain(Domain):
    """Flask-Babel's message domain, its translations elided in Italian (Python's gettext)."""

    def gettext(self, *args: Any, **variables: Any) -> str:
        """Flask-Babel's ``gettext`` (a message), elided in Italian."""
        return elide_message(super().gettext(*args, **variables))

    def ngettext(self, *args: Any, **variables: Any) -> str:
        """Flask-Babel's ``ngettext`` (a message with a plural), elided in Italian."""
        return elide_message(super().ngettext(*args, **variables))

    def pgettext(self, *args: Any, **variables: Any) -> str:
        """Flask-Babel's ``pgettext`` (a message in a context), elided in Italian."""
        return elide_message(super().pgettext(*args, **variables))

    def npgettext(self, *args: Any, **variables: Any) -> str:
        """Flask-Babel's ``npgettext`` (a plural message in a context), elided in Italian."""
        return elide_message(super().npgettext(*args, **variables))


def _eliding(translate: Callable[..., Any]) -> Callable[..., Any]:
    """Jinja's gettext callable *translate*, its finished sentence elided."""

    @pass_context
    def translated(context: Context, *args: Any, **variables: Any) -> Any:
        return elide_message(translate(context, *args, **variables))

    return translated


def install(app: Flask) -> None:
    """Elide every translated message of *app* in Italian: templates and Python alike.

    Runs after Flask-Babel's ``init_app``, which installed Jinja's gettext callables
    (each formats the sentence with its values, so the elision wraps them) and
    whose domain Python's ``gettext`` reads.
    """
    globals_ = app.jinja_env.globals
    for name in ("gettext", "ngettext", "pgettext", "npgettext"):
        translate = globals_.get(name)
        if callable(translate) and not getattr(translate, "lms_elides", False):
            wrapped = _eliding(translate)
            wrapped.lms_elides = True  # type: ignore[attr-defined]
            globals_[name] = wrapped
    babel = app.extensions["babel"].instance
    if not isinstance(babel.__dict__.get("domain_instance"), ElidingDomain):
        # Flask-Babel's Babel.domain_instance is a cached property: set once, per object.
        babel.domain_instance = ElidingDomain(domain=app.extensions["babel"].default_domain)
