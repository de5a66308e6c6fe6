"""Sign-in and password forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    """E-mail and password (field names are part of the product's interface)."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    next = HiddenField()


class SetPasswordForm(FlaskForm):
    """Choose a password through a one-time link."""

    password = PasswordField(
        _l("Nuova password"),
        validators=[
            DataRequired(),
            Length(min=10, max=1024, message=_l("La password deve avere almeno 10 caratteri.")),
        ],
    )
    confirm = PasswordField(
        _l("Ripeti la password"),
        validators=[DataRequired(), EqualTo("password", message=_l("Le password non coincidono."))],
    )


class ForgotPasswordForm(FlaskForm):
    """Ask for a new one-time link by e-mail."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])


class NamesForm(FlaskForm):
    """Correct one's own name (accounts without a staff record)."""

    first_name = StringField(_l("Nome"), validators=[DataRequired(), Length(max=100)])
    last_name = StringField(_l("Cognome"), validators=[DataRequired(), Length(max=100)])


class ChangePasswordForm(SetPasswordForm):
    """Change one's own password; the current one is asked when there is one.

    The new password and its check are :class:`SetPasswordForm`'s (the same rules
    wherever a password is chosen); the page draws the fields by name.
    """

    current = PasswordField(_l("Password attuale"), validators=[Length(max=1024)])
    confirm = PasswordField(
        _l("Ripeti la nuova password"),
        validators=[DataRequired(), EqualTo("password", message=_l("Le password non coincidono."))],
    )


class EndSessionForm(FlaskForm):
    """End one of one's other sessions, or (without an id) all of them."""

    session_id = HiddenField()
