"""The SAML messages this service provider sent and still waits an answer for."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, String
from sqlalchemy.orm import Mapped, mapped_column

from lms.core.types import UTCDateTime, utcnow
from lms.extensions import Model


class RequestKind(enum.StrEnum):
    """What the message asked: a sign-in, or a single logout."""

    AUTHN = "authn"
    LOGOUT = "logout"


class SamlRequest(Model):
    """An AuthnRequest or LogoutRequest sent to an identity provider.

    Its answer must name it (``InResponseTo``), come from the same identity
    provider and arrive in time; it is accepted once (``answered_at``): a replayed
    response finds it answered. Kept in the database, not in the browser's
    cookie: the identity provider posts back from another site, and a
    SameSite=Lax cookie does not come with that POST; several instances share it.
    """

    __tablename__ = "saml_requests"

    #: The message's ID attribute (random, 41 characters).
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[RequestKind] = mapped_column(
        Enum(
            RequestKind,
            name="saml_request_kind",
            native_enum=False,
            create_constraint=True,
            length=16,
            values_callable=lambda kinds: [k.value for k in kinds],
        )
    )
    #: "spid" or "cie": which button started it.
    profile: Mapped[str] = mapped_column(String(8))
    idp_entity_id: Mapped[str] = mapped_column(String(1024))
    #: The AuthnContextClassRef asked for (the answer must meet it).
    level: Mapped[str] = mapped_column(String(128), default="")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: SHA-256 (hex) of the nonce in the cookie of the browser that started a
    #: sign-in: its answer is accepted only with that cookie (lms.spid.views.BROWSER_COOKIE).
    browser_hash: Mapped[str | None] = mapped_column(String(64))
