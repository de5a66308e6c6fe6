"""The live-session pages: editions for trainers, HR's bookings, the register, the learner's page.

- Trainers and administrators (``schedule_sessions``): the list of live modules
  and their editions, scheduling and editing, cancelling, the register (page,
  PDF, XLSX).
- HR managers (``enrol``, scoped): the same list and edition pages, with only
  the people of their scope, whom they book and remove.
- Learners: the live module's page (drawn here for the courses domain), booking
  and giving up their own seat.

Thin views: load, check permission on the object (an edition of a course the
reader may not see, a person out of scope: 404), validate, call one operation.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from lms.auth.models import User
from lms.auth.permissions import Capability, can, require
from lms.core import transaction
from lms.core.downloads import table_download
from lms.core.messages import _l
from lms.core.sql import MAX_ROW_ID, parse_row_id
from lms.core.types import utcnow
from lms.courses.models import Course, Module, ModuleKind
from lms.courses.pages import module_context, register_module_page
from lms.courses.queries import ModuleState, find_visible_course, visible_courses_clause
from lms.extensions import db
from lms.live import queries
from lms.live.attendance import attendable_clause, record_attendance
from lms.live.blueprint import bp
from lms.live.errors import LiveError
from lms.live.forms import ActionForm, CancelForm, EditionForm, PersonForm
from lms.live.models import AttendanceSource, LiveEdition, SignupStatus
from lms.live.operations import (
    EditionDetails,
    cancel_edition,
    give_up,
    is_enrolled,
    rome_start,
    rome_wall_clock,
    schedule_edition,
    sign_up,
    trainers,
    update_edition,
    waiting_position,
)
from lms.live.register_export import (
    register_pdf,
    register_rows,
    register_sheet,
    register_xlsx_header,
)
from lms.live.rules import attended_enough, minutes_needed
from lms.register.models import StaffMember

F = TypeVar("F", bound=Callable[..., Any])

#: Downloads with personal data are never kept by a browser or a proxy.
NO_STORE = "private, no-store"


def _keeps_sessions() -> bool:
    """Trainers and administrators: every edition, every person."""
    return can(current_user, Capability.SCHEDULE_SESSIONS)


def sessions_staff(view: F) -> F:
    """Sign-in required, then 403 unless the reader schedules sessions or books for others."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not (_keeps_sessions() or can(current_user, Capability.ENROL)):
            abort(403)
        return view(*args, **kwargs)

    return login_required(wrapped)


def _edition_or_404(edition_id: int) -> LiveEdition:
    """The edition, if it exists and (for HR) its course is one the reader may see."""
    edition = db.session.get(LiveEdition, edition_id) if edition_id <= MAX_ROW_ID else None
    if edition is None:
        abort(404)
    if _keeps_sessions():
        return edition  # drafts and retired courses too: their registers stay available
    visible = db.session.scalar(
        select(Course.id).where(
            Course.id == edition.module.course_id, visible_courses_clause(current_user)
        )
    )
    if visible is None:
        abort(404)
    return edition


def _viewer() -> Any:
    """Whose scope limits the lists of people: None for trainers and administrators."""
    return None if _keeps_sessions() else current_user


# The list of live modules and their editions -----------------------------------------


@bp.get("/")
@sessions_staff
def index() -> str:
    """The live modules of the visible courses, each with its editions (upcoming, then past)."""
    course_slug = request.args.get("corso", "").strip() or None
    if course_slug is not None and find_visible_course(current_user, course_slug) is None:
        abort(404)
    modules = queries.live_modules(current_user, course_slug)
    editions = queries.editions_of(modules)
    now = utcnow()
    return render_template(
        "live/index.html",
        modules=modules,
        upcoming={m.id: [r for r in editions[m.id] if r.ends_at > now] for m in modules},
        past={m.id: [r for r in editions[m.id] if r.ends_at <= now][::-1] for m in modules},
        course_slug=course_slug,
        may_schedule=_keeps_sessions(),
    )


# Scheduling and editing --------------------------------------------------------------


def _trainer_choices(form: EditionForm) -> None:
    form.trainer.choices = [(0, _("Da definire"))] + [
        (t.id, f"{t.last_name} {t.first_name} ({t.email})".strip()) for t in trainers()
    ]


