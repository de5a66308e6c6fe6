"""Teams' and Zoom's attendance reports as the platforms export them (lms/live/attendance_files).

The fixtures in tests/fixtures/attendance/ are written by hand in the platforms'
layouts (people and addresses are invented): Teams' current report in English
and Italian, its older list in both languages (UTF-16 LE with a BOM, tabs, CRLF),
Zoom's participants report with and without the meeting block (UTF-8 with a
BOM). Every one has reconnections, a second device, a guest without e-mail and
an address in capitals somewhere.
"""

from __future__ import annotations

import codecs
import io
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lms.core.tabular import TableError
from lms.live.attendance_files import (
    BAD_EMAIL,
    LEAVE_BEFORE_JOIN,
    NO_EMAIL,
    WAITING_ROOM,
    AttendanceReport,
    Layout,
    Platform,
    _duration_seconds,
    _moment,
    _Order,
    days_apart,
    merged_seconds,
    read_report,
)

FIXTURES = Path(__file__).parent / "fixtures" / "attendance"

GIULIA = "giulia.verdi@napoli.example.org"
MARCO = "marco.bianchi@napoli.example.org"
ANNA = "anna.esposito@napoli.example.org"
PAOLA = "paola.docente@formazione.example.org"
ROBERTO = "roberto.neri@napoli.example.org"
SARA = "sara.gallo@catanzaro.example.org"


def local(*fields: int) -> datetime:
    """A moment as a report writes it: the platform's local time, no zone."""
    return datetime(*fields)  # noqa: DTZ001


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def minutes(report: AttendanceReport) -> dict[str | None, int]:
    return {p.email or p.name: p.minutes for p in report.participants}


def teams_bytes(lines: list[str]) -> bytes:
    """Lines (cells separated by tabs) as Teams writes them: UTF-16 LE, BOM, CRLF."""
    return codecs.BOM_UTF16_LE + ("\r\n".join(lines) + "\r\n").encode("utf-16-le")


# The fixtures, one by one --------------------------------------------------------


def test_teams_current_report_in_english_merges_reconnections_and_two_devices():
    report = read_report(fixture("teams_en_sections.csv"))
    assert (report.platform, report.layout) == (Platform.TEAMS, Layout.TEAMS_SECTIONS)
    assert report.title == "Webinar – Programmazione 2021-2027 (ed. 1)"
    assert report.started_at == local(2026, 2, 12, 9, 50, 12)  # month first: en-US
    assert minutes(report) == {
        PAOLA: 133,
        GIULIA: 112,  # three connections: 41m29s + 37m20s + 33m21s
        MARCO: 121,  # laptop and phone overlap 11:15-11:30: 9:59:02-12:00:44, not 136
        ANNA: 117,  # written Anna.Esposito@Napoli.Example.ORG
        ROBERTO: 40,
        SARA: 117,
    }
    giulia = next(p for p in report.participants if p.email == GIULIA)
    assert giulia.first_join == local(2026, 2, 12, 9, 58, 31)
    assert giulia.last_leave == local(2026, 2, 12, 12, 1, 5)
    assert giulia.lines == (12, 22, 28, 30)  # section 2's row and her three connections
    assert not giulia.from_duration
    [guest] = report.unused
    assert (guest.lines, guest.name, guest.email, guest.reason) == (
        (17, 26),
        "Luca (Guest)",
        "",
        NO_EMAIL,
    )
    assert report.has_emails


def test_teams_current_report_in_italian_reads_days_before_months():
    report = read_report(fixture("teams_it_sezioni.csv"))
    assert report.layout is Layout.TEAMS_SECTIONS
    # "05/03/26": 5 March (Italian), not 3 May.
    assert report.started_at == local(2026, 3, 5, 9, 55)
    assert minutes(report) == {PAOLA: 127, GIULIA: 99, MARCO: 104, ANNA: 45}
    assert [(u.lines, u.name, u.reason) for u in report.unused] == [
        ((15, 23), "Mario (Esterno)", NO_EMAIL)
    ]
    assert days_apart(report, date(2026, 3, 5)) == 0


