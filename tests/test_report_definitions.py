"""Every definition of ``staff-and-reports.md``, against numbers computed by hand.

The world (as-of date D = 1 March 2026) and what each person in it exercises
are in ``report_world.py``, shared with the web and export tests.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from report_world import D, World, utc, world_fixture  # noqa: F401 - the world fixture

from lms.auth.models import Role, User
from lms.courses.models import Module, ModuleKind
from lms.extensions import db
from lms.external.models import ExternalTraining, TrainingSource, TrainingStatus
from lms.live.models import AttendanceSource, LiveAttendance, LiveEdition
from lms.register.models import StaffCategory
from lms.reports.coverage import (
    coverage_by_authority,
    coverage_by_region,
    coverage_rows,
    percent,
)
from lms.reports.filters import ReportFilters
from lms.reports.hours import HOURS_COLUMNS, hours_by_authority
from lms.reports.learners import learner_rows


def admin_filters(**kwargs: object) -> ReportFilters:
    return ReportFilters(reader=None, as_of=kwargs.pop("as_of", D), **kwargs)


def test_percent_rounds_half_up() -> None:
    assert percent(6665, 10000) == Decimal("66.7")  # 66.65, to the nearest even would be 66.6
    assert percent(1, 3) == Decimal("33.3")
    assert percent(2, 3) == Decimal("66.7")
    assert percent(1, 8) == Decimal("12.5")
    assert percent(3, 3) == Decimal("100.0")
    assert percent(0, 5) == Decimal("0.0")
    assert percent(1, 0) is None


def test_coverage_by_region(world: World) -> None:  # noqa: ARG001
    rows, total = coverage_by_region(admin_filters())
    assert [row.cells("region") for row in [*rows, total]] == [
        ["15", "Campania", True, 4, 2, 3, 1, Decimal("25.0"), Decimal("74.4"), Decimal("9.5"), 1],
        ["18", "Calabria", True, 1, 1, 1, 0, Decimal("0.0"), Decimal("70.0"), Decimal(0), 0],
        ["03", "Lombardia", False, 2, 0, 2, 1, Decimal("50.0"), Decimal("100.0"), Decimal(8), 0],
        ["12", "Lazio", False, 0, 0, 0, 0, None, None, Decimal(0), 0],
        ["TOTAL", "", None, 7, 3, 6, 2, Decimal("28.6"), Decimal("78.7"), Decimal("17.5"), 1],
    ]


def test_coverage_by_authority(world: World) -> None:  # noqa: ARG001
    rows = coverage_by_authority(admin_filters())
    assert [row.cells("authority") for row in rows] == [
        [
            "063049",
            "Comune di Napoli",
            "comune",
            "15",
            2,
            1,
            2,
            0,
            Decimal("0.0"),
            Decimal("66.7"),
            Decimal(8),
            1,
        ],
        [
            "065116",
            "Comune di Salerno",
            "comune",
            "15",
            2,
            1,
            1,
            1,
            Decimal("50.0"),
            Decimal("90.0"),
            Decimal("1.5"),
            0,
        ],
        [
            "079023",
            "Comune di Catanzaro",
            "comune",
            "18",
            1,
            1,
            1,
            0,
            Decimal("0.0"),
            Decimal("70.0"),
            Decimal(0),
            0,
        ],
        [
            "015146",
            "Comune di Milano",
            "comune",
            "03",
            2,
            0,
            2,
            1,
            Decimal("50.0"),
            Decimal("100.0"),
            Decimal(8),
            0,
        ],
    ]  # Roma Capitale has no staff: no row


def test_course_filter(world: World) -> None:
    rows, total = coverage_by_region(admin_filters(course=world.a))
    campania = rows[0].cells("region")
    # staff does not depend on the course; anna and bruno are enrolled in A; anna completed it
    assert campania == [
        "15",
        "Campania",
        True,
        4,
        2,
        2,
        1,
        Decimal("25.0"),
        Decimal("80.0"),
        Decimal(8),
        1,
    ]
    assert total.cells("region")[3:] == [
        7,
        3,
        4,
        2,
        Decimal("28.6"),
        Decimal("83.3"),
        Decimal(16),
        1,
    ]


def test_category_filter(world: World) -> None:  # noqa: ARG001
    rows, total = coverage_by_region(admin_filters(category=StaffCategory.NEW_HIRE))
    assert rows[0].cells("region")[3:] == [
        2,
        2,
        2,
        1,
        Decimal("50.0"),
        Decimal("74.4"),
        Decimal("9.5"),
        0,
    ]
    assert total.cells("region")[3:] == [
        3,
        3,
        3,
        1,
        Decimal("33.3"),
        Decimal("73.3"),
        Decimal("9.5"),
        0,
    ]


def test_as_of_earlier_date(world: World) -> None:  # noqa: ARG001
    # On 31 January: anna (enrolled in A only, not completed, due 1 Feb), carla not hired,
    # dario still there (enrolled in B, due 15 January: overdue), elena enrolled in B.
    rows, _total = coverage_by_region(admin_filters(as_of=date(2026, 1, 31)))
    campania = rows[0].cells("region")
    # staff: anna, bruno, dario, elena, franco; enrolled: anna, dario, elena; none completed
    assert campania[3:8] == [5, 2, 3, 0, Decimal("0.0")]
    assert campania[8] == Decimal("40.0")  # anna's best on A.q1 by then: 40
    assert campania[10] == 1  # dario's enrolment in B


def test_completion_counts_on_the_italian_day(world: World) -> None:  # noqa: ARG001
    # elena completed at 23:30 UTC on 28 February, which is 1 March in Italy
    by_authority = {
        row.code: row for row in coverage_by_authority(admin_filters(as_of=date(2026, 2, 28)))
    }
    assert by_authority["065116"].totals.completed == 0
    by_authority = {row.code: row for row in coverage_by_authority(admin_filters())}
    assert by_authority["065116"].totals.completed == 1
    # gina completed at 23:30 UTC on 1 March, which is 2 March in Italy
    assert by_authority["079023"].totals.completed == 0
    by_authority = {
        row.code: row for row in coverage_by_authority(admin_filters(as_of=date(2026, 3, 2)))
    }
    assert by_authority["079023"].totals.completed == 1


def test_scope_of_an_authority_manager(world: World) -> None:
    reader = User(email="hr@example.it", role=Role.HR, first_name="H", last_name="R")
    reader.scopes = []
    db.session.add(reader)
    db.session.flush()
    from lms.auth.models import UserScope  # noqa: PLC0415

    db.session.add(UserScope(user_id=reader.id, authority_id=world.napoli.id))
    db.session.commit()
    db.session.refresh(reader)
    filters = ReportFilters(reader=reader, as_of=D)
    rows, total = coverage_by_region(filters)
    assert [row.code for row in rows] == ["15"]
    assert total.cells("region")[3:] == [2, 1, 2, 0, Decimal("0.0"), Decimal("66.7"), Decimal(8), 1]
    assert [row.code for row in coverage_by_authority(filters)] == ["063049"]
    learners = list(learner_rows(filters))
    assert {row.codice_fiscale[:4] for row in learners} == {"ANNA", "BRUN"}


def test_learner_detail(world: World) -> None:  # noqa: ARG001
    rows = [row.cells() for row in learner_rows(admin_filters())]
    keep = [
        "course",
        "enrolled_on",
        "due_on",
        "status",
        "progress_pct",
        "best_score_pct",
        "completed_on",
        "hours",
    ]
    from lms.reports.learners import COLUMNS  # noqa: PLC0415

    index = [COLUMNS.index(name) for name in keep]
    got = [[row[0][:5], *[row[i] for i in index]] for row in rows]
    assert got == [
        [
            "ANNAX",
            "corso-a",
            date(2026, 1, 5),
            date(2026, 2, 1),
            "completed",
            Decimal(100),
            Decimal("80.0"),
            date(2026, 2, 10),
            Decimal(8),
        ],
        [
            "ANNAX",
            "corso-b",
            date(2026, 2, 1),
            None,
            "in_progress",
            Decimal("50.0"),
            Decimal("53.3"),
            None,
            Decimal(0),
        ],
        [
            "BRUNO",
            "corso-a",
            date(2026, 2, 20),
            date(2026, 2, 28),
            "overdue",
            Decimal(0),
            None,
            None,
            Decimal(0),
        ],
        [
            "ELENA",
            "corso-b",
            date(2026, 1, 10),
            None,
            "completed",
            Decimal(100),
            Decimal("90.0"),
            date(2026, 3, 1),
            Decimal("1.5"),
        ],
        [
            "GINAX",
            "corso-a",
            date(2026, 2, 1),
            None,
            "in_progress",
            Decimal("50.0"),
            Decimal("70.0"),
            None,
            Decimal(0),
        ],
        [
            "HUGOX",
            "corso-a",
            date(2026, 1, 1),
            None,
            "completed",
            Decimal(100),
            Decimal("100.0"),
            date(2026, 1, 15),
            Decimal(8),
        ],
        [
            "IVANX",
            "corso-b",
            date(2026, 2, 1),
            D,
            "not_started",
            Decimal(0),
            None,
            None,
            Decimal(0),
        ],
    ]
    first = rows[0]
    assert first[1:8] == [
        "Cognome anna",
        "Anna",
        "anna@example.it",
        "063049",
        "Comune di Napoli",
        "15",
        "new_hire",
    ]


def test_coverage_rows_end_with_total(world: World) -> None:  # noqa: ARG001
    rows = list(coverage_rows(admin_filters(), "region"))
    assert rows[-1][0] == "TOTAL"
    assert len(rows) == 5
    assert next(iter(coverage_rows(admin_filters(), "authority")))[0] == "063049"


def test_learner_rows_in_small_batches_are_the_same(
    world: World,  # noqa: ARG001
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Batches split people across two lookups (and, on PostgreSQL, the lookups
    # run while the server-side cursor is open): the rows must not change.
    whole = [row.cells() for row in learner_rows(admin_filters())]
    monkeypatch.setattr("lms.reports.learners.BATCH", 2)
    assert [row.cells() for row in learner_rows(admin_filters())] == whole


# Yearly hours: platform, live and external (issue #17) ----------------------------------------


def test_hours_by_authority_adds_platform_live_and_external_hours(world: World) -> None:
    # corso-a (8 h) gets a live module of 3 h: its completions now earn 5 platform hours.
    webinar = Module(
        course_id=world.a.id,
        slug="webinar",
        position=9,
        title="Webinar",
        kind=ModuleKind.LIVE,
        filename="09-webinar.md",
        source_hash="0" * 64,
        live_hours=Decimal(3),
        attendance_percent=75,
    )
    db.session.add(webinar)
    db.session.flush()
    edition = LiveEdition(module_id=webinar.id, starts_at=utc("2026-01-20 09:00"), minutes=120)
    db.session.add(edition)
    db.session.flush()
    people = world.people
    for name, minutes in (("anna", 120), ("bruno", 60)):  # bruno: 50 %, not enough
        db.session.add(
            LiveAttendance(
                edition_id=edition.id,
                staff_id=people[name].id,
                minutes=minutes,
                source=AttendanceSource.TEAMS,
            )
        )

    def external(name: str, hours: str, day: date, status: TrainingStatus) -> None:
        db.session.add(
            ExternalTraining(
                staff_id=people[name].id,
                title="Corso SNA",
                provider="SNA",
                completed_on=day,
                hours=Decimal(hours),
                status=status,
                source=TrainingSource.IMPORTED,
                refusal_reason="no" if status is TrainingStatus.REFUSED else None,
            )
        )

    external("bruno", "27", date(2026, 2, 15), TrainingStatus.APPROVED)
    external("bruno", "5", date(2026, 2, 16), TrainingStatus.PENDING)
    external("bruno", "4", date(2026, 2, 17), TrainingStatus.REFUSED)
    external("bruno", "9", date(2025, 12, 31), TrainingStatus.APPROVED)  # the year before
    external("gina", "8", date(2026, 3, 2), TrainingStatus.APPROVED)  # after D
    db.session.commit()

    rows = {
        row.authority_code: row for row in hours_by_authority(admin_filters(), 2026, Decimal(8))
    }
    keep = [
        HOURS_COLUMNS.index(name)
        for name in (
            "staff",
            "reached_target",
            "avg_hours",
            "avg_platform_hours",
            "avg_live_hours",
            "avg_external_hours",
        )
    ]
    cells = {code: [row.cells()[i] for i in keep] for code, row in rows.items()}
    # Napoli: anna 5 platform + 3 live = 8 (the course's 8 hours, not 11); bruno 27 external
    assert cells["063049"] == [
        2,
        2,
        Decimal("17.5"),
        Decimal("2.5"),
        Decimal("1.5"),
        Decimal("13.5"),
    ]
    # Milano: hugo completed corso-a without attending the webinar: 5 platform hours
    assert cells["015146"] == [2, 0, Decimal("2.5"), Decimal("2.5"), Decimal(0), Decimal(0)]
    # Catanzaro: gina's course and her external training both come after D
    assert cells["079023"] == [1, 0, Decimal(0), Decimal(0), Decimal(0), Decimal(0)]
    later = {
        row.authority_code: row
        for row in hours_by_authority(admin_filters(as_of=date(2026, 3, 2)), 2026, Decimal(8))
    }
    assert later["079023"].cells()[keep[1]] == 1  # 5 platform + 8 external = 13
    assert later["079023"].avg_external_hours == Decimal(8)
    last_year = {
        row.authority_code: row for row in hours_by_authority(admin_filters(), 2025, Decimal(8))
    }
    assert last_year["063049"].reached == 1  # bruno's 9 hours of 31 December 2025
