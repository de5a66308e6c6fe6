"""The front matter of a course or module file: YAML between '---' lines, checked key by key.

Every problem is reported with its line (the file's, not the YAML's), unknown
keys with the closest known one, so that a trainer can fix a file in one go.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from lms.content.errors import ContentError
from lms.content.quiz import ReviewPolicy

__all__ = [
    "AUDIENCES",
    "COURSE_KEYS",
    "KEY_TYPES",
    "LIVE_ONLY_KEYS",
    "MODULE_KEYS",
    "QUIZ_ONLY_KEYS",
    "SURVEY_ONLY_KEYS",
    "Document",
    "ModuleType",
    "read_document",
]

AUDIENCES = ("new_hire", "existing")


class ModuleType(StrEnum):
    """What a module is: a page to read, a quiz to take, a live session, a survey."""

    PAGE = "page"
    QUIZ = "quiz"
    #: A webinar or classroom session; trainers schedule its editions on the web.
    LIVE = "live"
    #: A course evaluation questionnaire (questionario di gradimento), anonymous.
    SURVEY = "survey"


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return f"'{value}'"
    return str(value)


Check = Callable[[Any], str | None]


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"must be text, not {_show(value)} (put it in quotes)"
    return None if value.strip() else "is empty"


def _positive_number(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"must be a number, not {_show(value)}"
    return None if math.isfinite(value) and value > 0 else f"must be more than 0, not {value}"


def _positive_int(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return f"must be a whole number of at least 1, not {_show(value)}"
    return None


def _percent(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:  # noqa: PLR2004
        return f"must be a whole number from 0 to 100 (percent), not {_show(value)}"
    return None


def _boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"must be true or false, not {_show(value)}"


def _choice(*choices: str) -> Check:
    def check(value: Any) -> str | None:
        if value in choices:
            return None
        listed = ", ".join(choices[:-1]) + " or " + choices[-1] if len(choices) > 1 else choices[0]
        return f"must be {listed}, not {_show(value)}"

    return check


def _audience(value: Any) -> str | None:
    if not isinstance(value, list):
        return f"must be a list such as [{', '.join(AUDIENCES)}], not {_show(value)}"
    unknown = [item for item in value if item not in AUDIENCES]
    if unknown:
        return f"may only list {' and '.join(AUDIENCES)}, not {', '.join(map(_show, unknown))}"
    return None


#: key -> (required, check)
COURSE_KEYS: dict[str, tuple[bool, Check]] = {
    "title": (True, _text),
    "summary": (False, _text),
    "hours": (True, _positive_number),
    "audience": (False, _audience),
    "sequential": (False, _boolean),
    "pass_mark": (False, _percent),
    "language": (False, _choice("it", "en")),
    "status": (False, _choice("published", "draft")),
}
MODULE_KEYS: dict[str, tuple[bool, Check]] = {
    "title": (True, _text),
    "minutes": (False, _positive_int),
    "type": (False, _choice(*ModuleType)),
    "pass_mark": (False, _percent),
    "max_attempts": (False, _positive_int),
    "time_limit": (False, _positive_int),
    "shuffle": (False, _boolean),
    "review": (False, _choice(*ReviewPolicy)),
    "hours": (False, _positive_number),
    "attendance": (False, _percent),
    "required": (False, _boolean),
}
QUIZ_ONLY_KEYS = ("pass_mark", "max_attempts", "time_limit", "shuffle", "review")
#: Keys of a live session: its credit hours (required) and the attendance it needs.
LIVE_ONLY_KEYS = ("hours", "attendance")
#: Keys of a survey: whether answering it is needed to complete the course.
SURVEY_ONLY_KEYS = ("required",)
#: Which type each type-specific key belongs to, for the error that names it.
KEY_TYPES: dict[str, ModuleType] = {
    **dict.fromkeys(QUIZ_ONLY_KEYS, ModuleType.QUIZ),
    **dict.fromkeys(LIVE_ONLY_KEYS, ModuleType.LIVE),
    **dict.fromkeys(SURVEY_ONLY_KEYS, ModuleType.SURVEY),
}


@dataclass
class Document:
    """A Markdown file split into checked front matter and body."""

    path: Path
    raw: bytes
    errors: list[ContentError] = field(default_factory=list)
    #: Front matter values that passed their checks.
    values: dict[str, Any] = field(default_factory=dict)
    #: Line of each front matter key.
    key_lines: dict[str, int] = field(default_factory=dict)
    body: str = ""
    body_line: int = 1

    def error(self, line: int, message: str) -> None:
        """Report a problem on *line* of the file."""
        self.errors.append(ContentError(self.path, line, message))


def read_document(path: Path, keys: dict[str, tuple[bool, Check]]) -> Document:
    """Read *path*, split its front matter off and check it against *keys*."""
    raw = path.read_bytes()
    document = Document(path, raw)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        document.error(raw[: exc.start].count(b"\n") + 1, "not UTF-8 text: save it as UTF-8")
        return document
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines[0].rstrip() != "---":
        document.error(1, "no front matter: the file must start with a line '---'")
        document.body = "\n".join(lines)
        return document
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() == "---"), None)
    if end is None:
        document.error(1, "the front matter is not closed: add a line '---' after it")
        return document
    document.body = "\n".join(lines[end + 1 :])
    document.body_line = end + 2
    mapping = _parse_yaml(document, "\n".join(lines[1:end]))
    if mapping is not None:
        _check_keys(document, mapping, keys)
    return document


def _parse_yaml(document: Document, text: str) -> dict[str, tuple[int, Any]] | None:
    """The front matter as key -> (line, value), or None after reporting why not."""
    first = 2  # the line after the opening '---'
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first + mark.line if mark is not None else 1
        document.error(line, f"the front matter is not valid YAML: {exc.problem or exc}")
        return None
    except yaml.reader.ReaderError as exc:
        line = first + text.count("\n", 0, exc.position)
        document.error(line, f"the front matter has a control character (code {exc.character})")
        return None
    if node is None:
        document.error(1, "the front matter is empty")
        return None
    if not isinstance(node, yaml.MappingNode):
        document.error(first + node.start_mark.line, "the front matter must be 'key: value' lines")
        return None
    mapping: dict[str, tuple[int, Any]] = {}
    for key_node, value_node in node.value:
        line = first + key_node.start_mark.line
        if not isinstance(key_node, yaml.ScalarNode):
            document.error(line, "a front matter key must be a plain word")
            continue
        key = str(key_node.value)
        if key in mapping:
            document.error(line, f"duplicate key '{key}' (first on line {mapping[key][0]})")
            continue
        try:
            value = yaml.SafeLoader("").construct_document(value_node)
        except yaml.MarkedYAMLError as exc:
            document.error(line, f"'{key}': {exc.problem}")
            continue
        mapping[key] = (line, value)
    return mapping


def _check_keys(
    document: Document,
    mapping: dict[str, tuple[int, Any]],
    keys: dict[str, tuple[bool, Check]],
) -> None:
    for key, (line, value) in mapping.items():
        document.key_lines[key] = line
        if key not in keys:
            close = difflib.get_close_matches(key, keys, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(keys)}"
            document.error(line, f"unknown key '{key}' ({hint})")
            continue
        if value is None:
            document.error(line, f"'{key}' has no value")
            continue
        problem = keys[key][1](value)
        if problem:
            document.error(line, f"'{key}' {problem}")
        else:
            document.values[key] = value
    for key, (required, _) in keys.items():
        if required and key not in mapping:
            document.error(1, f"missing required key '{key}' in the front matter")