@pytest.mark.parametrize("name", ["teams_en_legacy.csv", "teams_it_legacy.csv"])
def test_teams_older_list_pairs_joined_and_left(name):
    report = read_report(fixture(name))
    assert (report.platform, report.layout) == (Platform.TEAMS, Layout.TEAMS_LEGACY)
    assert not report.has_emails
    assert minutes(report) == {
        "Paola Docente": 128,  # "Joined before" 9:52:10, left 12:01
        "Giulia Verdi": 118,  # 9:58-10:30 and 10:32-11:58:30
        "Marco Bianchi": 117,  # a second device 10:45-11:00 inside 10:01:30-11:59
        "Anna Esposito": 37,
        "Roberto Neri": 61,  # joined at 11:00 and never left: until the list's end, 12:01
    }
    assert all(p.email is None for p in report.participants)
    assert report.started_at == local(2026, 3, 19, 9, 52, 10)
    assert report.unused == []


def test_zoom_report_with_the_meeting_block():
    report = read_report(fixture("zoom_with_summary.csv"))
    assert (report.platform, report.layout) == (Platform.ZOOM, Layout.ZOOM)
    assert report.title == "Webinar - Programmazione 2021-2027, ed. 1"
    assert report.started_at == local(2026, 2, 12, 9, 50, 12)
    assert minutes(report) == {
        PAOLA: 133,
        GIULIA: 112,
        MARCO: 121,  # the iPhone's connection overlaps the laptop's
        ANNA: 117,
        ROBERTO: 40,
        SARA: 117,
    }
    [guest] = report.unused
    assert (guest.line, guest.name, guest.reason) == (10, "Luca", NO_EMAIL)


def test_zoom_report_without_the_block_leaves_out_the_waiting_room():
    report = read_report(fixture("zoom_participants.csv"))
    assert report.layout is Layout.ZOOM
    assert report.title == ""
    assert minutes(report) == {PAOLA: 127, GIULIA: 99, MARCO: 104, ANNA: 45}
    assert [(u.line, u.email, u.reason) for u in report.unused] == [
        (3, GIULIA, WAITING_ROOM),  # 9:56-10:01 waiting to be admitted: not presence
        (7, "", NO_EMAIL),
    ]


def test_a_date_that_reads_both_ways_follows_the_meeting_day():
    # "03/05/2026" in an English Zoom report is 5 March; told the meeting was on
    # 3 May, the reader takes the day first.
    assert read_report(fixture("zoom_participants.csv")).started_at == local(2026, 3, 5, 9, 55)
    report = read_report(fixture("zoom_participants.csv"), meeting_day=date(2026, 5, 3))
    assert report.started_at == local(2026, 5, 3, 9, 55)
    # The Italian report read on the edition's day agrees with its language.
    report = read_report(fixture("teams_it_sezioni.csv"), meeting_day=date(2026, 3, 5))
    assert report.started_at == local(2026, 3, 5, 9, 55)


def test_a_day_above_twelve_settles_the_order_whatever_the_language():
    lines = [
        "Name\tFirst Join\tLast Leave\tIn-Meeting Duration\tEmail",
        "Giulia Verdi\t19/03/2026, 10:00:00\t19/03/2026, 11:00:00\t1h\tgiulia@example.org",
        "Marco Bianchi\t05/03/2026, 10:00:00\t05/03/2026, 10:30:00\t30m\tmarco@example.org",
    ]
    report = read_report(teams_bytes(lines), meeting_day=date(2026, 5, 3))
    assert {p.email: p.first_join for p in report.participants} == {
        "giulia@example.org": local(2026, 3, 19, 10, 0),
        "marco@example.org": local(2026, 3, 5, 10, 0),
    }


# Variants the platforms (and Excel) produce ------------------------------------------


