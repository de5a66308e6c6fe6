"""The audit log: who did what to which records, for accountability (GDPR art. 5(2)).

An entry keeps identifiers and counts only, never a copy of personal data: names,
e-mail addresses and codici fiscali stay in their own tables, and go when those
rows go. Other domains' rows are named by kind and id, through no foreign key and
no import: every domain writes here, so this package sits below all of them.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lms.core.types import UTCDateTime, utcnow
from lms.extensions import Model


class Action(enum.StrEnum):
    """What an entry records: short codes that stay the same once written."""

    STAFF_IMPORT = "staff.import"
    ENROLMENT_CREATE = "enrolment.create"
    ENROLMENT_DELETE = "enrolment.delete"
    RULE_CREATE = "rule.create"
    RULE_DELETE = "rule.delete"
    LINKS_ISSUE = "links.issue"
    USER_CREATE = "user.create"
    USER_DEACTIVATE = "user.deactivate"
    USER_REACTIVATE = "user.reactivate"
    USER_ROLE = "user.role"
    USER_SCOPE = "user.scope"
    USER_FISCAL_CODE = "user.fiscal_code"
    USER_SESSIONS_END = "user.sessions_end"
    USER_PASSWORD = "user.password"  # noqa: S105 - an action's name, not a secret
    USER_NAMES = "user.names"
    USER_REMINDERS = "user.reminders"
    USER_CALENDAR = "user.calendar"  # a new address of one's own calendar feed
    STAFF_UPDATE = "staff.update"
    CONTENT_SYNC = "content.sync"
    # Live sessions (lms.live)
    EDITION_CREATE = "edition.create"
    EDITION_UPDATE = "edition.update"
    EDITION_CANCEL = "edition.cancel"
    SIGNUP_CREATE = "signup.create"  # a seat booked for someone else (HR, trainer, admin)
    SIGNUP_CANCEL = "signup.cancel"  # a seat given up for someone else
    ATTENDANCE_RECORD = "attendance.record"  # marked on the register page
    ATTENDANCE_IMPORT = "attendance.import"  # read from Teams' or Zoom's report
    # Training done elsewhere (lms.external)
    TRAINING_APPROVE = "training.approve"
    TRAINING_REFUSE = "training.refuse"
    TRAINING_IMPORT = "training.import"


class ObjectKind(enum.StrEnum):
    """The kinds of record an entry may be about."""

    STAFF = "staff"
    USER = "user"
    AUTHORITY = "authority"
    REGION = "region"
    COURSE = "course"
    ENROLMENT = "enrolment"
    RULE = "rule"
    EDITION = "edition"  # a live session's edition
    TRAINING = "training"  # a training done elsewhere


#: An entry's area: the authorities and regions it is about. An HR manager sees
#: the entries with an area object in their scope, and only those.
AREA_KINDS = (ObjectKind.AUTHORITY, ObjectKind.REGION)


class Via(enum.StrEnum):
    """Where the action came from."""

    WEB = "web"
    CLI = "cli"


class AuditEntry(Model):
    """One action: when, by whom, what, with which counts."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    #: The account that acted; empty for the command line (and once the account is deleted).
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    via: Mapped[Via] = mapped_column(
        Enum(
            Via,
            name="audit_via",
            native_enum=False,
            create_constraint=True,
            length=8,
            values_callable=lambda members: [m.value for m in members],
        )
    )
    #: An :class:`Action` code, kept as text: new codes need no migration.
    action: Mapped[str] = mapped_column(String(40), index=True)
    #: Counts and identifiers (course code, a file's SHA-256): never names,
    #: e-mail addresses or codici fiscali (:func:`lms.audit.operations.record` refuses them).
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    def __repr__(self) -> str:
        return f"<AuditEntry {self.id} {self.action}>"


class AuditObject(Model):
    """A record an entry is about (a person, an authority, a course …), by kind and id."""

    __tablename__ = "audit_objects"
    __table_args__ = (
        # Every entry about one person (or authority, course …).
        Index("ix_audit_objects_kind_object", "kind", "object_id"),
    )

    entry_id: Mapped[int] = mapped_column(
        ForeignKey("audit_entries.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[ObjectKind] = mapped_column(
        Enum(
            ObjectKind,
            name="audit_object_kind",
            native_enum=False,
            create_constraint=True,
            length=16,
            values_callable=lambda members: [m.value for m in members],
        ),
        primary_key=True,
    )
    #: The id of the row in the kind's table (staff_members, users, authorities …).
    object_id: Mapped[int] = mapped_column(Integer, primary_key=True)

    def __repr__(self) -> str:
        return f"<AuditObject {self.entry_id} {self.kind}:{self.object_id}>"
