"""The attendance reports of Microsoft Teams and Zoom, read as the platforms export them.

Pure functions, no Flask and no database: :func:`read_report` takes the bytes of
an uploaded file and returns, for each participant, the e-mail address
(lower-cased), the name, the minutes present, the first join and the last
leave, and every row it could not use, with its line number and why. Matching
participants to people is the caller's business (:mod:`lms.live.import_views`).

The formats, recognised from the content (never from the file's name):

- **Microsoft Teams, current** ("Scarica il rapporto presenze" / "Download
  attendance report"): UTF-16 LE with a BOM, tab-separated, in sections
  ``1. Summary`` / ``1. Riepilogo``, ``2. Participants`` / ``2. Partecipanti``,
  ``3. In-Meeting Activities`` / ``3. Attività durante la riunione``. Section 2
  has one row per person (Name, First Join, Last Leave, In-Meeting Duration
  such as ``1h 5m 3s``, Email, Participant ID (UPN), Role); section 3 one row
  per connection (Join Time, Leave Time, Duration …): several per person who
  reconnected or joined from two devices. A table of section 2 alone, without
  the numbered titles, is read too.
- **Microsoft Teams, older** (the attendance list of 2020-2021): one table
  ``Full Name, User Action, Timestamp`` with a ``Joined`` / ``Left`` row per
  event, and no e-mail addresses at all.
- **Zoom** (Report > Usage > participants): CSV, UTF-8 with a BOM,
  comma-separated, one row per connection: ``Name (Original Name), User Email,
  Join Time, Leave Time, Duration (Minutes), Guest, Recording Consent, In Waiting
  Room``, optionally after a block about the meeting (``Meeting ID, Topic, Start
  Time, …``, its values, a blank line).

Files opened and saved again by Excel are read as well: UTF-16, UTF-8 or
Windows-1252; tab, ``;`` or ``,``. Column names are matched without regard to
case, accents or spaces, in English or Italian. XLSX is refused with a message:
the platforms download CSV files, and a workbook made from one in Excel is a
copy to save back as CSV (reading workbooks safely, ZIP bombs and all, is the
roster import's business; nothing here needs it).

**Minutes.** A person's connections are merged before they are added up: the
overlap of two devices counts once, and so does a reconnection that overlaps
the previous connection. Whole minutes, rounded down. When the file has no
join/leave rows for someone (Teams' section 2 alone), the duration column is
used instead (:attr:`Participant.from_duration`). Zoom's rows spent in the
waiting room are not presence and are listed as unused.

**Dates** are written as the downloader's locale writes them: ``2/12/26,
9:58:31 AM`` (United States: month first), ``12/02/26, 09:58:31`` (Italy: day
first), ``2026-02-12 09:58:31``. The order of day and month is the one every
date of the file allows (a 13 or more settles it); when both fit, the one that
puts the meeting on *meeting_day* (the edition's day, when the caller knows
it); failing that, day first for a report in Italian, month first otherwise.
Times are the report's local times; only their differences matter here.
"""

from __future__ import annotations

import codecs
import csv
import enum
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Final

from lms.core.messages import Message, _l
from lms.core.tabular import TableError

#: Rows a report may have (a webinar of 1,000 people who reconnect a few times
#: stays far below).
MAX_ROWS: Final = 50_000

#: Why a row was not used (the reasons of :class:`UnusedRow`).
NO_EMAIL: Final = _l("nessun indirizzo e-mail nel rapporto (ospite o utente esterno)")
BAD_EMAIL: Final = _l("l'indirizzo e-mail non è valido")
WAITING_ROOM: Final = _l("tempo passato nella sala d'attesa: non è presenza")
NO_TIMES: Final = _l("né orari di ingresso e uscita né durata leggibili")
UNKNOWN_ACTION: Final = _l("azione sconosciuta (attese: Joined/Left, Partecipato/Uscito)")
LEAVE_BEFORE_JOIN: Final = _l("l'ora di uscita è precedente a quella di ingresso")


def _bad_time(column: str, value: str) -> Message:
    return _l("%(column)s non leggibile: «%(value)s»", column=column, value=value[:40])


class Platform(enum.StrEnum):
    """The meeting platform that wrote the report."""

    TEAMS = "teams"
    ZOOM = "zoom"


class Layout(enum.StrEnum):
    """Which of the platforms' layouts the file has."""

    TEAMS_SECTIONS = "teams"  # current Teams: summary, participants, activities
    TEAMS_LEGACY = "teams-legacy"  # Teams 2020-2021: Full Name, User Action, Timestamp
    ZOOM = "zoom"