def test_participants_table_alone_uses_the_duration_column():
    lines = [
        "Name\tFirst Join\tLast Leave\tIn-Meeting Duration\tEmail\tParticipant ID (UPN)\tRole",
        f"Giulia Verdi\t2/12/26, 9:58:31 AM\t2/12/26, 12:01:05 PM\t1h 52m 10s\t{GIULIA}\t\t",
        f"Marco Bianchi\t2/12/26, 9:59:02 AM\t2/12/26, 12:00:44 PM\t45m 10s\t\t{MARCO}\tAttendee",
        "Ospite\t2/12/26, 9:59:02 AM\t2/12/26, 12:00:44 PM\t45m 10s\t\t\tAttendee",
    ]
    report = read_report(teams_bytes(lines))
    assert report.layout is Layout.TEAMS_SECTIONS
    assert minutes(report) == {GIULIA: 112, MARCO: 45}  # Marco by his UPN
    assert all(p.from_duration for p in report.participants)
    assert report.participants[0].first_join == local(2026, 2, 12, 9, 58, 31)
    assert [u.line for u in report.unused] == [4]


def test_sections_without_activities_fall_back_to_the_duration():
    data = fixture("teams_en_sections.csv").decode("utf-16")
    without_activities = data[: data.index("3. In-Meeting Activities")]
    report = read_report(without_activities.encode("utf-16"))
    marco = next(p for p in report.participants if p.email == MARCO)
    assert marco.from_duration
    assert marco.minutes == 136  # what Teams' column says when no connection rows are there


def test_a_report_saved_again_by_excel_is_still_read():
    # Excel's "CSV (delimitato da punto e virgola)": Windows-1252, semicolons, no BOM.
    text = fixture("teams_it_sezioni.csv").decode("utf-16").replace("\t", ";")
    report = read_report(text.encode("cp1252"))
    assert minutes(report) == {PAOLA: 127, GIULIA: 99, MARCO: 104, ANNA: 45}
    # UTF-16 without its BOM.
    report = read_report(fixture("teams_it_sezioni.csv")[2:])
    assert minutes(report)[GIULIA] == 99
    # UTF-8 with commas, quoted dates.
    rows = fixture("teams_en_legacy.csv").decode("utf-16").splitlines()
    quoted = "\n".join(",".join(f'"{cell}"' for cell in row.split("\t")) for row in rows)
    report = read_report(quoted.encode())
    assert minutes(report)["Giulia Verdi"] == 118


def test_rows_that_cannot_be_used_are_listed_with_their_line_and_why():
    lines = [
        "1. Summary",
        "Meeting title\tProva",
        "",
        "2. Participants",
        "Name\tFirst Join\tLast Leave\tIn-Meeting Duration\tEmail",
        f"Giulia Verdi\t2/12/26, 10:00:00 AM\t2/12/26, 11:00:00 AM\t1h\t{GIULIA}",
        "Nome Strano\t2/12/26, 10:00:00 AM\t2/12/26, 11:00:00 AM\t1h\tnon-un-indirizzo",
        "",
        "3. In-Meeting Activities",
        "Name\tJoin Time\tLeave Time\tDuration\tEmail",
        f"Giulia Verdi\t2/12/26, 10:00:00 AM\t2/12/26, 10:40:00 AM\t40m\t{GIULIA}",
        f"Giulia Verdi\tieri\t2/12/26, 11:00:00 AM\t10m\t{GIULIA}",
        f"Giulia Verdi\t2/12/26, 11:00:00 AM\t2/12/26, 10:50:00 AM\t10m\t{GIULIA}",
    ]
    report = read_report(teams_bytes(lines))
    assert minutes(report) == {GIULIA: 40}
    rows = [(u.lines, u.email, u.reason) for u in report.unused]
    assert rows[0] == ((7,), "non-un-indirizzo", BAD_EMAIL)
    assert rows[1][:2] == ((12,), GIULIA)
    assert str(rows[1][2]) == "Join Time non leggibile: «ieri»"
    assert rows[2] == ((13,), GIULIA, LEAVE_BEFORE_JOIN)


