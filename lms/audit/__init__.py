"""The audit log: who did what, kept as identifiers and counts (see :mod:`lms.audit.models`)."""

from lms.audit.models import Action, AuditEntry, AuditObject, ObjectKind, Via
from lms.audit.operations import amend_summary, record

__all__ = ["Action", "AuditEntry", "AuditObject", "ObjectKind", "Via", "amend_summary", "record"]
