"""What a report is about: reader, as-of date, course, category, region, authority.

One parser serves the web pages, the downloads and ``lms report``, so a bad
value gets the same clear message everywhere (never an empty report that looks
real).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Label, and_, or_, select, true
from sqlalchemy.sql.elements import SQLCoreOperations

from lms.assessments.models import QuizAttempt
from lms.auth.models import Role, User
from lms.auth.operations import find_authority, find_region
from lms.auth.permissions import authority_in_scope, authority_scope_clause
from lms.core.types import rome_midnight, today_in_italy
from lms.courses.models import Course, CourseCompletion, CourseStatus, Module, ModuleKind
from lms.enrolments.facts import best_score
from lms.enrolments.models import Enrolment
from lms.enrolments.roster import parse_category, parse_date
from lms.extensions import db
from lms.register.models import Authority, Region, StaffCategory, StaffMember


class ReportInputError(ValueError):
    """A filter value that does not name anything (answer 400, or exit 2 on the CLI).

    *field* names the filter it is about when a person types it (``as_of``): a
    page shows the message beside that field.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class OutOfScopeError(PermissionError):
    """A region or authority the reader may not see (answer 403)."""


@dataclass(frozen=True)
class ReportFilters:
    """A report's question. ``reader`` None means everything (the command line)."""

    reader: User | None
    as_of: date
    course: Course | None = None
    category: StaffCategory | None = None
    region: Region | None = None
    authority: Authority | None = None
    #: The reader's scope as a WHERE clause, worked out once when the filters
    #: are made: a streamed download runs its queries after the view returned.
    reader_clause: ColumnElement[bool] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Resolve the reader's scope now, while the request's session holds the reader."""
        clause = true() if self.reader is None else authority_scope_clause(self.reader)
        object.__setattr__(self, "reader_clause", clause)

    @property
    def uses_facts(self) -> bool:
        """Whether the report may read the facts table (``course_facts``) instead of the sources.

        The facts are "so far": every enrolment, completion, progress and attempt
        recorded up to now, and the modules current now. For an as-of day of today
        or later the exact path's cuts (before the end of that day; not retired by
        then) keep exactly those too, since nothing is recorded in the future and a
        module retired so far was retired before the day's end; so both paths give
        the same figures (``tests/test_facts_property.py`` checks it on random
        worlds). An earlier day needs the exact path's cuts.
        """
        return self.as_of >= today_in_italy()

    @property
    def day_end(self) -> datetime:
        """The first instant after day ``as_of`` in Italy, in UTC: events before it count."""
        return rome_midnight(self.as_of + timedelta(days=1))

    def query_args(self, *, place: bool = True) -> dict[str, str]:
        """The filters as URL query arguments (for links and downloads).

        ``place=False`` leaves out the region and the authority (for links to
        pages that name them in their path).
        """
        args = {"as_of": self.as_of.isoformat()}
        if self.course is not None:
            args["course"] = self.course.slug
        if self.category is not None:
            args["category"] = self.category.value
        if place and self.region is not None:
            args["region"] = self.region.code
        if place and self.authority is not None:
            args["authority"] = self.authority.code
        return args

    def authority_clause(self) -> ColumnElement[bool]:
        """WHERE clause on :class:`Authority`: the reader's scope, then region/authority."""
        clauses = [self.reader_clause]
        if self.region is not None:
            clauses.append(Authority.region_id == self.region.id)
        if self.authority is not None:
            clauses.append(Authority.id == self.authority.id)
        return and_(*clauses)

    def module_current(self) -> ColumnElement[bool]:
        """WHERE clause on :class:`Module`: not retired by the end of ``as_of``."""
        return or_(Module.retired_at.is_(None), Module.retired_at >= self.day_end)

    def module_counted(self) -> ColumnElement[bool]:
        """WHERE clause on :class:`Module`: current (see above) and required for completion.

        A module with ``required: false`` (an optional survey) is not part of a
        course's progress.
        """
        return and_(self.module_current(), Module.required.is_(True))

    @staticmethod
    def best_score() -> Label[int]:
        """A person's best score on one quiz, in hundredths of a percent (``best``).

        The one definition of the reports' scores: select it grouped by person
        and quiz, over the attempts of :meth:`scored_attempt`; the mean score is
        the sum of these over their count.
        """
        return best_score()

    def scored_attempt(self) -> ColumnElement[bool]:
        """WHERE clause on :class:`QuizAttempt`.

        An attempt counts for the best scores when it was submitted by the end of
        ``as_of``, on a quiz that was current then (and of the course filtered on).
        The quizzes are a small set, looked up once: no join to :class:`Module` per
        attempt.
        """
        quizzes = select(Module.id).where(Module.kind == ModuleKind.QUIZ, self.module_current())
        if self.course is not None:
            quizzes = quizzes.where(Module.course_id == self.course.id)
        return and_(
            QuizAttempt.submitted_at < self.day_end,
            QuizAttempt.score_pct.is_not(None),
            QuizAttempt.module_id.in_(quizzes),
        )

    def completion_of(
        self, user_id: SQLCoreOperations[int | None], course_id: SQLCoreOperations[int]
    ) -> ColumnElement[bool]:
        """Join condition: *user_id* completed *course_id* by the end of ``as_of``."""
        return and_(
            CourseCompletion.user_id == user_id,
            CourseCompletion.course_id == course_id,
            CourseCompletion.completed_at < self.day_end,
        )

    def staff_clause(self) -> ColumnElement[bool]:
        """WHERE clause on :class:`StaffMember`: the *staff* at the end of ``as_of``."""
        clauses = [StaffMember.on_staff(self.as_of)]
        if self.category is not None:
            clauses.append(StaffMember.category == self.category)
        return and_(*clauses)