@dataclass(frozen=True)
class Participant:
    """One person of the report, all their connections taken together."""

    #: Lower-cased; None in Teams' older layout, which has no addresses.
    email: str | None
    name: str
    #: Minutes present, overlaps counted once, rounded down.
    minutes: int
    first_join: datetime | None
    last_leave: datetime | None
    #: The file's lines about this person.
    lines: tuple[int, ...]
    #: The minutes come from the duration column, not from join and leave times.
    from_duration: bool = False


@dataclass(frozen=True)
class UnusedRow:
    """Rows the report holds but that count for nobody, and why (all lines of one guest)."""

    lines: tuple[int, ...]
    name: str
    email: str
    reason: Message

    @property
    def line(self) -> int:
        """The first of :attr:`lines`."""
        return self.lines[0]


@dataclass(frozen=True)
class AttendanceReport:
    """What a report says: who was there for how long, and what could not be used."""

    platform: Platform
    layout: Layout
    participants: list[Participant]
    unused: list[UnusedRow]
    #: The meeting's title, when the report gives it.
    title: str = ""
    #: The meeting's start (the summary's, else the first join), in the report's local time.
    started_at: datetime | None = None

    @property
    def has_emails(self) -> bool:
        """Whether people can be matched by e-mail (not in Teams' older layout)."""
        return self.layout is not Layout.TEAMS_LEGACY


# Reading the text ------------------------------------------------------------------


def _decode(data: bytes) -> str:
    """The file's text: UTF-16 (BOM, or NULs every other byte), UTF-8, else Windows-1252."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif len(data) >= 4 and data[1] == 0 and data[3] == 0 and data[0] != 0:  # noqa: PLR2004
        encoding = "utf-16-le"
    elif data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    else:
        encoding = "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        if encoding != "utf-8":
            raise TableError(
                _l("il file dichiara la codifica UTF-16 ma non lo è: è danneggiato?")
            ) from None
        text = data.decode("cp1252", errors="replace")
    if "\x00" in text:
        raise TableError(_l("il file contiene caratteri nulli (NUL): non è un file di testo"))
    return text


_BINARY: Final = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"\x1f\x8b", b"PK\x05\x06")


def _refuse_binaries(data: bytes) -> None:
    head = data[:8]
    if head.startswith(b"PK\x03\x04"):
        raise TableError(
            _l(
                "è un file Excel (XLSX) o un archivio ZIP: carica il file CSV così come "
                "Teams o Zoom lo scaricano, senza aprirlo e salvarlo in Excel"
            )
        )
    if head.startswith((b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", *_BINARY)):
        raise TableError(_l("non è un file di testo: carica il rapporto CSV di Teams o Zoom"))


def _delimiter(text: str) -> str:
    sample = text[:20_000]
    if "\t" in sample:
        return "\t"
    return ";" if sample.count(";") > sample.count(",") else ","


@dataclass(frozen=True)
class _Line:
    """One row of the file: its line number and its cells, trimmed."""

    number: int
    cells: list[str]

    @property
    def blank(self) -> bool:
        return not any(self.cells)

    def cell(self, index: int | None) -> str:
        if index is None or index >= len(self.cells):
            return ""
        return self.cells[index]


_INVISIBLE: Final = dict.fromkeys(map(ord, "\ufeff\u200b\u200e\u200f\u00a0"), " ")


def _lines(text: str, delimiter: str) -> list[_Line]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    lines: list[_Line] = []
    previous = 0
    try:
        for cells in reader:
            start = previous + 1
            previous = reader.line_num
            lines.append(_Line(start, [c.translate(_INVISIBLE).strip() for c in cells]))
            if len(lines) > MAX_ROWS:
                raise TableError(
                    _l(
                        "il rapporto ha più di %(rows)d righe: non è un rapporto presenze",
                        rows=MAX_ROWS,
                    )
                )
    except csv.Error:
        raise TableError(
            _l("le virgolette o i separatori non sono scritti come il CSV richiede"),
            previous + 1,
        ) from None
    return lines


def _key(text: str) -> str:
    """A header or a value as compared: lower case, no accents, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.replace("’", "'").split())


# Columns ------------------------------------------------------------------------

