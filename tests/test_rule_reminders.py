"""A standing rule's own reminder days (issue #16): form, command line, audit, planner.

A rule made on the "Iscrizioni per ente" page or by ``lms enrol`` may carry the
days before the due date on which its people are reminded ("14,7,1"), none at
all (""), or none of its own (None: the deployment's ``LMS_REMINDER_DAYS``).
The planner (:func:`lms.notifications.plan.plan_day`) sends each enrolment the
reminders of the rule that made it.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select
from test_reminders import morning
from test_staff_pages import add_staff, enrol_group, make_course

from lms.audit import Action, AuditEntry
from lms.auth.models import Role
from lms.core.types import rome_date, today_in_italy
from lms.courses.models import Course
from lms.enrolments.enrol import enrol
from lms.enrolments.models import Enrolment, EnrolmentRule
from lms.enrolments.reminder_days import (
    ReminderDaysError,
    format_reminder_days,
    parse_reminder_days,
)
from lms.extensions import db as _db
from lms.notifications.models import Notification
from lms.notifications.plan import parse_reminder_days as planner_parse
from lms.notifications.plan import plan_day
from lms.register.models import Authority

URL = "/personale/iscrizioni"
EMPTY = (
    "Indica almeno un giorno (per esempio 14,7,1), oppure lascia vuoto il campo "
    "per i promemoria predefiniti."
)
BOTH = (
    "Indica i giorni dei promemoria oppure «Nessun promemoria prima della scadenza», non entrambi."
)
NOT_STANDING = (
    "I promemoria propri valgono per le iscrizioni permanenti: seleziona "
    "«Iscrizione permanente» oppure lascia i promemoria predefiniti."
)


@pytest.fixture
def napoli(make_authority: Callable[..., Authority]) -> Authority:
    authority = make_authority("063049", istat_code="063049", name="Comune di Napoli")
    _db.session.commit()
    return authority


@pytest.fixture
def catanzaro(make_authority: Callable[..., Authority]) -> Authority:
    authority = make_authority("079023", region_code="18", name="Comune di Catanzaro")
    _db.session.commit()
    return authority


def count(model: type) -> int:
    _db.session.expire_all()
    return _db.session.scalar(select(func.count()).select_from(model)) or 0


def page_text(response: object) -> str:
    return html.unescape(response.get_data(as_text=True))


def rules_page(client: FlaskClient) -> str:
    return page_text(client.get(URL))


# The reader of a list of days ----------------------------------------------------------


def test_the_reader_normalises_and_the_planner_uses_the_same_one() -> None:
    assert parse_reminder_days(" 3, 14 ;7,,14, ") == (14, 7, 3)
    assert parse_reminder_days("") == ()
    assert parse_reminder_days("365,1") == (365, 1)
    assert format_reminder_days([3, 14, 7, 3]) == "14,7,3"
    assert format_reminder_days([]) == ""
    assert planner_parse is parse_reminder_days  # one reader, the enrolments' own
    for bad, shown in (
        ("0", "0"),
        ("366", "366"),
        ("-3", "-3"),
        ("1.5", "1.5"),
        ("abc", "abc"),
        ("١٤", "١٤"),  # Arabic-Indic digits: isdigit() says yes, int() too; not days
        ("14 3", "14 3"),
    ):
        with pytest.raises(ReminderDaysError) as error:
            parse_reminder_days(bad)
        assert str(error.value) == f"«{shown}» non è un numero di giorni tra 1 e 365"
    with pytest.raises(ReminderDaysError) as error:
        parse_reminder_days(",".join(str(n) for n in range(1, 12)))
    assert str(error.value) == "Al massimo 10 promemoria: ne sono indicati 11"
    with pytest.raises(ReminderDaysError):
        format_reminder_days([0])
    # Ten days of three digits fit the column (String(40)).
    assert len(format_reminder_days(range(356, 366))) <= 40


# The form --------------------------------------------------------------------------------


def test_a_rule_made_with_its_own_days_stores_them_normalised_and_lists_them(
    client: FlaskClient, login_as: Callable, napoli: Authority
) -> None:
    course = make_course()
    add_staff(napoli, "VRDGPP80A01F839W", "Verdi")
    hr = login_as(Role.HR, scope=[napoli])
    assert "Promemoria (giorni prima della scadenza)" in rules_page(client)
    assert "Nessun promemoria prima della scadenza" in rules_page(client)
    due = today_in_italy() + timedelta(days=60)
    response = enrol_group(
        client,
        course,
        f"a:{napoli.id}",
        standing="y",
        due_on=due.isoformat(),
        reminder_days=" 3, 14,7 ",
    )
    assert response.status_code == 302
    rule = _db.session.scalar(select(EnrolmentRule))
    assert rule.reminder_days == "14,7,3"
    page = rules_page(client)
    assert '<td class="lms-rule-reminders">14, 7, 3 giorni prima</td>' in page
    # The rule's audit entry says which days it carries.
    _db.session.expire_all()
    entry = _db.session.scalar(select(AuditEntry).where(AuditEntry.action == Action.RULE_CREATE))
    assert entry.actor_id == hr.id
    assert entry.summary["reminder_days"] == "14,7,3"
    # And the confirmation of its removal shows them too.
    confirm = page_text(client.get(f"{URL}/regole/{rule.id}/rimuovi"))
    assert "14, 7, 3 giorni prima" in confirm


def test_no_reminders_stores_empty_and_nothing_stores_the_default(
    client: FlaskClient, login_as: Callable, napoli: Authority
) -> None:
    first, second = make_course("primo"), make_course("secondo")
    add_staff(napoli, "VRDGPP80A01F839W", "Verdi")
    login_as(Role.HR, scope=[napoli])
    response = enrol_group(client, first, f"a:{napoli.id}", standing="y", no_reminders="y")
    assert response.status_code == 302
    response = enrol_group(client, second, f"a:{napoli.id}", standing="y", reminder_days="")
    assert response.status_code == 302
    by_course = dict(
        _db.session.execute(select(EnrolmentRule.course_id, EnrolmentRule.reminder_days)).all()
    )
    assert by_course == {first.id: "", second.id: None}
    page = rules_page(client)
    assert '<td class="lms-rule-reminders">nessuno</td>' in page
    # The deployment's default (LMS_REMINDER_DAYS "14,3") is named, on the rule and in the help.
    assert '<td class="lms-rule-reminders">predefiniti (14, 3 giorni prima)</td>' in page
    assert "valgono i promemoria predefiniti: 14, 3 giorni prima." in page
    entries = _db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == Action.RULE_CREATE).order_by(AuditEntry.id)
    ).all()
    assert [e.summary["reminder_days"] for e in entries] == ["", None]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"reminder_days": "abc"}, "«abc» non è un numero di giorni tra 1 e 365."),
        ({"reminder_days": "14,0"}, "«0» non è un numero di giorni tra 1 e 365."),
        ({"reminder_days": "400"}, "«400» non è un numero di giorni tra 1 e 365."),
        ({"reminder_days": "7,-1"}, "«-1» non è un numero di giorni tra 1 e 365."),
        ({"reminder_days": "2.5"}, "«2.5» non è un numero di giorni tra 1 e 365."),
        (
            {"reminder_days": ",".join(str(n) for n in range(1, 13))},
            "Al massimo 10 promemoria: ne sono indicati 12.",
        ),
        (
            {"reminder_days": " , ;"},
            EMPTY,
        ),
        (
            {"reminder_days": "7", "no_reminders": "y"},
            BOTH,
        ),
        (
            {"reminder_days": "7", "standing": ""},
            NOT_STANDING,
        ),
        (
            {"no_reminders": "y", "standing": ""},
            NOT_STANDING,
        ),
        # Huge input: one precise message, not a server error (the value shown is cut).
        ({"reminder_days": "9" * 20_000}, f"«{'9' * 20}» non è un numero di giorni tra 1 e 365."),
    ],
)
def test_bad_days_are_refused_with_their_reason_and_nothing_is_written(
    client: FlaskClient,
    login_as: Callable,
    napoli: Authority,
    fields: dict[str, str],
    message: str,
) -> None:
    course = make_course()
    add_staff(napoli, "VRDGPP80A01F839W", "Verdi")
    login_as(Role.HR, scope=[napoli])
    audit_before = count(AuditEntry)
    form = {"standing": "y", **fields}
    if not form["standing"]:
        del form["standing"]
    response = enrol_group(client, course, f"a:{napoli.id}", **form)
    assert response.status_code == 400
    page = page_text(response)
    assert message in page
    assert 'id="reminder_days-error"' in page  # on the field, which names it (aria)
    assert 'aria-describedby="reminder_days-help reminder_days-error"' in page
    assert (count(EnrolmentRule), count(Enrolment), count(AuditEntry)) == (0, 0, audit_before)


def test_an_existing_rule_keeps_its_days_and_the_page_says_so(
    client: FlaskClient, login_as: Callable, napoli: Authority
) -> None:
    course = make_course()
    add_staff(napoli, "VRDGPP80A01F839W", "Verdi")
    login_as(Role.HR, scope=[napoli])
    assert enrol_group(client, course, f"a:{napoli.id}", standing="y").status_code == 302
    response = enrol_group(client, course, f"a:{napoli.id}", standing="y", reminder_days="7")
    assert response.status_code == 302
    assert "i suoi promemoria non cambiano" in rules_page(client)
    assert _db.session.scalar(select(EnrolmentRule.reminder_days)) is None
    assert count(EnrolmentRule) == 1


def test_an_hr_manager_of_another_area_cannot_make_a_rule_there_with_days(
    client: FlaskClient, login_as: Callable, napoli: Authority, catanzaro: Authority
) -> None:
    course = make_course()
    add_staff(catanzaro, "GLLMRC79C03H703R", "Gallo")
    login_as(Role.HR, scope=[napoli])
    for target in (f"a:{catanzaro.id}", f"r:{catanzaro.region_id}"):
        response = enrol_group(client, course, target, standing="y", reminder_days="1")
        assert response.status_code == 404
        response = enrol_group(client, course, target, standing="y", no_reminders="y")
        assert response.status_code == 404
    assert (count(EnrolmentRule), count(Enrolment)) == (0, 0)
    # And a rule of Catanzaro's, with its days, is not on their page.
    _db.session.add(
        EnrolmentRule(course_id=course.id, authority_id=catanzaro.id, reminder_days="9")
    )
    _db.session.commit()
    assert "9 giorni prima" not in rules_page(client)


# lms enrol ------------------------------------------------------------------------------


def test_cli_reminders_and_no_reminders(runner: FlaskCliRunner, napoli: Authority) -> None:
    first, second, third = make_course("primo"), make_course("secondo"), make_course("terzo")
    add_staff(napoli, "VRDGPP80A01F839W", "Verdi")
    result = runner.invoke(
        args=["enrol", "--course", "primo", "--authority", "063049", "--reminders", "1,14,7"]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        args=["enrol", "--course", "secondo", "--authority", "063049", "--no-reminders"]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["enrol", "--course", "terzo", "--authority", "063049"])
    assert result.exit_code == 0, result.output
    _db.session.expire_all()
    by_course = dict(
        _db.session.execute(select(EnrolmentRule.course_id, EnrolmentRule.reminder_days)).all()
    )
    assert by_course == {first.id: "14,7,1", second.id: "", third.id: None}
    summaries = [
        e.summary["reminder_days"]
        for e in _db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == Action.RULE_CREATE)
            .order_by(AuditEntry.id)
        )
    ]
    assert summaries == ["14,7,1", "", None]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--authority", "063049", "--reminders", "abc"],
            "--reminders 'abc': “abc” is not a number of days between 1 and 365",
        ),
        (
            ["--authority", "063049", "--reminders", ","],
            "--reminders ',' names no day (use --no-reminders for none)",
        ),
        (
            ["--authority", "063049", "--reminders", "7", "--no-reminders"],
            "give --reminders or --no-reminders, not both",
        ),
        (
            ["--person", "VRDGPP80A01F839W", "--reminders", "7"],
            "--reminders and --no-reminders belong to a standing rule",
        ),
    ],
)
def test_cli_bad_reminders_write_nothing(
    runner: FlaskCliRunner, napoli: Authority, args: list[str], message: str
) -> None:
    make_course("primo")
    add_staff(napoli, "VRDGPP80A01F839W", "Verdi")
    result = runner.invoke(args=["enrol", "--course", "primo", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert (count(EnrolmentRule), count(Enrolment), count(AuditEntry)) == (0, 0, 0)


# The planner honours the rule's days ---------------------------------------------------


D0 = date(2027, 3, 1)
DUE = D0 + timedelta(days=30)


def _due_kinds(course: Course) -> dict[int, list[str]]:
    """The ``due:N`` messages planned for *course*, by staff id, in the order planned."""
    _db.session.expire_all()
    rows = _db.session.execute(
        select(Enrolment.staff_id, Notification.kind)
        .join(Enrolment, Enrolment.id == Notification.enrolment_id)
        .where(Notification.kind.like("due:%"), Enrolment.course_id == course.id)
        .order_by(Notification.on_date, Notification.id)
    ).all()
    kinds: dict[int, list[str]] = {}
    for staff_id, kind in rows:
        kinds.setdefault(staff_id, []).append(kind)
    return kinds


def test_the_planner_reminds_on_the_rule_s_days_and_by_hand_on_the_deployment_s(
    make_authority: Callable[..., Authority], app
) -> None:
    del app
    own, none, default, by_hand = (
        make_authority(name=f"Comune {name}") for name in ("Uno", "Due", "Tre", "Quattro")
    )
    people = {
        name: add_staff(authority, cf, name)
        for name, authority, cf in (
            ("own", own, "VRDGPP80A01F839W"),
            ("none", none, "BRNCRL85E50F839P"),
            ("default", default, "GLLMRC79C03H703R"),
            ("by_hand", by_hand, "CNTLRA91M41B963A"),
        )
    }
    course = make_course()
    made = morning(D0)
    enrol(course, authority_ids=[own.id], due_on=DUE, reminder_days=(7, 1), now=made)
    enrol(course, authority_ids=[none.id], due_on=DUE, reminder_days=(), now=made)
    enrol(course, authority_ids=[default.id], due_on=DUE, now=made)
    enrol(course, staff_ids=[people["by_hand"].id], due_on=DUE, standing=False, now=made)
    _db.session.commit()
    rule_of = dict(_db.session.execute(select(Enrolment.staff_id, Enrolment.rule_id)).all())
    assert rule_of[people["by_hand"].id] is None
    assert None not in {rule_of[people[n].id] for n in ("own", "none", "default")}

    for offset in range(31):
        plan_day(morning(D0 + timedelta(days=offset)))
        _db.session.commit()
    kinds = _due_kinds(course)
    assert kinds.get(people["own"].id) == ["due:7", "due:1"]
    assert people["none"].id not in kinds  # "": no reminder before the due date
    assert kinds.get(people["default"].id) == ["due:14", "due:3"]  # LMS_REMINDER_DAYS
    assert kinds.get(people["by_hand"].id) == ["due:14", "due:3"]
    planned_on = {
        kind: rome_date(at)
        for kind, at in _db.session.execute(
            select(Notification.kind, Notification.created_at).where(
                Notification.staff_id == people["own"].id, Notification.kind.like("due:%")
            )
        )
    }
    assert planned_on == {"due:7": DUE - timedelta(days=7), "due:1": DUE - timedelta(days=1)}
    # Everyone still gets the overdue notice (the rule's days are those before the date).
    plan_day(morning(DUE + timedelta(days=1)))
    _db.session.expire_all()
    overdue = set(
        _db.session.scalars(select(Notification.staff_id).where(Notification.kind == "overdue:0"))
    )
    assert overdue == {p.id for p in people.values()}
