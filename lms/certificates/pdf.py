"""The certificate as an A4 landscape PDF (fpdf2), built in memory."""

from __future__ import annotations

from datetime import date
from typing import cast

from flask_babel import get_locale
from flask_babel import gettext as _
from fpdf import FPDF

from lms.certificates.models import Certificate
from lms.core.filters import format_hours
from lms.core.pdf_text import FONT_DIR, FONT_FAMILY, FONT_FILES, printable_text
from lms.core.types import rome_date

#: Issuing programme, as printed on every certificate (a proper name: not translated).
PROGRAMME = "PN Capacità per la Coesione 2021-2027"
PLATFORM = "Formazione Coesione"


BLUE = (0, 102, 204)  # Bootstrap Italia's primary colour
INK = (26, 26, 26)
MUTED = (84, 101, 117)

PAGE_WIDTH = 297  # A4 landscape, millimetres
MARGIN = 30
TEXT_WIDTH = PAGE_WIDTH - 2 * MARGIN
#: Long names, titles and addresses are set smaller, down to this size (points).
MIN_SIZE = 8


def italian_date(day: date) -> str:
    """dd/mm/yyyy, as Italian documents write dates."""
    return day.strftime("%d/%m/%Y")


class _CertificatePDF(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="landscape", unit="mm", format="A4")
        self.set_auto_page_break(auto=False)
        self.set_margins(MARGIN, 20, MARGIN)
        for style, name in FONT_FILES.items():
            self.add_font(FONT_FAMILY, style, FONT_DIR / name)

    def fit(self, text: str, size: float, width: float, style: str = "") -> str:
        """Set the font at *size*, or smaller until *text* fits *width*; return what to print."""
        text = printable_text(text)
        self.set_font(FONT_FAMILY, style, size)
        while size > MIN_SIZE and self.get_string_width(text) > width:
            size -= 0.5
            self.set_font(FONT_FAMILY, style, size)
        return text

    def text_at(
        self,
        x: float,
        y: float,
        text: str,
        size: float,
        width: float,
        *,
        style: str = "",
        colour: tuple[int, int, int] = INK,
        align: str = "L",
        h: float = 5,
        link: str = "",
    ) -> None:
        """One line at (*x*, *y*), *width* wide, shrunk until it fits."""
        text = self.fit(text, size, width, style)
        self.set_xy(x, y)
        self.set_text_color(*colour)
        self.cell(w=width, h=h, text=text, align=align, link=link)

    def line_of(
        self,
        text: str,
        size: float,
        *,
        bold: bool = False,
        colour: tuple[int, int, int] = INK,
        h: float = 0,
    ) -> None:
        """One centred line across the page, shrunk until it fits."""
        text = self.fit(text, size, TEXT_WIDTH, "B" if bold else "")
        self.set_text_color(*colour)
        self.cell(
            w=TEXT_WIDTH, h=h or size * 0.5, text=text, align="C", new_x="LMARGIN", new_y="NEXT"
        )

    def block_of(self, text: str, size: float, *, bold: bool = False, max_lines: int = 2) -> None:
        """A centred paragraph of at most *max_lines* lines, shrunk until it fits."""
        text = printable_text(text)
        style = "B" if bold else ""
        while True:
            self.set_font(FONT_FAMILY, style, size)
            # fpdf2 types the result as a union over every output; LINES gives the lines.
            lines = cast(
                "list[str]",
                self.multi_cell(w=TEXT_WIDTH, text=text, dry_run=True, output="LINES"),
            )
            if len(lines) <= max_lines or size <= MIN_SIZE:
                break
            size -= 1
        self.set_text_color(*INK)
        self.multi_cell(
            w=TEXT_WIDTH, h=size * 0.5, text=text, align="C", new_x="LMARGIN", new_y="NEXT"
        )


def certificate_pdf(certificate: Certificate, verification_url: str) -> bytes:
    """The certificate as PDF bytes; *verification_url* is the public page that confirms it."""
    pdf = _CertificatePDF()
    _describe(pdf, certificate)
    pdf.add_page()
    _draw_frame(pdf)
    _draw_statement(pdf, certificate)
    _draw_issue_and_check(pdf, certificate, verification_url)
    return bytes(pdf.output())