#: Each column the readers use, and the headers (as :func:`_key` writes them)
#: that Teams and Zoom give it in English and Italian.
_COLUMNS: Final[dict[str, frozenset[str]]] = {
    "name": frozenset(
        {
            "name",
            "nome",
            "full name",
            "nome completo",
            "name (original name)",
            "nome (nome originale)",
            "display name",
            "nome visualizzato",
            "participant",
            "partecipante",
        }
    ),
    "email": frozenset(
        {
            "email",
            "e-mail",
            "e mail",
            "mail",
            "user email",
            "user e-mail",
            "email utente",
            "e-mail utente",
            "email address",
            "indirizzo e-mail",
            "indirizzo email",
        }
    ),
    "upn": frozenset(
        {
            "participant id (upn)",
            "id partecipante (upn)",
            "upn",
            "participant id",
            "id partecipante",
        }
    ),
    "first_join": frozenset(
        {"first join", "first join time", "primo accesso", "primo ingresso", "ora primo accesso"}
    ),
    "last_leave": frozenset(
        {"last leave", "last leave time", "ultima uscita", "ora ultima uscita"}
    ),
    "duration": frozenset(
        {
            "in-meeting duration",
            "in meeting duration",
            "durata della riunione",
            "durata nella riunione",
            "durata in riunione",
            "durata partecipazione",
            "duration",
            "durata",
            "duration (minutes)",
            "durata (minuti)",
            "attendance duration",
        }
    ),
    "join": frozenset(
        {
            "join time",
            "join",
            "ora di ingresso",
            "ora ingresso",
            "ora di accesso",
            "orario di ingresso",
            "ingresso",
            "ora di partecipazione",
        }
    ),
    "leave": frozenset(
        {"leave time", "leave", "ora di uscita", "ora uscita", "orario di uscita", "uscita"}
    ),
    "role": frozenset({"role", "ruolo"}),
    "action": frozenset({"user action", "azione utente", "attivita utente", "azione", "action"}),
    "timestamp": frozenset({"timestamp", "data e ora", "data/ora", "ora", "time"}),
    "guest": frozenset({"guest", "ospite"}),
    "waiting": frozenset(
        {"in waiting room", "in sala d'attesa", "in sala di attesa", "sala d'attesa"}
    ),
}
_BY_HEADER: Final = {header: column for column, names in _COLUMNS.items() for header in names}

#: Headers only Zoom writes.
_ZOOM_ONLY: Final = frozenset(
    {
        "name (original name)",
        "nome (nome originale)",
        "user email",
        "user e-mail",
        "email utente",
        "e-mail utente",
        "duration (minutes)",
        "durata (minuti)",
        "guest",
        "ospite",
        "in waiting room",
        "in sala d'attesa",
        "in sala di attesa",
        "recording consent",
        "consenso alla registrazione",
    }
)
#: Italian words in a header: the report was downloaded in Italian (day before month).
_ITALIAN_HINTS: Final = frozenset(
    {
        "nome",
        "nome completo",
        "primo accesso",
        "ultima uscita",
        "durata",
        "ruolo",
        "azione utente",
        "riepilogo",
        "partecipanti",
        "ora di ingresso",
        "ora di uscita",
        "ospite",
        "nome (nome originale)",
        "email utente",
        "e-mail utente",
        "durata (minuti)",
    }
)


@dataclass(frozen=True)
class _Header:
    line: int
    columns: dict[str, int]
    italian: bool
    written: tuple[str, ...]

    def has(self, *names: str) -> bool:
        return all(name in self.columns for name in names)

    def get(self, row: _Line, name: str) -> str:
        return row.cell(self.columns.get(name))


def _header(line: _Line) -> _Header:
    columns: dict[str, int] = {}
    italian = False
    for index, cell in enumerate(line.cells):
        key = _key(cell)
        italian = italian or key in _ITALIAN_HINTS
        column = _BY_HEADER.get(key)
        if column is not None and column not in columns:
            columns[column] = index
    return _Header(line.number, columns, italian, tuple(line.cells))


# Dates and durations ------------------------------------------------------------

_MOMENT: Final = re.compile(
    r"(?P<a>\d{1,4})[/.\-](?P<b>\d{1,2})[/.\-](?P<c>\d{2,4})(?:,\s*|\s+|T)"
    r"(?P<h>\d{1,2})[:.](?P<m>\d{2})(?:[:.](?P<s>\d{2})(?:[.,]\d+)?)?"
    r"\s*(?P<ampm>[AaPp]\.?\s?[Mm]\.?)?(?:\s*(?:Z|UTC|GMT|[+-]\d{2}:?\d{2}))?"
)
_YEAR_ONLY_DIGITS: Final = 4
_CENTURY: Final = 2000
_NOON: Final = 12


class _Order(enum.Enum):
    DAY_FIRST = "dmy"
    MONTH_FIRST = "mdy"


