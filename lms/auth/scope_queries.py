"""Reads of the register, always limited to what the reader's scope may see."""

from __future__ import annotations

from sqlalchemy import Select, case, func, or_, select

from lms.auth.models import User
from lms.auth.permissions import authority_scope_clause
from lms.core.search import fold
from lms.core.sql import LIKE_ESCAPE, contains_pattern
from lms.extensions import db
from lms.register.models import Authority, AuthorityKind, Region

#: The Region first, then the bodies above the municipalities, the municipalities,
#: their unions and the rest: the order people look for them in.
KIND_ORDER = case(
    {
        AuthorityKind.REGIONE: 0,
        AuthorityKind.CITTA_METROPOLITANA: 1,
        AuthorityKind.PROVINCIA: 2,
        AuthorityKind.COMUNE: 3,
        AuthorityKind.UNIONE_DI_COMUNI: 4,
    },
    value=Authority.kind,
    else_=5,
)


def authorities_in_scope(
    user: User,
    *,
    search: str = "",
    kind: AuthorityKind | None = None,
    region_code: str | None = None,
) -> Select[Authority]:
    """Authorities *user* may see, filtered, ordered by region then name."""
    query = (
        select(Authority)
        .join(Region)
        .where(authority_scope_clause(user))
        .order_by(Region.code, KIND_ORDER, Authority.name)
    )
    if search:
        # Accents and case aside: "ciro" finds Cirò (lms.core.search).
        pattern = contains_pattern(fold(search))
        query = query.where(
            or_(
                Authority.search_name.like(pattern, escape=LIKE_ESCAPE),
                Authority.code == search.strip(),
                func.lower(Authority.ipa_code) == search.strip().lower(),
            )
        )
    if kind is not None:
        query = query.where(Authority.kind == kind)
    if region_code:
        query = query.where(Region.code == region_code)
    return query


def regions_in_scope(user: User) -> list[Region]:
    """Regions with at least one authority *user* may see, in code order."""
    return list(
        db.session.scalars(
            select(Region)
            .where(Region.id.in_(select(Authority.region_id).where(authority_scope_clause(user))))
            .order_by(Region.code)
        )
    )
