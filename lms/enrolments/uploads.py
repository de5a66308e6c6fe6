"""Roster uploads waiting for their confirmation: kept in the database, bound to a session.

A previewed file is stored in the database rather than on one instance's disk,
so that any instance may serve the confirmation; its token is also remembered
in the person's (signed) session, so that only the same person in the same
session can confirm it. Flushes only, as every operation.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import MutableMapping
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select

from lms.auth.models import User
from lms.auth.operations import token_hash
from lms.core.types import utcnow
from lms.enrolments.models import PendingUpload
from lms.extensions import db

#: A previewed upload waits this long for its confirmation.
UPLOAD_TTL_SECONDS = 3600
_SESSION_KEY = "staff_uploads"


def store_upload(user: User, session: MutableMapping[str, Any], data: bytes, filename: str) -> str:
    """Keep *data* in the database until it is confirmed; return the form's token.

    In the database rather than on this instance's disk, so that the confirmation
    may be served by any instance. The token is also remembered in the (signed)
    session, so only the same user in the same session can confirm it.
    """
    db.session.execute(
        delete(PendingUpload).where(
            PendingUpload.created_at < utcnow() - timedelta(seconds=UPLOAD_TTL_SECONDS)
        )
    )
    token = secrets.token_urlsafe(24)
    db.session.add(
        PendingUpload(
            token_hash=token_hash(token),
            user_id=user.id,
            filename=filename[:200],
            data=data,
        )
    )
    uploads = {
        key: value
        for key, value in session.get(_SESSION_KEY, {}).items()
        if value.get("at", 0) > time.time() - UPLOAD_TTL_SECONDS
    }
    uploads[token] = {"user": user.id, "at": time.time()}
    session[_SESSION_KEY] = uploads
    return token


def load_upload(user: User, session: MutableMapping[str, Any], token: str) -> PendingUpload | None:
    """The stored upload of *token*, if it is *user*'s, in this *session*, and still fresh.

    The row stays locked (on PostgreSQL) until the transaction ends: a second,
    concurrent confirmation of the same upload waits, then finds it gone.
    """
    entry = session.get(_SESSION_KEY, {}).get(token)
    if not entry or entry.get("user") != user.id:
        return None
    if entry.get("at", 0) < time.time() - UPLOAD_TTL_SECONDS:
        return None
    return db.session.scalar(
        select(PendingUpload)
        .where(
            PendingUpload.token_hash == token_hash(token),
            PendingUpload.user_id == user.id,
            PendingUpload.created_at >= utcnow() - timedelta(seconds=UPLOAD_TTL_SECONDS),
        )
        .with_for_update()
    )


def drop_upload(user: User, session: MutableMapping[str, Any], token: str) -> None:
    """Forget *token* in the session and delete its stored copy."""
    uploads = dict(session.get(_SESSION_KEY, {}))
    uploads.pop(token, None)
    session[_SESSION_KEY] = uploads
    db.session.execute(
        delete(PendingUpload).where(
            PendingUpload.token_hash == token_hash(token),
            PendingUpload.user_id == user.id,
        )
    )
