"""What a new-user trial of issue #17's pages found, each fixed with its test.

The import preview of training done elsewhere names who each row is for; an
optional survey answered after the course was completed does not announce the
course completed again; the attendance report's preview says where minutes
already recorded came from, in words; the register says "assente" for the people
not ticked; a new edition's duration starts from the module's hours; the menu marks
its entry on the entry's sub-pages (and trainers find the survey results in it);
the live module's page says why the other editions have no button while the
person holds a seat.
"""

from __future__ import annotations

import html
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import csrf_token, login
from flask import Flask
from flask.testing import FlaskClient
from live_world import LiveWorld, build_live_world, make_live_course
from test_external import (  # noqa: F401 - the fixtures
    World,
    add_training,
    client_for_fixture,
    world_fixture,
)
from test_external_import import csv_file, upload
from test_live_import import HELD, fixture, rows
from test_live_import import upload as upload_report
from test_surveys import get_module, make_survey
from test_surveys_web import FULL, form_fields, post_answers

from lms.auth.models import Role, User
from lms.core.types import utcnow
from lms.courses.progress import complete_module
from lms.extensions import db as _db
from lms.live.attendance import record_attendance
from lms.live.models import AttendanceSource, LiveEdition
from lms.live.operations import sign_up
from lms.site import navigation

COMPLETED = "Hai completato il corso «Corso con questionario»."


def text(response) -> str:
    return response.get_data(as_text=True)


def plain(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page))).strip()


@pytest.fixture
def lw(make_user, make_authority, make_region) -> LiveWorld:
    return build_live_world(make_user, make_authority, make_region)


def trainer_in(client: FlaskClient, lw: LiveWorld) -> None:
    assert login(client, lw.trainer.email).status_code == 302


# 2. The import preview says who each row is for ----------------------------------------------


def test_the_import_preview_names_the_person_of_each_row(world: World, client_for) -> None:
    data = csv_file(
        f"{world.maria.codice_fiscale.lower()};Fondi strutturali;SNA;15/03/2026;7,5",
        f"{world.luca.codice_fiscale};Contabilità pubblica;IFEL;01/02/2026;6",
    )
    response = upload(client_for(world.hr), data)
    assert response.status_code == 200
    page = text(response)
    table = page.split("Formazioni che saranno importate", 1)[1].split("</table>", 1)[0]
    headers = [plain(h) for h in re.findall(r"<th scope=\"col\">(.*?)</th>", table)]
    assert headers[:3] == ["Riga", "Persona", "Codice fiscale"]
    body = [plain("<tr" + row) for row in table.split("<tbody>", 1)[1].split("<tr")[1:]]
    assert body[0].startswith("2 Rossi Maria RSSMRA80A41F839A Fondi strutturali")
    assert body[1].startswith("3 Verdi Luca VRDLCU85C03F839Y Contabilità pubblica")


# 3. "Hai completato il corso" only when this answer completed it -----------------------------


def test_an_optional_survey_after_the_course_does_not_announce_it_completed(
    tmp_path: Path, client: FlaskClient, login_as
) -> None:
    learner = login_as("learner")
    make_survey(tmp_path)  # optional: the course is complete with its page alone
    complete_module(learner, get_module("lettura"), utcnow() - timedelta(days=30))
    _db.session.commit()
    response = post_answers(client, form_fields(FULL))
    assert response.status_code == 302
    page = text(client.get(response.location))
    assert "Grazie: le tue risposte sono state registrate in forma anonima." in page
    assert COMPLETED not in page


def test_a_required_survey_that_completes_the_course_announces_it(
    tmp_path: Path, client: FlaskClient, login_as
) -> None:
    learner = login_as("learner")
    make_survey(tmp_path, required=True)
    complete_module(learner, get_module("lettura"))
    _db.session.commit()
    response = post_answers(client, form_fields(FULL))
    assert response.status_code == 302
    assert COMPLETED in text(client.get(response.location))


# 4. The report's preview: where earlier minutes came from, in words ---------------------------


def test_the_report_preview_names_the_source_of_minutes_already_recorded(
    client: FlaskClient, lw: LiveWorld
) -> None:
    giulia = lw.person(
        first_name="Giulia", last_name="Verdi", email="giulia.verdi@napoli.example.org"
    )
    marco = lw.person(
        first_name="Marco", last_name="Bianchi", email="marco.bianchi@napoli.example.org"
    )
    held = lw.edition(starts_at=HELD, minutes=120)
    record_attendance(held, {giulia.id: 0}, AttendanceSource.REGISTER, lw.trainer)
    record_attendance(held, {marco.id: 50}, AttendanceSource.ZOOM, lw.trainer)
    _db.session.commit()
    trainer_in(client, lw)
    page = text(upload_report(client, held.id, fixture("teams_en_sections.csv")))
    matched = {
        row.split(" ", 2)[1] + " " + row.split(" ", 2)[0]: row for row in rows(page, "matched")
    }
    assert "0 minuti (registro): saranno sostituiti" in matched["Giulia Verdi"]
    assert "50 minuti (Zoom): saranno sostituiti" in matched["Marco Bianchi"]
    assert "register" not in plain(page.split('id="matched"', 1)[1].split("</table>", 1)[0])


