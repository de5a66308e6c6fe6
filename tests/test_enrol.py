"""Enrolment by authority, region or person; standing rules; ``lms enrol``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from test_staff_import import (
    CF,
    ROSTER,
    count,
    do_import,
    make_campania,
    make_napoli,
    person,
    roster_csv,
    staff,
)

from lms.auth.models import Role, User
from lms.core.types import ROME, today_in_italy, utcnow
from lms.courses.models import Course
from lms.enrolments.enrol import apply_rules, enrol, newcomer_due_on, rule_window_days
from lms.enrolments.models import Enrolment, EnrolmentRule
from lms.extensions import db as _db
from lms.register.models import Authority, StaffCategory, StaffMember

#: personale_comune.csv, by authority (Francesca Romano, of Napoli, left in 2025).
NAPOLI_ACTIVE = {
    "SPSNCL85C12F839V",
    "DLCGPP82A30A509D",
    "MRNCHR00B69A783V",
    "RSSMRA75D21F839H",
    "RSSMRA75D21F83VW",
}
NAPOLI_NEW_HIRES = {"SPSNCL85C12F839V", "MRNCHR00B69A783V"}
CAMPANIA_ACTIVE = {"DNGNNA90L65H703N", "DGSSVT79R05G273O", "BNCLCU88H14Z133N"}
ROMANO = "RMNFNC78S43B963U"


def make_course(slug: str = "benessere", *, retired: bool = False) -> Course:
    """A course row, as a synchronisation would leave it."""
    course = Course(
        slug=slug,
        title=slug.capitalize(),
        hours=Decimal("4.5"),
        source_hash="x",
        retired_at=utcnow() if retired else None,
    )
    _db.session.add(course)
    _db.session.commit()
    return course


def enrolled_cfs(course: Course) -> set[str]:
    """Codici fiscali of the people enrolled in *course*."""
    return set(
        _db.session.scalars(
            select(StaffMember.codice_fiscale)
            .join(Enrolment, Enrolment.staff_id == StaffMember.id)
            .where(Enrolment.course_id == course.id)
        )
    )


def enrolment_of(cf: str, course: Course) -> Enrolment | None:
    """The enrolment of *cf* in *course*."""
    return _db.session.scalar(
        select(Enrolment)
        .join(StaffMember, StaffMember.id == Enrolment.staff_id)
        .where(StaffMember.codice_fiscale == cf, Enrolment.course_id == course.id)
    )


@pytest.fixture
def register(make_authority: Callable[..., Authority]) -> tuple[Authority, Authority]:
    """Napoli and Campania with the staff of personale_comune.csv."""
    napoli, campania = make_napoli(make_authority), make_campania(make_authority)
    _db.session.commit()
    outcome = do_import((ROSTER / "personale_comune.csv").read_bytes(), "personale_comune.csv")
    assert outcome.errors == []
    return napoli, campania


@pytest.fixture
def course() -> Course:
    """A published course."""
    return make_course()


pytestmark = pytest.mark.usefixtures("register")


# enrol() -------------------------------------------------------------------------------


def test_enrol_by_authority_skips_people_who_left(register: tuple, course: Course) -> None:
    napoli, _ = register
    due = date(2027, 6, 30)
    result = enrol(course, authority_ids=[napoli.id], due_on=due)
    _db.session.commit()
    assert enrolled_cfs(course) == NAPOLI_ACTIVE
    assert result.rules_added == 1
    assert ROMANO not in enrolled_cfs(course)
    enrolments = _db.session.scalars(select(Enrolment)).all()
    assert {e.due_on for e in enrolments} == {due}
    # Made with the rule, so the rule's own: its reminder days reach them.
    assert {e.rule_id for e in enrolments} == {_db.session.scalar(select(EnrolmentRule.id))}


def test_enrolling_twice_adds_no_rows(register: tuple, course: Course) -> None:
    napoli, _campania = register
    enrol(course, authority_ids=[napoli.id], due_on=date(2027, 1, 1))
    _db.session.commit()
    before = {(e.staff_id, e.enrolled_at, e.due_on) for e in _db.session.scalars(select(Enrolment))}
    enrol(course, authority_ids=[napoli.id], due_on=date(2028, 1, 1))
    _db.session.commit()
    _db.session.expire_all()
    after = {(e.staff_id, e.enrolled_at, e.due_on) for e in _db.session.scalars(select(Enrolment))}
    assert after == before
    assert count(Enrolment) == 5


def test_enrol_is_idempotent(register: tuple, course: Course) -> None:
    napoli, _campania = register
    first = enrol(course, authority_ids=[napoli.id])
    _db.session.commit()
    second = enrol(course, authority_ids=[napoli.id])
    _db.session.commit()
    assert (first.enrolled, first.already) == (5, 0)
    assert (second.enrolled, second.already) == (0, 5)
    assert count(Enrolment) == 5
    # A wider call counts the ones already there and adds the rest.
    third = enrol(course, region_ids=[napoli.region_id])
    assert (third.enrolled, third.already) == (3, 5)
    assert count(Enrolment) == 8


def test_enrol_by_region(register: tuple, course: Course, make_authority: Callable) -> None:
    make_authority("001272", region_code="01")
    _db.session.commit()
    assert do_import(roster_csv(person("verdi", "001272"))).errors == []
    napoli, _ = register
    enrol(course, region_ids=[napoli.region_id])
    assert enrolled_cfs(course) == NAPOLI_ACTIVE | CAMPANIA_ACTIVE


def test_enrol_by_person(course: Course) -> None:
    ids = [staff(cf).id for cf in ("SPSNCL85C12F839V", "DNGNNA90L65H703N", ROMANO)]
    result = enrol(course, staff_ids=ids, due_on=date(2027, 1, 31))
    _db.session.commit()
    # Romano left: not enrolled, not counted.
    assert result.rules_added == 0
    assert enrolled_cfs(course) == {"SPSNCL85C12F839V", "DNGNNA90L65H703N"}
    assert count(EnrolmentRule) == 0
    assert enrolment_of("DNGNNA90L65H703N", course).due_on == date(2027, 1, 31)


def test_enrol_with_category_filter(register: tuple, course: Course) -> None:
    napoli, _ = register
    enrol(course, authority_ids=[napoli.id], category=StaffCategory.NEW_HIRE)
    assert enrolled_cfs(course) == NAPOLI_NEW_HIRES


def test_enrol_records_who_enrolled(
    register: tuple, course: Course, make_user: Callable[..., User]
) -> None:
    hr = make_user(Role.HR, scope=[register[0]])
    enrol(course, authority_ids=[register[0].id], by=hr)
    assert {e.enrolled_by_id for e in _db.session.scalars(select(Enrolment))} == {hr.id}
    assert _db.session.scalar(select(EnrolmentRule.created_by_id)) == hr.id


def test_enrol_without_targets_enrols_nobody(course: Course) -> None:
    with pytest.raises(ValueError, match="at least one authority, region or person"):
        enrol(course, standing=False)
    assert count(Enrolment) == 0


def test_one_enrolment_per_person_and_course_in_the_database(course: Course) -> None:
    member = staff("SPSNCL85C12F839V")
    _db.session.add(Enrolment(staff_id=member.id, course_id=course.id))
    _db.session.commit()
    _db.session.add(Enrolment(staff_id=member.id, course_id=course.id))
    with pytest.raises(IntegrityError):
        _db.session.commit()
    _db.session.rollback()
    assert count(Enrolment) == 1
    # Another course is fine.
    other = make_course("privacy")
    _db.session.add(Enrolment(staff_id=member.id, course_id=other.id))
    _db.session.commit()
    assert count(Enrolment) == 2


def test_someone_who_left_is_out_after_a_later_import(register: tuple, course: Course) -> None:
    # Giuseppe De Luca leaves; the next enrolment skips him.
    text = (ROSTER / "personale_comune.csv").read_bytes().decode("cp1252")
    past = (today_in_italy() - timedelta(days=3)).strftime("%d/%m/%Y")
    text = text.replace("in servizio;;;", f"in servizio;;;{past}", 1)
    assert do_import(text.encode("cp1252"), "p.csv").errors == []
    assert staff("DLCGPP82A30A509D").left_on is not None
    enrol(course, authority_ids=[register[0].id])
    assert len(enrolled_cfs(course)) == 4
    assert "DLCGPP82A30A509D" not in enrolled_cfs(course)


# Standing rules ------------------------------------------------------------------------


def test_standing_enrolment_makes_one_rule(register: tuple, course: Course) -> None:
    napoli, _ = register
    assert enrol(course, authority_ids=[napoli.id], standing=True).rules_added == 1
    assert enrol(course, authority_ids=[napoli.id], standing=True).rules_added == 0
    _db.session.commit()
    rules = _db.session.scalars(select(EnrolmentRule)).all()
    assert len(rules) == 1
    assert (rules[0].authority_id, rules[0].region_id, rules[0].category) == (napoli.id, None, None)
    # Another category is another rule; standing=False makes none.
    enrol(course, authority_ids=[napoli.id], category=StaffCategory.NEW_HIRE)
    enrol(course, authority_ids=[register[1].id], standing=False)
    assert count(EnrolmentRule) == 2


def test_rule_enrols_people_imported_later(register: tuple, course: Course) -> None:
    napoli, _ = register
    due = date(2027, 3, 31)
    enrol(course, authority_ids=[napoli.id], due_on=due)
    _db.session.commit()
    rule = _db.session.scalar(select(EnrolmentRule))
    outcome = do_import(roster_csv(person("verdi"), person("bruno", "15")))
    assert outcome.errors == []
    assert outcome.errors == []
    enrolment = enrolment_of(CF["verdi"], course)
    assert enrolment is not None
    assert (enrolment.rule_id, enrolment.due_on) == (rule.id, due)
    assert enrolment_of(CF["bruno"], course) is None
    # Re-importing enrols nobody again.
    assert do_import(roster_csv(person("verdi"))).errors == []
    assert count(Enrolment) == 6


# Due dates of people a rule enrols later ------------------------------------------------

NOV_15 = date(2026, 11, 15)


@pytest.mark.parametrize(
    ("enrolled_on", "expected"),
    [
        (date(2026, 9, 16), NOV_15),  # the day the rule was made: its own date
        (date(2026, 9, 1), NOV_15),  # (earlier: never before the rule's date)
        (date(2026, 10, 1), date(2026, 11, 30)),  # before the due date: 60 days from arrival
        (NOV_15, date(2027, 1, 14)),  # on the due date
        (date(2026, 11, 25), date(2027, 1, 24)),  # after it: not overdue on arrival
    ],
)
def test_newcomer_gets_the_rules_window_from_the_day_they_arrive(
    enrolled_on: date, expected: date
) -> None:
    assert rule_window_days(NOV_15, date(2026, 9, 16)) == 60
    assert newcomer_due_on(NOV_15, 60, enrolled_on) == expected


def test_rule_without_due_date_gives_none() -> None:
    assert rule_window_days(None, date(2026, 9, 16)) is None
    assert newcomer_due_on(None, None, date(2026, 11, 25)) is None


def test_window_of_zero_is_due_the_day_they_arrive() -> None:
    # Made on its due date, or with a date already passed: no days to give.
    assert rule_window_days(NOV_15, NOV_15) == 0
    assert rule_window_days(NOV_15, date(2026, 11, 20)) == 0
    assert newcomer_due_on(NOV_15, 0, date(2026, 11, 10)) == NOV_15
    assert newcomer_due_on(NOV_15, 0, date(2026, 11, 25)) == date(2026, 11, 25)
    # A rule made by hand without a window counts as 0.
    assert newcomer_due_on(NOV_15, None, date(2026, 11, 25)) == date(2026, 11, 25)


def at_noon(day: date) -> datetime:
    """Midday in Italy on *day*."""
    return datetime.combine(day, time(12), ROME)


def test_apply_rules_computes_the_same_due_dates_in_sql(register: tuple) -> None:
    """One INSERT … SELECT for several rules and windows gives newcomer_due_on for each."""
    napoli, _ = register
    made = date(2026, 9, 16)
    rules = {  # course: (due_on, window_days)
        make_course("sessanta"): (NOV_15, 60),
        make_course("zero"): (NOV_15, 0),
        make_course("senza"): (None, None),
        make_course("lontana"): (date(2027, 6, 30), 287),
    }
    for course, (due_on, window) in rules.items():
        _db.session.add(
            EnrolmentRule(
                course_id=course.id,
                authority_id=napoli.id,
                due_on=due_on,
                window_days=window,
                created_at=at_noon(made),
            )
        )
    _db.session.commit()
    for day in (date(2026, 10, 1), NOV_15, date(2026, 11, 25)):
        _db.session.execute(Enrolment.__table__.delete())
        assert apply_rules(now=at_noon(day)) == 5 * len(rules)
        _db.session.commit()
        for course, (due_on, window) in rules.items():
            query = select(Enrolment.due_on).where(Enrolment.course_id == course.id)
            dues = set(_db.session.scalars(query))
            assert dues == {newcomer_due_on(due_on, window, day)}, (course.slug, day)


def test_several_rules_give_the_earliest_due_date(register: tuple, course: Course) -> None:
    napoli, _ = register
    made = at_noon(date(2026, 9, 16))
    _db.session.add_all(
        [
            EnrolmentRule(
                course_id=course.id,
                authority_id=napoli.id,
                due_on=NOV_15,
                window_days=60,
                created_at=made,
            ),
            EnrolmentRule(
                course_id=course.id,
                region_id=napoli.region_id,
                due_on=date(2026, 12, 31),
                window_days=106,
                created_at=made,
            ),
        ]
    )
    _db.session.commit()
    apply_rules(now=at_noon(date(2026, 11, 25)))
    # Napoli's staff: both rules, the earlier date; the rest of the region: 106 days.
    assert {enrolment_of(cf, course).due_on for cf in NAPOLI_ACTIVE} == {date(2027, 1, 24)}
    assert {enrolment_of(cf, course).due_on for cf in CAMPANIA_ACTIVE} == {date(2027, 3, 11)}


def test_newcomer_imported_after_the_due_date_is_not_overdue(
    register: tuple, course: Course
) -> None:
    """Rita Caruso's case: the rule's date has passed when she is imported."""
    napoli, _ = register
    today = today_in_italy()
    made, due = today - timedelta(days=70), today - timedelta(days=10)
    enrol(course, authority_ids=[napoli.id], due_on=due, now=at_noon(made))
    _db.session.commit()
    rule = _db.session.scalar(select(EnrolmentRule))
    assert rule.window_days == 60
    before = {(e.staff_id, e.enrolled_at, e.due_on) for e in _db.session.scalars(select(Enrolment))}
    assert {d for _s, _e, d in before} == {due}
    outcome = do_import(roster_csv(person("verdi")))
    assert outcome.errors == []
    assert outcome.result.enrolled_by_rules == 1
    newcomer = enrolment_of(CF["verdi"], course)
    assert (newcomer.rule_id, newcomer.due_on) == (rule.id, today + timedelta(days=60))
    assert newcomer.due_on >= today  # not overdue
    # The people enrolled when the rule was made keep its date.
    _db.session.expire_all()
    after = {
        (e.staff_id, e.enrolled_at, e.due_on)
        for e in _db.session.scalars(select(Enrolment).where(Enrolment.id != newcomer.id))
    }
    assert after == before


def test_rule_reaches_someone_who_moves_into_the_authority(register: tuple, course: Course) -> None:
    napoli, _ = register
    enrol(course, authority_ids=[napoli.id])
    _db.session.commit()
    assert do_import(roster_csv(person("verdi", "15"))).errors == []
    assert enrolment_of(CF["verdi"], course) is None
    outcome = do_import(roster_csv(person("verdi", "063049")))
    assert outcome.result.updated == 1
    assert enrolment_of(CF["verdi"], course).rule_id is not None


def test_region_rule_reaches_any_authority_of_the_region(
    course: Course, make_authority: Callable
) -> None:
    salerno = make_authority("065116", region_code="15")
    make_authority("001272", region_code="01")
    _db.session.commit()
    result = enrol(course, region_ids=[salerno.region_id])
    assert result.rules_added == 1
    _db.session.commit()
    outcome = do_import(
        roster_csv(person("verdi", "065116"), person("bruno", "15"), person("gallo", "001272"))
    )
    assert outcome.errors == []
    assert enrolment_of(CF["verdi"], course).rule_id is not None
    assert enrolment_of(CF["bruno"], course).rule_id is not None
    assert enrolment_of(CF["gallo"], course) is None


def test_category_rule_reaches_only_that_category(register: tuple, course: Course) -> None:
    napoli, _ = register
    enrol(course, authority_ids=[napoli.id], category=StaffCategory.NEW_HIRE)
    _db.session.commit()
    outcome = do_import(
        roster_csv(person("verdi", category="neoassunto"), person("bruno", category="in servizio"))
    )
    assert outcome.errors == []
    assert enrolment_of(CF["verdi"], course) is not None
    assert enrolment_of(CF["bruno"], course) is None


def test_rule_for_a_retired_course_does_nothing(register: tuple, course: Course) -> None:
    napoli, _ = register
    enrol(course, authority_ids=[napoli.id])
    course.retired_at = utcnow()
    _db.session.commit()
    outcome = do_import(roster_csv(person("verdi")))
    assert outcome.errors == []
    assert enrolment_of(CF["verdi"], course) is None
    apply_rules()
    assert count(Enrolment) == 5


def test_rule_does_not_enrol_new_people_who_already_left(register: tuple, course: Course) -> None:
    enrol(course, authority_ids=[register[0].id])
    _db.session.commit()
    outcome = do_import(roster_csv(person("verdi", left_on="2020-01-31")))
    assert outcome.errors == []
    assert enrolment_of(CF["verdi"], course) is None


def test_apply_rules_for_everyone(register: tuple, course: Course) -> None:
    napoli, _ = register
    # A rule made by hand (not through enrol) reaches the current staff on apply_rules().
    _db.session.add(EnrolmentRule(course_id=course.id, authority_id=napoli.id))
    _db.session.commit()
    assert apply_rules() == 5
    assert apply_rules() == 0
    assert enrolled_cfs(course) == NAPOLI_ACTIVE
    assert apply_rules([staff(CF_ID).id for CF_ID in CAMPANIA_ACTIVE]) == 0


def test_enrol_counts(register: tuple, course: Course) -> None:
    napoli, _ = register
    result = enrol(course, authority_ids=[napoli.id])
    assert (result.enrolled, result.already) == (5, 0)
    ids = [staff(cf).id for cf in ("SPSNCL85C12F839V", "DNGNNA90L65H703N", ROMANO)]
    result = enrol(course, staff_ids=ids)
    assert (result.enrolled, result.already) == (1, 1)
    result = enrol(course, region_ids=[napoli.region_id], category=StaffCategory.NEW_HIRE)
    assert (result.enrolled, result.already) == (1, 3)


def test_import_counts_enrolments_made_by_rules(register: tuple, course: Course) -> None:
    enrol(course, authority_ids=[register[0].id])
    _db.session.commit()
    outcome = do_import(roster_csv(person("verdi"), person("bruno", "15")))
    assert outcome.result.enrolled_by_rules == 1
    assert do_import(roster_csv(person("verdi"))).result.enrolled_by_rules == 0


def test_removing_a_rule_keeps_its_enrolments(register: tuple, course: Course) -> None:
    napoli, _ = register
    enrol(course, authority_ids=[napoli.id])
    _db.session.commit()
    assert do_import(roster_csv(person("verdi"))).errors == []
    assert enrolment_of(CF["verdi"], course).rule_id is not None
    rule = _db.session.scalar(select(EnrolmentRule))
    _db.session.delete(rule)
    _db.session.commit()
    _db.session.expire_all()
    assert count(EnrolmentRule) == 0
    assert count(Enrolment) == 6
    assert enrolment_of(CF["verdi"], course).rule_id is None
    # And no new person is enrolled any more.
    assert do_import(roster_csv(person("verdi"), person("bruno"))).errors == []
    assert enrolment_of(CF["bruno"], course) is None


# lms enrol -----------------------------------------------------------------------------


@pytest.mark.usefixtures("course")
def test_cli_enrol_by_authority_code_and_ipa(runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=["enrol", "--course", "benessere", "--authority", "063049", "--due", "2027-06-30"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        "benessere: 5 enrolled, 0 already enrolled, 1 standing rule(s) added"
    )
    assert {e.due_on for e in _db.session.scalars(select(Enrolment))} == {date(2027, 6, 30)}
    result = runner.invoke(args=["enrol", "--course", "benessere", "--authority", "C_F839"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "benessere: 0 enrolled, 5 already enrolled"
    assert count(EnrolmentRule) == 1


def test_cli_enrol_by_region_person_and_category(course: Course, runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=["enrol", "--course", "benessere", "--region", "15", "--category", "new_hire"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("benessere: 4 enrolled, 0 already enrolled")
    assert enrolled_cfs(course) == NAPOLI_NEW_HIRES | {"DNGNNA90L65H703N", "BNCLCU88H14Z133N"}
    result = runner.invoke(
        args=[
            "enrol",
            "--course",
            "benessere",
            "--person",
            "dlcgpp82a30a509d",
            "--person",
            "SPSNCL85C12F839V",
        ]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "benessere: 1 enrolled, 1 already enrolled"
    assert "DLCGPP82A30A509D" in enrolled_cfs(course)


@pytest.mark.usefixtures("course")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--course", "nope", "--authority", "063049"], "unknown course"),
        (["--course", "vecchio", "--authority", "063049"], "unknown course"),
        (["--course", "benessere", "--authority", "063049", "--authority", "999999"], "999999"),
        (["--course", "benessere", "--region", "15", "--region", "99"], "99"),
        (
            ["--course", "benessere", "--authority", "15", "--person", "VRDGPP80A01F839W"],
            "VRDGPP80A01F839W",
        ),
        (["--course", "benessere", "--authority", "063049", "--due", "30/06/2027"], "--due"),
    ],
)
def test_cli_enrol_errors_write_nothing(
    runner: FlaskCliRunner, args: list[str], message: str
) -> None:
    make_course("vecchio", retired=True)
    result = runner.invoke(args=["enrol", *args])
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert result.stdout == ""
    assert count(Enrolment) == 0
    assert count(EnrolmentRule) == 0


@pytest.mark.usefixtures("course")
def test_cli_enrol_without_target_is_a_usage_error(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["enrol", "--course", "benessere"])
    assert result.exit_code == 2
    assert "--authority" in result.stderr
    assert count(Enrolment) == 0