def _moment(text: str, order: _Order) -> datetime | None:
    """*text* as a local date and time, reading day and month in *order*; None if it is not."""
    match = _MOMENT.fullmatch(text.strip())
    if match is None:
        return None
    a, b, c = match["a"], int(match["b"]), match["c"]
    if len(a) == _YEAR_ONLY_DIGITS:
        year, month, day = int(a), b, int(c)
    else:
        year = int(c) + (_CENTURY if len(c) == 2 else 0)  # noqa: PLR2004 - "26"
        day, month = (int(a), b) if order is _Order.DAY_FIRST else (b, int(a))
    hour, minute, second = int(match["h"]), int(match["m"]), int(match["s"] or 0)
    if match["ampm"]:
        if not 1 <= hour <= _NOON:
            return None
        afternoon = match["ampm"][0] in "Pp"
        hour = (hour % _NOON) + (_NOON if afternoon else 0)
    try:
        return datetime(year, month, day, hour, minute, second)  # noqa: DTZ001 - the report's local time
    except ValueError:
        return None


def _year_first(text: str) -> bool:
    match = _MOMENT.fullmatch(text.strip())
    return match is not None and len(match["a"]) == _YEAR_ONLY_DIGITS


def _choose_order(samples: Iterable[str], *, italian: bool, meeting_day: date | None) -> _Order:
    """The order of day and month that the file's dates allow (see the module's text)."""
    ambiguous = [s for s in samples if s and not _year_first(s)]
    if not ambiguous:
        return _Order.DAY_FIRST
    valid = {
        order: [m for s in ambiguous if (m := _moment(s, order)) is not None] for order in _Order
    }
    day_first, month_first = len(valid[_Order.DAY_FIRST]), len(valid[_Order.MONTH_FIRST])
    if day_first != month_first:
        return _Order.DAY_FIRST if day_first > month_first else _Order.MONTH_FIRST
    if meeting_day is not None and valid[_Order.DAY_FIRST]:
        distance = {
            order: min(abs((m.date() - meeting_day).days) for m in moments)
            for order, moments in valid.items()
        }
        if distance[_Order.DAY_FIRST] != distance[_Order.MONTH_FIRST]:
            return min(distance, key=lambda order: distance[order])
    return _Order.DAY_FIRST if italian else _Order.MONTH_FIRST


_DURATION_PART: Final = re.compile(
    r"(\d+)\s*(hrs|hr|h|ora|ore|minuti|minuto|mins|min|m|secondi|secondo|secs|sec|s)(?![a-z])\.?",
    re.IGNORECASE,
)
_CLOCK: Final = re.compile(r"(?:(\d{1,3}):)?(\d{1,2}):(\d{2})")
_UNIT_SECONDS: Final = {"h": 3600, "o": 3600, "m": 60, "s": 1}


def _duration_seconds(text: str, *, minutes: bool = False) -> int | None:
    """``1h 5m 3s``, ``45m 10s``, ``01:05:03`` (or a number of minutes) as seconds."""
    value = text.strip()
    if not value:
        return None
    if minutes or value.isdigit():
        return int(value) * 60 if value.isdigit() else None
    clock = _CLOCK.fullmatch(value)
    if clock:
        hours, mins, secs = int(clock[1] or 0), int(clock[2]), int(clock[3])
        return hours * 3600 + mins * 60 + secs
    total, position = 0, 0
    for part in _DURATION_PART.finditer(value):
        if value[position : part.start()].strip(" ,"):
            return None
        total += int(part[1]) * _UNIT_SECONDS[part[2][0].lower()]
        position = part.end()
    if position == 0 or value[position:].strip():
        return None
    return total


# Intervals -------------------------------------------------------------------------


def merged_seconds(intervals: Iterable[tuple[datetime, datetime]]) -> int:
    """Seconds covered by *intervals*, each moment counted once however many cover it."""
    total = 0
    current: tuple[datetime, datetime] | None = None
    for start, end in sorted(intervals):
        if current is None or start > current[1]:
            if current is not None:
                total += int((current[1] - current[0]).total_seconds())
            current = (start, end)
        elif end > current[1]:
            current = (current[0], end)
    if current is not None:
        total += int((current[1] - current[0]).total_seconds())
    return total


@dataclass
class _Person:
    """What the rows say about one person, gathered before the sums."""

    name: str
    email: str | None
    lines: list[int] = field(default_factory=list)
    intervals: list[tuple[datetime, datetime]] = field(default_factory=list)
    duration: int | None = None  # seconds, from a duration column
    first_join: datetime | None = None
    last_leave: datetime | None = None

    def participant(self) -> Participant | None:
        if self.intervals:
            starts, ends = zip(*self.intervals, strict=True)
            return Participant(
                email=self.email,
                name=self.name,
                minutes=merged_seconds(self.intervals) // 60,
                first_join=min(starts),
                last_leave=max(ends),
                lines=tuple(sorted(set(self.lines))),
            )
        if self.duration is None:
            return None
        return Participant(
            email=self.email,
            name=self.name,
            minutes=self.duration // 60,
            first_join=self.first_join,
            last_leave=self.last_leave,
            lines=tuple(sorted(set(self.lines))),
            from_duration=True,
        )