def _details(form: EditionForm) -> EditionDetails:
    """The form's values as an edition's details (LiveError for a time Italy skips)."""
    trainer = None
    if form.trainer.data:
        chosen = form.trainer.data
        trainer = db.session.get(User, chosen) if 0 < chosen <= MAX_ROW_ID else None
        if trainer is None:
            raise LiveError(
                _l("Il formatore scelto non è un account attivo con il ruolo di formatore.")
            )
    return EditionDetails(
        starts_at=rome_start(form.day.data, form.start.data),
        minutes=form.minutes.data,
        place=form.place.data or "",
        meeting_url=form.meeting_url.data or "",
        capacity=form.capacity.data,
        trainer=trainer,
        notes=form.notes.data or "",
    )


def _live_module_or_404(module_id: str) -> Module:
    number = parse_row_id(module_id)
    module = db.session.get(Module, number) if number is not None else None
    if module is None or module.kind is not ModuleKind.LIVE or module.retired_at is not None:
        abort(404)
    if find_visible_course(current_user, module.course.slug) is None:
        abort(404)
    return module


@bp.route("/nuova/<module_id>", methods=["GET", "POST"])
@require(Capability.SCHEDULE_SESSIONS)
def new_edition(module_id: str) -> str | tuple[str, int] | BaseResponse:
    """Schedule an edition of a live module."""
    module = _live_module_or_404(module_id)
    form = EditionForm()
    _trainer_choices(form)
    if request.method == "GET":
        form.trainer.data = current_user.id if current_user.role.value == "trainer" else 0
        if module.live_hours:  # the module's hours, the usual length of its sessions
            form.minutes.data = int((module.live_hours * 60).to_integral_value())
    if form.validate_on_submit():
        try:
            edition = schedule_edition(module, _details(form), current_user)
        except LiveError as error:
            transaction.rollback()
            return _edition_form(form, module, None, str(error)), 400
        flash(_("Sessione programmata."), "success")
        return redirect(url_for("live.edition", edition_id=edition.id))
    if request.method == "POST":
        return _edition_form(form, module, None), 400
    return _edition_form(form, module, None)


@bp.route("/<int:edition_id>/modifica", methods=["GET", "POST"])
@require(Capability.SCHEDULE_SESSIONS)
def edit_edition(edition_id: int) -> str | tuple[str, int] | BaseResponse:
    """Change an edition (not a cancelled one)."""
    edition = _edition_or_404(edition_id)
    if edition.cancelled_at is not None:
        flash(_("La sessione è stata annullata: non si modifica più."), "warning")
        return redirect(url_for("live.edition", edition_id=edition.id))
    if request.method == "GET":
        local = rome_wall_clock(edition.starts_at)
        form = EditionForm(
            data={
                "day": local.date(),
                "start": local.time().replace(second=0, microsecond=0),
                "minutes": edition.minutes,
                "place": edition.place,
                "meeting_url": edition.meeting_url,
                "capacity": edition.capacity,
                "trainer": edition.trainer_id or 0,
                "notes": edition.notes,
            }
        )
        _trainer_choices(form)
        return _edition_form(form, edition.module, edition)
    form = EditionForm()
    _trainer_choices(form)
    if not form.validate_on_submit():
        return _edition_form(form, edition.module, edition), 400
    try:
        changed = update_edition(edition, _details(form), current_user)
    except LiveError as error:
        transaction.rollback()
        return _edition_form(form, edition.module, edition, str(error)), 400
    flash(
        _("Sessione aggiornata.") if changed else _("Nessuna modifica: i dati erano già questi."),
        "success" if changed else "info",
    )
    return redirect(url_for("live.edition", edition_id=edition.id))


def _edition_form(
    form: EditionForm, module: Module, edition: LiveEdition | None, error: str | None = None
) -> str:
    return render_template(
        "live/edition_form.html", form=form, module=module, edition=edition, error=error
    )


@bp.post("/<int:edition_id>/annulla")
@require(Capability.SCHEDULE_SESSIONS)
def cancel(edition_id: int) -> BaseResponse | tuple[str, int]:
    """Call an edition off (kept, with its sign-ups)."""
    edition = _edition_or_404(edition_id)
    form = CancelForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _render_edition(edition, cancel_form=form), 400
    try:
        cancel_edition(edition, current_user)
    except LiveError as error:
        transaction.rollback()
        flash(str(error), "warning")
    else:
        flash(_("Sessione annullata. Le prenotazioni restano agli atti."), "success")
    return redirect(url_for("live.edition", edition_id=edition.id))


