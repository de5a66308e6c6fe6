"""Forms of the administrators' Utenti pages.

The fields only carry what the administrator typed: the rules (a known role, an
HR manager's scope, an e-mail not yet used, a valid codice fiscale) are those of
:mod:`lms.auth.operations`, the same as the command line's.
"""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from lms.auth.models import Role

#: Codes are separated by commas, semicolons or white space, as they are pasted.
_CODE_SEPARATORS = re.compile(r"[\s,;]+")


def split_codes(text: str | None) -> list[str]:
    """The codes written in *text*, in order (each once)."""
    return list(dict.fromkeys(c for c in _CODE_SEPARATORS.split(text or "") if c))


#: The roles as the forms offer them (the same labels as the pages' ``role_labels``).
ROLE_CHOICES = {
    Role.LEARNER: _l("Discente"),
    Role.TRAINER: _l("Formatore"),
    Role.HR: _l("Responsabile del personale"),
    Role.ADMIN: _l("Amministratore"),
}


def _role_choices() -> list[SelectChoice]:
    return [SelectChoice(role.value, str(label)) for role, label in ROLE_CHOICES.items()]


class _ScopeFields(FlaskForm):
    """An HR manager's scope, by code, as ``--scope-authority`` and ``--scope-region`` take it."""

    authorities = StringField(
        _l("Enti di competenza (codici ISTAT o IPA)"), validators=[Length(max=2000)]
    )
    regions = StringField(
        _l("Regioni di competenza (codici ISTAT, da 01 a 20)"), validators=[Length(max=200)]
    )


class CreateUserForm(_ScopeFields):
    """A new account: e-mail, names, role and (for an HR manager) scope."""

    email = EmailField(
        _l("E-mail"),
        validators=[InputRequired(message=_l("Indica l'indirizzo e-mail.")), Length(max=254)],
    )
    first_name = StringField(_l("Nome"), validators=[Length(max=100)])
    last_name = StringField(_l("Cognome"), validators=[Length(max=100)])
    # Any value is let through to the operation, which names the valid roles.
    role = SelectField(_l("Ruolo"), validate_choice=False, default=Role.LEARNER.value)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = _role_choices()


class RoleForm(_ScopeFields):
    """Another role; becoming an HR manager needs a scope."""

    role = SelectField(_l("Nuovo ruolo"), validate_choice=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = _role_choices()
        # The account page shows the scope form too: the ids of these fields differ.
        for field in (self.role, self.authorities, self.regions):
            field.id = f"new-{field.name}"
            field.label.field_id = field.id


class ScopeForm(_ScopeFields):
    """An HR manager's whole scope, replaced by the codes given."""


class FiscalCodeForm(FlaskForm):
    """A codice fiscale to bind, and the confirmation asked when it is a staff member's."""

    fiscal_code = StringField(
        _l("Codice fiscale"),
        validators=[InputRequired(message=_l("Indica il codice fiscale.")), Length(max=32)],
    )
    over_staff_account = BooleanField(
        _l(
            "Confermo: è il codice fiscale di un dipendente con un proprio account; "
            "con SPID o CIE entrerà in questo account invece che nel suo"
        )
    )


class LinkForm(FlaskForm):
    """How a new set-password link is handed out: e-mailed, or shown once on the page."""

    delivery = RadioField(
        _l("Consegna del link"),
        choices=[
            SelectChoice("email", _l("Invialo per e-mail all'indirizzo dell'account")),
            SelectChoice("page", _l("Mostralo qui una sola volta")),
        ],
        default="email",
        validate_choice=True,
    )


class ActionForm(FlaskForm):
    """A button that changes something (CSRF only)."""
