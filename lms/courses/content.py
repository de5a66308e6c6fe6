"""Load and validate a content tree of courses written in Markdown.

The format is described in docs/content-format (the shared spec). Everything wrong
is reported in one pass, each problem with its file and line, so that a trainer
can fix a course in one go. No Flask and no database here: ``lms content check``
and the synchronisation both build on :func:`load_tree`.

Line numbers are 1-based; line 0 means the path itself is the problem (a folder,
a file name, a missing file).
"""

from __future__ import annotations

import difflib
import hashlib
import html
import math
import os
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from lms.content.errors import ContentError
from lms.content.quiz import Question, parse_quiz, quiz_intro
from lms.markdown import fenced_code_lines, is_external_url, render_markdown

__all__ = [
    "COURSE_FILE",
    "MEDIA_DIR",
    "ContentError",
    "CourseSource",
    "ModuleSource",
    "ModuleType",
    "check_rendering",
    "load_tree",
    "resolve_link",
]

COURSE_FILE = "course.md"
MEDIA_DIR = "media"
#: Files a folder may hold for the people who maintain it; the loader skips them.
IGNORED_FILES = frozenset({"README.md"})
#: Module slugs that would collide with a course's other URLs (/courses/<c>/media/…).
RESERVED_MODULE_SLUGS = frozenset({MEDIA_DIR})
AUDIENCES = ("new_hire", "existing")
DEFAULT_PASS_MARK = 60
URL_PREFIX = "/courses"

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_MODULE_FILE = re.compile(r"([0-9]+)-([a-z0-9]+(?:-[a-z0-9]+)*)\.md")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
# What browsers ignore inside a URL's scheme (tabs, newlines, control characters).
_URL_NOISE = re.compile(r"[\x00-\x20\x7f-\xa0\s]+")