class _Unused:
    """The unused rows, one entry per guest (by name) and reason."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str, str], tuple[list[int], str, str, Message]] = {}

    def add(self, line: int, name: str, email: str, reason: Message) -> None:
        key = (_key(name), email.lower(), reason.msgid)
        entry = self._rows.setdefault(key, ([], name, email, reason))
        entry[0].append(line)

    def rows(self) -> list[UnusedRow]:
        found = [
            UnusedRow(tuple(sorted(lines)), name, email, reason)
            for lines, name, email, reason in self._rows.values()
        ]
        return sorted(found, key=lambda row: row.lines)


_EMAIL: Final = re.compile(r"[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;.]{2,}")


def _address(*candidates: str) -> tuple[str | None, bool]:
    """The first candidate that holds an address, lower-cased; and whether any was written."""
    written = False
    for candidate in candidates:
        value = candidate.strip().strip("<>").strip()
        if not value:
            continue
        written = True
        if _EMAIL.fullmatch(value):
            return value.lower(), True
    return None, written


class _Clock:
    """Reads the file's dates in the order chosen for the whole file."""

    def __init__(self, order: _Order) -> None:
        self.order = order

    def read(self, text: str) -> datetime | None:
        return _moment(text, self.order)


def _samples(rows: Iterable[_Line], header: _Header, *names: str) -> Iterator[str]:
    for row in rows:
        for name in names:
            value = header.get(row, name)
            if value:
                yield value


# Teams, current layout ---------------------------------------------------------

_SECTION: Final = re.compile(r"(\d)\s*[.)]\s*(.+)")
_SUMMARY_TITLES: Final = frozenset({"summary", "riepilogo", "meeting summary"})
_PARTICIPANT_TITLES: Final = frozenset({"participants", "partecipanti"})
_ACTIVITY_TITLES: Final = frozenset(
    {
        "in-meeting activities",
        "in meeting activities",
        "attivita durante la riunione",
        "attivita nella riunione",
        "attivita in riunione",
        "activities",
        "attivita",
    }
)
_ITALIAN_TITLES: Final = frozenset(
    {"riepilogo", "partecipanti", *(t for t in _ACTIVITY_TITLES if t.startswith("attivita"))}
)
_SUMMARY_KEYS: Final = {
    "meeting title": "title",
    "titolo della riunione": "title",
    "titolo riunione": "title",
    "start time": "start",
    "ora di inizio": "start",
    "ora inizio": "start",
    "meeting start time": "start",
}


def _section_of(line: _Line) -> str | None:
    """``summary``, ``participants`` or ``activities`` for a section's title row."""
    filled = [c for c in line.cells if c]
    if len(filled) != 1 or line.cells[0] != filled[0]:
        return None
    match = _SECTION.fullmatch(filled[0])
    if match is None:
        return None
    title = _key(match[2])
    if title in _SUMMARY_TITLES:
        return "summary"
    if title in _PARTICIPANT_TITLES:
        return "participants"
    if title in _ACTIVITY_TITLES:
        return "activities"
    return "other"


def _sections(lines: list[_Line]) -> tuple[dict[str, list[_Line]], bool]:
    """The rows of each numbered section; and whether the titles are Italian."""
    sections: dict[str, list[_Line]] = {}
    italian = False
    current: list[_Line] | None = None
    for line in lines:
        section = _section_of(line)
        if section is not None:
            current = sections.setdefault(section, [])
            italian = italian or _key(line.cells[0]).split(maxsplit=1)[-1] in _ITALIAN_TITLES
            continue
        if current is not None and not line.blank:
            current.append(line)
    return sections, italian


def _table(rows: list[_Line], section: str, required: Sequence[str]) -> tuple[_Header, list[_Line]]:
    if not rows:
        raise TableError(_l("la sezione «%(section)s» del rapporto è vuota", section=section))
    header = _header(rows[0])
    missing = [name for name in required if name not in header.columns]
    if missing:
        raise TableError(
            _l(
                "l'intestazione della sezione «%(section)s» non ha le colonne attese "
                "(%(expected)s); ha: %(found)s",
                section=section,
                expected=", ".join(_EXPECTED_NAMES[name] for name in missing),
                found=", ".join(header.written),
            ),
            header.line,
        )
    return header, rows[1:]