# 6. The register: "assente" for who was not ticked ------------------------------------------


def test_the_register_says_absent_for_people_recorded_absent(
    client: FlaskClient, lw: LiveWorld
) -> None:
    absent = lw.person(first_name="Andrea", last_name="Assente")
    short = lw.person(first_name="Bruno", last_name="Breve")
    present = lw.person(first_name="Carla", last_name="Presente")
    edition = lw.edition(starts_at=utcnow() + timedelta(days=1))
    for person in (absent, short, present):
        sign_up(edition, person, lw.trainer)
    edition.starts_at = HELD
    record_attendance(
        edition,
        {absent.id: 0, short.id: 30, present.id: 120},
        AttendanceSource.REGISTER,
        lw.trainer,
    )
    _db.session.commit()
    trainer_in(client, lw)
    page = text(client.get(f"/sessioni/{edition.id}/registro"))
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    found = {
        plain(row).split(" ")[1]: plain(row).rsplit(" ", 2)[-2:] for row in body.split("<tr>")[1:]
    }
    assert found["Assente"][-1] == "assente"
    assert found["Breve"] == ["non", "sufficiente"]
    assert found["Presente"][-1] == "valida"


# 7. A new edition's duration: the module's hours ---------------------------------------------


@pytest.mark.parametrize(("hours", "minutes"), [(Decimal(2), "120"), (Decimal("1.5"), "90")])
def test_a_new_edition_starts_with_the_modules_duration(
    client: FlaskClient, lw: LiveWorld, hours: Decimal, minutes: str
) -> None:
    lw.live.live_hours = hours
    _db.session.commit()
    trainer_in(client, lw)
    page = text(client.get(f"/sessioni/nuova/{lw.live.id}"))
    field = re.search(r"<input[^>]*id=\"minutes\"[^>]*>", page).group(0)
    assert f'value="{minutes}"' in field


def test_a_module_without_hours_leaves_the_duration_to_the_trainer(
    client: FlaskClient, lw: LiveWorld
) -> None:
    lw.live.live_hours = None
    _db.session.commit()
    trainer_in(client, lw)
    page = text(client.get(f"/sessioni/nuova/{lw.live.id}"))
    field = re.search(r"<input[^>]*id=\"minutes\"[^>]*>", page).group(0)
    assert 'value=""' in field or "value=" not in field


def test_a_posted_duration_is_kept_over_the_modules(client: FlaskClient, lw: LiveWorld) -> None:
    trainer_in(client, lw)
    token = csrf_token(client, f"/sessioni/nuova/{lw.live.id}")
    response = client.post(
        f"/sessioni/nuova/{lw.live.id}",
        data={"csrf_token": token, "day": "", "start": "09:30", "minutes": "45"},
    )
    assert response.status_code == 400
    field = re.search(r"<input[^>]*id=\"minutes\"[^>]*>", text(response)).group(0)
    assert 'value="45"' in field


# 8. The menu: the entry of the page's section is marked --------------------------------------


def active_entries(page: str) -> list[tuple[str, str]]:
    """(label, aria-current) of the menu's links marked active."""
    menu = page.split('id="main-menu"', 1)[1].split("</nav>", 1)[0]
    return [
        (plain(label), current)
        for current, label in re.findall(
            r'<a class="nav-link active"[^>]*aria-current="(\w+)"[^>]*>(.*?)</a>', menu, re.DOTALL
        )
    ]


@pytest.mark.parametrize(
    ("endpoint", "entry"),
    [
        ("site.home", "site.home"),
        ("live.index", "live.index"),
        ("live.edition", "live.index"),
        ("live.register", "live.index"),
        ("live.import_report", "live.index"),
        ("external.review_queue", "external.review_queue"),
        ("external.review", "external.review_queue"),
        ("external.import_upload", "external.review_queue"),
        ("external.record_list", "external.review_queue"),
        ("external.mine", None),  # one's own training done elsewhere: not HR's queue
        ("courses.overview", "courses.catalogue"),
        ("courses.module_page", "courses.catalogue"),
        ("quiz.review", "courses.catalogue"),
        ("surveys.answer", "courses.catalogue"),  # a learner's survey page sent back
        ("trainer.course_statistics", "trainer.dashboard"),
        ("quiz_stats.quiz_statistics", "trainer.dashboard"),
        ("surveys.index", "surveys.index"),
        ("surveys.results", "surveys.index"),
        ("staff.person", "staff.staff_list"),
        ("register.authority", "register.authorities"),
        ("reports.region", "reports.home"),
        ("audit.entries", "audit.entries"),
        ("admin.account", "admin.users"),
        ("profile.profile", None),
        ("auth.login", None),
        ("core.accessibility", None),
        ("certificates.lookup", None),
    ],
)
def test_which_entry_a_page_marks(endpoint: str, entry: str | None) -> None:
    marked = [
        item.endpoint
        for item in navigation.MENU
        if navigation.nav_entry_active(item.endpoint, endpoint)
    ]
    assert marked == ([entry] if entry else [])