def parse_filters(reader: User | None, args: Mapping[str, str | None]) -> ReportFilters:
    """Build filters from ``as_of``, ``course``, ``category``, ``region``, ``authority``.

    Raises :class:`ReportInputError` for a value that names nothing and
    :class:`OutOfScopeError` for a region or authority outside the reader's scope.
    """

    def arg(name: str) -> str:
        return (args.get(name) or "").strip()

    filters = ReportFilters(
        reader,
        as_of=_as_of(arg("as_of")),
        course=_course(arg("course")),
        category=_category(arg("category")),
        region=_region(arg("region")),
        authority=_authority(arg("authority")),
    )
    _check_scope(filters)
    return filters


#: The as-of dates a report accepts: wide enough for any record the programme
#: keeps, and far from the calendar's ends (the end of the as-of day must exist).
AS_OF_RANGE = (date(2000, 1, 1), date(2099, 12, 31))


def _as_of(raw: str) -> date:
    if not raw:
        return today_in_italy()
    try:
        as_of = parse_date(raw)
    except ValueError:
        raise ReportInputError(
            _("Data non valida: %(value)s (scrivi AAAA-MM-GG o GG/MM/AAAA).", value=raw),
            field="as_of",
        ) from None
    first, last = AS_OF_RANGE
    if not first <= as_of <= last:
        raise ReportInputError(
            _(
                "Data fuori intervallo: %(value)s (dal %(first)s al %(last)s).",
                value=raw,
                first=first.strftime("%d/%m/%Y"),
                last=last.strftime("%d/%m/%Y"),
            ),
            field="as_of",
        )
    return as_of


def report_courses() -> list[tuple[str, str]]:
    """(slug, title) of the courses worth filtering on, by title.

    The courses learners can take now (published, not retired), and any other
    that has enrolments (a retired course still counts in a report as of a past
    day); a draft nobody is enrolled in is left out.
    """
    enrolled = select(Enrolment.id).where(Enrolment.course_id == Course.id).exists()
    offered = and_(Course.status == CourseStatus.PUBLISHED, Course.retired_at.is_(None))
    rows = db.session.execute(
        select(Course.slug, Course.title).where(or_(offered, enrolled)).order_by(Course.title)
    )
    return [(slug, title) for slug, title in rows]


def _course(slug: str) -> Course | None:
    if not slug:
        return None
    course = db.session.scalar(select(Course).where(Course.slug == slug))
    if course is None:
        raise ReportInputError(_("Corso sconosciuto: %(value)s.", value=slug))
    return course


def _category(raw: str) -> StaffCategory | None:
    if not raw:
        return None
    try:
        return StaffCategory(parse_category(raw))
    except ValueError:
        raise ReportInputError(
            _(
                "Categoria sconosciuta: %(value)s (new_hire o existing).",
                value=raw,
            )
        ) from None


def _region(code: str) -> Region | None:
    if not code:
        return None
    region = find_region(code)
    if region is None:
        raise ReportInputError(_("Regione sconosciuta: %(value)s.", value=code))
    return region


def _authority(code: str) -> Authority | None:
    if not code:
        return None
    authority = find_authority(code)
    if authority is None:
        raise ReportInputError(_("Ente sconosciuto: %(value)s.", value=code))
    return authority


def _check_scope(filters: ReportFilters) -> None:
    reader = filters.reader
    if reader is None or reader.role is Role.ADMIN:
        return
    if filters.authority is not None and not authority_in_scope(reader, filters.authority):
        raise OutOfScopeError(
            _("L'ente %(code)s non è nella tua area.", code=filters.authority.code)
        )
    if filters.region is not None and not _region_in_scope(reader, filters.region):
        raise OutOfScopeError(
            _("La regione %(code)s non è nella tua area.", code=filters.region.code)
        )


def _region_in_scope(reader: User, region: Region) -> bool:
    """Whether *reader* sees at least one authority of *region*."""
    found = db.session.scalar(
        select(Authority.id)
        .where(Authority.region_id == region.id, authority_scope_clause(reader))
        .limit(1)
    )
    return found is not None