# The edition page --------------------------------------------------------------------


@bp.get("/<int:edition_id>/")
@sessions_staff
def edition(edition_id: int) -> str:
    """An edition: its details, who booked, who waits; HR: their people and a search."""
    return _render_edition(_edition_or_404(edition_id))


def _render_edition(edition: LiveEdition, **forms: Any) -> str:
    viewer = _viewer()
    search = request.args.get("q", "").strip()[:100]
    found = (
        queries.search_people(current_user, edition, search)
        if search and can(current_user, Capability.ENROL)
        else []
    )
    return render_template(
        "live/edition.html",
        row=queries.edition_row(edition),
        edition=edition,
        module=edition.module,
        course=edition.module.course,
        booked=queries.signups(edition, SignupStatus.BOOKED, viewer),
        waiting=queries.signups(edition, SignupStatus.WAITING, viewer),
        keeps_sessions=_keeps_sessions(),
        may_book=can(current_user, Capability.ENROL),
        search=search,
        found=found,
        bookable=edition.cancelled_at is None and edition.starts_at > utcnow(),
        action_form=ActionForm(),
        cancel_form=forms.get("cancel_form") or CancelForm(),
    )


# HR: booking and removing people of their scope ---------------------------------------


def _person_in_scope(form: PersonForm) -> StaffMember:
    number = parse_row_id(form.staff_id.data or "")
    staff = queries.staff_in_scope(current_user, number) if number is not None else None
    if staff is None:
        abort(404)
    return staff


@bp.post("/<int:edition_id>/assegna")
@require(Capability.ENROL)
def assign(edition_id: int) -> BaseResponse:
    """Book a seat for a person of the HR manager's scope."""
    edition = _edition_or_404(edition_id)
    form = PersonForm()
    if not form.validate_on_submit():
        abort(400)
    staff = _person_in_scope(form)
    try:
        signup = sign_up(edition, staff, current_user)
    except LiveError as error:
        transaction.rollback()
        flash(str(error), "warning")
    else:
        if signup.status is SignupStatus.BOOKED:
            flash(_("%(name)s ha un posto nella sessione.", name=staff.full_name), "success")
        else:
            flash(
                _("Sessione al completo: %(name)s è in lista d'attesa.", name=staff.full_name),
                "info",
            )
    return redirect(url_for("live.edition", edition_id=edition.id))


@bp.post("/<int:edition_id>/rimuovi")
@require(Capability.ENROL)
def remove(edition_id: int) -> BaseResponse:
    """Free the seat (or waiting place) of a person of the HR manager's scope."""
    edition = _edition_or_404(edition_id)
    form = PersonForm()
    if not form.validate_on_submit():
        abort(400)
    staff = _person_in_scope(form)
    try:
        give_up(edition, staff, current_user)
    except LiveError as error:
        transaction.rollback()
        flash(str(error), "warning")
    else:
        flash(_("Prenotazione di %(name)s annullata.", name=staff.full_name), "success")
    return redirect(url_for("live.edition", edition_id=edition.id))


# The register ------------------------------------------------------------------------


@bp.route("/<int:edition_id>/registro", methods=["GET", "POST"])
@require(Capability.SCHEDULE_SESSIONS)
def register(edition_id: int) -> str | tuple[str, int] | BaseResponse:
    """The attendance register: everyone booked (and who attended), present or not, minutes."""
    edition = _edition_or_404(edition_id)
    people = queries.register_people(edition)
    form = ActionForm()
    if request.method == "GET":
        return _render_register(edition, people, form)
    if not form.validate_on_submit():
        abort(400)
    minutes, errors, extra = _read_register(edition, people)
    if errors:
        return _render_register(edition, people, form, errors=errors, submitted=True), 400
    try:
        result = record_attendance(edition, minutes, AttendanceSource.REGISTER, current_user)
    except LiveError as error:
        transaction.rollback()
        return _render_register(edition, people, form, errors=[str(error)], submitted=True), 400
    flash(
        _(
            "Registro salvato: %(recorded)d persone, %(completed)d con la presenza"
            " sufficiente, %(below)d sotto la soglia.",
            recorded=result.recorded,
            completed=result.completed,
            below=result.below,
        ),
        "success",
    )
    if extra is not None:
        flash(_("Aggiunta al registro: %(name)s.", name=extra.full_name), "info")
    return redirect(url_for("live.register", edition_id=edition.id))


