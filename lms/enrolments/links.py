"""One-time set-password links for staff: who may get one, issued for a list at once.

Only learner accounts get links here, and only those of staff in the issuer's
scope who are still employed, still active and still without a password: a
link sets a password, so issuing one for any other account would let the
issuer sign in as its owner (an HR manager as an administrator, say).
Issuing is a change (it cancels the earlier unused links of the same people),
so it is done by POST, in the request's one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import Select, func, select

from lms import audit
from lms.auth.links import link_url
from lms.auth.models import Role, User
from lms.auth.operations import issue_password_tokens
from lms.auth.permissions import authority_scope_clause
from lms.core.types import utcnow
from lms.extensions import db
from lms.register.models import Authority, StaffMember

#: The columns of the links download, in order (the header row).
LINK_COLUMNS = (
    "codice_fiscale",
    "last_name",
    "first_name",
    "email",
    "authority_code",
    "link",
    "expires_at",
)


@dataclass(frozen=True)
class IssuedLink:
    """One person's new link, as the download lists it."""

    user_id: int
    authority_id: int
    codice_fiscale: str
    last_name: str
    first_name: str
    email: str
    authority_code: str
    link: str
    expires_at: datetime

    def cells(self) -> tuple[object, ...]:
        """The row of the download, in :data:`LINK_COLUMNS` order."""
        return (
            self.codice_fiscale,
            self.last_name,
            self.first_name,
            self.email,
            self.authority_code,
            self.link,
            self.expires_at.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        )


def _waiting(
    issuer: User | None,
    today: date,
    authority_ids: list[int] | None = None,
    user_ids: list[int] | None = None,
    *,
    with_password: bool = False,
) -> Select:
    """People who may get a link: learners of *issuer*'s scope, employed, with no password.

    *with_password* also lets in learners who have a password (one person's new
    link from their page, when they forgot it); never any other role.
    """
    query = (
        select(
            User.id,
            StaffMember.authority_id,
            StaffMember.codice_fiscale,
            StaffMember.last_name,
            StaffMember.first_name,
            StaffMember.email,
            Authority.code,
        )
        .join(StaffMember, StaffMember.user_id == User.id)
        .join(Authority, Authority.id == StaffMember.authority_id)
        .where(
            User.role == Role.LEARNER,
            User.active.is_(True),
            StaffMember.still_employed(today),
        )
    )
    if not with_password:
        query = query.where(User.password_hash.is_(None))
    if issuer is not None:  # None: the command line, which may reach everyone
        query = query.where(authority_scope_clause(issuer))
    if authority_ids is not None:
        query = query.where(StaffMember.authority_id.in_(authority_ids))
    if user_ids is not None:
        query = query.where(User.id.in_(user_ids))
    return query


def waiting_user_ids(
    issuer: User | None, today: date, *, authority_ids: list[int] | None = None
) -> list[int]:
    """The accounts that :func:`issue_links` would reach, in staff order (for batches)."""
    return list(
        db.session.scalars(
            _waiting(issuer, today, authority_ids)
            .with_only_columns(User.id)
            .order_by(StaffMember.id)
        )
    )


def count_waiting(issuer: User | None, today: date) -> int:
    """How many people of *issuer*'s scope are waiting for a link."""
    subquery = _waiting(issuer, today, None).subquery()
    return db.session.scalar(select(func.count()).select_from(subquery)) or 0


def issue_links(
    issuer: User | None,
    today: date,
    *,
    authority_ids: list[int] | None = None,
    user_ids: list[int] | None = None,
    with_password: bool = False,
) -> list[IssuedLink]:
    """New links for everyone waiting in *issuer*'s scope (optionally only some of them).

    *with_password* (only with *user_ids*: the person page's one link) also
    reaches learners who have a password, for a forgotten one; the entry then
    counts the links that replace a password (``replacing``).

    One query for the people, one UPDATE for their earlier links, one multi-row
    INSERT for the new ones, whatever their number. Flushes only: the caller's
    transaction decides, and a link is handed out (e-mailed) only after it.
    """
    hours = current_app.config["PASSWORD_TOKEN_HOURS"]
    if with_password and user_ids is None:
        raise ValueError("links replacing passwords are issued for named accounts only")
    rows = db.session.execute(
        _waiting(issuer, today, authority_ids, user_ids, with_password=with_password).order_by(
            StaffMember.last_name, StaffMember.first_name, StaffMember.id
        )
    ).all()
    now = utcnow()
    summary: dict[str, int] = {"links": len(rows), "hours": hours}
    if with_password and rows:
        summary["replacing"] = (
            db.session.scalar(
                select(func.count()).where(
                    User.id.in_([row[0] for row in rows]), User.password_hash.is_not(None)
                )
            )
            or 0
        )
    tokens = issue_password_tokens([row[0] for row in rows], hours=hours, now=now)
    expires_at = now + timedelta(hours=hours)
    if rows:
        audit.record(
            audit.Action.LINKS_ISSUE,
            actor_id=issuer.id if issuer is not None else None,
            objects=[(audit.ObjectKind.USER, row[0]) for row in rows],
            authority_ids=sorted({row[1] for row in rows}),
            summary=summary,
            at=now,
        )
    return [
        IssuedLink(
            user_id=user_id,
            authority_id=authority_id,
            codice_fiscale=codice_fiscale,
            last_name=last_name,
            first_name=first_name,
            email=email,
            authority_code=code,
            link=link_url(tokens[user_id]),
            expires_at=expires_at,
        )
        for user_id, authority_id, codice_fiscale, last_name, first_name, email, code in rows
    ]
