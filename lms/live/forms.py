"""Forms of the live-session pages: an edition, the buttons, HR's person search."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from lms.live.operations import MAX_CAPACITY, MAX_MINUTES, MAX_NOTES, MAX_PLACE, MAX_URL


class WholeNumberField(IntegerField):
    """An integer field whose error says what to type (WTForms' own is terse)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        """Read the number; anything else is the field's error."""
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(str(_l("Scrivi un numero intero, per esempio 90."))) from None


class EditionForm(FlaskForm):
    """Schedule or change an edition: its day and time in Italy, length, place or link, seats."""

    day = DateField(
        _l("Data"), validators=[InputRequired(message=_l("Indica la data della sessione."))]
    )
    start = TimeField(
        _l("Ora di inizio (ora italiana)"),
        validators=[InputRequired(message=_l("Indica l'ora di inizio, per esempio 09:30."))],
    )
    minutes = WholeNumberField(
        _l("Durata in minuti"),
        validators=[
            InputRequired(message=_l("Indica la durata in minuti.")),
            NumberRange(min=1, max=MAX_MINUTES, message=_l("La durata va da 1 a %(max)s minuti.")),
        ],
    )
    place = StringField(_l("Luogo (per le sessioni in aula)"), validators=[Length(max=MAX_PLACE)])
    meeting_url = StringField(
        _l("Link della riunione (per i webinar)"), validators=[Length(max=MAX_URL)]
    )
    capacity = WholeNumberField(
        _l("Posti (vuoto: senza limite)"),
        validators=[
            Optional(),
            NumberRange(min=1, max=MAX_CAPACITY, message=_l("I posti vanno da 1 a %(max)s.")),
        ],
    )
    trainer = SelectField(_l("Formatore"), coerce=int, validate_choice=False)
    notes = TextAreaField(_l("Note per i partecipanti"), validators=[Length(max=MAX_NOTES)])


class ActionForm(FlaskForm):
    """A button that changes something (CSRF only)."""


class CancelForm(FlaskForm):
    """Call an edition off, once the trainer has ticked the box."""

    confirm = BooleanField(
        _l("Confermo: la sessione è annullata per tutte le persone prenotate"),
        validators=[DataRequired(message=_l("Spunta la conferma per annullare la sessione."))],
    )


class PersonForm(FlaskForm):
    """HR: book or remove one person (named by their staff record's id)."""

    staff_id = HiddenField(validators=[DataRequired()])