def _describe(pdf: FPDF, certificate: Certificate) -> None:
    """Document properties, as a PDF reader lists them."""
    pdf.set_title(f"{_('Attestato di completamento')} - {certificate.course_title}")
    pdf.set_author(PROGRAMME)
    pdf.set_subject(
        _(
            "%(name)s ha completato il corso «%(course)s»",
            name=certificate.holder_name,
            course=certificate.course_title,
        )
    )
    pdf.set_keywords([certificate.display_code])
    pdf.set_creator(PLATFORM)
    pdf.set_lang(get_locale().language if get_locale() else "it")
    pdf.set_creation_date(certificate.issued_at)


def _draw_frame(pdf: FPDF) -> None:
    pdf.set_draw_color(*BLUE)
    pdf.set_line_width(0.8)
    pdf.rect(10, 10, PAGE_WIDTH - 20, 190)
    pdf.set_line_width(0.25)
    pdf.rect(13, 13, PAGE_WIDTH - 26, 184)


def _draw_statement(pdf: _CertificatePDF, certificate: Certificate) -> None:
    """The programme, the title and the sentence: who completed what, how long, when."""
    pdf.set_y(22)
    pdf.set_char_spacing(0.6)
    pdf.line_of(PROGRAMME.upper(), 11, bold=True, colour=BLUE)
    pdf.set_char_spacing(0)
    pdf.line_of(PLATFORM, 10, colour=MUTED)

    pdf.set_y(42)
    pdf.line_of(_("Attestato di completamento"), 30, bold=True, colour=BLUE, h=16)
    pdf.ln(6)
    pdf.line_of(_("Si attesta che"), 13, colour=MUTED, h=8)
    pdf.line_of(certificate.holder_name, 24, bold=True, h=13)
    cf = _("codice fiscale %(cf)s", cf=certificate.codice_fiscale)
    pdf.line_of(cf, 12, colour=MUTED, h=7)
    pdf.ln(4)
    pdf.line_of(_("ha completato il corso"), 13, colour=MUTED, h=9)
    pdf.block_of(certificate.course_title, 18, bold=True)
    pdf.ln(3)
    duration = _(
        "della durata di %(hours)s ore, in data %(date)s",
        hours=format_hours(certificate.hours),
        date=italian_date(certificate.completed_on),
    )
    pdf.line_of(duration, 13, h=8)


def _draw_issue_and_check(
    pdf: _CertificatePDF, certificate: Certificate, verification_url: str
) -> None:
    """At the bottom: who issued it and when (left), how to check it (right)."""
    column = (TEXT_WIDTH - 10) / 2
    top = 158
    pdf.set_draw_color(*MUTED)
    pdf.set_line_width(0.2)
    pdf.line(MARGIN, top - 4, PAGE_WIDTH - MARGIN, top - 4)

    issued = _("Rilasciato il %(date)s", date=italian_date(rome_date(certificate.issued_at)))
    pdf.text_at(MARGIN, top, issued, 11, column, h=6)
    issuer = _(
        "Rilasciato dalla piattaforma %(platform)s del %(programme)s.",
        platform=PLATFORM,
        programme=PROGRAMME,
    )
    pdf.set_xy(MARGIN, top + 6)
    pdf.set_font(FONT_FAMILY, "", 10)
    pdf.set_text_color(*MUTED)
    pdf.multi_cell(w=column, h=5, align="L", text=printable_text(issuer))

    right = MARGIN + column + 10
    pdf.text_at(right, top, _("Codice di verifica"), 10, column, colour=MUTED, align="R", h=6)
    code = certificate.display_code
    pdf.text_at(right, top + 6, code, 15, column, style="B", align="R", h=8)
    check = _("Verifica l'autenticità all'indirizzo")
    pdf.text_at(right, top + 15, check, 9, column, colour=MUTED, align="R")
    pdf.text_at(
        right, top + 20, verification_url, 9, column, colour=BLUE, align="R", link=verification_url
    )