_EXPECTED_NAMES: Final = {
    "name": "Name / Nome",
    "email": "Email / E-mail",
    "first_join": "First Join / Primo accesso",
    "last_leave": "Last Leave / Ultima uscita",
    "duration": "In-Meeting Duration / Durata della riunione",
    "join": "Join Time / Ora di ingresso",
    "leave": "Leave Time / Ora di uscita",
    "action": "User Action / Azione utente",
    "timestamp": "Timestamp",
}


def _read_teams(
    sections: dict[str, list[_Line]],
    meeting_day: date | None,
    *,
    titled: bool,
    italian_titles: bool = False,
) -> AttendanceReport:
    if "participants" not in sections and "activities" not in sections:
        raise TableError(
            _l(
                "il rapporto di Teams non ha la sezione dei partecipanti "
                "(«2. Participants» / «2. Partecipanti»): forse è solo il riepilogo"
            )
        )
    summary = {
        _SUMMARY_KEYS[_key(line.cells[0])]: line.cell(1)
        for line in sections.get("summary", [])
        if line.cells and _key(line.cells[0]) in _SUMMARY_KEYS
    }
    people = activities = None
    if "participants" in sections:
        title = "2. Participants / 2. Partecipanti" if titled else "Participants"
        people = _table(sections["participants"], title, ("name",))
    if "activities" in sections:
        title = "3. In-Meeting Activities / 3. Attività durante la riunione"
        activities = _table(sections["activities"], title, ("name", "join", "leave"))
    samples: list[str] = [summary.get("start", "")]
    italian = italian_titles
    for part, names in ((people, ("first_join", "last_leave")), (activities, ("join", "leave"))):
        if part is not None:
            samples.extend(_samples(part[1], part[0], *names))
            italian = italian or part[0].italian
    reader = _TeamsPeople(_Clock(_choose_order(samples, italian=italian, meeting_day=meeting_day)))
    if people is not None:
        reader.participants(*people)
    if activities is not None:
        reader.activities(*activities)
    return _report(
        Platform.TEAMS,
        Layout.TEAMS_SECTIONS,
        reader.found.values(),
        reader.unused,
        title=summary.get("title", ""),
        started_at=reader.clock.read(summary.get("start", "")),
    )


class _TeamsPeople:
    """The people of Teams' sections 2 and 3, by e-mail address."""

    def __init__(self, clock: _Clock) -> None:
        self.clock = clock
        self.unused = _Unused()
        self.found: dict[str, _Person] = {}

    def _person(self, row: _Line, header: _Header) -> _Person | None:
        name = header.get(row, "name")
        email, written = _address(header.get(row, "email"), header.get(row, "upn"))
        if email is None:
            reason = BAD_EMAIL if written else NO_EMAIL
            self.unused.add(row.number, name, header.get(row, "email"), reason)
            return None
        entry = self.found.setdefault(email, _Person(name=name, email=email))
        entry.lines.append(row.number)
        return entry

    def participants(self, header: _Header, rows: list[_Line]) -> None:
        """Section 2: one row a person, with the duration and the first and last moments."""
        for row in rows:
            entry = self._person(row, header)
            if entry is not None:
                entry.duration = _duration_seconds(header.get(row, "duration"))
                entry.first_join = self.clock.read(header.get(row, "first_join"))
                entry.last_leave = self.clock.read(header.get(row, "last_leave"))

    def activities(self, header: _Header, rows: list[_Line]) -> None:
        """Section 3: one row a connection."""
        for row in rows:
            entry = self._person(row, header)
            if entry is not None:
                _add_interval(entry, row, header, self.clock, self.unused)


def _add_interval(
    entry: _Person, row: _Line, header: _Header, clock: _Clock, unused: _Unused
) -> None:
    """Add the row's connection to *entry*, or list the row as unused."""
    joined_text, left_text = header.get(row, "join"), header.get(row, "leave")
    joined, left = clock.read(joined_text), clock.read(left_text)
    reason: Message | None = None
    if joined is None:
        reason = _bad_time(header.written[header.columns["join"]], joined_text)
    elif left is None:
        reason = _bad_time(header.written[header.columns["leave"]], left_text)
    elif left < joined:
        reason = LEAVE_BEFORE_JOIN
    if reason is not None or joined is None or left is None:
        unused.add(row.number, entry.name, entry.email or "", reason or NO_TIMES)
        return
    entry.intervals.append((joined, left))


