"""Attendance from Teams' or Zoom's report: upload, preview, confirm (trainers and administrators).

The trainer uploads the report the meeting platform exported
(:mod:`lms.live.attendance_files` reads it) on the edition's register. The
preview lists every participant matched to a person who may attend the edition
(enrolled in the course or signed up: :func:`lms.live.attendance.attendable_clause`),
with the minutes that will be recorded and whether they reach the module's
threshold, and every row that matches nobody, with its line and why. Nothing
is written until the trainer confirms; then :func:`lms.live.attendance.record_attendance`
stores the lot with the source ``teams`` or ``zoom`` (one audit entry).

Between preview and confirmation the file is kept server-side, as the roster
import keeps its files (:mod:`lms.enrolments.uploads`): in the database, bound
to the trainer's account and session, for an hour, deleted in the
confirmation's transaction. So the confirmation carries a token, not the file:
any instance may serve it, the trainer need not pick the file again, and a
second click (or a second tab) finds nothing left to apply. The confirmation
reads the stored file again and matches it again, as the world may have
changed meanwhile (someone enrolled, an edition cancelled).

People are matched by e-mail address, the staff record's or the learner
account's. Teams' older list has no addresses: there a participant is matched
by name, when exactly one person who may attend the edition has that name
(first and last, in either order, case and accents aside); the preview says so.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Final

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import format_decimal, lazy_gettext
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse
from wtforms import HiddenField
from wtforms.validators import DataRequired, Length

from lms.auth.models import User
from lms.auth.permissions import Capability, require
from lms.core import transaction
from lms.core.messages import Message, _l
from lms.core.sql import MAX_ROW_ID
from lms.core.tabular import TableError
from lms.core.types import rome_date, utcnow
from lms.courses.models import Course
from lms.courses.queries import visible_courses_clause
from lms.enrolments.uploads import drop_upload, load_upload, store_upload
from lms.extensions import db
from lms.live.attendance import attendable_by_email, attendable_clause, record_attendance
from lms.live.attendance_files import (
    AttendanceReport,
    Participant,
    Platform,
    UnusedRow,
    capped,
    days_apart,
    read_report,
)
from lms.live.blueprint import bp
from lms.live.errors import LiveError, NotAttendable
from lms.live.models import AttendanceSource, LiveAttendance, LiveEdition
from lms.live.rules import attended_enough, minutes_needed
from lms.register.models import StaffMember

#: The largest report accepted. Teams' UTF-16 report of a 1,000-person webinar
#: with reconnections stays well under 1 MiB.
MAX_REPORT_BYTES: Final = 5 * 1024 * 1024
PLATFORM_NAMES: Final = {Platform.TEAMS: "Microsoft Teams", Platform.ZOOM: "Zoom"}
#: Where minutes already recorded came from, as the preview says it.
SOURCE_NAMES: Final = {
    AttendanceSource.REGISTER: _l("registro"),
    AttendanceSource.TEAMS: "Microsoft Teams",
    AttendanceSource.ZOOM: "Zoom",
}
#: The stored upload's name starts with this and the edition's id: a token is
#: confirmed only on the edition it was previewed for.
_STORED_PREFIX: Final = "presenze-"

NO_PERSON: Final = _l("nessuna persona con questo indirizzo e-mail")
NOT_ATTENDABLE: Final = _l("non è iscritta al corso né prenotata a questa sessione")
NO_NAME_MATCH: Final = _l("nessuna persona iscritta o prenotata con questo nome")
SEVERAL_NAMES: Final = _l(
    "più persone iscritte o prenotate hanno questo nome: segna la presenza sul registro"
)


def _same_person(line: int) -> Message:
    return _l("è la stessa persona della riga %(line)d: contati i minuti più alti", line=line)


class ReportForm(FlaskForm):
    """The attendance report to check and preview."""

    report = FileField(
        lazy_gettext("Rapporto presenze di Teams o di Zoom (CSV)"),
        validators=[FileRequired(message=lazy_gettext("Scegli il file del rapporto da caricare."))],
    )


class ConfirmReportForm(FlaskForm):
    """Record a previewed report, named by the token of its stored copy."""

    token = HiddenField(validators=[DataRequired(), Length(max=64)])


# Matching ------------------------------------------------------------------------


@dataclass(frozen=True)
class Matched:
    """A participant of the report who is a person that may attend the edition."""

    staff: StaffMember
    participant: Participant
    #: What will be recorded: the report's minutes, at most the edition's length.
    minutes: int
    reaches: bool
    #: The minutes recorded before for this person, and from where (None: none yet).
    previous: LiveAttendance | None
    #: Matched by name (Teams' older list has no e-mail addresses).
    by_name: bool = False


@dataclass(frozen=True)
class Unmatched:
    """Rows of the report that count for nobody: the file's, and those of unknown people."""

    lines: tuple[int, ...]
    name: str
    email: str
    reason: Message

    @property
    def line(self) -> int:
        """The first line."""
        return self.lines[0]


