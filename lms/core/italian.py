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
from datetime import tzinfo
from decimal import Decimal
from typing import Any, Final, NamedTuple, TypeVar

from babel import Locale
from babel.support import NullTranslations
from flask import Flask, g, has_app_context
from flask_babel import Domain, get_domain, get_locale, get_timezone
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup, escape

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


class Bound(NamedTuple):
    """The request's language, looked up once: its locale, domain and translations."""

    locale: Locale | None
    domain: Domain | None
    translations: NullTranslations
    #: Whether the elision applies (Italian, or no locale at all: the messages as written).
    italian: bool
    #: The locale's identifier (``it``, ``en_GB``; empty without one), for keys of caches.
    code: str = ""
    #: Where the reader is (Flask-Babel's ``get_timezone``; None outside a request).
    timezone: tzinfo | None = None


#: Outside an application context: the messages as written (Flask-Babel's NullTranslations).
_OUTSIDE: Final = Bound(None, None, NullTranslations(), italian=True)


def bound() -> Bound:
    """The current language's translations, found once a request (and again when it changes).

    Flask-Babel finds them afresh for every message (about twelve look-ups through
    Flask's ``g`` proxy each: its context, the domain, the locale twice); a page
    translates a hundred messages. The answer is kept beside Flask-Babel's own
    per-request state (``g._flask_babel``) and used while the locale and domain
    found there are the same objects: ``force_locale`` (an e-mail in its reader's
    language) and ``refresh`` replace or remove the locale, so the next message
    looks again, and ends as Flask-Babel would.
    """
    if not has_app_context():
        return _OUTSIDE
    # _get_current_object: werkzeug's documented way from a proxy to its object, once.
    state = getattr(g._get_current_object(), "_flask_babel", None)  # noqa: SLF001
    if state is not None:
        found: Bound | None = getattr(state, "lms_bound", None)
        if (
            found is not None
            and found.locale is getattr(state, "babel_locale", None)
            and found.domain is getattr(state, "babel_domain", None)
        ):
            return found
    domain = get_domain()
    # Domain's own lookup, not ours (ElidingDomain.get_translations comes back here).
    translations = Domain.get_translations(domain)
    locale = get_locale()
    answer = Bound(
        locale,
        domain,
        translations,
        locale is None or locale.language == "it",
        str(locale) if locale is not None else "",
        get_timezone(),
    )
    state = getattr(g._get_current_object(), "_flask_babel", None)  # noqa: SLF001
    if state is not None and locale is not None:
        state.lms_bound = answer
    return answer


def _in_italian() -> bool:
    return bound().italian


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

    def get_translations(self) -> NullTranslations:
        """The current language's translations, found once a request (:func:`bound`)."""
        found = bound()
        if found.domain is self:
            return found.translations
        return super().get_translations()

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


def _finished(eval_ctx: EvalContext, found: Bound, text: str, variables: dict[str, Any]) -> Any:
    """What Jinja's new-style gettext makes of a translation, then elided in Italian.

    As jinja2.ext does: Markup when the template autoescapes (the values are escaped
    as they go in), and always formatted, even without values (a doubled percent sign
    is one).
    """
    # Safe: a translation is trusted text, as jinja2.ext trusts it.
    message: Any = Markup(text) if eval_ctx.autoescape else text  # noqa: S704
    message = message % variables
    if not found.italian or not isinstance(message, str):
        return message
    elided = elide(message)
    if elided == message:
        return message
    # Safe: only an apostrophe was added to the text of what was Markup already.
    return Markup(elided) if isinstance(message, Markup) else elided  # noqa: S704


def markup_gettext(string: str, /, **variables: Any) -> Markup:
    """A message for markup drawn in Python, as an HTML template's ``_()`` makes it.

    Translated in the request's language, the values escaped as they go in, elided
    in Italian: the same text, character for character, as the template's. The
    text is formatted as a plain string, numbers as they are and every other
    value escaped first (markupsafe's C escape), then wrapped once: ``Markup %
    values`` wraps each value in a helper object, three times the work.
    """
    found = bound()
    values = {
        name: value if isinstance(value, int | float | Decimal) else escape(value)
        for name, value in variables.items()
    }
    message = found.translations.ugettext(string) % values
    # Safe: a translation is trusted text (as jinja2.ext trusts it), its values escaped.
    return Markup(elide(message) if found.italian else message)  # noqa: S704


@pass_eval_context
def _template_gettext(eval_ctx: EvalContext, string: str, /, **variables: Any) -> Any:
    found = bound()
    return _finished(eval_ctx, found, found.translations.ugettext(string), variables)


@pass_eval_context
def _template_ngettext(
    eval_ctx: EvalContext, singular: str, plural: str, num: int, /, **variables: Any
) -> Any:
    variables.setdefault("num", num)
    found = bound()
    return _finished(
        eval_ctx, found, found.translations.ungettext(singular, plural, num), variables
    )


@pass_eval_context
def _template_pgettext(
    eval_ctx: EvalContext, message_context: str, string: str, /, **variables: Any
) -> Any:
    variables.setdefault("context", message_context)
    found = bound()
    text = found.translations.upgettext(message_context, string)
    return _finished(eval_ctx, found, text, variables)


@pass_eval_context
def _template_npgettext(
    eval_ctx: EvalContext,
    message_context: str,
    singular: str,
    plural: str,
    num: int,
    /,
    **variables: Any,
) -> Any:
    variables.setdefault("context", message_context)
    variables.setdefault("num", num)
    found = bound()
    text = found.translations.unpgettext(message_context, singular, plural, num)
    return _finished(eval_ctx, found, text, variables)


#: Jinja's gettext callables: Flask-Babel's (jinja2.ext's new style over its
#: translations) with the language bound once a request and the sentence elided.
#: They need of the template only whether it escapes (its evaluation context), not
#: its context: Jinja makes a copy of the whole context (every global, every
#: block) for each call of a context function inside a block or loop that set a
#: variable, a few dozen copies on the home page. For the same reason ``_`` is
#: ``gettext`` itself, not jinja2.ext's alias, a context function that looks
#: ``gettext`` up in the context on every call.
_TEMPLATE_CALLABLES: Final = {
    "_": _template_gettext,
    "gettext": _template_gettext,
    "ngettext": _template_ngettext,
    "pgettext": _template_pgettext,
    "npgettext": _template_npgettext,
}


def install(app: Flask) -> None:
    """Elide every translated message of *app* in Italian: templates and Python alike.

    Runs after Flask-Babel's ``init_app``, which installed Jinja's gettext callables
    (new style: each formats the sentence with its values): they are replaced by
    the same ones over :func:`bound`'s translations, whose sentence is elided.
    Python's ``gettext`` reads the domain, made an :class:`ElidingDomain`.
    """
    for name, translate in _TEMPLATE_CALLABLES.items():
        if callable(app.jinja_env.globals.get(name)):
            app.jinja_env.globals[name] = translate
    babel = app.extensions["babel"].instance
    if not isinstance(babel.__dict__.get("domain_instance"), ElidingDomain):
        # Flask-Babel's Babel.domain_instance is a cached property: set once, per object.
        babel.domain_instance = ElidingDomain(domain=app.extensions["babel"].default_domain)