def _report(
    platform: Platform,
    layout: Layout,
    people: Iterable[_Person],
    unused: _Unused,
    *,
    title: str = "",
    started_at: datetime | None = None,
) -> AttendanceReport:
    participants: list[Participant] = []
    for entry in people:
        participant = entry.participant()
        if participant is None:
            for line in entry.lines:
                unused.add(line, entry.name, entry.email or "", NO_TIMES)
        else:
            participants.append(participant)
    participants.sort(key=lambda p: (_key(p.name), p.email or ""))
    if started_at is None:
        joins = [p.first_join for p in participants if p.first_join is not None]
        started_at = min(joins) if joins else None
    return AttendanceReport(platform, layout, participants, unused.rows(), title, started_at)


# Teams, older layout ----------------------------------------------------------

_JOINED: Final = frozenset(
    {
        "joined",
        "joined before",
        "partecipato",
        "ha partecipato",
        "partecipato prima",
        "entrato",
        "entrato prima",
        "aggiunto",
        "unito",
        "si e unito",
    }
)
_LEFT: Final = frozenset(
    {"left", "uscito", "uscita", "ha lasciato", "abbandonato", "ha abbandonato", "uscito/a"}
)


def _read_teams_legacy(
    header: _Header, rows: list[_Line], meeting_day: date | None
) -> AttendanceReport:
    clock = _Clock(
        _choose_order(
            _samples(rows, header, "timestamp"), italian=header.italian, meeting_day=meeting_day
        )
    )
    unused = _Unused()
    events: dict[str, list[tuple[datetime, bool, int]]] = {}
    names: dict[str, str] = {}
    moments: list[datetime] = []
    for row in rows:
        name, action = header.get(row, "name"), _key(header.get(row, "action"))
        stamp_text = header.get(row, "timestamp")
        stamp = clock.read(stamp_text)
        if action not in _JOINED | _LEFT:
            unused.add(row.number, name, "", UNKNOWN_ACTION)
            continue
        if stamp is None:
            unused.add(
                row.number,
                name,
                "",
                _bad_time(header.written[header.columns["timestamp"]], stamp_text),
            )
            continue
        key = _key(name)
        names.setdefault(key, name)
        events.setdefault(key, []).append((stamp, action in _JOINED, row.number))
        moments.append(stamp)
    people: list[_Person] = []
    if moments:
        report_start, report_end = min(moments), max(moments)
        for key, own in events.items():
            entry = _Person(name=names[key], email=None, lines=[line for _, _, line in own])
            entry.intervals = _pair(own, report_start, report_end)
            people.append(entry)
    return _report(Platform.TEAMS, Layout.TEAMS_LEGACY, people, unused)