@dataclass
class ImportPlan:
    """What recording a report would do, for the preview and the confirmation."""

    report: AttendanceReport
    matched: list[Matched] = field(default_factory=list)
    unmatched: list[Unmatched] = field(default_factory=list)

    @property
    def source(self) -> AttendanceSource:
        """The attendance's source: Teams or Zoom."""
        return AttendanceSource(self.report.platform.value)

    @property
    def minutes_by_staff(self) -> dict[int, int]:
        """The minutes to record, per staff id."""
        return {m.staff.id: m.minutes for m in self.matched}

    @property
    def reaching(self) -> int:
        """How many matched people reach the threshold."""
        return sum(1 for m in self.matched if m.reaches)


def _name_key(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.replace("’", "'").split())


def _by_name(edition: LiveEdition) -> dict[str, list[StaffMember]]:
    """Everyone who may attend *edition*, under "first last" and "last first"."""
    index: dict[str, list[StaffMember]] = {}
    for staff in db.session.scalars(select(StaffMember).where(attendable_clause(edition))):
        keys = {
            _name_key(f"{staff.first_name} {staff.last_name}"),
            _name_key(f"{staff.last_name} {staff.first_name}"),
        }
        for key in keys:
            index.setdefault(key, []).append(staff)
    return index


def _known_addresses(emails: list[str]) -> set[str]:
    """Which of *emails* (lower-cased) belong to a staff record or an account at all."""
    known: set[str] = set()
    for start in range(0, len(emails), 500):
        chunk = emails[start : start + 500]
        known.update(
            db.session.scalars(select(StaffMember.email).where(StaffMember.email.in_(chunk)))
        )
        known.update(db.session.scalars(select(User.email).where(User.email.in_(chunk))))
    return {email.lower() for email in known}


def match_report(edition: LiveEdition, report: AttendanceReport) -> ImportPlan:
    """Match *report*'s participants to the people who may attend *edition*. Reads only."""
    plan = ImportPlan(report)
    plan.unmatched = [_unmatched(row) for row in report.unused]
    found: list[tuple[Participant, StaffMember, bool]] = []
    if report.has_emails:
        emails = [p.email for p in report.participants if p.email]
        people = attendable_by_email(edition, emails)
        missing = sorted({e for e in emails if e not in people})
        known = _known_addresses(missing) if missing else set()
        for participant in report.participants:
            staff = people.get(participant.email or "")
            if staff is not None:
                found.append((participant, staff, False))
            else:
                reason = NOT_ATTENDABLE if participant.email in known else NO_PERSON
                plan.unmatched.append(_unknown(participant, reason))
    else:
        index = _by_name(edition)
        for participant in report.participants:
            candidates = {s.id: s for s in index.get(_name_key(participant.name), [])}
            if len(candidates) == 1:
                found.append((participant, next(iter(candidates.values())), True))
            else:
                reason = SEVERAL_NAMES if candidates else NO_NAME_MATCH
                plan.unmatched.append(_unknown(participant, reason))
    plan.matched = _matched(edition, found, plan.unmatched)
    plan.unmatched.sort(key=lambda row: row.lines)
    return plan


def _matched(
    edition: LiveEdition,
    found: list[tuple[Participant, StaffMember, bool]],
    unmatched: list[Unmatched],
) -> list[Matched]:
    """One row per person (two participants of one person: the larger minutes, the other listed)."""
    best: dict[int, tuple[Participant, StaffMember, bool]] = {}
    for participant, staff, by_name in sorted(found, key=lambda f: -f[0].minutes):
        if staff.id in best:
            kept = best[staff.id][0]
            unmatched.append(_unknown(participant, _same_person(kept.lines[0])))
            continue
        best[staff.id] = (participant, staff, by_name)
    previous = {
        row.staff_id: row
        for row in db.session.scalars(
            select(LiveAttendance).where(
                LiveAttendance.edition_id == edition.id,
                LiveAttendance.staff_id.in_(sorted(best)),
            )
        )
    }
    percent = edition.module.attendance_percent
    rows = []
    for staff_id, (participant, staff, by_name) in best.items():
        minutes = capped(participant.minutes, edition.minutes)
        rows.append(
            Matched(
                staff=staff,
                participant=participant,
                minutes=minutes,
                reaches=attended_enough(minutes, edition.minutes, percent),
                previous=previous.get(staff_id),
                by_name=by_name,
            )
        )
    return sorted(rows, key=lambda m: (_name_key(m.staff.last_name), _name_key(m.staff.first_name)))


def _unmatched(row: UnusedRow) -> Unmatched:
    return Unmatched(row.lines, row.name, row.email, row.reason)


def _unknown(participant: Participant, reason: Message) -> Unmatched:
    return Unmatched(participant.lines, participant.name, participant.email or "", reason)


# Views -----------------------------------------------------------------------------


def _edition_or_404(edition_id: int) -> LiveEdition:
    """The edition, if it exists and its course is one the reader may see (as the register)."""
    edition = db.session.get(LiveEdition, edition_id) if edition_id <= MAX_ROW_ID else None
    if edition is None:
        abort(404)
    visible = db.session.scalar(
        select(Course.id).where(
            Course.id == edition.module.course_id, visible_courses_clause(current_user)
        )
    )
    if visible is None:
        abort(404)
    return edition


