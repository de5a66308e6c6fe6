"""The attendance register of an edition (registro presenze) as a PDF and as XLSX rows.

For the programme's expenditure documentation: the course, the module, the
edition (date, time, length, place or link, trainer), then one line per person
with name, codice fiscale, authority, minutes present and an empty signature
line. The PDF (fpdf2, A4 landscape) embeds the platform's typeface (Titillium
Web, as the certificates do), so accented names print; pages are numbered
"Pagina 2 di 5" and the table's heading repeats on each.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta

from flask_babel import get_locale
from flask_babel import gettext as _
from fpdf import FPDF
from fpdf.fonts import FontFace

from lms.core.filters import format_hours, format_pct
from lms.core.pdf_text import FONT_DIR, FONT_FAMILY, FONT_FILES, printable_text
from lms.core.people_xlsx import Column, Kind, PeopleSheet
from lms.core.types import ROME, utcnow
from lms.live.models import LiveEdition
from lms.live.queries import Person
from lms.live.rules import attended_enough, minutes_needed

PLATFORM = "Formazione Coesione"
PROGRAMME = "PN Capacità per la Coesione 2021-2027"
BLUE = (0, 102, 204)
INK = (26, 26, 26)
MUTED = (84, 101, 117)
MARGIN = 12
#: Column widths in millimetres (A4 landscape: 297 - 2 × 12 = 273).
WIDTHS = (10, 62, 42, 62, 24, 73)


def _when(edition: LiveEdition) -> tuple[str, str]:
    """The edition's day (dd/mm/yyyy) and its times in Italy (09:30-11:30)."""
    start = edition.starts_at.astimezone(ROME)
    end = (edition.starts_at + timedelta(minutes=edition.minutes)).astimezone(ROME)
    return start.strftime("%d/%m/%Y"), f"{start:%H:%M}-{end:%H:%M}"


def _where(edition: LiveEdition) -> str:
    parts = [p for p in (edition.place, edition.meeting_url) if p]
    return " · ".join(parts)


def _trainer_name(edition: LiveEdition) -> str:
    trainer = edition.trainer
    if trainer is None:
        return "—"
    return f"{trainer.first_name} {trainer.last_name}".strip() or trainer.email


class _RegisterPDF(FPDF):
    def __init__(self, heading: str) -> None:
        super().__init__(orientation="landscape", unit="mm", format="A4")
        self.heading = heading
        self.set_margins(MARGIN, 16, MARGIN)
        self.set_auto_page_break(auto=True, margin=16)
        for style, name in FONT_FILES.items():
            self.add_font(FONT_FAMILY, style, FONT_DIR / name)

    def header(self) -> None:
        self.set_y(7)
        self.set_font(FONT_FAMILY, "", 8)
        self.set_text_color(*MUTED)
        self.cell(0, 5, printable_text(self.heading), align="L")
        self.set_y(16)

    def footer(self) -> None:
        self.set_y(-11)
        self.set_font(FONT_FAMILY, "", 8)
        self.set_text_color(*MUTED)
        page = _("Pagina %(n)s di %(total)s", n=self.page_no(), total="{nb}")
        self.cell(0, 5, page, align="R")


