"""Forms shared by the whole site."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import AnyOf, DataRequired

LANGUAGES = ("it", "en")


class LanguageForm(FlaskForm):
    """Language switch in the header (buttons named ``lang``)."""

    lang = StringField("Lingua", validators=[DataRequired(), AnyOf(LANGUAGES)])
    next = HiddenField()
