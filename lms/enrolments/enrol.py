"""Enrolment rules: by authority, region or person, once per person and course.

Everything here is set-based: one INSERT … SELECT enrols a whole authority or
region, whatever its size, and enrolling someone twice changes nothing.

Due dates of standing rules: the people enrolled when a rule is made get its due
date; people the rule enrols later (imported or moved into the authority) get the
same number of days from the day they arrive, never less than the rule's date
(:func:`newcomer_due_on`). All days are Italian days (:func:`rome_date`).

Reminder days of standing rules: a rule may carry its own list of days before
the due date on which its people are reminded (:mod:`lms.enrolments.reminder_days`),
stored normalised ("14,7,1"; "" none); without one (None) the deployment's
``LMS_REMINDER_DAYS`` apply. The planner of the reminders reads them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import (
    Date,
    Select,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement, SQLCoreOperations
from sqlalchemy.sql.selectable import Subquery

from lms.audit import Action, AuditEntry, ObjectKind, amend_summary, record
from lms.auth.models import User
from lms.core.sql import rowcount
from lms.core.types import rome_date, utcnow
from lms.courses.models import Course
from lms.enrolments import facts
from lms.enrolments.models import Enrolment, EnrolmentRule
from lms.enrolments.reminder_days import format_reminder_days
from lms.extensions import db
from lms.register.models import Authority, StaffCategory, StaffMember

#: psycopg reports -1 rows for INSERT … SELECT unless asked to keep the count.
KEEP_ROWCOUNT = {"preserve_rowcount": True}

#: Above this many staff ids, :func:`apply_rules` matches all staff instead.
MAX_LISTED_IDS = 5000


@dataclass(frozen=True)
class EnrolResult:
    """How many people an enrolment reached."""

    enrolled: int
    already: int
    rules_added: int = 0


def rule_window_days(due_on: date | None, made_on: date) -> int | None:
    """The days a rule made on *made_on* gives (None without a due date, 0 once it passed)."""
    if due_on is None:
        return None
    return max(0, (due_on - made_on).days)


def _add_days(day: date, days: int) -> date:
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max


def newcomer_due_on(due_on: date | None, window_days: int | None, enrolled_on: date) -> date | None:
    """The due date a standing rule gives someone it enrols on *enrolled_on*.

    The rule's own date while it still leaves them the rule's window, else
    *enrolled_on* plus the window: max(due_on, enrolled_on + window_days). No due
    date gives none; a missing window counts as 0 (due the day they arrive).
    :func:`apply_rules` computes the same in SQL.
    """
    if due_on is None:
        return None
    return max(due_on, _add_days(enrolled_on, window_days or 0))


def active_staff_clause(today: date) -> SQLCoreOperations[bool]:
    """Staff who have not left by *today*."""
    return StaffMember.still_employed(today)


def _targets(
    authority_ids: Iterable[int],
    region_ids: Iterable[int],
    staff_ids: Iterable[int],
    category: StaffCategory | None,
    today: date,
) -> Select[int]:
    authority_ids, region_ids, staff_ids = set(authority_ids), set(region_ids), set(staff_ids)
    if not (authority_ids or region_ids or staff_ids):
        raise ValueError("an enrolment needs at least one authority, region or person")
    who = []
    if authority_ids:
        who.append(StaffMember.authority_id.in_(authority_ids))
    if region_ids:
        who.append(
            StaffMember.authority_id.in_(
                select(Authority.id).where(Authority.region_id.in_(region_ids))
            )
        )
    if staff_ids:
        who.append(StaffMember.id.in_(staff_ids))
    query = select(StaffMember.id).where(or_(*who), active_staff_clause(today))
    if category is not None:
        query = query.where(StaffMember.category == category)
    return query


def enrol(
    course: Course,
    *,
    authority_ids: Iterable[int] = (),
    region_ids: Iterable[int] = (),
    staff_ids: Iterable[int] = (),
    category: StaffCategory | None = None,
    due_on: date | None = None,
    by: User | None = None,
    standing: bool = True,
    reminder_days: Iterable[int] | None = None,
    now: datetime | None = None,
) -> EnrolResult:
    """Enrol the current staff of authorities, regions or named people in *course*.

    With *standing* (the default), enrolling an authority or a region also makes
    a rule that enrols people imported there later. People who left are skipped.
    *reminder_days* are the new rules' own days before the due date (empty: no
    reminder before it; None: the deployment's); a bad list raises
    :class:`~lms.enrolments.reminder_days.ReminderDaysError` before anything is written.
    """
    now = now or utcnow()
    stored_days = format_reminder_days(reminder_days) if reminder_days is not None else None
    authority_ids, region_ids, staff_ids = list(authority_ids), list(region_ids), list(staff_ids)
    targets = _targets(authority_ids, region_ids, staff_ids, category, rome_date(now)).subquery()
    total = db.session.scalar(select(func.count()).select_from(targets)) or 0
    not_enrolled = ~exists().where(
        Enrolment.staff_id == targets.c.id, Enrolment.course_id == course.id
    )
    entry = _record_enrolment(
        course, targets, not_enrolled, authority_ids, region_ids, staff_ids, by
    )
    new = select(
        targets.c.id,
        literal(course.id),
        literal(now, Enrolment.enrolled_at.type),
        literal(due_on, Enrolment.due_on.type) if due_on else null(),
        literal(by.id) if by is not None else null(),
    ).where(not_enrolled)
    inserted = rowcount(
        db.session.execute(
            insert(Enrolment).from_select(
                ["staff_id", "course_id", "enrolled_at", "due_on", "enrolled_by_id"], new
            ),
            execution_options=KEEP_ROWCOUNT,
        )
    )
    if inserted:
        # The reports' facts of the people targeted, in this course (set-based).
        facts.refresh(staff_ids=select(targets.c.id), course_ids=[course.id])
    rules: list[EnrolmentRule] = []
    if standing:
        for column, ids in (("authority_id", authority_ids), ("region_id", region_ids)):
            for target_id in ids:
                rule = _add_rule(course, column, target_id, category, due_on, stored_days, by, now)
                if rule is not None:
                    rules.append(rule)
    db.session.flush()
    for rule in rules:
        _link_to_rule(rule, course, now)
        _record_rule(rule, course, by)
    amend_summary(
        entry,
        {
            "enrolled": inserted,
            "already": total - inserted,
            "rules_added": len(rules),
            "standing": standing,
            "category": category,
            "due_on": due_on,
        },
    )
    return EnrolResult(enrolled=inserted, already=total - inserted, rules_added=len(rules))


def _record_enrolment(
    course: Course,
    targets: Subquery,
    not_enrolled: ColumnElement[bool],
    authority_ids: list[int],
    region_ids: list[int],
    staff_ids: list[int],
    by: User | None,
) -> AuditEntry:
    """The audit entry of an enrolment, made before the INSERT (it lists who it will enrol).

    Its area is the authorities and regions enrolled, and the authorities of the
    people named one by one; its objects, the course and each person enrolled
    (one INSERT … SELECT, however many).
    """
    selects = [select(literal(ObjectKind.STAFF.value), targets.c.id).where(not_enrolled)]
    if staff_ids:
        selects.append(
            select(literal(ObjectKind.AUTHORITY.value), StaffMember.authority_id).where(
                StaffMember.id.in_(staff_ids)
            )
        )
    return record(
        Action.ENROLMENT_CREATE,
        actor_id=by.id if by is not None else None,
        objects=[(ObjectKind.COURSE, course.id)] + [(ObjectKind.STAFF, i) for i in staff_ids],
        authority_ids=authority_ids,
        region_ids=region_ids,
        objects_select=selects,
        summary={"course": course.slug},
    )


def _record_rule(rule: EnrolmentRule, course: Course, by: User | None) -> None:
    record(
        Action.RULE_CREATE,
        actor_id=by.id if by is not None else None,
        objects=[(ObjectKind.RULE, rule.id), (ObjectKind.COURSE, course.id)],
        authority_ids=[rule.authority_id] if rule.authority_id is not None else [],
        region_ids=[rule.region_id] if rule.region_id is not None else [],
        summary={
            "course": course.slug,
            "category": rule.category,
            "due_on": rule.due_on,
            "window_days": rule.window_days,
            "reminder_days": rule.reminder_days,
        },
    )


def _link_to_rule(rule: EnrolmentRule, course: Course, now: datetime) -> None:
    """The enrolments made with *rule* (at *now*) are its own: its reminder days reach them.

    Those of an earlier rule keep theirs; of two new rules reaching someone (a region
    and an authority in it), the first made. The rules' pages count as "made for
    people who arrived later" only enrolments after the rule's creation.
    """
    target = (
        StaffMember.authority_id == rule.authority_id
        if rule.authority_id is not None
        else StaffMember.authority_id.in_(
            select(Authority.id).where(Authority.region_id == rule.region_id)
        )
    )
    people = select(StaffMember.id).where(target)
    if rule.category is not None:
        people = people.where(StaffMember.category == rule.category)
    db.session.execute(
        update(Enrolment)
        .where(
            Enrolment.course_id == course.id,
            Enrolment.enrolled_at == now,
            Enrolment.rule_id.is_(None),
            Enrolment.staff_id.in_(people),
        )
        .values(rule_id=rule.id)
        .execution_options(synchronize_session=False)
    )


def _add_rule(
    course: Course,
    column: str,
    target_id: int,
    category: StaffCategory | None,
    due_on: date | None,
    reminder_days: str | None,
    by: User | None,
    now: datetime,
) -> EnrolmentRule | None:
    same = select(EnrolmentRule.id).where(
        EnrolmentRule.course_id == course.id,
        getattr(EnrolmentRule, column) == target_id,
        EnrolmentRule.category.is_(None)
        if category is None
        else EnrolmentRule.category == category.value,
    )
    if db.session.scalar(same) is not None:
        return None
    rule = EnrolmentRule(
        course_id=course.id,
        category=category.value if category else None,
        due_on=due_on,
        window_days=rule_window_days(due_on, rome_date(now)),
        reminder_days=reminder_days,
        created_by_id=by.id if by else None,
        created_at=now,
        **{column: target_id},
    )
    db.session.add(rule)
    return rule


def _newcomer_due_clause(
    enrolled_on: date,
) -> ColumnElement[date | None] | InstrumentedAttribute[date | None]:
    """:func:`newcomer_due_on` of each rule, in SQL, for people enrolled on *enrolled_on*.

    Date arithmetic differs between SQLite and PostgreSQL, so the day each window
    ends is computed here, once per distinct window, and the SQL only picks one
    (CASE window_days WHEN 60 THEN '2027-01-24' …) and compares dates.
    """
    window = func.coalesce(EnrolmentRule.window_days, 0)
    windows = db.session.scalars(
        select(window).where(EnrolmentRule.due_on.is_not(None)).distinct()
    ).all()
    if not windows:
        return EnrolmentRule.due_on  # no rule has a due date
    window_end = case(
        {days: literal(_add_days(enrolled_on, days), Date()) for days in windows}, value=window
    )
    return case(
        (EnrolmentRule.due_on.is_(None), null()),
        (EnrolmentRule.due_on >= window_end, EnrolmentRule.due_on),
        else_=window_end,
    )


def apply_rules(staff_ids: Iterable[int] | None = None, now: datetime | None = None) -> int:
    """Enrol staff as the standing rules say (all staff, or only *staff_ids*); return how many.

    Each gets :func:`newcomer_due_on` for the rule, or the earliest of them when
    several rules reach them for the same course.
    """
    now = now or utcnow()
    matches = (
        select(
            StaffMember.id,
            EnrolmentRule.course_id,
            literal(now, Enrolment.enrolled_at.type),
            func.min(_newcomer_due_clause(rome_date(now))),
            func.min(EnrolmentRule.id),
        )
        .join(Authority, Authority.id == StaffMember.authority_id)
        .join(
            EnrolmentRule,
            and_(
                or_(
                    EnrolmentRule.authority_id == StaffMember.authority_id,
                    EnrolmentRule.region_id == Authority.region_id,
                ),
                or_(
                    EnrolmentRule.category.is_(None), EnrolmentRule.category == StaffMember.category
                ),
            ),
        )
        .join(Course, and_(Course.id == EnrolmentRule.course_id, Course.retired_at.is_(None)))
        .where(
            active_staff_clause(rome_date(now)),
            ~exists().where(
                Enrolment.staff_id == StaffMember.id, Enrolment.course_id == EnrolmentRule.course_id
            ),
        )
        .group_by(StaffMember.id, EnrolmentRule.course_id)
    )
    if staff_ids is not None:
        staff_ids = list(staff_ids)
        # A long id list would exceed the databases' parameter limits; the rules are
        # idempotent, so for a large import matching every staff member is the same.
        if len(staff_ids) <= MAX_LISTED_IDS:
            matches = matches.where(StaffMember.id.in_(staff_ids))
    inserted = rowcount(
        db.session.execute(
            insert(Enrolment).from_select(
                ["staff_id", "course_id", "enrolled_at", "due_on", "rule_id"], matches
            ),
            execution_options=KEEP_ROWCOUNT,
        )
    )
    if inserted:
        # The reports' facts of what was just enrolled: the rules' enrolments made
        # at this instant (set-based, whatever the number of people and courses).
        made_now = and_(Enrolment.enrolled_at == now, Enrolment.rule_id.is_not(None))
        facts.refresh(
            staff_ids=select(Enrolment.staff_id).where(made_now),
            course_ids=select(Enrolment.course_id).where(made_now),
        )
    return inserted or 0


def remove_enrolment(enrolment: Enrolment, *, by: User | None = None) -> None:
    """Take one person out of one course; progress and completions stay (they are the person's)."""
    staff = db.session.get(StaffMember, enrolment.staff_id)
    record(
        Action.ENROLMENT_DELETE,
        actor_id=by.id if by is not None else None,
        objects=[
            (ObjectKind.ENROLMENT, enrolment.id),
            (ObjectKind.STAFF, enrolment.staff_id),
            (ObjectKind.COURSE, enrolment.course_id),
        ],
        authority_ids=[staff.authority_id] if staff is not None else [],
        summary={"rule": enrolment.rule_id, "due_on": enrolment.due_on},
    )
    db.session.delete(enrolment)
    db.session.flush()


def delete_rule(rule: EnrolmentRule, *, by: User | None = None) -> int:
    """Delete a standing rule: nobody else is enrolled by it; the enrolments it made stay.

    Returns how many enrolments it had made (they lose only their link to the rule).
    """
    kept = rowcount(
        db.session.execute(
            update(Enrolment)
            .where(Enrolment.rule_id == rule.id)
            .values(rule_id=None)
            .execution_options(synchronize_session=False)
        )
    )
    record(
        Action.RULE_DELETE,
        actor_id=by.id if by is not None else None,
        objects=[(ObjectKind.RULE, rule.id), (ObjectKind.COURSE, rule.course_id)],
        authority_ids=[rule.authority_id] if rule.authority_id is not None else [],
        region_ids=[rule.region_id] if rule.region_id is not None else [],
        summary={"enrolments_kept": kept or 0},
    )
    db.session.execute(delete(EnrolmentRule).where(EnrolmentRule.id == rule.id))
    db.session.flush()
    return kept or 0