def test_every_page_marks_at_most_one_entry_and_home_only_itself(web_app: Flask) -> None:
    endpoints = {rule.endpoint for rule in web_app.url_map.iter_rules()}
    assert {item.endpoint for item in navigation.MENU} <= endpoints
    for endpoint in endpoints:
        marked = [
            item.endpoint
            for item in navigation.MENU
            if navigation.nav_entry_active(item.endpoint, endpoint)
        ]
        assert len(marked) <= 1, (endpoint, marked)
        if "site.home" in marked:
            assert endpoint == "site.home"
    assert navigation.menu_section("quiz_stats.quiz_statistics") == "trainer"


def test_sub_pages_mark_their_entry_in_the_page(world: World, client_for) -> None:
    training = add_training(world.maria)
    _db.session.commit()
    hr = client_for(world.hr)
    assert active_entries(text(hr.get("/"))) == [("Home", "page")]
    assert active_entries(text(hr.get("/formazione-esterna/richieste"))) == [
        ("Formazione esterna", "page")
    ]
    for url in (f"/formazione-esterna/richieste/{training.id}", "/formazione-esterna/importa"):
        assert active_entries(text(hr.get(url))) == [("Formazione esterna", "true")], url
    _course, live, _first, _last = make_live_course()
    edition = LiveEdition(
        module_id=live.id, starts_at=utcnow() + timedelta(days=5), minutes=60, place="Aula 1"
    )
    _db.session.add(edition)
    _db.session.commit()
    trainer = client_for(world.trainer)
    assert active_entries(text(trainer.get(f"/sessioni/{edition.id}/"))) == [
        ("Sessioni dal vivo", "true")
    ]


def test_trainers_find_the_survey_results_in_the_menu(client_for, make_user) -> None:
    trainer = client_for(make_user(Role.TRAINER))
    page = text(trainer.get("/questionari/"))
    menu = page.split('id="main-menu"', 1)[1].split("</nav>", 1)[0]
    assert 'href="/questionari/"' in menu
    assert active_entries(page) == [("Questionari", "page")]
    learner = client_for(make_user(Role.LEARNER))
    assert 'href="/questionari/"' not in text(learner.get("/"))


# 9. The live module's page: why the other editions have no button ----------------------------


def test_a_seat_held_elsewhere_is_said_on_the_other_editions(
    client: FlaskClient, lw: LiveWorld
) -> None:
    person = lw.person(first_name="Sara", last_name="Seduta", email="sara.seduta@example.org")
    first = lw.edition(starts_at=utcnow() + timedelta(days=7))
    lw.edition(starts_at=utcnow() + timedelta(days=14))
    lw.edition(starts_at=utcnow() + timedelta(days=21))
    sign_up(first, person, lw.trainer)
    _db.session.commit()
    user = _db.session.get(User, person.user_id)
    assert login(client, user.email).status_code == 302
    page = plain(text(client.get(f"/courses/{lw.course.slug}/{lw.live.slug}/")))
    # "del 4 dicembre", "dell'11 dicembre": Italian elides before 8, 11 and 80-89.
    assert len(re.findall("Hai già un posto nella sessione dell?'? ?[0-9]", page)) == 2
    assert "rinuncia a quello per sceglierne un'altra." in page
    assert "Prenota —" not in page


def test_a_place_on_a_waiting_list_is_said_on_the_other_editions(
    client: FlaskClient, lw: LiveWorld
) -> None:
    seated = lw.person(first_name="Ugo", last_name="Seduto")
    person = lw.person(first_name="Lia", last_name="Attesa", email="lia.attesa@example.org")
    full = lw.edition(starts_at=utcnow() + timedelta(days=7), capacity=1)
    lw.edition(starts_at=utcnow() + timedelta(days=14))
    sign_up(full, seated, lw.trainer)
    sign_up(full, person, lw.trainer)  # the seat is taken: the waiting list
    _db.session.commit()
    user = _db.session.get(User, person.user_id)
    assert login(client, user.email).status_code == 302
    page = plain(text(client.get(f"/courses/{lw.course.slug}/{lw.live.slug}/")))
    assert "Sei in lista d'attesa per questa sessione." in page
    assert len(re.findall("Sei in lista d'attesa per la sessione dell?'? ?[0-9]", page)) == 1
    assert "Hai già un posto" not in page
