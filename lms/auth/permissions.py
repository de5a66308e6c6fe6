"""Who may do what: the one permission helper every view uses.

Roles grant capabilities (a fixed table below); HR managers are further limited
to a scope of authorities and regions, checked per object and in queries.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import ColumnElement, false, or_, true

from lms.auth.models import Role, User
from lms.auth.operations import user_scope
from lms.register.models import Authority, Region

F = TypeVar("F", bound=Callable[..., Any])


class Capability(enum.StrEnum):
    """Things a role may do, independent of scope."""

    LEARN = "learn"  # take courses, see own progress
    VIEW_DRAFTS = "view_drafts"  # see draft courses and module previews
    VIEW_COURSE_STATS = "view_course_stats"  # per-course and per-question statistics
    SCHEDULE_SESSIONS = "schedule_sessions"  # schedule live editions, keep their registers
    MANAGE_STAFF = "manage_staff"  # import rosters, see staff (within scope)
    ENROL = "enrol"  # enrol staff (within scope)
    VIEW_REPORTS = "view_reports"  # coverage and learner reports (within scope)
    MANAGE_USERS = "manage_users"  # create accounts of any role


ROLE_CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.LEARNER: frozenset({Capability.LEARN}),
    Role.TRAINER: frozenset(
        {
            Capability.LEARN,
            Capability.VIEW_DRAFTS,
            Capability.VIEW_COURSE_STATS,
            Capability.SCHEDULE_SESSIONS,
        }
    ),
    Role.HR: frozenset(
        {Capability.LEARN, Capability.MANAGE_STAFF, Capability.ENROL, Capability.VIEW_REPORTS}
    ),
    Role.ADMIN: frozenset(Capability),
}


def can(user: Any, capability: Capability) -> bool:
    """Whether *user* (possibly anonymous) has *capability*."""
    if not getattr(user, "is_authenticated", False):
        return False
    return capability in ROLE_CAPABILITIES[user.role]


def require(capability: Capability) -> Callable[[F], F]:
    """Decorate a view: sign-in required, then 403 unless the user has *capability*."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not can(current_user, capability):
                abort(403)
            return view(*args, **kwargs)

        return login_required(wrapped)

    return decorator


def authority_in_scope(user: User, authority: Authority) -> bool:
    """Whether *user* may see and manage *authority*'s staff."""
    if user.role is Role.ADMIN:
        return True
    if user.role is not Role.HR:
        return False
    scope = user_scope(user)
    return authority.id in scope.authority_ids or authority.region_id in scope.region_ids


def authority_scope_clause(user: User) -> ColumnElement[bool]:
    """A WHERE clause on :class:`Authority` that keeps the authorities in *user*'s scope."""
    if user.role is Role.ADMIN:
        return true()
    if user.role is not Role.HR:
        return false()
    scope = user_scope(user)
    clauses = []
    if scope.authority_ids:
        clauses.append(Authority.id.in_(scope.authority_ids))
    if scope.region_ids:
        clauses.append(Authority.region_id.in_(scope.region_ids))
    return or_(*clauses) if clauses else false()


def require_authority_in_scope(user: User, authority: Authority | None) -> Authority:
    """Return *authority* if *user* may see it; otherwise answer 404 (its existence is private)."""
    if authority is None or not authority_in_scope(user, authority):
        abort(404)
    return authority


def region_scope_ids(user: User) -> set[int] | None:
    """Regions *user* manages as a whole; None: every region (admins); empty for others."""
    if user.role is Role.ADMIN:
        return None
    if user.role is not Role.HR:
        return set()
    return set(user_scope(user).region_ids)


def require_region_in_scope(user: User, region: Region | None) -> Region:
    """Return *region* if *user* manages it as a whole; otherwise answer 404."""
    allowed = region_scope_ids(user)
    if region is None or (allowed is not None and region.id not in allowed):
        abort(404)
    return region
