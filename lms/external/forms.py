"""Forms of training done elsewhere: the learner's declaration, the HR manager's decisions.

The declaration's checks are :mod:`lms.external.values`' (the CSV import uses the
same ones); the certificate is read here, at most 5 MB and one byte, so that a
larger file is refused without being read whole.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, Field, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from lms.core.types import today_in_italy
from lms.enrolments.roster.values import CellError, parse_date
from lms.external.values import (
    MAX_CERTIFICATE_BYTES,
    PROVIDER_MAX,
    REASON_MAX,
    TITLE_MAX,
    ValueProblem,
    certificate_name,
    check_certificate,
    check_completed_on,
    clean_provider,
    clean_title,
    parse_hours,
)


class DayField(DateField):
    """A date input read as the CSV import reads dates: ``2026-03-15`` or ``15/03/2026``.

    The browser's date picker sends ISO dates; where there is none, the day typed
    the Italian way is read too, and anything else gets an Italian message.
    """

    def process_formdata(self, valuelist: list[Any]) -> None:
        """Parse the text sent; a :class:`ValueError` becomes the field's error."""
        text = str(valuelist[0]).strip() if valuelist else ""
        self.data = None
        if not text:
            return
        try:
            self.data = parse_date(text)
        except CellError:
            raise ValueError(
                str(_l("Data non valida: scrivi GG/MM/AAAA, per esempio 15/03/2026."))
            ) from None


def _sentence(problem: ValueProblem) -> str:
    """A problem as a field's message: a sentence, capitalised."""
    text = str(problem)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


class DeclarationForm(FlaskForm):
    """A course taken elsewhere: title, provider, day, hours, and optionally its certificate."""

    title = StringField(
        _l("Titolo del corso"),
        validators=[InputRequired(message=_l("Indica il titolo del corso.")), Length(max=1000)],
    )
    provider = StringField(
        _l("Ente che ha erogato il corso"),
        validators=[
            InputRequired(message=_l("Indica l'ente che ha erogato il corso.")),
            Length(max=1000),
        ],
    )
    completed_on = DayField(
        _l("Data di conclusione"),
        validators=[
            InputRequired(message=_l("Indica il giorno in cui il corso è finito (GG/MM/AAAA)."))
        ],
    )
    hours = StringField(
        _l("Ore di formazione"),
        validators=[InputRequired(message=_l("Indica le ore.")), Length(max=20)],
    )
    certificate = FileField(_l("Attestato di partecipazione (PDF, facoltativo)"))

    #: Filled by validation: the certificate's bytes and its name for display.
    certificate_data: bytes | None = None
    certificate_filename: str | None = None

    def validate_title(self, field: Field) -> None:
        """At most :data:`TITLE_MAX` characters once trimmed."""
        try:
            field.data = clean_title(field.data or "")
        except ValueProblem as problem:
            raise ValidationError(_sentence(problem)) from None

    def validate_provider(self, field: Field) -> None:
        """At most :data:`PROVIDER_MAX` characters once trimmed."""
        try:
            field.data = clean_provider(field.data or "")
        except ValueProblem as problem:
            raise ValidationError(_sentence(problem)) from None

    def validate_completed_on(self, field: Field) -> None:
        """Not in the future, not before 2000."""
        if isinstance(field.data, date):
            try:
                check_completed_on(field.data, today_in_italy())
            except ValueProblem as problem:
                raise ValidationError(_sentence(problem)) from None

    def validate_hours(self, field: Field) -> None:
        """A number of hours, ``7,5`` or ``7.5``."""
        try:
            self.parsed_hours = parse_hours(field.data or "")
        except ValueProblem as problem:
            raise ValidationError(_sentence(problem)) from None

    def validate_certificate(self, field: Field) -> None:
        """A real PDF of at most 5 MB, whatever its name or declared type."""
        storage = field.data
        if storage is None or not getattr(storage, "filename", ""):
            return
        try:
            data = storage.stream.read(MAX_CERTIFICATE_BYTES + 1)
        finally:
            storage.close()  # a large upload is spooled to a temporary file: closed now
        try:
            check_certificate(data)
        except ValueProblem as problem:
            raise ValidationError(_sentence(problem)) from None
        self.certificate_data = data
        self.certificate_filename = certificate_name(storage.filename)

    parsed_hours: Decimal

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.title.render_kw = {"maxlength": TITLE_MAX}
        self.provider.render_kw = {"maxlength": PROVIDER_MAX}


class RefuseForm(FlaskForm):
    """Refuse a declaration: the reason is required and shown to the learner."""

    reason = TextAreaField(
        _l("Motivo del rifiuto"),
        validators=[
            DataRequired(message=_l("Scrivi il motivo del rifiuto: la persona lo leggerà.")),
            Length(
                max=REASON_MAX,
                message=_l("Al massimo %(max)d caratteri.", max=REASON_MAX),
            ),
        ],
    )


class ActionForm(FlaskForm):
    """A button that changes something (CSRF only)."""


class UploadForm(FlaskForm):
    """A CSV of training done elsewhere, to check and preview."""

    file = FileField(
        _l("File della formazione esterna (CSV)"),
        validators=[FileRequired(message=_l("Scegli un file da caricare."))],
    )


class ConfirmImportForm(FlaskForm):
    """Apply a previewed upload, named by the token of its stored copy."""

    token = HiddenField(validators=[DataRequired(), Length(max=64)])