# `[text](target "title")` and `![alt](target)`: matched at their `](`, so that an
# image inside a link is found as well as the link.
_INLINE_LINK = re.compile(
    r"""(?<!\\)\]\(\s*(<[^<>\n]*>|(?:[^()\s]|\([^()\s]*\))*)"""
    r"""(?:\s+(?:"[^"]*"|'[^']*'|\([^()]*\)))?\s*\)"""
)
_REFERENCE = re.compile(r" {0,3}\[([^\]]+)\]:[ \t]*(<[^<>]*>|\S+)(?:\s.*)?")
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`).+?(?<!`)\1(?!`)")
_RAW_TAG = re.compile(r"<(a|img)\b([^>]*)>", re.IGNORECASE)
# `![alt](…)` and `![alt][ref]`: an image's description, up to its closing bracket.
_IMAGE = re.compile(r"(?<!\\)!\[((?:[^\]\\]|\\.)*)\]")
_ALT_ATTRIBUTE = re.compile(r"""(?:^|\s)alt\s*=""", re.IGNORECASE)
_EXTERNAL_IMAGE = (
    "image from another site: the site's security policy blocks it, so learners would"
    " see a broken image; put the file in the course's media/ folder"
)
#: Raw elements the sanitiser removes (lms/markdown.py), content and all.
_REMOVED_ELEMENT = re.compile(
    r"<(script|style|iframe|frame|object|embed|form|input|button|textarea|select|link|meta|base)\b",
    re.IGNORECASE,
)
_EVENT_HANDLER = re.compile(r"<[a-z][^>]*?\s(on[a-z]+)\s*=", re.IGNORECASE)
_RAW_URL = re.compile(r"""\b(href|src)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)


class ModuleType(StrEnum):
    """What a module is: a page to read or a quiz to take."""

    PAGE = "page"
    QUIZ = "quiz"


@dataclass(frozen=True)
class ModuleSource:
    """One module file, validated; quiz settings are None/False on pages."""

    slug: str
    position: int
    filename: str
    path: Path
    title: str
    minutes: int | None
    type: ModuleType
    #: Percent; for a quiz, its own or the course's pass mark.
    pass_mark: int | None
    max_attempts: int | None
    #: Minutes.
    time_limit: int | None
    shuffle: bool
    body: str
    body_line: int
    #: sha256 of the file's bytes: tells the sync whether the module changed.
    source_hash: str
    questions: tuple[Question, ...] = ()
    #: A quiz's instructions, before its first question.
    intro: str = ""


@dataclass(frozen=True)
class CourseSource:
    """One course folder, validated."""

    slug: str
    path: Path
    title: str
    summary: str
    hours: float
    audience: tuple[str, ...]
    sequential: bool
    pass_mark: int
    language: str
    status: str
    body: str
    body_line: int
    source_hash: str
    modules: tuple[ModuleSource, ...]
    #: Files under media/, as paths relative to it with '/' separators.
    media: tuple[str, ...]


def resolve_link(course_slug: str, target: str, *, prefix: str = URL_PREFIX) -> str | None:
    """The site URL of a relative link in a course, or None to leave the link alone.

    ``02-fondi.md#x`` becomes ``/courses/<course>/fondi/#x``, ``course.md`` the
    course page, ``media/a.png`` ``/courses/<course>/media/a.png``.
    """
    # The href as written may hold character references (&#106;…); the browser
    # decodes them before following the link, and so does the checker.
    try:
        parts = urlsplit(html.unescape(target.strip()))
    except ValueError:
        return None
    if parts.scheme or parts.netloc or not parts.path or parts.path.startswith("/"):
        return None
    path = posixpath.normpath(parts.path)
    suffix = (f"?{parts.query}" if parts.query else "") + (
        f"#{parts.fragment}" if parts.fragment else ""
    )
    base = f"{prefix}/{course_slug}/"
    if path == COURSE_FILE:
        return base + suffix
    module = _MODULE_FILE.fullmatch(path)
    if module:
        return f"{base}{module.group(2)}/{suffix}"
    if path.startswith(f"{MEDIA_DIR}/"):
        return base + path + suffix
    return None


# Front matter -------------------------------------------------------------


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
        return f"must be {' or '.join(choices)}, not {_show(value)}"

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
}
QUIZ_ONLY_KEYS = ("pass_mark", "max_attempts", "time_limit", "shuffle")


@dataclass
class _Document:
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
        self.errors.append(ContentError(self.path, line, message))


def _read_document(path: Path, keys: dict[str, tuple[bool, Check]]) -> _Document:
    """Read *path*, split its front matter off and check it against *keys*."""
    raw = path.read_bytes()
    document = _Document(path, raw)
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


def _parse_yaml(document: _Document, text: str) -> dict[str, tuple[int, Any]] | None:
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
    document: _Document,
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


# Links --------------------------------------------------------------------


@dataclass(frozen=True)
class _LinkTargets:
    """What relative links in one course may point at."""

    pages: frozenset[str]
    media: frozenset[str]
    media_dirs: frozenset[str]
    escaping: frozenset[str]


def _shorten(target: str, limit: int = 60) -> str:
    return target if len(target) <= limit else target[: limit - 1] + "…"


def _link_problem(target: str, allowed: _LinkTargets) -> str | None:
    """Why *target* (as written in the Markdown) is not a valid link, or None."""
    shown = _shorten(target.strip())
    target = html.unescape(target.strip())
    if target.startswith("<") and target.endswith(">"):
        target = target[1:-1].strip()
    if not target:
        return "empty link target"
    squeezed = _URL_NOISE.sub("", target)
    scheme = _SCHEME.match(squeezed)
    if scheme:
        name = scheme.group(0)[:-1].lower()
        if name in _SAFE_SCHEMES:
            return None
        return f"link '{shown}': '{name}:' links are not allowed (only http, https, mailto)"
    if squeezed.startswith("#"):
        return None
    if squeezed.startswith(("//", "\\\\")):
        return f"link '{shown}': write the full address, https://…"
    # No netloc to parse here (no scheme, no //), so urlsplit cannot raise.
    return _path_problem(unquote(urlsplit(target).path), shown, allowed)


def _path_problem(path: str, shown: str, allowed: _LinkTargets) -> str | None:  # noqa: PLR0911 - one per case
    """Why a relative link's (decoded) *path* does not lead to a module or media file."""
    if "\\" in path:
        return f"link '{shown}': use '/' in paths, not '\\'"
    path = posixpath.normpath(path)
    if path.startswith(("/", "../")) or path == "..":
        return f"link '{shown}' leaves the course's media/ folder"
    if path == COURSE_FILE or _MODULE_FILE.fullmatch(path):
        return None if path in allowed.pages else f"link '{shown}': no such module in this course"
    if path.endswith(".md") and "/" not in path:
        return f"link '{shown}': not a module of this course (module files are named NN-slug.md)"
    if path == MEDIA_DIR:
        return f"link '{shown}' is a folder, not a file"
    if not path.startswith(f"{MEDIA_DIR}/"):
        return f"link '{shown}' leaves the course's media/ folder"
    inside = path.removeprefix(f"{MEDIA_DIR}/")
    if inside in allowed.media:
        return None
    if inside in allowed.escaping:
        return f"link '{shown}' leaves the course's media/ folder (symbolic link)"
    if inside in allowed.media_dirs:
        return f"link '{shown}' is a folder, not a file"
    return f"link '{shown}': no such file in media/"


def _visible_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line offset, line) of every line outside fenced code, code spans blanked out."""
    lines = text.split("\n")
    code = fenced_code_lines(lines)
    for offset, line in enumerate(lines):
        if not code[offset]:
            yield offset, _CODE_SPAN.sub(lambda match: " " * len(match.group(0)), line)


def _raw_urls(attributes: str) -> Iterator[tuple[str, str]]:
    """(attribute name, value) of each href/src in a raw tag's attributes."""
    for attribute in _RAW_URL.finditer(attributes):
        value = next(group for group in attribute.groups()[1:] if group is not None)
        yield attribute.group(1).lower(), value


def _link_targets(text: str) -> Iterable[tuple[int, str, str | None]]:
    """(line offset, target, raw HTML tag or None) of every link outside code."""
    for offset, visible in _visible_lines(text):
        reference = _REFERENCE.fullmatch(visible)
        if reference and not reference.group(1).startswith("^"):
            yield offset, reference.group(2), None
        for match in _INLINE_LINK.finditer(visible):
            yield offset, match.group(1), None
        for tag in _RAW_TAG.finditer(visible):
            for _name, value in _raw_urls(tag.group(2)):
                yield offset, value, tag.group(1).lower()


def _check_links(document: _Document, allowed: _LinkTargets) -> None:
    for offset, target, raw_tag in _link_targets(document.body):
        line = document.body_line + offset
        problem = _link_problem(target, allowed)
        if problem:
            document.error(line, problem)
        elif raw_tag is not None and resolve_link("x", html.unescape(target)) is not None:
            markdown = "![…]" if raw_tag == "img" else "[…]"
            document.error(
                line,
                f"relative link '{_shorten(target)}' in raw HTML <{raw_tag}> is not rewritten:"
                f" write it in Markdown, {markdown}({target})",
            )


def _check_page_html(document: _Document) -> None:
    """What the page shows must be what the trainer sees in the Markdown.

    - Every image says what it shows (WCAG 2.1, 1.1.1): screen readers read it
      out. A Markdown image needs words between its brackets; a raw ``<img>`` an
      ``alt``.
    - Images come from the course's ``media/``: the site's security policy
      (``img-src 'self'``) blocks images from other sites.
    - Raw HTML that the sanitiser removes (``<script>``, ``<style>``, frames,
      forms, ``on…=`` handlers) is an error here rather than a silent surprise.
    """
    for offset, visible in _visible_lines(document.body):
        for problem in (*_image_problems(visible), *_removed_html(visible)):
            document.error(document.body_line + offset, problem)


def _image_problems(visible: str) -> Iterator[str]:
    for image in _IMAGE.finditer(visible):
        if not image.group(1).strip():
            yield (
                "image without a description: write what it shows between the brackets,"
                " ![…](…), for people who cannot see it"
            )
        target = _INLINE_LINK.match(visible, image.end() - 1)  # from the closing bracket
        if target and is_external_url(target.group(1).strip("<>")):
            yield _EXTERNAL_IMAGE
    for tag in _RAW_TAG.finditer(visible):
        if tag.group(1).lower() != "img":
            continue
        if not _ALT_ATTRIBUTE.search(tag.group(2)):
            yield '<img> without alt: add alt="what it shows"'
        if any(name == "src" and is_external_url(url) for name, url in _raw_urls(tag.group(2))):
            yield _EXTERNAL_IMAGE


def _removed_html(visible: str) -> Iterator[str]:
    for element in _REMOVED_ELEMENT.finditer(visible):
        yield (
            f"raw HTML <{element.group(1).lower()}> is removed when the page is shown: take it"
            " out (pages cannot run scripts, set styles or embed other pages)"
        )
    for handler in _EVENT_HANDLER.finditer(visible):
        yield (
            f"raw HTML attribute {handler.group(1)}= is removed when the page is shown: take it"
            " out (pages cannot run scripts)"
        )


# Folders ------------------------------------------------------------------


def _hidden(path: Path) -> bool:
    return path.name.startswith(".")


#: File types that a browser would run as part of the site if they were served from it.
ACTIVE_MEDIA_SUFFIXES = frozenset(
    {".html", ".htm", ".xhtml", ".xht", ".shtml", ".xml", ".xsl", ".xslt", ".js", ".mjs"}
    | {".svgz", ".swf"}
)
# Constructs that make an SVG image run script when it is opened on its own.
_SVG_ACTIVE = (
    (re.compile(r"<script", re.IGNORECASE), "<script>"),
    (re.compile(r"\son[a-z]+\s*=", re.IGNORECASE), "an on… event attribute"),
    (re.compile(r"javascript\s*:", re.IGNORECASE), "a javascript: URL"),
    (
        re.compile(r"<(?:\w+:)?(?:foreignObject|iframe|embed|object)\b", re.IGNORECASE),
        "embedded HTML",
    ),
)


def _check_media_file(path: Path, errors: list[ContentError]) -> None:
    """Refuse media that would run script in the site's origin when opened."""
    suffix = path.suffix.lower()
    if suffix in ACTIVE_MEDIA_SUFFIXES:
        errors.append(
            ContentError(
                path,
                0,
                f"'{suffix}' files cannot be course media: a browser would run them as part of"
                " the site (convert to PDF, or link to where they are published)",
            )
        )
    elif suffix == ".svg":
        text = path.read_bytes().decode("utf-8", errors="replace")
        for pattern, what in _SVG_ACTIVE:
            match = pattern.search(text)
            if match:
                line = text.count("\n", 0, match.start()) + 1
                errors.append(
                    ContentError(path, line, f"SVG with {what}: images must not contain script")
                )


def _scan_media(
    media_dir: Path, errors: list[ContentError]
) -> tuple[list[str], set[str], set[str]]:
    """Files under media/ (posix, relative), its sub-folders, and links that leave it."""
    files: list[str] = []
    dirs: set[str] = set()
    escaping: set[str] = set()
    if media_dir.is_symlink():
        errors.append(ContentError(media_dir, 0, "media/ must be a folder, not a symbolic link"))
        return files, dirs, escaping
    if not media_dir.is_dir():
        if media_dir.exists():
            errors.append(ContentError(media_dir, 0, "media must be a folder"))
        return files, dirs, escaping
    real_root = media_dir.resolve()
    for folder, subdirs, names in os.walk(media_dir):
        subdirs[:] = sorted(name for name in subdirs if not name.startswith("."))
        for name in [*subdirs, *sorted(names)]:
            path = Path(folder) / name
            relative = path.relative_to(media_dir).as_posix()
            if name.startswith("."):
                continue
            if path.is_symlink() and not path.resolve().is_relative_to(real_root):
                escaping.add(relative)
                errors.append(
                    ContentError(path, 0, "symbolic link that leaves the course's media/ folder")
                )
            elif path.is_dir():
                dirs.add(relative)
            elif path.is_file():
                files.append(relative)
                _check_media_file(path, errors)
    return sorted(files), dirs, escaping


@dataclass
class _CourseScan:
    """A course folder's files, sorted into what they are."""

    modules: list[tuple[int, str, Path]] = field(default_factory=list)
    errors: list[ContentError] = field(default_factory=list)


def _scan_course_folder(course_dir: Path) -> _CourseScan:
    scan = _CourseScan()
    for path in sorted(course_dir.iterdir()):
        name = path.name
        if _hidden(path) or name in IGNORED_FILES or name == MEDIA_DIR:
            continue
        if path.is_symlink():
            # A link could pull any file of the server into a course.
            scan.errors.append(
                ContentError(path, 0, "symbolic links are not allowed in a course folder")
            )
            continue
        if name == COURSE_FILE:
            continue
        if path.is_dir() or not name.endswith(".md"):
            scan.errors.append(
                ContentError(
                    path,
                    0,
                    "does not belong in a course folder"
                    " (only course.md, NN-slug.md modules and media/)",
                )
            )
            continue
        match = _MODULE_FILE.fullmatch(name)
        if match is None:
            scan.errors.append(
                ContentError(
                    path,
                    0,
                    "not a module file name: expected NN-slug.md"
                    " (a number, '-', then lowercase a-z, 0-9 and '-')",
                )
            )
            continue
        scan.modules.append((int(match.group(1)), match.group(2), path))
    scan.modules.sort()
    return scan


def _load_course(course_dir: Path) -> tuple[CourseSource | None, list[ContentError]]:  # noqa: C901, PLR0912
    errors: list[ContentError] = []
    course_path = course_dir / COURSE_FILE
    media, media_dirs, escaping = _scan_media(course_dir / MEDIA_DIR, errors)
    scan = _scan_course_folder(course_dir)
    errors.extend(scan.errors)

    seen_slugs: dict[str, str] = {}
    seen_positions: dict[int, str] = {}
    for position, slug, path in scan.modules:
        if slug in RESERVED_MODULE_SLUGS:
            errors.append(
                ContentError(path, 0, f"'{slug}' cannot be a module slug: the course uses it")
            )
        if slug in seen_slugs:
            errors.append(
                ContentError(path, 0, f"duplicate module slug '{slug}' (also {seen_slugs[slug]})")
            )
        if position in seen_positions:
            errors.append(
                ContentError(
                    path,
                    0,
                    f"duplicate module number {position} (also {seen_positions[position]})",
                )
            )
        seen_slugs.setdefault(slug, path.name)
        seen_positions.setdefault(position, path.name)

    allowed = _LinkTargets(
        pages=frozenset({COURSE_FILE} | {path.name for _, _, path in scan.modules}),
        media=frozenset(media),
        media_dirs=frozenset(media_dirs),
        escaping=frozenset(escaping),
    )

    course: _Document | None = None
    if course_path.is_symlink():
        pass  # reported by the folder scan
    elif course_path.is_file():
        course = _read_document(course_path, COURSE_KEYS)
        _check_links(course, allowed)
        _check_page_html(course)
        errors.extend(course.errors)
    else:
        errors.append(ContentError(course_path, 0, "missing: every course needs a course.md"))
    course_pass_mark = (course.values if course else {}).get("pass_mark", DEFAULT_PASS_MARK)

    modules: list[ModuleSource] = []
    for position, slug, path in scan.modules:
        document = _read_document(path, MODULE_KEYS)
        _check_links(document, allowed)
        _check_page_html(document)
        type_ = ModuleType(document.values.get("type", ModuleType.PAGE))
        type_is_valid = "type" in document.values or "type" not in document.key_lines
        questions: list[Question] = []
        if type_ is ModuleType.QUIZ:
            questions, quiz_errors = parse_quiz(document.body, first_line=document.body_line)
            document.errors.extend(
                ContentError(path, error.line, error.message) for error in quiz_errors
            )
        elif type_is_valid:
            for key in QUIZ_ONLY_KEYS:
                if key in document.key_lines:
                    document.error(
                        document.key_lines[key],
                        f"'{key}' is for quizzes only: add 'type: quiz' or remove it",
                    )
        errors.extend(document.errors)
        if document.errors:
            continue
        values = document.values
        is_quiz = type_ is ModuleType.QUIZ
        modules.append(
            ModuleSource(
                slug=slug,
                position=position,
                filename=path.name,
                path=path,
                title=values["title"].strip(),
                minutes=values.get("minutes"),
                type=type_,
                pass_mark=values.get("pass_mark", course_pass_mark) if is_quiz else None,
                max_attempts=values.get("max_attempts") if is_quiz else None,
                time_limit=values.get("time_limit") if is_quiz else None,
                shuffle=bool(values.get("shuffle", False)) if is_quiz else False,
                body=document.body,
                body_line=document.body_line,
                source_hash=hashlib.sha256(document.raw).hexdigest(),
                questions=tuple(questions),
                intro=quiz_intro(document.body) if is_quiz else "",
            )
        )

    if not scan.modules:
        errors.append(
            ContentError(course_dir, 0, "the course has no modules (files named NN-slug.md)")
        )
    if errors or course is None:
        return None, errors
    values = course.values
    return (
        CourseSource(
            slug=course_dir.name,
            path=course_dir,
            title=values["title"].strip(),
            summary=values.get("summary", "").strip(),
            hours=float(values["hours"]),
            audience=tuple(dict.fromkeys(values.get("audience", ()))),
            sequential=values.get("sequential", False),
            pass_mark=course_pass_mark,
            language=values.get("language", "it"),
            status=values.get("status", "published"),
            body=course.body,
            body_line=course.body_line,
            source_hash=hashlib.sha256(course.raw).hexdigest(),
            modules=tuple(modules),
            media=tuple(media),
        ),
        errors,
    )


def _sort_key(error: ContentError) -> tuple[str, int]:
    return str(error.path), error.line


def load_tree(root: Path) -> tuple[list[CourseSource], list[ContentError]]:
    """Every course under *root*, and every problem found in it.

    A course with any problem is left out of the list; the caller must not act on
    a tree with errors. Paths in errors start with *root* as given.
    """
    if not root.is_dir():
        return [], [ContentError(root, 0, "no such folder")]
    courses: list[CourseSource] = []
    errors: list[ContentError] = []
    for path in sorted(root.iterdir()):
        if _hidden(path) or path.name in IGNORED_FILES:
            continue
        if not path.is_dir():
            if path.suffix == ".md":
                errors.append(
                    ContentError(path, 0, "Markdown file outside a course folder: move it into one")
                )
            continue
        course, course_errors = load_course_folder(path)
        errors.extend(course_errors)
        if course is not None:
            courses.append(course)
    errors.sort(key=_sort_key)
    return courses, errors


def is_course_folder(path: Path) -> bool:
    """Whether *path* is one course (it holds a course.md), not a tree of courses."""
    return (path / "course.md").is_file()


def load_course_folder(path: Path) -> tuple[CourseSource | None, list[ContentError]]:
    """One course folder and its problems; the course only when it has none."""
    errors: list[ContentError] = []
    if not _SLUG.fullmatch(path.name):
        errors.append(
            ContentError(
                path,
                0,
                "course folder name must be a slug: lowercase a-z, 0-9 and single '-' between them",
            )
        )
    course, course_errors = _load_course(path)
    errors.extend(course_errors)
    errors.sort(key=_sort_key)
    return (course if not errors else None), errors


def check_rendering(courses: Iterable[CourseSource]) -> list[ContentError]:
    """Render every course page and module, reporting any that fails to render."""
    errors: list[ContentError] = []
    for course in courses:
        documents = [(course.path / COURSE_FILE, course.body)] + [
            (module.path, module.body) for module in course.modules
        ]
        for path, body in documents:
            try:
                render_markdown(body, link_resolver=lambda t, c=course.slug: resolve_link(c, t))
            except Exception as exc:  # noqa: BLE001 - any failure is the file's problem to report
                errors.append(ContentError(path, 1, f"cannot be rendered: {exc!r}"))
    return errors
