"""Synchronise validated course sources into the database.

Files are the source of truth for text; the database keeps what learners did.
A module keeps its identity (course slug + module slug) while its text changes;
a module whose file disappears is retired, never deleted. Markdown is rendered
here, once, not on every page view.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from markupsafe import Markup
from sqlalchemy import select

from lms import audit
from lms.content.quiz import Question, question_payload
from lms.content.survey import SurveyQuestion
from lms.core.types import utcnow
from lms.courses.content import CourseSource, ModuleSource, ModuleType, resolve_link
from lms.courses.models import Course, CourseStatus, Module, ModuleKind, QuizVersion
from lms.courses.progress import record_due_completions
from lms.extensions import db
from lms.markdown import render_markdown

#: Bump it when rendering changes: the next sync re-renders every page without
#: bumping module versions (learners' progress and quiz versions are untouched).
RENDER_VERSION = "1"

_ONE_PARAGRAPH = re.compile(r"^<p>(.*)</p>$", re.DOTALL)


@dataclass
class SyncReport:
    """What a synchronisation added, changed and retired (as ``course`` or ``course/module``)."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)

    @property
    def nothing_changed(self) -> bool:
        """Whether the database was already up to date."""
        return not (self.added or self.changed or self.retired)


def _digest(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


def _render(course_slug: str, text: str) -> str:
    return render_markdown(text, link_resolver=lambda t: resolve_link(course_slug, t))


def _render_inline(course_slug: str, text: str) -> str:
    """Render a one-line Markdown fragment (an option, a question) without its <p>."""
    html = _render(course_slug, text).strip()
    match = _ONE_PARAGRAPH.match(html)
    return match.group(1) if match and "<p>" not in match.group(1) else html


def quiz_payload(course_slug: str, questions: tuple[Question, ...]) -> list[dict]:
    """Questions as stored in a quiz version: rendered text, options, answer key."""
    return [
        question_payload(
            f"q{number}",
            question,
            inline=lambda text: _render_inline(course_slug, text),
            block=lambda text: _render(course_slug, text),
        )
        for number, question in enumerate(questions, start=1)
    ]


def _plain(html: str) -> str:
    """The text of rendered inline HTML (for downloads): tags dropped, entities decoded."""
    return Markup(html).striptags()  # noqa: S704 - only read for its text, never shown


def _survey_key(question: SurveyQuestion) -> str:
    """What a question asks, as written: the same key means its answers can be added up."""
    text = " ".join(question.text.split()).casefold()
    return _digest(question.kind.value, text, *question.labels)


def survey_payload(
    course_slug: str,
    questions: tuple[SurveyQuestion, ...],
    previous: list[dict] | None,
    version: int,
) -> list[dict]:
    """A survey's questions as stored on its module: rendered text, labels, kind, optional.

    ``since`` is the first module version whose answers to the question count in
    its results: kept while the question (its id, kind, text and labels) stays
    the same, set to *version* when it is new or changed, so that editing one
    question does not mix answers to two different questions.
    """
    before = {q.get("id"): q for q in previous or []}
    payload = []
    for number, question in enumerate(questions, start=1):
        qid = f"q{number}"
        key = _survey_key(question)
        old = before.get(qid)
        since = old["since"] if old and old.get("key") == key and "since" in old else version
        text_html = _render_inline(course_slug, question.text)
        labels_html = [_render_inline(course_slug, label) for label in question.labels]
        payload.append(
            {
                "id": qid,
                "kind": question.kind.value,
                "text_html": text_html,
                "text": _plain(text_html),
                "labels_html": labels_html,
                "labels": [_plain(label) for label in labels_html],
                "optional": question.optional,
                "key": key,
                "since": since,
            }
        )
    return payload


def _course_values(source: CourseSource) -> dict[str, object]:
    return {
        "title": source.title,
        "summary": source.summary,
        "hours": Decimal(str(source.hours)).quantize(Decimal("0.01")),
        "audience": list(source.audience),
        "sequential": source.sequential,
        "pass_mark": source.pass_mark,
        "language": source.language,
        "status": CourseStatus(source.status),
        "overview_html": _render(source.slug, source.body),
    }


def _module_hash(course: CourseSource, module: ModuleSource) -> str:
    # A quiz's effective pass mark may come from course.md: part of a quiz's content.
    if module.type is ModuleType.QUIZ:
        return _digest(module.source_hash, course.pass_mark)
    # So may a survey's default scale (its labels are in the course's language).
    if module.type is ModuleType.SURVEY:
        return _digest(module.source_hash, course.language)
    return module.source_hash


def _up_to_date(existing: Module | None, source_hash: str, module_source: ModuleSource) -> bool:
    return (
        existing is not None
        and existing.source_hash == source_hash
        and existing.render_version == RENDER_VERSION
        and existing.retired_at is None
        and existing.position == module_source.position
        and existing.filename == module_source.filename
    )


def _sync_module(
    course: Course,
    source: CourseSource,
    module_source: ModuleSource,
    existing: Module | None,
    now: datetime,
    report: SyncReport,
) -> None:
    """Create or update one module; its version grows only when its content changes."""
    source_hash = _module_hash(source, module_source)
    if _up_to_date(existing, source_hash, module_source):
        return
    is_quiz = module_source.type is ModuleType.QUIZ
    module = existing or Module(course=course, slug=module_source.slug, version=0)
    content_changed = existing is None or existing.source_hash != source_hash
    module.position = module_source.position
    module.filename = module_source.filename
    module.title = module_source.title
    module.minutes = module_source.minutes
    module.kind = ModuleKind(module_source.type.value)
    module.pass_mark = module_source.pass_mark if is_quiz else None
    module.max_attempts = module_source.max_attempts if is_quiz else None
    module.time_limit = module_source.time_limit if is_quiz else None
    module.shuffle = module_source.shuffle if is_quiz else False
    module.review = module_source.review.value if is_quiz and module_source.review else None
    is_live = module_source.type is ModuleType.LIVE
    module.live_hours = (
        Decimal(str(module_source.live_hours)).quantize(Decimal("0.01")) if is_live else None
    )
    module.attendance_percent = module_source.attendance if is_live else None
    module.required = module_source.required
    # A quiz's body holds its answer key: only the instructions are rendered as a page.
    # A survey's questions are drawn as a form: its page shows the introduction only.
    is_survey = module_source.type is ModuleType.SURVEY
    body = module_source.intro if is_quiz or is_survey else module_source.body
    module.body_html = _render(source.slug, body)
    module.render_version = RENDER_VERSION
    module.retired_at = None
    module.updated_at = now
    questions = quiz_payload(source.slug, module_source.questions) if is_quiz else None
    if content_changed:
        module.version += 1
        module.source_hash = source_hash
        if is_quiz:
            pass_mark = module_source.pass_mark
            db.session.add(
                QuizVersion(
                    module=module,
                    version=module.version,
                    questions=questions,
                    pass_mark=source.pass_mark if pass_mark is None else pass_mark,
                    created_at=now,
                )
            )
    elif questions is not None and module.quiz_versions:  # a quiz (its questions are set)
        # Same questions, new renderer: refresh the current version's HTML only.
        module.quiz_versions[-1].questions = questions
    module.survey_questions = (
        survey_payload(source.slug, module_source.survey, module.survey_questions, module.version)
        if is_survey
        else None
    )
    (report.added if existing is None else report.changed).append(
        f"{source.slug}/{module_source.slug}"
    )
    db.session.add(module)


def _sync_course(
    source: CourseSource, course: Course | None, now: datetime, report: SyncReport
) -> Course:
    """Create or update the course row itself (not its modules)."""
    course_hash = source.source_hash
    if (
        course is not None
        and course.source_hash == course_hash
        and course.render_version == RENDER_VERSION
        and course.retired_at is None
    ):
        return course
    if course is None:
        course = Course(slug=source.slug, created_at=now)
        db.session.add(course)
        report.added.append(source.slug)
    else:
        report.changed.append(source.slug)
    for key, value in _course_values(source).items():
        setattr(course, key, value)
    course.source_hash = course_hash
    course.render_version = RENDER_VERSION
    course.retired_at = None
    course.updated_at = now
    db.session.flush()
    return course


#: The key of ``Session.info`` holding the ids of the courses a transaction
#: synced: the enrolments layer (above this one, so not imported here) refreshes
#: their report facts before the commit (lms/enrolments/facts.py).
CHANGED_COURSES = "lms.changed_courses"


def sync_courses(sources: list[CourseSource], now: datetime | None = None) -> SyncReport:
    """Bring the database in line with *sources* (already validated); idempotent.

    A synchronisation that changed something is audited (``content.sync``), with
    the courses it touched; one that changed nothing leaves no entry.
    """
    now = now or utcnow()
    report = SyncReport()
    courses = {c.slug: c for c in db.session.scalars(select(Course))}
    synced = dict(courses)
    for source in sources:
        course = _sync_course(source, courses.get(source.slug), now, report)
        synced[source.slug] = course
        modules = {
            m.slug: m
            for m in db.session.scalars(select(Module).where(Module.course_id == course.id))
        }
        # A module no longer required (a survey made optional) may complete the course
        # for those who did everything else, as a retired module does.
        relaxed = any(
            (existing := modules.get(m.slug)) is not None
            and existing.retired_at is None
            and existing.required
            and not m.required
            for m in source.modules
        )
        for module_source in source.modules:
            _sync_module(
                course, source, module_source, modules.get(module_source.slug), now, report
            )
        present_modules = {m.slug for m in source.modules}
        retired_here = relaxed
        for slug, module in modules.items():
            if slug not in present_modules and module.retired_at is None:
                module.retired_at = now
                report.retired.append(f"{source.slug}/{slug}")
                retired_here = True
        if retired_here:
            db.session.flush()
            record_due_completions(course, now)
            # The completions just recorded (one INSERT … SELECT) change the
            # reports' facts of the course: refreshed before the commit. (The
            # modules retired, added or made optional are ORM changes the facts'
            # listener sees itself; a sync that changes nothing refreshes nothing.)
            db.session.info.setdefault(CHANGED_COURSES, set()).add(course.id)
    present = {s.slug for s in sources}
    for slug, course in courses.items():
        if slug not in present and course.retired_at is None:
            course.retired_at = now
            report.retired.append(slug)
    db.session.flush()
    if not report.nothing_changed:
        _record_sync(report, synced)
    return report


def _record_sync(report: SyncReport, courses: dict[str, Course]) -> None:
    """The audit entry of a synchronisation: counts, and the courses touched by slug and id."""
    touched = sorted(
        {name.split("/", 1)[0] for name in report.added + report.changed + report.retired}
    )
    audit.record(
        audit.Action.CONTENT_SYNC,
        actor_id=None,  # only the command line synchronises content
        objects=[(audit.ObjectKind.COURSE, courses[slug].id) for slug in touched],
        summary={
            "added": len(report.added),
            "changed": len(report.changed),
            "retired": len(report.retired),
            "courses": touched,
        },
    )