def _whole_minutes(raw: str, edition: LiveEdition) -> int | None:
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 5:  # noqa: PLR2004 - digits
        return None
    value = int(text)
    return value if value <= edition.minutes else None


def _read_register(
    edition: LiveEdition, people: list[queries.Person]
) -> tuple[dict[int, int], list[str], StaffMember | None]:
    """The minutes per person from the register's form, the errors (row by row), a walk-in."""
    minutes: dict[int, int] = {}
    errors: list[str] = []
    for number, person in enumerate(people, start=1):
        staff_id = person.staff.id
        raw = request.form.get(f"minutes-{staff_id}", "")
        present = request.form.get(f"present-{staff_id}") == "1"
        where = _("Riga %(n)d (%(name)s)", n=number, name=person.staff.full_name)
        if not present:
            if raw.strip() not in ("", "0"):
                errors.append(
                    _("%(where)s: minuti indicati ma presenza non spuntata.", where=where)
                )
            minutes[staff_id] = 0
            continue
        if not raw.strip():
            minutes[staff_id] = edition.minutes
            continue
        value = _whole_minutes(raw, edition)
        if value is None:
            errors.append(
                _(
                    "%(where)s: i minuti devono essere un numero intero da 0 a %(max)d.",
                    where=where,
                    max=edition.minutes,
                )
            )
            continue
        minutes[staff_id] = value
    extra = _read_walk_in(edition, minutes, errors)
    return minutes, errors, extra


def _read_walk_in(
    edition: LiveEdition, minutes: dict[int, int], errors: list[str]
) -> StaffMember | None:
    """The person added at the bottom of the register (by codice fiscale), if any."""
    code = request.form.get("extra_cf", "").strip().upper()
    raw = request.form.get("extra_minutes", "")
    if not code:
        if raw.strip():
            errors.append(_("Persona da aggiungere: indica il codice fiscale."))
        return None
    staff = db.session.scalar(
        select(StaffMember).where(
            StaffMember.codice_fiscale == code[:16], attendable_clause(edition)
        )
    )
    if staff is None or len(code) != 16:  # noqa: PLR2004 - a codice fiscale's length
        errors.append(
            _(
                "Persona da aggiungere: nessuna persona iscritta al corso ha il codice"
                " fiscale indicato."
            )
        )
        return None
    value = edition.minutes if not raw.strip() else _whole_minutes(raw, edition)
    if value is None:
        errors.append(
            _(
                "Persona da aggiungere: i minuti devono essere un numero intero da 0 a %(max)d.",
                max=edition.minutes,
            )
        )
        return None
    minutes[staff.id] = value
    return staff


def _render_register(
    edition: LiveEdition,
    people: list[queries.Person],
    form: ActionForm,
    *,
    errors: list[str] | None = None,
    submitted: bool = False,
) -> str:
    module = edition.module
    return render_template(
        "live/register.html",
        edition=edition,
        module=module,
        course=module.course,
        people=people,
        form=form,
        errors=errors or [],
        submitted=submitted,
        values=request.form if submitted else {},
        needed=minutes_needed(edition.minutes, module.attendance_percent),
        percent=module.attendance_percent,
        started=edition.starts_at <= utcnow(),
        enough=lambda minutes: attended_enough(minutes, edition.minutes, module.attendance_percent),
    )


@bp.get("/<int:edition_id>/registro.pdf")
@require(Capability.SCHEDULE_SESSIONS)
def register_download_pdf(edition_id: int) -> Response:
    """The register as a PDF to print and sign (or to file with the recorded minutes)."""
    edition = _edition_or_404(edition_id)
    body = register_pdf(edition, queries.register_people(edition))
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="registro-presenze-{edition.id}.pdf"'
    )
    response.headers["Cache-Control"] = NO_STORE
    return response


