"""Forms shared by the whole site."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField
from wtforms.validators import DataRequired


class LanguageForm(FlaskForm):
    """Language switch in the header."""

    lang = SelectField(
        "Lingua", choices=[("it", "Italiano"), ("en", "English")], validators=[DataRequired()]
    )
    next = HiddenField()
