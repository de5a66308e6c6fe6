"""Forms of the HR managers' staff pages: roster upload, enrolment."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, Field, HiddenField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from lms.core.types import today_in_italy

#: How far ahead a due date may be set (a typo such as 2206 is caught).
DUE_ON_MAX_YEARS = 10


def due_date_ahead(_form: FlaskForm, field: Field) -> None:
    """A due date is today (in Italy) or later, and within ten years.

    A date already passed would make every enrolment overdue the day it is made.
    """
    if field.data is None:
        return
    today = today_in_italy()
    if field.data < today:
        raise ValidationError(_l("La scadenza è già passata: indica oggi o una data futura."))
    if field.data.year > today.year + DUE_ON_MAX_YEARS:
        raise ValidationError(
            _l(
                "La scadenza è troppo lontana: indica una data entro %(n)d anni.",
                n=DUE_ON_MAX_YEARS,
            )
        )


#: Staff categories as groups (filters, enrolment by category, reports).
CATEGORY_LABELS = {
    "new_hire": _l("Neoassunti"),
    "existing": _l("Già in servizio"),
}
#: One person's category (a row of the staff list, a person's page). Not "In servizio":
#: the staff list's status column says whether someone is still on the staff.
CATEGORY_NAMES = {
    "new_hire": _l("Neoassunto/a"),
    "existing": _l("Già in servizio"),
}


class UploadForm(FlaskForm):
    """A roster file (CSV or XLSX) to check and preview."""

    roster = FileField(
        _l("File del personale (CSV o XLSX)"),
        validators=[FileRequired(message=_l("Scegli un file da caricare."))],
    )


class ConfirmImportForm(FlaskForm):
    """Apply a previewed upload, named by the token of its stored copy."""

    token = HiddenField(validators=[DataRequired(), Length(max=64)])


class ActionForm(FlaskForm):
    """A button that changes something (CSRF only)."""


class EnrolPersonForm(FlaskForm):
    """Enrol one person in a published course."""

    course = SelectField(_l("Corso"), coerce=int, validators=[DataRequired()])
    due_on = DateField(_l("Scadenza (facoltativa)"), validators=[Optional(), due_date_ahead])


class EnrolGroupForm(FlaskForm):
    """Enrol the staff of an authority or a region in a course."""

    course = SelectField(_l("Corso"), coerce=int, validators=[DataRequired()])
    #: "a:<authority id>" or "r:<region id>"; checked against the reader's scope in the view.
    target = SelectField(_l("Ente o regione"), validators=[DataRequired()], validate_choice=False)
    category = SelectField(
        _l("Categoria"),
        choices=[
            SelectChoice("", _l("Tutto il personale")),
            *(SelectChoice(value, label) for value, label in CATEGORY_LABELS.items()),
        ],
        validators=[Optional()],
    )
    due_on = DateField(_l("Scadenza (facoltativa)"), validators=[Optional(), due_date_ahead])
    standing = BooleanField(
        _l("Iscrizione permanente (iscrivi anche chi sarà importato in seguito)"), default=True
    )