def register_pdf(edition: LiveEdition, people: Sequence[Person]) -> bytes:
    """The register of *edition* listing *people*, as PDF bytes."""
    module = edition.module
    course = module.course
    day, times = _when(edition)
    title = _("Registro presenze")
    pdf = _RegisterPDF(f"{title} · {course.title} · {module.title} · {day}")
    pdf.set_title(f"{title} - {course.title} - {day}")
    pdf.set_author(PROGRAMME)
    pdf.set_creator(PLATFORM)
    pdf.set_lang(get_locale().language if get_locale() else "it")
    pdf.set_creation_date(utcnow())
    pdf.add_page()

    pdf.set_font(FONT_FAMILY, "B", 18)
    pdf.set_text_color(*BLUE)
    pdf.cell(0, 10, printable_text(title), new_x="LMARGIN", new_y="NEXT")
    details = [
        (_("Corso"), course.title),
        (_("Modulo"), module.title),
        (_("Edizione"), f"n. {edition.id}"),
        (_("Data e orario"), f"{day}, {times} ({_('ora italiana')})"),
        (_("Durata"), _("%(n)d minuti", n=edition.minutes)),
        (_("Luogo o link"), _where(edition) or "—"),
        (_("Formatore"), _trainer_name(edition)),
        (
            _("Presenza minima"),
            _(
                "%(pct)s della durata: %(n)d minuti (%(hours)s ore di formazione)",
                pct=format_pct(module.attendance_percent or 0),
                n=minutes_needed(edition.minutes, module.attendance_percent),
                hours=format_hours(module.live_hours),
            ),
        ),
    ]
    if edition.cancelled_at is not None:
        details.append((_("Stato"), _("sessione annullata")))
    pdf.set_text_color(*INK)
    for label, value in details:
        pdf.set_font(FONT_FAMILY, "B", 10)
        pdf.cell(40, 6, printable_text(label))
        pdf.set_font(FONT_FAMILY, "", 10)
        pdf.multi_cell(0, 6, printable_text(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    heading = FontFace(emphasis="BOLD", color=(255, 255, 255), fill_color=BLUE)
    pdf.set_font(FONT_FAMILY, "", 9)
    with pdf.table(
        col_widths=WIDTHS,
        headings_style=heading,
        line_height=9,
        text_align=("RIGHT", "LEFT", "LEFT", "LEFT", "RIGHT", "LEFT"),
        repeat_headings=1,
    ) as table:
        table.row(
            [
                "N.",
                _("Cognome e nome"),
                _("Codice fiscale"),
                _("Ente"),
                _("Minuti presenti"),
                _("Firma"),
            ]
        )
        for number, person in enumerate(people, start=1):
            staff = person.staff
            table.row(
                [
                    str(number),
                    printable_text(f"{staff.last_name} {staff.first_name}"),
                    staff.codice_fiscale,
                    printable_text(person.authority.name),
                    "" if person.minutes is None else str(person.minutes),
                    "",
                ]
            )
    if not people:
        pdf.ln(2)
        pdf.cell(0, 6, printable_text(_("Nessuna persona prenotata.")))
    pdf.ln(8)
    pdf.set_font(FONT_FAMILY, "", 10)
    pdf.cell(0, 6, printable_text(_("Firma del formatore")) + ": " + "_" * 40)
    return bytes(pdf.output())


def register_xlsx_header() -> list[str]:
    """The columns of the register's spreadsheet."""
    return [
        _("Corso"),
        _("Modulo"),
        _("Edizione"),
        _("Data"),
        _("Orario"),
        _("Durata (minuti)"),
        _("Luogo o link"),
        _("Formatore"),
        _("Cognome"),
        _("Nome"),
        _("Codice fiscale"),
        _("Ente"),
        _("Codice ente"),
        _("Minuti presenti"),
        _("Presenza valida"),
    ]


def register_sheet(edition: LiveEdition) -> PeopleSheet:
    """The register's XLSX for people: the edition above, then one row per person.

    One column per name of :func:`register_xlsx_header`; a valid attendance
    reads Sì or No.
    """
    module = edition.module
    day, times = _when(edition)
    kinds = (
        Kind.TEXT,  # course
        Kind.TEXT,  # module
        Kind.NUMBER,  # edition
        Kind.DATE,
        Kind.TEXT,  # times
        Kind.COUNT,  # minutes
        Kind.TEXT,  # place or link
        Kind.TEXT,  # trainer
        Kind.TEXT,  # last name
        Kind.TEXT,  # first name
        Kind.CODE,  # codice fiscale
        Kind.TEXT,  # authority
        Kind.CODE,  # authority code
        Kind.COUNT,  # minutes present
        Kind.TEXT,  # valid
    )
    valid = {_("sì"): _("Sì"), _("no"): _("No")}
    columns = [
        Column(label, kind, labels=valid if index == len(kinds) - 1 else None)
        for index, (label, kind) in enumerate(zip(register_xlsx_header(), kinds, strict=True))
    ]
    about: list[tuple[str, object]] = [
        (_("Corso"), module.course.title),
        (_("Modulo"), module.title),
        (_("Edizione"), f"n. {edition.id}"),
        (_("Data e orario"), f"{day}, {times} ({_('ora italiana')})"),
        (_("Formatore"), _trainer_name(edition)),
        (
            _("Presenza minima"),
            _(
                "%(pct)s della durata: %(n)d minuti",
                pct=format_pct(module.attendance_percent or 0),
                n=minutes_needed(edition.minutes, module.attendance_percent),
            ),
        ),
    ]
    if edition.cancelled_at is not None:
        about.append((_("Stato"), _("sessione annullata")))
    return PeopleSheet(_("Registro presenze"), columns, about, sheet_name=_("Registro presenze"))


def register_rows(edition: LiveEdition, people: Sequence[Person]) -> Iterator[list[object]]:
    """One row per person, the edition's columns repeated (numbers as numbers)."""
    module = edition.module
    start = edition.starts_at.astimezone(ROME)
    _day, times = _when(edition)
    where, trainer = _where(edition), _trainer_name(edition)
    for person in people:
        staff = person.staff
        if person.minutes is None:
            valid = ""
        elif attended_enough(person.minutes, edition.minutes, module.attendance_percent):
            valid = _("sì")
        else:
            valid = _("no")
        yield [
            module.course.title,
            module.title,
            edition.id,
            start.date(),
            times,
            edition.minutes,
            where,
            trainer,
            staff.last_name,
            staff.first_name,
            staff.codice_fiscale,
            person.authority.name,
            person.authority.code,
            person.minutes,
            valid,
        ]
