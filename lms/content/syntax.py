"""Patterns of the quiz syntax that the reader and the writers of quiz files share.

:mod:`lms.content.quiz` reads a question heading with them; the GIFT converter
(:mod:`lms.content.gift.convert`) uses the same ones to escape what the reader
would otherwise take off a heading, so that a written question reads back as
written. Defined once, so that the two cannot drift apart.
"""

from __future__ import annotations

import re

__all__ = ["HEADING_ATTRIBUTES", "HEADING_CLOSING_HASHES"]

#: The optional closing sequence of an ATX heading (``## Domanda ##``): hashes at
#: the end, after white space or as the whole text, so ``C#`` and ``\#`` keep theirs.
HEADING_CLOSING_HASHES = re.compile(r"(?:^|\s+)#+\s*$")
#: ``{…=…}`` at the end of a question heading: its attributes (only ``{points=N}``).
HEADING_ATTRIBUTES = re.compile(r"\{([^{}]*=[^{}]*)\}\s*$")