def test_an_unknown_action_in_the_older_list_is_listed():
    lines = [
        "Full Name\tUser Action\tTimestamp",
        "Giulia Verdi\tJoined\t3/19/2026, 10:00:00 AM",
        "Giulia Verdi\tMuted\t3/19/2026, 10:10:00 AM",
        "Giulia Verdi\tLeft\t3/19/2026, 11:00:00 AM",
    ]
    report = read_report(teams_bytes(lines))
    assert minutes(report) == {"Giulia Verdi": 60}
    assert [u.line for u in report.unused] == [3]


# What is refused, and how it is said -------------------------------------------------


def test_files_that_are_not_reports_are_refused_saying_what_was_expected():
    with pytest.raises(TableError) as empty:
        read_report(b"")
    assert str(empty.value) == "il file è vuoto"
    with pytest.raises(TableError) as other:
        read_report(b"colonna a,colonna b\n1,2\n")
    message = str(other.value)
    assert message.startswith("non è un rapporto presenze di Teams o di Zoom")
    assert "Full Name, User Action, Timestamp" in message
    assert "Join Time, Leave Time, Duration (Minutes)" in message


@pytest.mark.parametrize(
    ("content", "looks_like"),
    [
        (b"codice_fiscale;nome;cognome\nRSSMRA80A01H501U;Mario;Rossi\n", "elenco del personale"),
        (
            (
                b"Topic,ID,Host,Duration (Minutes),Start Time,End Time,Participants\n"
                b"Webinar,812 3456 7890,Paola,134,02/12/2026 09:50 AM,02/12/2026 12:03 PM,9\n"
            ),
            "elenco delle riunioni di Zoom",
        ),
        (
            b"First name,Last name,Email,Duration,Time joined,Time exited\n",
            "Google Meet",
        ),
    ],
)
def test_a_lookalike_file_is_named(content, looks_like):
    with pytest.raises(TableError) as refused:
        read_report(content)
    assert looks_like in str(refused.value)
    assert "Attesi" in str(refused.value)


def test_binaries_and_workbooks_are_refused():
    workbook = io.BytesIO()
    with zipfile.ZipFile(workbook, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(TableError, match="XLSX"):
        read_report(workbook.getvalue())
    with pytest.raises(TableError, match="non è un file di testo"):
        read_report(b"%PDF-1.7\n...")


def test_a_teams_report_with_only_its_summary_is_refused():
    with pytest.raises(TableError, match="sezione dei partecipanti"):
        read_report(teams_bytes(["1. Summary", "Meeting title\tProva", "Start time\t2/12/26"]))


def test_a_section_header_without_the_needed_columns_names_its_line():
    lines = [
        "1. Summary",
        "Meeting title\tProva",
        "",
        "2. Participants",
        "Nominativo\tEmail",
        f"Giulia\t{GIULIA}",
    ]
    with pytest.raises(TableError) as refused:
        read_report(teams_bytes(lines))
    assert refused.value.line == 5
    assert "Name / Nome" in str(refused.value)
    assert str(refused.value).startswith("riga 5: ")


def test_nul_characters_and_broken_utf16_are_refused():
    with pytest.raises(TableError, match="NUL"):
        read_report(b"Name,Join Time\x00,Leave Time\n")
    with pytest.raises(TableError, match="UTF-16"):
        read_report(codecs.BOM_UTF16_LE + b"N\x00a\x00\x00\xd8")  # a lone surrogate


# The pieces -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("2/12/26, 9:58:31 AM", _Order.MONTH_FIRST, local(2026, 2, 12, 9, 58, 31)),
        ("2/12/26, 9:58:31 AM", _Order.DAY_FIRST, local(2026, 12, 2, 9, 58, 31)),
        ("12/02/2026, 09:58:31", _Order.DAY_FIRST, local(2026, 2, 12, 9, 58, 31)),
        ("2026-02-12 09:58:31", _Order.MONTH_FIRST, local(2026, 2, 12, 9, 58, 31)),
        ("2026-02-12T09:58:31Z", _Order.DAY_FIRST, local(2026, 2, 12, 9, 58, 31)),
        ("02/12/2026 12:03:40 PM", _Order.MONTH_FIRST, local(2026, 2, 12, 12, 3, 40)),
        ("02/12/2026 12:03:40 AM", _Order.MONTH_FIRST, local(2026, 2, 12, 0, 3, 40)),
        ("19.03.2026 10:00", _Order.DAY_FIRST, local(2026, 3, 19, 10, 0)),
        ("13/13/2026 10:00", _Order.DAY_FIRST, None),
        ("2/12/26, 13:00:00 PM", _Order.MONTH_FIRST, None),
        ("ieri", _Order.DAY_FIRST, None),
    ],
)
def test_moments(text, order, expected):
    assert _moment(text, order) == expected


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1h 5m 3s", 3903),
        ("45m 10s", 2710),
        ("3s", 3),
        ("2 h", 7200),
        ("1 ora 5 min", 3900),
        ("01:05:03", 3903),
        ("45:10", 2710),
        ("64", 3840),  # Zoom's minutes
        ("", None),
        ("abc", None),
        ("5m di più", None),
    ],
)
def test_durations(text, seconds):
    assert _duration_seconds(text) == seconds


