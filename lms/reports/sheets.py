"""The reports' downloads as people read them (the XLSX for people).

One :class:`~lms.core.people_xlsx.Column` per column of the programme's file
(``staff-and-reports.md``, in the same order), in the words of the pages:
*Stato* says Completato where the CSV says ``completed``; the filters and the
as-of date go above the table.
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lms.core.people_xlsx import Column, Kind, PeopleSheet
from lms.enrolments.forms import CATEGORY_LABELS, CATEGORY_NAMES
from lms.register.models import AuthorityKind
from lms.reports.coverage import By
from lms.reports.filters import ReportFilters
from lms.reports.learners import COMPLETED, IN_PROGRESS, NOT_STARTED, OVERDUE

#: An enrolment's status at the as-of date, as the pages and the XLSX say it.
STATUS_LABELS = {
    NOT_STARTED: _l("Non iniziato"),
    IN_PROGRESS: _l("In corso"),
    COMPLETED: _l("Completato"),
    OVERDUE: _l("In ritardo"),
}
TOTAL_LABELS = {"TOTAL": _l("Totale")}
#: An authority's kind, in the words of the authorities' pages.
KINDS = {
    AuthorityKind.REGIONE.value: _l("Regione"),
    AuthorityKind.PROVINCIA.value: _l("Provincia"),
    AuthorityKind.CITTA_METROPOLITANA.value: _l("Città metropolitana"),
    AuthorityKind.COMUNE.value: _l("Comune"),
    AuthorityKind.UNIONE_DI_COMUNI.value: _l("Unione di comuni"),
    AuthorityKind.ALTRO.value: _l("Altro ente"),
}

_COUNTS = (
    Column(_l("Personale"), Kind.COUNT),
    Column(_l("Neoassunti"), Kind.COUNT),
    Column(_l("Iscritti"), Kind.COUNT),
    Column(_l("Hanno completato"), Kind.COUNT),
    Column(_l("Copertura"), Kind.PERCENT),
    Column(_l("Punteggio medio"), Kind.PERCENT),
    Column(_l("Ore completate"), Kind.DECIMAL),
    Column(_l("Iscrizioni in ritardo"), Kind.COUNT),
)
REGION_SHEET_COLUMNS = (
    Column(_l("Codice regione"), Kind.CODE, labels=TOTAL_LABELS),
    Column(_l("Regione"), width=24),
    Column(_l("Meno sviluppata"), Kind.YES_NO),
    *_COUNTS,
)
AUTHORITY_SHEET_COLUMNS = (
    Column(_l("Codice ente"), Kind.CODE),
    Column(_l("Ente"), width=28),
    Column(_l("Tipo di ente"), labels=KINDS),
    Column(_l("Codice regione"), Kind.CODE),
    *_COUNTS,
)
LEARNER_SHEET_COLUMNS = (
    Column(_l("Codice fiscale"), Kind.CODE, width=19),
    Column(_l("Cognome")),
    Column(_l("Nome")),
    Column(_l("E-mail")),
    Column(_l("Codice ente"), Kind.CODE),
    Column(_l("Ente")),
    Column(_l("Codice regione"), Kind.CODE),
    Column(_l("Categoria"), labels=CATEGORY_NAMES),
    Column(_l("Corso")),
    Column(_l("Iscritto il"), Kind.DATE),
    Column(_l("Scadenza"), Kind.DATE),
    Column(_l("Stato"), labels=STATUS_LABELS),
    Column(_l("Avanzamento"), Kind.PERCENT),
    Column(_l("Miglior punteggio"), Kind.PERCENT),
    Column(_l("Completato il"), Kind.DATE),
    Column(_l("Ore"), Kind.DECIMAL),
)
HOURS_SHEET_COLUMNS = (
    Column(_l("Anno"), Kind.NUMBER),
    Column(_l("Codice ente"), Kind.CODE),
    Column(_l("Ente"), width=28),
    Column(_l("Codice regione"), Kind.CODE),
    Column(_l("Personale"), Kind.COUNT),
    Column(_l("Obiettivo raggiunto"), Kind.COUNT),
    Column(_l("Percentuale"), Kind.PERCENT),
    Column(_l("Ore medie"), Kind.DECIMAL, num_format="#,##0.0"),
    Column(_l("Obiettivo (ore)"), Kind.DECIMAL),
    Column(_l("di cui sulla piattaforma"), Kind.DECIMAL, num_format="#,##0.0"),
    Column(_l("di cui dal vivo"), Kind.DECIMAL, num_format="#,##0.0"),
    Column(_l("di cui esterne"), Kind.DECIMAL, num_format="#,##0.0"),
)


def report_about(filters: ReportFilters) -> list[tuple[str, object]]:
    """The filters of a report, each named, the as-of date first (the rows above its table)."""
    category = None if filters.category is None else CATEGORY_LABELS.get(filters.category.value)
    region = filters.region.name if filters.region is not None else None
    authority = filters.authority
    return [
        (_("Situazione al"), filters.as_of),
        (_("Corso"), filters.course.title if filters.course else _("Tutti i corsi")),
        (_("Categoria di personale"), str(category) if category else _("Tutte")),
        (_("Regione"), region or _("Tutte quelle del proprio ambito")),
        (
            _("Ente"),
            f"{authority.name} ({authority.code})"
            if authority is not None
            else _("Tutti quelli del proprio ambito"),
        ),
    ]


def coverage_sheet(filters: ReportFilters, by: By) -> PeopleSheet:
    """The coverage report by region (its TOTAL row last) or by authority."""
    if by == "region":
        return PeopleSheet(
            _("Copertura della formazione per regione"),
            REGION_SHEET_COLUMNS,
            report_about(filters),
            sheet_name=_("Regioni"),
        )
    return PeopleSheet(
        _("Copertura della formazione per ente"),
        AUTHORITY_SHEET_COLUMNS,
        report_about(filters),
        sheet_name=_("Enti"),
    )


def learners_sheet(filters: ReportFilters) -> PeopleSheet:
    """The learner detail: one row per enrolment."""
    return PeopleSheet(
        _("Iscrizioni del personale"),
        LEARNER_SHEET_COLUMNS,
        report_about(filters),
        sheet_name=_("Discenti"),
    )


def hours_sheet(filters: ReportFilters, year: int, target: Decimal) -> PeopleSheet:
    """The yearly hours per authority."""
    about: list[tuple[str, object]] = [
        (_("Anno"), year),
        (_("Obiettivo annuale (ore)"), target),
        *report_about(filters),
    ]
    return PeopleSheet(
        _("Ore di formazione %(year)d", year=year),
        HOURS_SHEET_COLUMNS,
        about,
        sheet_name=_("Ore per ente"),
    )
