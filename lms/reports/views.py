"""Reports pages and downloads for HR managers and admins (``/reports/``).

Thin views: the filters come from :func:`parse_filters`, the numbers from
:mod:`lms.reports.coverage`, :mod:`lms.reports.learners` and
:mod:`lms.reports.hours`, the files from :mod:`lms.core.export`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    make_response,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from lms.auth.permissions import Capability, can, require
from lms.core.downloads import table_download
from lms.core.export import CSV_MIMETYPE
from lms.core.people_xlsx import PeopleSheet
from lms.core.sql import custom_plans, page_number
from lms.enrolments.forms import CATEGORY_LABELS
from lms.reports.coverage import (
    By,
    columns,
    coverage_by_authority,
    coverage_by_region,
    coverage_rows,
)
from lms.reports.filters import (
    OutOfScopeError,
    ReportFilters,
    ReportInputError,
    parse_filters,
    report_courses,
)
from lms.reports.hours import HOURS_COLUMNS, hours_by_authority
from lms.reports.learners import COLUMNS as LEARNER_COLUMNS
from lms.reports.learners import learner_csv_chunks, learner_page, learner_rows
from lms.reports.sheets import STATUS_LABELS, coverage_sheet, hours_sheet, learners_sheet

bp = Blueprint("reports", __name__, url_prefix="/reports")


@bp.before_request
def _plans_for_these_figures() -> None:
    """A report's statements are planned for its own filters (lms.core.sql.custom_plans)."""
    custom_plans()


PER_PAGE = 50
FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class Page:
    """A page of rows, shaped like Flask-SQLAlchemy's pagination for the macro."""

    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages in all (at least one)."""
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        """Whether there is a page before this one."""
        return self.page > 1

    @property
    def has_next(self) -> bool:
        """Whether there is a page after this one."""
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        """The previous page's number."""
        return self.page - 1

    @property
    def next_num(self) -> int:
        """The next page's number."""
        return self.page + 1


def _filters(page: str | None = None, **extra: str) -> ReportFilters:
    """The request's filters; 400 for a value that names nothing, 403 outside the scope.

    On a report *page* (its endpoint), a bad as-of date, which people type, is the
    page's filter form again (400): the other filters kept, the message beside the
    date (:func:`_bad_date_page`). Downloads answer the plain 400.
    """
    args = {**request.args.to_dict(), **extra}
    try:
        return parse_filters(current_user, args)
    except ReportInputError as error:
        if page is not None and error.field == "as_of":
            abort(_bad_date_page(page, args, error))
        abort(400, description=str(error))
    except OutOfScopeError as error:
        abort(403, description=str(error))


def _bad_date_page(endpoint: str, args: dict[str, str], error: ReportInputError) -> Response:
    """The filter form of report page *endpoint* with *error* beside its as-of date (a 400)."""
    try:
        kept = parse_filters(current_user, {**args, "as_of": ""})  # the other filters
    except (ReportInputError, OutOfScopeError):
        abort(400, description=str(error))  # nothing worth keeping: the date's message alone
    kept_args: dict[str, Any] = kept.query_args(place=False)
    home = url_for("reports.home", **kept_args)
    trail: list[tuple[str, str]] = [] if endpoint == "reports.home" else [(home, _("Report"))]
    if endpoint == "reports.authority" and kept.authority is not None:
        heading, code = kept.authority.name, kept.authority.code
        region = kept.authority.region
        trail.append((url_for("reports.region", code=region.code, **kept_args), region.name))
    elif endpoint == "reports.region" and kept.region is not None:
        heading, code = kept.region.name, kept.region.code
    elif endpoint == "reports.hours":
        heading, code = _("Ore di formazione"), ""
    else:
        heading, code = _("Report sulla formazione"), ""
    page = render_template(
        "reports/bad_date.html",
        filters=kept,
        heading=heading,
        trail=trail,
        action=url_for(endpoint, code=code) if code else url_for(endpoint),
        as_of_value=args.get("as_of", ""),
        as_of_error=str(error),
        **_filter_choices(),
    )
    return make_response(page, 400)


def _filter_choices() -> dict[str, object]:
    return {"courses": report_courses(), "categories": CATEGORY_LABELS}


def _download(
    name: str,
    fmt: str,
    header: Sequence[str],
    rows: Callable[[], Iterable[Sequence[object]]],
    sheet: PeopleSheet,
) -> Response:
    """Stream a report as the XLSX for people or the programme's CSV, rows made while sent."""
    return table_download(name, fmt, header, rows(), sheet=sheet)


def _file_name(base: str, filters: ReportFilters, by: str = "") -> str:
    parts = [base, by, filters.course.slug if filters.course else ""]
    parts += [filters.region.code if filters.region else ""]
    parts += [filters.authority.code if filters.authority else ""]
    parts += [filters.as_of.isoformat()]
    return "-".join(part for part in parts if part)


# Pages --------------------------------------------------------------------------------