def _me() -> User:
    user: User = current_user._get_current_object()  # noqa: SLF001 - the real object, typed
    return user


def _closed_reason(edition: LiveEdition) -> str | None:
    """Why no attendance can be recorded for *edition* now, if so."""
    if edition.cancelled_at is not None:
        return _("La sessione è stata annullata: non si registrano presenze.")
    if edition.starts_at > utcnow():
        return _("La sessione non è ancora iniziata: le presenze si registrano dopo.")
    return None


def _page(
    edition: LiveEdition,
    form: ReportForm,
    *,
    plan: ImportPlan | None = None,
    confirm: ConfirmReportForm | None = None,
    problem: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    report_days = None
    if plan is not None:
        report_days = days_apart(plan.report, rome_date(edition.starts_at))
    body = render_template(
        "live/import.html",
        edition=edition,
        module=edition.module,
        course=edition.module.course,
        form=form,
        plan=plan,
        confirm=confirm,
        problem=problem,
        closed=_closed_reason(edition),
        needed=minutes_needed(edition.minutes, edition.module.attendance_percent),
        report_days=report_days,
        max_mib=format_decimal(MAX_REPORT_BYTES / 1048576, format="#,##0.#"),
        platform_names=PLATFORM_NAMES,
        source_names=SOURCE_NAMES,
    )
    return body, status


def _read_upload(form: ReportForm) -> bytes | None:
    """The uploaded bytes, or None when they are over the limit."""
    data: bytes = form.report.data.read(MAX_REPORT_BYTES + 1)
    return None if len(data) > MAX_REPORT_BYTES else data


@bp.route("/<int:edition_id>/registro/rapporto", methods=["GET", "POST"])
@require(Capability.SCHEDULE_SESSIONS)
def import_report(edition_id: int) -> tuple[str, int]:
    """Upload a Teams or Zoom report: its problems, or a preview of what will be recorded."""
    edition = _edition_or_404(edition_id)
    form = ReportForm()
    if request.method == "GET":
        return _page(edition, form)
    if not form.validate_on_submit():
        return _page(edition, form, status=400)
    data = _read_upload(form)
    if data is None:
        size = format_decimal(MAX_REPORT_BYTES / 1048576, format="#,##0.#")
        problem = _("Il file è troppo grande: al massimo %(size)s MB.", size=size)
        return _page(edition, form, problem=problem, status=413)
    try:
        report = read_report(data, meeting_day=rome_date(edition.starts_at))
    except TableError as error:
        return _page(edition, form, problem=str(error), status=400)
    plan = match_report(edition, report)  # reads only: the stored upload is all it writes
    confirm = None
    if plan.matched and _closed_reason(edition) is None:
        filename = f"{_STORED_PREFIX}{edition.id}:{form.report.data.filename or 'rapporto.csv'}"
        confirm = ConfirmReportForm(token=store_upload(_me(), session, data, filename))
    return _page(edition, form, plan=plan, confirm=confirm)


@bp.post("/<int:edition_id>/registro/rapporto/conferma")
@require(Capability.SCHEDULE_SESSIONS)
def import_confirm(edition_id: int) -> tuple[str, int] | BaseResponse:
    """Record a previewed report (stored server-side, bound to this user's session)."""
    edition = _edition_or_404(edition_id)
    form = ConfirmReportForm()
    if not form.validate_on_submit():
        abort(400)
    token = form.token.data
    stored = load_upload(_me(), session, token)
    if stored is None or not stored.filename.startswith(f"{_STORED_PREFIX}{edition.id}:"):
        transaction.rollback()
        flash(_("Il file caricato non è più disponibile: caricalo di nuovo."), "warning")
        return redirect(url_for("live.import_report", edition_id=edition.id))
    try:
        plan = match_report(
            edition, read_report(stored.data, meeting_day=rome_date(edition.starts_at))
        )
        result = record_attendance(edition, plan.minutes_by_staff, plan.source, _me())
    except (TableError, LiveError) as error:
        # Nothing is recorded (the error response rolls the request back); the
        # stored file stays until it expires. NotAttendable: someone's enrolment
        # went since the preview.
        problem = str(error)
        if isinstance(error, NotAttendable):
            problem = _(
                "%(problem)s Carica di nuovo il file per vedere chi manca.", problem=problem
            )
        return _page(edition, ReportForm(), problem=problem, status=409)
    drop_upload(_me(), session, token)  # in the recording's transaction: applied once
    flash(
        _(
            "Presenze registrate dal rapporto di %(platform)s: %(recorded)d persone, "
            "%(completed)d con la presenza sufficiente, %(below)d sotto la soglia.",
            platform=PLATFORM_NAMES[plan.report.platform],
            recorded=result.recorded,
            completed=result.completed,
            below=result.below,
        ),
        "success",
    )
    return redirect(url_for("live.register", edition_id=edition.id))
