"""Where a redirect may go: only to a path on this site (no open redirects)."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from flask import url_for

#: Times a redirect target's path is percent-decoded before it is judged
#: (``%25252F`` is ``%252F`` is ``%2F`` is ``/``); still encoded after that, it is refused.
_DECODINGS = 4


def safe_next(target: str | None) -> str:
    r"""*target* when it is a path on this site, else the home page (no open redirects).

    The path is judged as a browser, a proxy or a later redirect might read it,
    percent-decoded as many times as it takes: it must start with a single
    ``/`` and have no empty, ``.`` or ``..`` segment (``/..//evil.example``
    and ``/%2F/evil.example`` become ``//evil.example``, another site), no
    backslash (browsers read ``/\evil.example`` as ``//evil.example``) and
    nothing unprintable (they drop tabs and newlines: ``/\t/evil.example``).
    Only a trailing ``/`` may end in an empty segment. The target itself, as
    written, is what is followed.
    """
    home = url_for("site.home")
    if not target or not target.startswith("/") or not target.isprintable():
        return home
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return home
    # Not parts.path: urlsplit("///evil.example") drops the empty authority.
    path = re.split(r"[?#]", target, maxsplit=1)[0]
    for _round in range(_DECODINGS + 1):  # the last round finds nothing left to decode
        decoded = unquote(path)
        if decoded == path:
            break
        path = decoded
    else:
        return home
    segments = path.split("/")[1:]
    if (
        not path.startswith("/")
        or "\\" in path
        or not path.isprintable()
        or any(segment in {"", ".", ".."} for segment in segments[:-1])
        or segments[-1] in {".", ".."}
        or urlsplit(path).netloc
    ):
        return home
    return target
