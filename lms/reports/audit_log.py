"""The audit log's page and downloads (``/audit/``): all of it for admins, an area's for HR.

An entry is in an HR manager's area when one of its authority or region objects
is in their scope; entries without an area (role changes, content syncs) are for
admins only. Learners and trainers get a 403.

The page is here, with the other read-only pages over every domain, while the
log itself (:mod:`lms.audit`) lies below every domain that writes to it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    request,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from lms.audit.models import Action, AuditEntry, ObjectKind, Via
from lms.audit.queries import AuditFilters, EntryObjects, Visibility, entries_query, objects_of
from lms.auth.models import Role, User
from lms.auth.operations import find_authority, user_scope
from lms.auth.permissions import Capability, authority_scope_clause, require
from lms.core.downloads import FORMATS, table_download
from lms.core.people_xlsx import Column, Kind, PeopleSheet
from lms.core.sql import paginate
from lms.core.types import ROME, rome_midnight
from lms.extensions import db
from lms.register.models import Authority, Region

bp = Blueprint("audit", __name__, url_prefix="/audit")

PER_PAGE = 50

#: Objects listed per entry: on the page, and in a download's cell (an import of
#: 100,000 people is found by the object filter, not read in one cell; Excel
#: holds 32,767 characters in a cell).
PAGE_OBJECTS = 12
DOWNLOAD_OBJECTS = 1000
BATCH = 500
#: The reader's filters, as query parameters.
FILTER_ARGS = ("action", "actor", "date_from", "date_to", "kind", "object", "authority")
COLUMNS = ("at", "actor_id", "actor_email", "via", "action", "objects", "summary")

ACTION_LABELS: Mapping[str, object] = {
    Action.STAFF_IMPORT: _l("Importazione del personale"),
    Action.ENROLMENT_CREATE: _l("Iscrizione a un corso"),
    Action.ENROLMENT_DELETE: _l("Rimozione di un'iscrizione"),
    Action.RULE_CREATE: _l("Nuova regola di iscrizione permanente"),
    Action.RULE_DELETE: _l("Rimozione di una regola di iscrizione"),
    Action.LINKS_ISSUE: _l("Emissione dei link per impostare la password"),
    Action.USER_CREATE: _l("Creazione di un account"),
    Action.USER_DEACTIVATE: _l("Disattivazione di un account"),
    Action.USER_REACTIVATE: _l("Riattivazione di un account"),
    Action.USER_ROLE: _l("Cambio di ruolo"),
    Action.USER_SCOPE: _l("Cambio degli enti di competenza"),
    Action.USER_FISCAL_CODE: _l("Associazione di un codice fiscale a un account"),
    Action.USER_SESSIONS_END: _l("Chiusura delle sessioni di un account"),
    Action.USER_PASSWORD: _l("Cambio della propria password"),
    Action.USER_NAMES: _l("Modifica del proprio nome"),
    Action.USER_REMINDERS: _l("Scelta dei propri promemoria"),
    Action.USER_CALENDAR: _l("Nuovo indirizzo del proprio calendario"),
    Action.STAFF_UPDATE: _l("Modifica dei dati di una persona"),
    Action.CONTENT_SYNC: _l("Aggiornamento dei contenuti dei corsi"),
    Action.EDITION_CREATE: _l("Nuova edizione di una sessione dal vivo"),
    Action.EDITION_UPDATE: _l("Modifica di un'edizione"),
    Action.EDITION_CANCEL: _l("Annullamento di un'edizione"),
    Action.SIGNUP_CREATE: _l("Prenotazione di un posto per una persona"),
    Action.SIGNUP_CANCEL: _l("Rinuncia a un posto per una persona"),
    Action.ATTENDANCE_RECORD: _l("Registrazione delle presenze"),
    Action.ATTENDANCE_IMPORT: _l("Importazione del rapporto presenze"),
    Action.TRAINING_APPROVE: _l("Approvazione di una formazione esterna"),
    Action.TRAINING_REFUSE: _l("Rifiuto di una formazione esterna"),
    Action.TRAINING_IMPORT: _l("Importazione di formazione esterna"),
}
KIND_LABELS: Mapping[str, object] = {
    ObjectKind.STAFF: _l("Persona"),
    ObjectKind.USER: _l("Account"),
    ObjectKind.AUTHORITY: _l("Ente"),
    ObjectKind.REGION: _l("Regione"),
    ObjectKind.COURSE: _l("Corso"),
    ObjectKind.ENROLMENT: _l("Iscrizione"),
    ObjectKind.RULE: _l("Regola"),
    ObjectKind.EDITION: _l("Edizione"),
    ObjectKind.TRAINING: _l("Formazione esterna"),
}
VIA_LABELS: Mapping[str, object] = {Via.WEB: _l("Web"), Via.CLI: _l("Riga di comando")}


def _visibility(user: User) -> Visibility:
    """What *user* may read: everything (admin) or the entries of their scope (HR)."""
    if user.role is Role.ADMIN:
        return Visibility(everything=True)
    if user.role is not Role.HR:
        return Visibility()
    return Visibility(
        authority_ids=select(Authority.id).where(authority_scope_clause(user)),
        region_ids=user_scope(user).region_ids,
    )


def _args() -> dict[str, str]:
    return {name: request.args.get(name, "").strip()[:254] for name in FILTER_ARGS}


def _filters(args: Mapping[str, str]) -> AuditFilters:
    """The filters of the query string; 400 for a value that cannot be read."""
    values: dict[str, Any] = {**_dates(args), **_object(args)}
    if args["action"]:
        if args["action"] not in ACTION_LABELS:
            abort(400, description=_("Attività sconosciuta: %(value)s.", value=args["action"]))
        values["action"] = args["action"]
    if args["actor"]:
        values.update(_actor(args["actor"]))
    if args["authority"]:
        authority = find_authority(args["authority"])
        if authority is None:
            abort(400, description=_("Ente sconosciuto: %(value)s.", value=args["authority"]))
        values["authority_id"] = authority.id
    return AuditFilters(**values)


def _dates(args: Mapping[str, str]) -> dict[str, datetime | None]:
    """From the start of the first Italian day to the end of the last, as UTC moments."""
    since, until = _day(args["date_from"]), _day(args["date_to"])
    if since and until and since > until:
        abort(400, description=_("La data iniziale viene dopo quella finale."))
    return {
        "since": rome_midnight(since) if since else None,
        "until": rome_midnight(until + timedelta(days=1)) if until else None,
    }


def _object(args: Mapping[str, str]) -> dict[str, Any]:
    """A kind of object, and optionally its id (an id alone names nothing)."""
    values: dict[str, Any] = {}
    if args["kind"]:
        try:
            values["object_kind"] = ObjectKind(args["kind"])
        except ValueError:
            abort(400, description=_("Tipo di oggetto sconosciuto: %(value)s.", value=args["kind"]))
    if args["object"]:
        if not args["object"].isdigit():
            abort(400, description=_("Il numero dell'oggetto è fatto di sole cifre."))
        if "object_kind" not in values:
            abort(400, description=_("Indica anche il tipo dell'oggetto."))
        values["object_id"] = int(args["object"])
    return values


def _actor(text: str) -> dict[str, Any]:
    """An account number or an e-mail address, as the filter's actor id."""
    if text.isdigit():
        return {"actor_id": int(text)}
    if "@" not in text:
        abort(
            400,
            description=_("Indica l'autore con il numero dell'account o il suo indirizzo e-mail."),
        )
    actor_id = db.session.scalar(select(User.id).where(User.email == text.lower()))
    return {"actor_id": actor_id} if actor_id is not None else {"actor_unknown": True}


