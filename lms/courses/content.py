"""Load and validate a content tree of courses written in Markdown.

The format is described in docs/content-format (the shared spec). Everything wrong
is reported in one pass, each problem with its file and line, so that a trainer
can fix a course in one go. No Flask and no database here: ``lms content check``
and the synchronisation both build on :func:`load_tree`.

This module reads the folders and puts courses together; a file's front matter is
checked in :mod:`lms.courses.front_matter`, what its page will show (links,
images, raw HTML) in :mod:`lms.courses.content_check`.

Line numbers are 1-based; line 0 means the path itself is the problem (a folder,
a file name, a missing file).
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lms.content.errors import ContentError
from lms.content.quiz import DEFAULT_REVIEW, Question, ReviewPolicy, parse_quiz, quiz_intro
from lms.content.survey import SurveyQuestion, parse_survey, survey_intro
from lms.courses.content_check import LinkTargets, check_page
from lms.courses.front_matter import (
    COURSE_KEYS,
    KEY_TYPES,
    MODULE_KEYS,
    Document,
    ModuleType,
    read_document,
)
from lms.courses.layout import COURSE_FILE, MEDIA_DIR, MODULE_FILE, URL_PREFIX, resolve_link
from lms.markdown import render_markdown

__all__ = [
    "COURSE_FILE",
    "MEDIA_DIR",
    "URL_PREFIX",
    "ContentError",
    "CourseSource",
    "ModuleSource",
    "ModuleType",
    "check_rendering",
    "load_tree",
    "resolve_link",
]

#: Files a folder may hold for the people who maintain it; the loader skips them.
IGNORED_FILES = frozenset({"README.md"})
#: Module slugs that would collide with a course's other URLs (/courses/<c>/media/…).
RESERVED_MODULE_SLUGS = frozenset({MEDIA_DIR})
DEFAULT_PASS_MARK = 60
#: Percent of a live session's minutes a person must attend, unless it says otherwise.
DEFAULT_ATTENDANCE = 75

#: The form of a course or module slug (its folder's name): it goes into URLs as it is.
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


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
    #: A live session's credit hours (part of the course's) and needed attendance (percent).
    live_hours: float | None = None
    attendance: int | None = None
    #: False: not needed to complete the course (only a survey may say so).
    required: bool = True
    #: A quiz's review option (when its reviews show the key); None on other kinds.
    review: ReviewPolicy | None = None
    #: A survey's questions (its introduction is in *intro*).
    survey: tuple[SurveyQuestion, ...] = ()


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
        match = MODULE_FILE.fullmatch(name)
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

    allowed = LinkTargets(
        pages=frozenset({COURSE_FILE} | {path.name for _, _, path in scan.modules}),
        media=frozenset(media),
        media_dirs=frozenset(media_dirs),
        escaping=frozenset(escaping),
    )

    course: Document | None = None
    if course_path.is_symlink():
        pass  # reported by the folder scan
    elif course_path.is_file():
        course = read_document(course_path, COURSE_KEYS)
        check_page(course, allowed)
        errors.extend(course.errors)
    else:
        errors.append(ContentError(course_path, 0, "missing: every course needs a course.md"))
    course_pass_mark = (course.values if course else {}).get("pass_mark", DEFAULT_PASS_MARK)
    course_language = (course.values if course else {}).get("language", "it")

    modules: list[ModuleSource] = []
    for position, slug, path in scan.modules:
        document = read_document(path, MODULE_KEYS)
        check_page(document, allowed)
        type_ = ModuleType(document.values.get("type", ModuleType.PAGE))
        type_is_valid = "type" in document.values or "type" not in document.key_lines
        questions = _parse_quiz(document, type_)
        survey = _parse_survey(document, type_, course_language)
        if type_is_valid:
            _check_type_keys(document, type_)
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
                review=ReviewPolicy(values.get("review", DEFAULT_REVIEW)) if is_quiz else None,
                body=document.body,
                body_line=document.body_line,
                source_hash=hashlib.sha256(document.raw).hexdigest(),
                questions=tuple(questions),
                intro=quiz_intro(document.body)
                if is_quiz
                else survey_intro(document.body)
                if type_ is ModuleType.SURVEY
                else "",
                live_hours=float(values["hours"]) if type_ is ModuleType.LIVE else None,
                attendance=values.get("attendance", DEFAULT_ATTENDANCE)
                if type_ is ModuleType.LIVE
                else None,
                required=values.get("required", True),
                survey=tuple(survey),
            )
        )

    if course is not None and "hours" in course.values:
        _check_live_hours(course, modules, errors)
    _check_some_required(course_path, modules, len(scan.modules), errors)
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


def _parse_quiz(document: Document, type_: ModuleType) -> list[Question]:
    """A quiz's questions (none for other types); its errors go to the document's."""
    if type_ is not ModuleType.QUIZ:
        return []
    questions, problems = parse_quiz(document.body, first_line=document.body_line)
    document.errors.extend(
        ContentError(document.path, error.line, error.message) for error in problems
    )
    return questions


def _parse_survey(document: Document, type_: ModuleType, language: str) -> list[SurveyQuestion]:
    """A survey's questions (none for other types); its errors go to the document's."""
    if type_ is not ModuleType.SURVEY:
        return []
    questions, problems = parse_survey(
        document.body, first_line=document.body_line, language=language
    )
    document.errors.extend(
        ContentError(document.path, error.line, error.message) for error in problems
    )
    return questions


def _check_some_required(
    course_path: Path, modules: list[ModuleSource], files: int, errors: list[ContentError]
) -> None:
    """A course whose every module is optional could never be completed.

    Checked only when every one of its *files* was read without error.
    """
    if modules and len(modules) == files and not any(module.required for module in modules):
        errors.append(
            ContentError(
                course_path,
                0,
                "every module is optional ('required: false'): a course needs at least one"
                " module that completes it",
            )
        )


_TYPE_NAMES = {ModuleType.QUIZ: "quizzes", ModuleType.LIVE: "live sessions"}


def _check_type_keys(document: Document, type_: ModuleType) -> None:
    """Keys of another type of module are errors; a live session must give its hours."""
    for key, owner in KEY_TYPES.items():
        if key in document.key_lines and owner is not type_:
            kind = _TYPE_NAMES.get(owner, f"{owner.value}s")
            document.error(
                document.key_lines[key],
                f"'{key}' is for {kind} only: add 'type: {owner.value}' or remove it",
            )
    if type_ is ModuleType.LIVE and "hours" not in document.key_lines:
        document.error(
            1, "a live session needs 'hours': the credit hours it earns (part of the course's)"
        )


def _check_live_hours(
    course: Document, modules: list[ModuleSource], errors: list[ContentError]
) -> None:
    """The live sessions' hours are part of the course's: together at most its hours."""
    live = [m for m in modules if m.live_hours is not None]
    total = sum(m.live_hours or 0 for m in live)
    if live and total > float(course.values["hours"]) + 1e-9:
        errors.append(
            ContentError(
                course.path,
                course.key_lines.get("hours", 1),
                f"'hours' is {course.values['hours']} but the live sessions alone earn {total:g}"
                f" ({', '.join(m.filename for m in live)}): a course's hours include its"
                " live sessions'",
            )
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
    if not SLUG.fullmatch(path.name):
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
                render_markdown(body, link_resolver=functools.partial(resolve_link, course.slug))
            except Exception as exc:  # noqa: BLE001 - any failure is the file's problem to report
                errors.append(ContentError(path, 1, f"cannot be rendered: {exc!r}"))
    return errors
