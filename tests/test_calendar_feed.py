"""A person's due dates: the private calendar feed and the home page's notices (issue #16).

The feed is read with two independent parsers, ``icalendar`` (which makes it)
and ``ics``; no real calendar program runs headless here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import ics
import pytest
from conftest import csrf_token, login
from flask import Flask, render_template
from flask.testing import FlaskClient
from icalendar import Calendar

from lms.auth.models import User
from lms.core.types import today_in_italy
from lms.courses.models import Course, CourseCompletion
from lms.enrolments.models import Enrolment
from lms.extensions import db as _db
from lms.notifications.due import due_items, notices
from lms.notifications.feed import feed_token
from lms.register.models import Authority, StaffCategory, StaffMember

TODAY = today_in_italy()
ACCENTED = "Etica pubblica: perché è così (àèìòù)"


def _course(slug: str, title: str) -> Course:
    course = Course(slug=slug, title=title, hours=Decimal(2), source_hash="x")
    _db.session.add(course)
    _db.session.flush()
    return course


def _staff(user: User, authority: Authority, cf: str) -> StaffMember:
    member = StaffMember(
        codice_fiscale=cf,
        first_name=user.first_name,
        last_name=user.last_name,
        email=user.email,
        authority_id=authority.id,
        category=StaffCategory.EXISTING,
        user_id=user.id,
    )
    _db.session.add(member)
    _db.session.flush()
    return member


@dataclass
class World:
    me: User
    other: User
    soon: Course  # due in ten days, accented title
    late: Course  # due yesterday
    done: Course  # due in five days, completed
    undated: Course  # no due date
    others: Course  # only the other person is enrolled
    soon_enrolment: int


@pytest.fixture
def world(make_user: Callable[..., User], make_authority: Callable[..., Authority]) -> World:
    authority = make_authority()
    me = make_user(email="anna.calendario@example.org")
    other = make_user(email="bruno.calendario@example.org")
    mine, theirs = (
        _staff(me, authority, "CLNNNA80A41F839W"),
        _staff(other, authority, "CLNBRN80A01F839X"),
    )
    soon, late = _course("etica", ACCENTED), _course("appalti", "Appalti pubblici")
    done, undated = _course("privacy", "Privacy"), _course("sicurezza", "Sicurezza")
    others = _course("altrui", "Corso di un altro")
    soon_row = Enrolment(staff_id=mine.id, course_id=soon.id, due_on=TODAY + timedelta(days=10))
    _db.session.add_all(
        [
            soon_row,
            Enrolment(staff_id=mine.id, course_id=late.id, due_on=TODAY - timedelta(days=1)),
            Enrolment(staff_id=mine.id, course_id=done.id, due_on=TODAY + timedelta(days=5)),
            Enrolment(staff_id=mine.id, course_id=undated.id, due_on=None),
            Enrolment(staff_id=theirs.id, course_id=others.id, due_on=TODAY + timedelta(days=3)),
            CourseCompletion(user_id=me.id, course_id=done.id),
        ]
    )
    _db.session.commit()
    return World(me, other, soon, late, done, undated, others, soon_row.id)


def _url(app: Flask, user: User) -> str:
    return f"/calendario/{feed_token(app.config['SECRET_KEY'], user)}.ics"


def _events(body: bytes) -> list:
    return list(Calendar.from_ical(body).walk("VEVENT"))


# The feed ------------------------------------------------------------------------------


def test_feed_has_exactly_the_open_due_dates(web_app: Flask, world: World) -> None:
    response = web_app.test_client().get(_url(web_app, world.me))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "private, max-age=3600"
    body = response.get_data()
    calendar = Calendar.from_ical(body)
    assert str(calendar["X-WR-CALNAME"]) == "Scadenze della formazione"
    events = {str(e["SUMMARY"]): e for e in _events(body)}
    assert set(events) == {f"Scadenza: {ACCENTED}", "Scadenza: Appalti pubblici"}
    soon = events[f"Scadenza: {ACCENTED}"]
    assert soon.decoded("DTSTART") == TODAY + timedelta(days=10)  # a date: an all-day event
    assert b"DTSTART;VALUE=DATE:" in body
    assert str(soon["UID"]) == f"enrolment-{world.soon_enrolment}@localhost"
    assert str(soon["URL"]) == "http://localhost/courses/etica/"
    assert "http://localhost/courses/etica/" in str(soon["DESCRIPTION"])
    assert "DTSTAMP" in soon
    alarms = soon.walk("VALARM")
    assert len(alarms) == 1
    assert alarms[0].decoded("TRIGGER") == timedelta(days=-1)
    assert ACCENTED.encode() in body.replace(b"\r\n ", b"")  # UTF-8, unfolded


def test_feed_reads_in_a_second_parser(web_app: Flask, world: World) -> None:
    body = web_app.test_client().get(_url(web_app, world.me)).get_data(as_text=True)
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))  # RFC 5545 folding
    parsed = ics.Calendar(body)
    by_name = {e.name: e for e in parsed.events}
    assert set(by_name) == {f"Scadenza: {ACCENTED}", "Scadenza: Appalti pubblici"}
    assert by_name[f"Scadenza: {ACCENTED}"].all_day
    assert by_name["Scadenza: Appalti pubblici"].begin.date() == TODAY - timedelta(days=1)


def test_feed_speaks_the_persons_language(web_app: Flask, world: World) -> None:
    world.me.locale = "en"
    _db.session.commit()
    body = web_app.test_client().get(_url(web_app, world.me)).get_data()
    assert str(Calendar.from_ical(body)["X-WR-CALNAME"]) == "Training due dates"
    assert {str(e["SUMMARY"]) for e in _events(body)} >= {"Due: Appalti pubblici"}


def test_a_person_without_due_dates_gets_an_empty_calendar(web_app: Flask, world: World) -> None:
    response = web_app.test_client().get(_url(web_app, world.other))
    assert response.status_code == 200
    assert {str(e["SUMMARY"]) for e in _events(response.get_data())} == {
        "Scadenza: Corso di un altro"
    }


@pytest.mark.parametrize(
    "token",
    [
        "nonsense",
        "1-",
        "-0123456789abcdef0123456789abcdef",
        "99999-0123456789abcdef0123456789abcdef",
        "1-" + "z" * 32,
        "1-" + "é" * 32,
        "9" * 40 + "-0123456789abcdef0123456789abcdef",
    ],
)
def test_bad_tokens_are_404(web_app: Flask, world: World, token: str) -> None:  # noqa: ARG001
    client = web_app.test_client()
    response = client.get(f"/calendario/{token}.ics")
    assert response.status_code == 404
    # The page any unknown address gets: no hint of what was wrong.
    generic = client.get("/calendario/x/y.ics").get_data(as_text=True)
    page = response.get_data(as_text=True)
    assert re.sub(r'value="[^"]*"', "", page) == re.sub(r'value="[^"]*"', "", generic)


def test_another_users_id_with_my_mac_is_404(web_app: Flask, world: World) -> None:
    mine = feed_token(web_app.config["SECRET_KEY"], world.me)
    mac = mine.split("-", 1)[1]
    client = web_app.test_client()
    assert client.get(f"/calendario/{world.other.id}-{mac}.ics").status_code == 404
    assert client.get(f"/calendario/{mine}.ics").status_code == 200


def test_deactivated_account_is_404(web_app: Flask, world: World) -> None:
    url = _url(web_app, world.me)
    world.me.active = False
    _db.session.commit()
    assert web_app.test_client().get(url).status_code == 404


def test_leaver_is_404(web_app: Flask, world: World) -> None:
    url = _url(web_app, world.me)
    member = _db.session.query(StaffMember).filter_by(user_id=world.me.id).one()
    member.left_on = TODAY + timedelta(days=1)  # not yet
    _db.session.commit()
    assert web_app.test_client().get(url).status_code == 200
    member.left_on = TODAY  # the first day out
    _db.session.commit()
    assert web_app.test_client().get(url).status_code == 404


def test_reset_kills_the_old_address(client: FlaskClient, web_app: Flask, world: World) -> None:
    old = _url(web_app, world.me)
    assert login(client, world.me.email).status_code == 302  # type: ignore[attr-defined]
    page = client.get("/profilo/").get_data(as_text=True)
    assert f"http://localhost{old}" in page
    assert "Cambia indirizzo" in page
    # No change without the form's token, and none on GET.
    assert client.post("/profilo/calendario/cambia-indirizzo").status_code == 400
    assert client.get("/profilo/calendario/cambia-indirizzo").status_code == 405
    assert client.get(old).status_code == 200
    token = csrf_token(client, "/profilo/")
    response = client.post("/profilo/calendario/cambia-indirizzo", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/profilo/#calendar")
    _db.session.expire_all()
    new = _url(web_app, _db.session.get(User, world.me.id))
    assert new != old
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    assert f"http://localhost{new}" in client.get("/profilo/").get_data(as_text=True)


@pytest.mark.parametrize(("role", "audited"), [("trainer", 1), ("hr", 1), ("learner", 0)])
def test_a_new_address_is_in_the_audit_log_for_trainers_hr_and_admins(
    client: FlaskClient, make_user: Callable[..., User], role: str, audited: int
) -> None:
    """Like their other own changes; a learner's is not (nor are a learner's reminders)."""
    from lms.audit.models import AuditEntry, AuditObject  # noqa: PLC0415

    person = make_user(role, email=f"calendario.{role}@example.org")
    assert login(client, person.email).status_code == 302  # type: ignore[attr-defined]
    token = csrf_token(client, "/profilo/")
    response = client.post("/profilo/calendario/cambia-indirizzo", data={"csrf_token": token})
    assert response.status_code == 302
    _db.session.expire_all()
    version = _db.session.get(User, person.id).calendar_version  # type: ignore[union-attr]
    entries = _db.session.query(AuditEntry).filter_by(action="user.calendar").all()
    assert len(entries) == audited
    for entry in entries:
        assert entry.actor_id == person.id
        assert entry.summary == {"version": version}
        about = _db.session.query(AuditObject).filter_by(entry_id=entry.id).one()
        assert (about.kind.value, about.object_id) == ("user", person.id)


def test_reset_needs_sign_in(web_app: Flask, world: World) -> None:
    url = _url(web_app, world.me)
    response = web_app.test_client().post("/profilo/calendario/cambia-indirizzo")
    assert response.status_code in {302, 400}  # CSRF first, then the sign-in page
    assert web_app.test_client().get(url).status_code == 200


def test_feed_address_never_in_the_log(
    web_app: Flask, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    url = _url(web_app, world.me)
    token = url.removeprefix("/calendario/").removesuffix(".ics")
    with caplog.at_level(logging.DEBUG):
        assert web_app.test_client().get(url).status_code == 200
        assert web_app.test_client().get(url[:-6] + "0.ics").status_code == 404
    assert f"calendar feed read by user {world.me.id}" in caplog.text
    mac = token.split("-", 1)[1]
    assert mac not in caplog.text
    assert mac[:-1] not in caplog.text


# due_items and the notices ---------------------------------------------------------


def test_due_items_are_the_open_due_dates_most_urgent_first(world: World) -> None:
    items = due_items(world.me, TODAY)
    assert [(i.course_title, i.days_left) for i in items] == [
        ("Appalti pubblici", -1),
        (ACCENTED, 10),
    ]
    assert items[0].overdue
    assert items[0].days_overdue == 1
    assert not items[1].overdue
    assert items[1].days_overdue == 0
    assert due_items(world.other, TODAY)[0].course_title == "Corso di un altro"


def _notices_html(app: Flask, user: User, today: date) -> str:
    with app.test_request_context("/"):
        return render_template(
            "notifications/_notices.html", notices=notices(due_items(user, today))
        )


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_notice_wording_on_the_boundary_days(app: Flask, world: World) -> None:
    due = TODAY + timedelta(days=10)
    # Eleven days before the due date the "soon" course is within the 14 days.
    html = _text(_notices_html(app, world.me, due - timedelta(days=3)))
    assert f"{ACCENTED} : Scade tra 3 giorni (il {due:%d/%m/%Y})" in html
    assert "<h2" in _notices_html(app, world.me, due)
    assert f"{ACCENTED} : Scade domani" in _text(_notices_html(app, world.me, due - timedelta(1)))
    assert f"{ACCENTED} : Scade oggi" in _text(_notices_html(app, world.me, due))
    over = _text(_notices_html(app, world.me, due + timedelta(days=1)))
    assert f"{ACCENTED} : Scaduto dal {due:%d/%m/%Y}" in over
    # The overdue course comes first.
    assert over.index("Appalti pubblici") < over.index(ACCENTED)


def test_no_notices_when_nothing_is_near(app: Flask, world: World) -> None:
    _db.session.query(Enrolment).filter(Enrolment.due_on < TODAY).delete()
    _db.session.commit()
    assert "Scade tra 10 giorni" in _text(_notices_html(app, world.me, TODAY))
    assert "Scade tra 14 giorni" in _text(_notices_html(app, world.me, TODAY - timedelta(4)))
    assert _notices_html(app, world.me, TODAY - timedelta(days=5)).strip() == ""


def test_home_page_shows_the_notices(client: FlaskClient, world: World) -> None:
    login(client, world.me.email)
    page = _text(client.get("/").get_data(as_text=True))
    assert "Scadenze" in page
    assert f"Appalti pubblici : Scaduto dal {TODAY - timedelta(days=1):%d/%m/%Y}" in page
    assert "Privacy :" not in page


def test_the_development_servers_request_line_is_redacted(
    web_app: Flask, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    token = feed_token(web_app.config["SECRET_KEY"], world.me)
    # The werkzeug logger's own level: the browser tests' live server turns it down to
    # WARNING for the whole run.
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        # What werkzeug's request handler logs for each request (werkzeug.serving.log_request).
        logging.getLogger("werkzeug").info(
            '%s - - [%s] "%s" %s %s',
            "127.0.0.1",
            "now",
            f"GET /calendario/{token}.ics HTTP/1.1",
            200,
            "-",
        )
        logging.getLogger("werkzeug").info('"%s" %s %s', "GET /login HTTP/1.1", 200, "-")
    assert token not in caplog.text
    assert "GET /calendario/….ics HTTP/1.1" in caplog.text
    assert '"GET /login HTTP/1.1" 200 -' in caplog.text