#: The days the log's filters accept (the platform's own years, and room around them).
DAY_RANGE = (date(2000, 1, 1), date(2099, 12, 31))


def _day(text: str) -> date | None:
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        abort(400, description=_("Data non valida: %(value)s (AAAA-MM-GG).", value=text))
    first, last = DAY_RANGE
    if not first <= day <= last:
        abort(
            400,
            description=_(
                "Data fuori intervallo: %(value)s (dal %(first)s al %(last)s).",
                value=text,
                first=first.strftime("%d/%m/%Y"),
                last=last.strftime("%d/%m/%Y"),
            ),
        )
    return day


def rome_time(moment: datetime) -> datetime:
    """*moment* in Italy's time, as the page and the downloads show it."""
    return moment.astimezone(ROME)


# Page ---------------------------------------------------------------------------------


@bp.get("/")
@require(Capability.VIEW_REPORTS)
def entries() -> str:
    """The entries the reader may see, newest first, 50 a page, with filters."""
    args = _args()
    filters = _filters(args)
    page = paginate(  # a page past the last is a 404
        entries_query(filters, _visibility(current_user)), per_page=PER_PAGE, max_per_page=PER_PAGE
    )
    actor_ids = {entry.actor_id for entry in page.items if entry.actor_id is not None}
    emails = (
        dict(db.session.execute(select(User.id, User.email).where(User.id.in_(actor_ids))).all())
        if actor_ids
        else {}
    )
    objects = objects_of([entry.id for entry in page.items], PAGE_OBJECTS)
    pairs = [pair for listed in objects.values() for pair in listed.pairs]
    rows = [
        {
            "entry": entry,
            "at": rome_time(entry.at),
            "actor_email": emails.get(entry.actor_id),
            "objects": objects.get(entry.id, EntryObjects([], 0)),
        }
        for entry in page.items
    ]
    query_args = {name: value for name, value in args.items() if value}
    return render_template(
        "audit/entries.html",
        page=page,
        rows=rows,
        args=args,
        query_args=query_args,
        actor_unknown=filters.actor_unknown and current_user.role is Role.ADMIN,
        everything=current_user.role is Role.ADMIN,
        area_names=_area_names(pairs),
        person_links="staff.person" in current_app.view_functions,
        action_labels=ACTION_LABELS,
        kind_labels=KIND_LABELS,
        via_labels=VIA_LABELS,
    )