@bp.get("/")
@require(Capability.VIEW_REPORTS)
def home() -> str:
    """Coverage per region as a chart and a table, headline numbers, downloads."""
    filters = _filters("reports.home")
    rows, total = coverage_by_region(filters)
    chart = {
        "labels": [row.name for row in rows],
        "coverage": [_number(row.totals.coverage_pct) for row in rows],
        "enrolled": [_number(row.totals.enrolled_pct) for row in rows],
        "coverageLabel": _("Copertura: percentuale che ha completato"),
        "enrolledLabel": _("Iscritti: percentuale del personale"),
    }
    return render_template(
        "reports/home.html",
        filters=filters,
        rows=rows,
        total=total,
        chart=chart,
        **_filter_choices(),
    )


@bp.get("/regioni/<code>")
@require(Capability.VIEW_REPORTS)
def region(code: str) -> str:
    """Coverage by authority within one region."""
    filters = _filters("reports.region", region=code)
    rows = coverage_by_authority(filters)
    region_rows, total = coverage_by_region(filters)
    return render_template(
        "reports/region.html",
        filters=filters,
        rows=rows,
        region_row=region_rows[0] if region_rows else total,
        **_filter_choices(),
    )


@bp.get("/enti/<code>")
@require(Capability.VIEW_REPORTS)
def authority(code: str) -> str:
    """One authority: its coverage row and its learners, a page at a time."""
    filters = _filters("reports.authority", authority=code)
    page = page_number(PER_PAGE)
    rows, count = learner_page(filters, page=page, per_page=PER_PAGE)
    if page > 1 and not rows:
        abort(404)
    summary = coverage_by_authority(filters)
    return render_template(
        "reports/authority.html",
        filters=filters,
        summary=summary[0] if summary else None,
        rows=rows,
        count=count,
        page=Page(page, PER_PAGE, count),
        status_labels=STATUS_LABELS,
        **_filter_choices(),
    )


@bp.get("/ore")
@require(Capability.VIEW_REPORTS)
def hours() -> str:
    """How many staff of each authority reached the yearly hours target."""
    filters = _filters("reports.hours")
    year = _year(filters)
    target = Decimal(current_app.config["ANNUAL_HOURS_TARGET"])
    rows = hours_by_authority(filters, year, target)
    staff = sum(row.staff for row in rows)
    reached = sum(row.reached for row in rows)
    return render_template(
        "reports/hours.html",
        filters=filters,
        year=year,
        years=list(range(filters.as_of.year, filters.as_of.year - 6, -1)),
        target=target,
        rows=rows,
        staff=staff,
        reached=reached,
        can_review_external=can(current_user, Capability.MANAGE_STAFF),
        **_filter_choices(),
    )


def _year(filters: ReportFilters) -> int:
    raw = request.args.get("year", "").strip()
    if not raw:
        return filters.as_of.year
    if not raw.isdigit() or not 2000 <= int(raw) <= filters.as_of.year:  # noqa: PLR2004
        abort(400, description=_("Anno non valido: %(value)s.", value=raw))
    return int(raw)


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


# Downloads ------------------------------------------------------------------------------


@bp.get("/coverage.<fmt>")
@require(Capability.VIEW_REPORTS)
def coverage_download(fmt: str) -> Response:
    """Coverage by region (with a TOTAL row) or by authority, as CSV or XLSX."""
    if fmt not in FORMATS:
        abort(404)
    by = request.args.get("by", "region")
    if by not in ("region", "authority"):
        abort(
            400,
            description=_("Raggruppamento non valido: %(value)s (region o authority).", value=by),
        )
    filters = _filters()
    name = _file_name("copertura", filters, "regioni" if by == "region" else "enti")
    typed_by: By = "region" if by == "region" else "authority"
    return _download(
        name,
        fmt,
        columns(typed_by),
        lambda: coverage_rows(filters, typed_by),
        coverage_sheet(filters, typed_by),
    )


@bp.get("/learners.<fmt>")
@require(Capability.VIEW_REPORTS)
def learners_download(fmt: str) -> Response:
    """Learner detail, one row per enrolment, as CSV or XLSX (streamed)."""
    if fmt not in FORMATS:
        abort(404)
    filters = _filters()
    name = _file_name("discenti", filters)
    if fmt == "csv":
        # The learner CSV is written by the report itself (a million rows: as of
        # today the database writes the lines), with table_download's headers.
        return Response(
            stream_with_context(learner_csv_chunks(filters)),
            content_type=CSV_MIMETYPE,
            headers={
                "Content-Disposition": f'attachment; filename="{name}.csv"',
                "Cache-Control": "no-store",
            },
        )
    return _download(
        name,
        fmt,
        LEARNER_COLUMNS,
        lambda: (row.cells() for row in learner_rows(filters)),
        learners_sheet(filters),
    )


@bp.get("/hours.<fmt>")
@require(Capability.VIEW_REPORTS)
def hours_download(fmt: str) -> Response:
    """Yearly hours per authority, as CSV or XLSX."""
    if fmt not in FORMATS:
        abort(404)
    filters = _filters()
    year = _year(filters)
    target = Decimal(current_app.config["ANNUAL_HOURS_TARGET"])
    name = f"ore-formazione-{year}"
    rows = hours_by_authority(filters, year, target)
    return _download(
        name,
        fmt,
        HOURS_COLUMNS,
        lambda: (row.cells() for row in rows),
        hours_sheet(filters, year, target),
    )
