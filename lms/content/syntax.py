"""Patterns of the quiz syntax that the reader and the writers of quiz files share.

:mod:`lms.content.quiz` reads a question heading with them; the GIFT converter
(:mod:`lms.content.gift.convert`) uses the same ones to escape what the reader
would otherwise take off a heading, so that a written question reads back as
written. Defined once, so that the two cannot drift apart.
"""

from __future__ import annotations

import re

__all__ = ["HEADING_ATTRIBUTES", "HEADING_CLOSING_HASHES", "level2_heading"]

#: The optional closing sequence of an ATX heading (``## Domanda ##``): hashes at
#: the end, after white space or as the whole text, so ``C#`` and ``\#`` keep theirs.
HEADING_CLOSING_HASHES = re.compile(r"(?:^|\s+)#+\s*$")
#: ``{…=…}`` at the end of a question heading: its attributes (only ``{points=N}``).
HEADING_ATTRIBUTES = re.compile(r"\{([^{}]*=[^{}]*)\}\s*$")

#: An ATX heading line: its hashes and the rest.
_HEADING = re.compile(r"(#{1,6})(.*)")


def level2_heading(line: str) -> str | None:
    """The text of a ``## heading`` line (as Python-Markdown reads it), else None.

    Quizzes and surveys both start a question at each level-2 heading.
    """
    match = _HEADING.fullmatch(line.rstrip())
    if match is None or len(match.group(1)) != 2:  # noqa: PLR2004 - level 2
        return None
    return HEADING_CLOSING_HASHES.sub("", match.group(2)).strip()