def _area_names(pairs: Sequence[tuple[ObjectKind, int]]) -> dict[tuple[str, int], str]:
    """The names of the authorities and regions listed on the page (public register data)."""
    names: dict[tuple[str, int], str] = {}
    authority_ids = {i for kind, i in pairs if kind is ObjectKind.AUTHORITY}
    region_ids = {i for kind, i in pairs if kind is ObjectKind.REGION}
    if authority_ids:
        for object_id, code, name in db.session.execute(
            select(Authority.id, Authority.code, Authority.name).where(
                Authority.id.in_(authority_ids)
            )
        ):
            names[ObjectKind.AUTHORITY.value, object_id] = f"{name} ({code})"
    if region_ids:
        for object_id, name in db.session.execute(
            select(Region.id, Region.name).where(Region.id.in_(region_ids))
        ):
            names[ObjectKind.REGION.value, object_id] = name
    return names


# Downloads ----------------------------------------------------------------------------


@bp.get("/registro.<fmt>")
@require(Capability.VIEW_REPORTS)
def download(fmt: str) -> Response:
    """The filtered entries as CSV or XLSX, streamed, in English columns (:data:`COLUMNS`)."""
    if fmt not in FORMATS:
        abort(404)
    filters = _filters(_args())
    query = entries_query(
        filters,
        _visibility(current_user),
        AuditEntry.id,
        AuditEntry.at,
        AuditEntry.actor_id,
        User.email,
        AuditEntry.via,
        AuditEntry.action,
        AuditEntry.summary,
    ).outerjoin(User, User.id == AuditEntry.actor_id)
    return table_download(
        "registro-attivita", fmt, COLUMNS, _download_rows(query), sheet=_download_sheet(_args())
    )


#: The XLSX's columns, one per column of :data:`COLUMNS`.
SHEET_COLUMNS = (
    Column(_l("Data e ora"), Kind.MOMENT, num_format="dd/mm/yyyy hh:mm:ss", width=20),
    Column(_l("Account n."), Kind.NUMBER),
    Column(_l("Autore")),
    Column(_l("Canale"), labels=VIA_LABELS),
    Column(_l("Attività"), labels=ACTION_LABELS, width=36),
    Column(_l("Oggetti"), wrap=True, width=30),
    Column(_l("Dettagli"), wrap=True, width=60),
)


def _download_sheet(args: Mapping[str, str]) -> PeopleSheet:
    """The XLSX for people: the reader's filters (already checked) above the entries."""
    about: list[tuple[str, object]] = []
    if args["action"]:
        about.append((_("Attività"), str(ACTION_LABELS[args["action"]])))
    if args["actor"]:
        about.append((_("Autore"), args["actor"]))
    for name, label in (("date_from", _("Dal giorno")), ("date_to", _("Al giorno"))):
        if args[name]:
            about.append((label, date.fromisoformat(args[name])))
    if args["kind"]:
        about.append((_("Tipo di oggetto"), str(KIND_LABELS[ObjectKind(args["kind"])])))
    if args["object"]:
        about.append((_("Numero dell'oggetto"), int(args["object"])))
    if args["authority"]:
        about.append((_("Codice ente"), args["authority"]))
    if not about:
        about.append((_("Filtri"), _("nessuno: tutte le attività visibili")))
    return PeopleSheet(_("Registro attività"), SHEET_COLUMNS, about)


def _download_rows(query: Any) -> Iterator[Sequence[object]]:
    """The rows of a download, read a batch at a time with the batch's objects."""
    result = db.session.execute(query.execution_options(yield_per=BATCH))
    for batch in result.partitions():
        objects = objects_of([row.id for row in batch], DOWNLOAD_OBJECTS)
        for row in batch:
            yield (
                # Text with the offset: XLSX cells hold no time zone, and the
                # hour repeated when summer time ends stays unambiguous.
                rome_time(row.at).isoformat(timespec="seconds"),
                row.actor_id,
                row.email,
                Via(row.via).value,
                row.action,
                objects_text(objects.get(row.id)),
                json.dumps(row.summary, ensure_ascii=False, sort_keys=True),
            )


def objects_text(objects: EntryObjects | None) -> str:
    """``authority:12 course:3 staff:40`` (and ``(+N more)`` past the listed ones)."""
    if objects is None:
        return ""
    text = " ".join(f"{kind.value}:{object_id}" for kind, object_id in objects.pairs)
    return f"{text} (+{objects.more} more)" if objects.more else text
