"""Training done elsewhere: declaring, withdrawing, approving, refusing.

Plain functions on objects and values: they check the rule, change rows, flush,
never commit, and write the audit entry of a decision (:func:`approve`,
:func:`refuse`). A learner's own declaration and its withdrawal are their own
data, like their name or their reminder choice: not audited.

Who may do what (the views check the role, these functions the object too):

- declare: a person with a staff record who has not left (:func:`declarant`);
- withdraw: the declarant, while the declaration is pending;
- approve or refuse: an HR manager whose scope holds the person's authority, or
  an administrator, never on their own record (:func:`may_decide`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select

from lms import audit
from lms.auth.models import User
from lms.auth.operations import left_staff_on
from lms.auth.permissions import Capability, authority_in_scope, can
from lms.core.messages import Message, _l
from lms.core.types import utcnow
from lms.extensions import db
from lms.external.models import ExternalTraining, TrainingSource, TrainingStatus
from lms.external.values import REASON_MAX, same_course_key
from lms.register.models import StaffMember


class TrainingError(Exception):
    """A change the rules refuse; ``str()`` says why, in the reader's language."""

    def __init__(self, message: Message) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)


def declarant(user: User, today: date) -> StaffMember | None:
    """*user*'s staff record if they may declare training: on the register and not left.

    Leaving is what sign-in enforces on every request
    (:func:`lms.auth.operations.left_staff_on`); an account without a staff
    record (a trainer, an administrator, a learner nobody put on the staff) has
    no yearly hours to make up, so nothing to declare.
    """
    account = left_staff_on(user.id, today)
    if account is None or account[1] is not None:  # no such account, or left by today
        return None
    return db.session.scalar(select(StaffMember).where(StaffMember.user_id == user.id))


@dataclass(frozen=True)
class Declaration:
    """What a learner declares (values already checked by the form)."""

    title: str
    provider: str
    completed_on: date
    hours: Decimal
    certificate: bytes | None = None
    certificate_filename: str | None = None


def declare(staff: StaffMember, declaration: Declaration, *, user: User) -> ExternalTraining:
    """Add *declaration* for *staff*, pending the HR manager's decision.

    Refused if the same course (title in any case and spacing, same day) is
    already pending or approved for the person: declaring it twice would count
    it twice. One that was refused may be declared again.
    """
    key = same_course_key(declaration.title, declaration.completed_on)
    for title, completed_on in db.session.execute(
        select(ExternalTraining.title, ExternalTraining.completed_on).where(
            ExternalTraining.staff_id == staff.id,
            ExternalTraining.completed_on == declaration.completed_on,
            ExternalTraining.status != TrainingStatus.REFUSED,
        )
    ):
        if same_course_key(title, completed_on) == key:
            raise TrainingError(
                _l(
                    "Hai già dichiarato questo corso con la stessa data: "
                    "lo trovi nell'elenco della tua formazione esterna."
                )
            )
    training = ExternalTraining(
        staff_id=staff.id,
        title=declaration.title,
        provider=declaration.provider,
        completed_on=declaration.completed_on,
        hours=declaration.hours,
        status=TrainingStatus.PENDING,
        source=TrainingSource.DECLARED,
        certificate_pdf=declaration.certificate,
        certificate_filename=(
            (declaration.certificate_filename or "attestato.pdf")
            if declaration.certificate is not None
            else None
        ),
        declared_by_id=user.id,
        declared_at=utcnow(),
    )
    db.session.add(training)
    db.session.flush()
    return training


def is_own(user: User, training: ExternalTraining) -> bool:
    """Whether *training* is *user*'s own record (through their staff record)."""
    return training.staff.user_id is not None and training.staff.user_id == user.id


def withdraw(training: ExternalTraining, *, user: User) -> None:
    """Delete *user*'s own pending declaration."""
    if not is_own(user, training):
        raise TrainingError(_l("Puoi ritirare solo le tue dichiarazioni."))
    if training.status is not TrainingStatus.PENDING:
        raise TrainingError(_l("La dichiarazione è già stata valutata: non si può più ritirare."))
    db.session.delete(training)
    db.session.flush()


def may_decide(user: User, training: ExternalTraining) -> bool:
    """Whether *user* may approve or refuse *training*: its person's HR manager, never oneself."""
    return (
        can(user, Capability.MANAGE_STAFF)
        and authority_in_scope(user, training.staff.authority)
        and not is_own(user, training)
    )


def _check_decider(user: User, training: ExternalTraining) -> None:
    if is_own(user, training):
        raise TrainingError(_l("Non puoi valutare una tua dichiarazione."))
    if not may_decide(user, training):
        raise TrainingError(_l("Questa persona non è tra quelle di tua competenza."))


def approve(training: ExternalTraining, *, actor: User, now: datetime | None = None) -> None:
    """Approve *training*: its hours count from now on. A refused one may be approved later."""
    _check_decider(actor, training)
    if training.status is TrainingStatus.APPROVED:
        raise TrainingError(_l("La formazione è già approvata."))
    before = training.status
    training.status = TrainingStatus.APPROVED
    training.refusal_reason = None
    _decided(training, actor, now)
    _record(audit.Action.TRAINING_APPROVE, training, actor, before)


def refuse(
    training: ExternalTraining, *, actor: User, reason: str, now: datetime | None = None
) -> None:
    """Refuse *training* with *reason* (required, at most 500 characters), shown to the learner.

    An approved record may be refused afterwards (a mistake found later): its
    hours stop counting.
    """
    _check_decider(actor, training)
    cleaned = reason.strip()
    if not cleaned:
        raise TrainingError(_l("Scrivi il motivo del rifiuto: la persona lo leggerà."))
    if len(cleaned) > REASON_MAX:
        raise TrainingError(
            _l("Il motivo è troppo lungo: al massimo %(max)d caratteri.", max=REASON_MAX)
        )
    if training.status is TrainingStatus.REFUSED:
        raise TrainingError(_l("La formazione è già stata rifiutata."))
    before = training.status
    training.status = TrainingStatus.REFUSED
    training.refusal_reason = cleaned
    _decided(training, actor, now)
    _record(audit.Action.TRAINING_REFUSE, training, actor, before)


def _decided(training: ExternalTraining, actor: User, now: datetime | None) -> None:
    training.decided_by_id = actor.id
    training.decided_at = now or utcnow()
    db.session.flush()


def _record(
    action: audit.Action, training: ExternalTraining, actor: User, before: TrainingStatus
) -> None:
    """The decision's entry: the record and its person, their authority as the area.

    Counts and identifiers only: no title (it may name someone), no reason.
    """
    audit.record(
        action,
        actor_id=actor.id,
        objects=[
            (audit.ObjectKind.TRAINING, training.id),
            (audit.ObjectKind.STAFF, training.staff_id),
        ],
        authority_ids=[training.staff.authority_id],
        summary={
            "hours": format(training.hours, "f"),
            "year": training.completed_on.year,
            "source": training.source.value,
            "before": before.value,
        },
    )
