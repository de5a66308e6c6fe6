"""The question syntax that quizzes, surveys and the writers of quiz files share.

:mod:`lms.content.quiz` reads a question heading with these patterns; the GIFT
converter (:mod:`lms.content.gift.convert`) uses the same ones to escape what the
reader would otherwise take off a heading, so that a written question reads back
as written. Quizzes and surveys (:mod:`lms.content.survey`) split their body into
questions with :func:`question_sections`: one walker, each kind with its own
line reader. Defined once, so that they cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lms.markdown import fenced_code_lines

__all__ = [
    "HEADING_ATTRIBUTES",
    "HEADING_CLOSING_HASHES",
    "Section",
    "intro",
    "level2_heading",
    "question_sections",
]

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


@dataclass
class Section:
    """One question of a quiz or survey body: its heading, then the lines under it.

    ``lines`` holds ``(line number in the file, text)``; a run of fenced-code lines
    (which cannot go inside a question) is one entry whose text is None, at the
    run's first line, so that a reader reports it once.
    """

    heading: str
    line: int
    lines: list[tuple[int, str | None]] = field(default_factory=list)


def question_sections(body: str, *, first_line: int = 1) -> list[Section]:
    """*body* split at its level-2 headings outside fenced code, the intro left out.

    *first_line* is the line of the file where *body* starts, so that the numbers
    point into the file. An empty list: the body has no question.
    """
    lines = body.split("\n")
    code = fenced_code_lines(lines)
    sections: list[Section] = []
    for index, line in enumerate(lines):
        number = first_line + index
        heading = None if code[index] else level2_heading(line)
        if heading is not None:
            sections.append(Section(heading, number))
        elif not sections:
            continue  # the intro: any Markdown
        elif not code[index]:
            sections[-1].lines.append((number, line))
        elif not (index and code[index - 1]):
            sections[-1].lines.append((number, None))
    return sections


def intro(body: str) -> str:
    """The Markdown before the first question (possibly empty)."""
    lines = body.split("\n")
    code = fenced_code_lines(lines)
    for index, line in enumerate(lines):
        if not code[index] and level2_heading(line) is not None:
            return "\n".join(lines[:index]).strip()
    return body.strip()