def _pair(
    events: list[tuple[datetime, bool, int]], start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """Connections from a person's Joined/Left events, in time order.

    Each "Left" closes the oldest open "Joined" (two devices: two open at once);
    a "Left" with none open began before the list did (its first moment); a
    "Joined" never closed lasted until the list's last moment.
    """
    intervals: list[tuple[datetime, datetime]] = []
    open_joins: list[datetime] = []
    for moment, joined, _line in sorted(events, key=lambda e: (e[0], not e[1])):
        if joined:
            open_joins.append(moment)
        elif open_joins:
            intervals.append((open_joins.pop(0), moment))
        else:
            intervals.append((start, moment))
    intervals.extend((joined, end) for joined in open_joins)
    return intervals


# Zoom ------------------------------------------------------------------------------

_YES: Final = frozenset({"yes", "si", "sì", "true", "1", "y", "s"})
_ZOOM_SUMMARY_KEYS: Final = {
    "topic": "title",
    "argomento": "title",
    "start time": "start",
    "ora di inizio": "start",
}


def _read_zoom(
    lines: list[_Line], header: _Header, rows: list[_Line], meeting_day: date | None
) -> AttendanceReport:
    summary: dict[str, str] = {}
    above = [line for line in lines if line.number < header.line and not line.blank]
    if len(above) >= 2:  # noqa: PLR2004 - the meeting's header and its values
        keys = [_key(cell) for cell in above[0].cells]
        for index, key in enumerate(keys):
            if key in _ZOOM_SUMMARY_KEYS:
                summary[_ZOOM_SUMMARY_KEYS[key]] = above[1].cell(index)
    samples = [summary.get("start", ""), *_samples(rows, header, "join", "leave")]
    clock = _Clock(_choose_order(samples, italian=header.italian, meeting_day=meeting_day))
    unused = _Unused()
    found: dict[str, _Person] = {}
    for row in rows:
        name = header.get(row, "name")
        written_email = header.get(row, "email")
        if _key(header.get(row, "waiting")) in _YES:
            unused.add(row.number, name, written_email.lower(), WAITING_ROOM)
            continue
        email, written = _address(written_email)
        if email is None:
            unused.add(row.number, name, written_email, BAD_EMAIL if written else NO_EMAIL)
            continue
        entry = found.setdefault(email, _Person(name=name, email=email))
        entry.lines.append(row.number)
        _add_interval(entry, row, header, clock, unused)
    return _report(
        Platform.ZOOM,
        Layout.ZOOM,
        found.values(),
        unused,
        title=summary.get("title", ""),
        started_at=clock.read(summary.get("start", "")),
    )


# Recognising the file -----------------------------------------------------------

_NOT_A_REPORT: Final = _l(
    "non è un rapporto presenze di Teams o di Zoom. Attesi: il rapporto di Teams, con le "
    "sezioni «1. Riepilogo» / «1. Summary» e «2. Partecipanti» / «2. Participants» e le "
    "colonne Nome, Primo accesso, Ultima uscita, Durata della riunione, E-mail (o Name, "
    "First Join, Last Leave, In-Meeting Duration, Email); il vecchio elenco di Teams "
    "(Full Name, User Action, Timestamp); il rapporto dei partecipanti di Zoom (Name "
    "(Original Name), User Email, Join Time, Leave Time, Duration (Minutes))"
)
#: Headers of other files people might upload instead: how many of the markers
#: a header row must have, and what to tell them.
_LOOKALIKES: Final = (
    (
        frozenset({"codice fiscale", "codice_fiscale", "codicefiscale"}),
        1,
        _l("sembra un elenco del personale, non un rapporto presenze"),
    ),
    (
        frozenset({"topic", "argomento", "meeting id", "id riunione", "host", "participants"}),
        2,
        _l(
            "sembra l'elenco delle riunioni di Zoom: apri la riunione e scarica il rapporto "
            "dei partecipanti (il numero nella colonna Partecipanti)"
        ),
    ),
    (
        frozenset({"first name", "last name", "time joined", "time exited"}),
        2,
        _l("sembra un rapporto di Google Meet: sono accettati solo quelli di Teams e Zoom"),
    ),
)


def _what_it_looks_like(lines: list[_Line]) -> Message:
    for line in lines[:40]:
        keys = {_key(cell) for cell in line.cells}
        for markers, hits, message in _LOOKALIKES:
            if len(keys & markers) >= hits:
                return _l("%(what)s. %(expected)s", what=message, expected=_NOT_A_REPORT)
    return _NOT_A_REPORT


def read_report(data: bytes, *, meeting_day: date | None = None) -> AttendanceReport:
    """Read a Teams or Zoom attendance report (see the module's text).

    *meeting_day* (the edition's day), when given, settles dates that read both
    ways (``05/03/26``). Raises :class:`~lms.core.tabular.TableError` for a file
    that is not such a report, saying what it seems to be and what was expected.
    """
    if not data.strip(b" \t\r\n\x00\xff\xfe\xef\xbb\xbf"):
        raise TableError(_l("il file è vuoto"))
    _refuse_binaries(data)
    text = _decode(data)
    lines = _lines(text, _delimiter(text))
    sections, italian = _sections(lines)
    if "participants" in sections or "activities" in sections or "summary" in sections:
        return _read_teams(sections, meeting_day, titled=True, italian_titles=italian)
    for index, line in enumerate(lines[:60]):
        if line.blank:
            continue
        header = _header(line)
        rows = [row for row in lines[index + 1 :] if not row.blank]
        if header.has("name", "action", "timestamp"):
            return _read_teams_legacy(header, rows, meeting_day)
        keys = {_key(cell) for cell in line.cells}
        if header.has("name", "join", "leave") and keys & _ZOOM_ONLY:
            return _read_zoom(lines, header, rows, meeting_day)
        if header.has("name", "first_join") or header.has("name", "join", "leave"):
            section = "participants" if header.has("first_join") else "activities"
            return _read_teams({section: [line, *rows]}, meeting_day, titled=False)
    raise TableError(_what_it_looks_like(lines))


def capped(minutes: int, edition_minutes: int) -> int:
    """*minutes* present, at most the edition's length (time before or after it is not counted)."""
    return max(0, min(minutes, edition_minutes))


def report_day(report: AttendanceReport) -> date | None:
    """The day the report's meeting began, when it says."""
    return report.started_at.date() if report.started_at is not None else None


def days_apart(report: AttendanceReport, day: date) -> int | None:
    """How many days lie between the report's meeting and *day* (None: the report does not say)."""
    found = report_day(report)
    return None if found is None else abs((found - day).days)