@bp.get("/<int:edition_id>/registro.xlsx")
@require(Capability.SCHEDULE_SESSIONS)
def register_download_xlsx(edition_id: int) -> Response:
    """The register as a spreadsheet: one row per person, numbers as numbers."""
    edition = _edition_or_404(edition_id)
    # Read now: the rows are written after the request's commit, when its objects are gone.
    rows = list(register_rows(edition, queries.register_people(edition)))
    response = table_download(
        f"registro-presenze-{edition.id}",
        "xlsx",
        register_xlsx_header(),
        rows,
        sheet=register_sheet(edition),
    )
    response.headers["Cache-Control"] = NO_STORE
    return response


# The learner's side ------------------------------------------------------------------


def render_live(course: Course, state: ModuleState, **context: object) -> str:
    """The live module's page: its text, the editions ahead, the reader's seat and attendance."""
    module = state.module
    staff = queries.staff_record(current_user)
    signups = queries.signups_of(staff, module) if staff is not None else {}
    mine = next(
        (s for s in signups.values() if s.status in (SignupStatus.BOOKED, SignupStatus.WAITING)),
        None,
    )
    return render_template(
        "live/module.html",
        course=course,
        state=state,
        module=module,
        staff=staff,
        editions=queries.upcoming_editions(module),
        signups=signups,
        mine=mine,
        queue_position=waiting_position(mine) if mine is not None else None,
        attended=queries.attendance_of(staff, module) if staff is not None else [],
        enrolled=staff is not None and is_enrolled(staff, module),
        needed_pct=module.attendance_percent,
        now=utcnow(),
        action_form=ActionForm(),
        **context,
    )


register_module_page(ModuleKind.LIVE, render_live)


def _own_edition(course_slug: str, module_slug: str, edition_id: int) -> LiveEdition:
    """The edition *edition_id* of the module the reader opened (404 otherwise)."""
    _course, outline, index = module_context(course_slug, module_slug)
    state = outline[index]
    if state.locked:
        abort(403)
    edition = db.session.get(LiveEdition, edition_id) if edition_id <= MAX_ROW_ID else None
    if edition is None or edition.module_id != state.module.id:
        abort(404)
    return edition


def _back(course_slug: str, module_slug: str) -> BaseResponse:
    return redirect(
        url_for("courses.module_page", course_slug=course_slug, module_slug=module_slug)
    )


@bp.post("/corsi/<course_slug>/<module_slug>/<int:edition_id>/prenota")
@require(Capability.LEARN)
def book(course_slug: str, module_slug: str, edition_id: int) -> BaseResponse:
    """Book one's own seat (or a place on the waiting list)."""
    edition = _own_edition(course_slug, module_slug, edition_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    staff = queries.staff_record(current_user)
    if staff is None:
        flash(
            _(
                "Per prenotare serve una scheda del personale collegata al tuo account:"
                " rivolgiti al tuo referente per la formazione."
            ),
            "warning",
        )
        return _back(course_slug, module_slug)
    try:
        signup = sign_up(edition, staff, current_user)
    except LiveError as error:
        transaction.rollback()
        flash(str(error), "warning")
        return _back(course_slug, module_slug)
    if signup.status is SignupStatus.BOOKED:
        flash(_("Posto prenotato."), "success")
    else:
        flash(
            _(
                "La sessione è al completo: sei in lista d'attesa (posizione %(n)d). Se si"
                " libera un posto è tuo, senza altro da fare.",
                n=waiting_position(signup) or 1,
            ),
            "info",
        )
    return _back(course_slug, module_slug)


@bp.post("/corsi/<course_slug>/<module_slug>/<int:edition_id>/rinuncia")
@require(Capability.LEARN)
def withdraw(course_slug: str, module_slug: str, edition_id: int) -> BaseResponse:
    """Give one's own seat (or waiting place) up."""
    edition = _own_edition(course_slug, module_slug, edition_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    staff = queries.staff_record(current_user)
    if staff is None:
        abort(404)
    try:
        give_up(edition, staff, current_user)
    except LiveError as error:
        transaction.rollback()
        flash(str(error), "warning")
    else:
        flash(_("Hai rinunciato al posto."), "success")
    return _back(course_slug, module_slug)


__all__ = ["bp", "render_live"]