T0 = local(2026, 2, 12, 10, 0)


def test_merged_seconds_counts_overlaps_once():
    def at(minutes: int) -> datetime:
        return T0 + timedelta(minutes=minutes)

    assert merged_seconds([]) == 0
    assert merged_seconds([(at(0), at(30)), (at(10), at(20))]) == 30 * 60  # inside
    assert merged_seconds([(at(0), at(30)), (at(30), at(40))]) == 40 * 60  # touching
    assert merged_seconds([(at(50), at(60)), (at(0), at(30)), (at(20), at(40))]) == 50 * 60


@given(st.lists(st.tuples(st.integers(0, 300), st.integers(0, 120)), max_size=12))
def test_merged_seconds_is_the_union_of_the_intervals(spans):
    intervals = [
        (T0 + timedelta(minutes=start), T0 + timedelta(minutes=start + length))
        for start, length in spans
    ]
    covered = {minute for start, length in spans for minute in range(start, start + length)}
    assert merged_seconds(intervals) == len(covered) * 60


_PIECES = st.sampled_from(
    [
        "1. Summary",
        "2. Participants",
        "3. In-Meeting Activities",
        "Name\tFirst Join\tLast Leave\tIn-Meeting Duration\tEmail",
        "Name\tJoin Time\tLeave Time\tDuration\tEmail",
        "Full Name\tUser Action\tTimestamp",
        "Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes)",
        f"Giulia\t2/12/26, 10:00 AM\t2/12/26, 11:00 AM\t1h\t{GIULIA}",
        "Giulia\tJoined\t2/12/26, 10:00 AM",
        "Giulia\tLeft\t31/31/26, 99:99",
        f"Giulia,{GIULIA},02/12/2026 10:00 AM,02/12/2026 09:00 AM,5",
        '"unclosed',
        "",
        "\t\t\t",
    ]
)


def _read_or_refusal(data: bytes) -> tuple[AttendanceReport | None, str]:
    """The report, or None and the refusal's message (any other exception fails the test)."""
    try:
        return read_report(data), ""
    except TableError as error:
        return None, str(error)


@given(
    st.lists(st.one_of(_PIECES, st.text(max_size=30)), max_size=12),
    st.sampled_from(["utf-16", "utf-8-sig", "cp1252"]),
)
def test_any_file_is_read_or_refused_with_a_message(lines, encoding):
    data = "\r\n".join(lines).encode(encoding, errors="replace")
    report, refusal = _read_or_refusal(data)
    if report is None:
        assert refusal
    else:
        assert all(p.minutes >= 0 for p in report.participants)
        assert all(row.lines for row in report.unused)


@given(st.binary(max_size=200))
def test_any_bytes_are_read_or_refused_with_a_message(data):
    report, refusal = _read_or_refusal(data)
    assert report is not None or refusal
