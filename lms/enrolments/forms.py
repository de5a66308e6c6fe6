"""Forms of the HR managers' staff pages: roster upload, enrolment, a person's record."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, Field, HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from lms.core.types import today_in_italy
from lms.enrolments.reminder_days import ReminderDaysError, parse_reminder_days

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
    #: The standing rule's own days before the due date; empty: the deployment's.
    reminder_days = StringField(
        _l("Promemoria (giorni prima della scadenza)"),
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
    )
    no_reminders = BooleanField(_l("Nessun promemoria prima della scadenza"))

    #: The parsed days (set by :meth:`validate_reminder_days`): None for the deployment's.
    parsed_reminder_days: tuple[int, ...] | None = None

    def validate_reminder_days(self, field: Field) -> None:
        """Whole days 1-365 separated by commas, or empty; not with "no reminders" too."""
        self.parsed_reminder_days = None
        text = field.data or ""
        if self.no_reminders.data and text:
            raise ValidationError(
                _l(
                    "Indica i giorni dei promemoria oppure «Nessun promemoria prima "
                    "della scadenza», non entrambi."
                )
            )
        if (text or self.no_reminders.data) and not self.standing.data:
            raise ValidationError(
                _l(
                    "I promemoria propri valgono per le iscrizioni permanenti: seleziona "
                    "«Iscrizione permanente» oppure lascia i promemoria predefiniti."
                )
            )
        if self.no_reminders.data:
            self.parsed_reminder_days = ()
            return
        if not text:
            return
        try:
            days = parse_reminder_days(text)
        except ReminderDaysError as error:
            raise ValidationError(str(error) + ".") from None
        if not days:
            raise ValidationError(
                _l(
                    "Indica almeno un giorno (per esempio 14,7,1), oppure lascia vuoto il campo "
                    "per i promemoria predefiniti."
                )
            )
        self.parsed_reminder_days = days


class RosterDateField(DateField):
    """A date input whose text is read by the import's date rules, not by WTForms.

    The browser sends ISO dates (``2026-03-02``); someone typing ``02/03/2026`` where
    there is no date picker is read as the import reads it. ``data`` stays the text.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.type = "DateField"  # drawn as a date input (macros.field raises its label)

    def process_formdata(self, valuelist: list[Any]) -> None:
        """Keep the text as sent."""
        self.data = str(valuelist[0]) if valuelist else None

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(str(value) for value in self.raw_data)
        if isinstance(self.data, date):
            return self.data.isoformat()
        return str(self.data or "")


class PersonEditForm(FlaskForm):
    """One person's record: the roster's columns but the codice fiscale (the key).

    Plain text fields, no validators of their own: the values go through the
    import's row check (:mod:`lms.enrolments.person_edit`), whose messages are
    put on the fields.
    """

    first_name = StringField(_l("Nome"))
    last_name = StringField(_l("Cognome"))
    email = StringField(_l("E-mail"))
    #: A choice among the authorities in scope, or a code typed (administrators).
    authority_code = StringField(_l("Ente (codice ISTAT o IPA)"))
    category = SelectField(
        _l("Categoria"),
        choices=[SelectChoice(value, label) for value, label in CATEGORY_NAMES.items()],
        validate_choice=False,  # the import's check words the error
    )
    profile = StringField(_l("Profilo (facoltativo)"))
    hired_on = RosterDateField(_l("Data di assunzione (facoltativa)"))
    left_on = RosterDateField(_l("Data di cessazione (facoltativa)"))
    #: Set by the confirmation of an edit that ends the person's access.
    confirm_leave = HiddenField()
