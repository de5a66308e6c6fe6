"""Demo data for trying the product: accounts now, staff and progress as they land."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from lms.auth.models import User
from lms.auth.operations import create_user, find_authority, find_region


@dataclass(frozen=True)
class DemoUser:
    """A demo account; the password is public, so demo data never runs in production."""

    role: str
    email: str
    password: str
    first_name: str
    last_name: str
    scope_authorities: tuple[str, ...] = ()
    scope_regions: tuple[str, ...] = ()


DEMO_USERS = (
    DemoUser("learner", "discente@demo.example", "Discente-2026", "Giulia", "Esposito"),
    DemoUser("trainer", "formatore@demo.example", "Formatore-2026", "Marco", "Ferrara"),
    # HR manager of the Comune di Napoli (ISTAT 063049).
    DemoUser(
        "hr",
        "hr.napoli@demo.example",
        "Personale-2026",
        "Anna",
        "Russo",
        scope_authorities=("063049",),
    ),
    # HR manager of the whole Regione Calabria (18).
    DemoUser(
        "hr", "hr.calabria@demo.example", "Personale-2026", "Luca", "Greco", scope_regions=("18",)
    ),
    DemoUser("admin", "admin@demo.example", "Amministra-2026", "Sara", "Romano"),
)


def load_demo() -> int:
    """Create the demo accounts that do not exist yet; return how many were created."""
    if find_region("15") is None or find_authority("063049") is None:
        raise LookupError("the register is empty: run `lms register load` first")
    created = 0
    for demo in DEMO_USERS:
        if db_user_exists(demo.email):
            continue
        create_user(
            email=demo.email,
            role=demo.role,
            password=demo.password,
            first_name=demo.first_name,
            last_name=demo.last_name,
            scope_authorities=demo.scope_authorities,
            scope_regions=demo.scope_regions,
        )
        created += 1
    return created


def db_user_exists(email: str) -> bool:
    """Whether an account with *email* exists."""
    from lms.extensions import db  # noqa: PLC0415

    return db.session.scalar(select(User.id).where(User.email == email)) is not None
