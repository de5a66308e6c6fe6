"""Generate a deterministic, programme-scale database for the report and export benchmarks.

    .venv/bin/python bench/generate.py [--database-url URL] [--staff 100000]
        [--enrolments 1000000] [--courses 30] [--seed 2026] [--checksum]

Without ``--database-url`` it writes the SQLite file ``bench/data/programme.sqlite3``
(gitignored). The database is rebuilt from empty by the Alembic migrations (the
SQLite file is deleted; on PostgreSQL the ``public`` schema is dropped and made
again), then filled. Other bench scripts call :func:`generate`; the tests call it
with ``rebuild=False`` on the migrated test database (the tables it fills must be
empty, the register may already be loaded).

Same seed, same data: everything is drawn from one ``random.Random(seed)`` in a
fixed order (authorities sorted by code, courses by number), ids are assigned
here, and "now" is the fixed instant :data:`END`, not the clock. ``--checksum``
prints a SHA-256 of every generated row as the application reads it back, which
is the same on SQLite and PostgreSQL for the same arguments.

What is generated (proportions are targets; the summary prints the counts):

- the whole ISTAT register (``load_register``): 20 regions, 8,023 authorities;
- ``--staff`` staff members, each with a learner account (``users``, role
  learner, ``staff_members.user_id`` set). 70% work in the seven less
  developed regions (14-20), 30% elsewhere; within each group 82% in a
  municipality, 10% in a Region, 8% in a province or metropolitan city.
  Municipalities get a heavy-tailed random weight (log-normal), provincial
  capitals 30 times the median and the capitals of metropolitan cities 150
  times, so that big cities have many people and most villages few or none;
  a Region or province weighs as its municipalities together.
  A third are new hires (hired 2023-2026), the rest existing staff (hired
  2019-2022; 5% with no hiring date); 3% have left (``left_on``, their account
  inactive). Every account has the same Argon2id hash, of the password
  ``Bench-2026`` (computed once, stored as a constant: nothing is hashed here).
  5% of the learners chose the weekly digest (``users.reminder_digest``).
- one HR manager for every 1,000 staff (at least 2; role ``hr``, no staff
  record), each with one scope (``user_scopes``): a region for the even ones,
  a municipality drawn like the staff's for the odd ones; every tenth is
  deactivated. They exist for the reminder planner's weekly HR digests.
- codici fiscali: surname, name, birth date and sex encoded with
  python-codicefiscale's functions (cached: its ``encode`` looks the birthplace
  up each time, far too slow for 100,000 people), one of twenty real
  birthplace codes of big cities, and the real check character; unique.
- ``--courses`` published courses (hours 2-12, a third sequential), each with
  4-8 current modules, the last a final quiz and in 30% of courses also a quiz
  in the middle; every quiz has one quiz version (5 single-choice questions of
  1 point, pass mark 60, at most 3 attempts, a 30 or 45 minute time limit in
  two thirds of them).
  Two more modules, pages of courses 2 and 4, were retired on 30 June 2025.
- ``--enrolments`` enrolments, exactly: about ``enrolments / staff`` courses a
  person (normal spread, new hires 20% more), distinct courses drawn with
  per-course popularity (courses for new hires are twice as likely for them).
  Enrolled between January 2024 and :data:`END` (not before hiring nor after
  leaving); half with a due date 2-12 months later. Enrolment is uniform in
  time, so about a thousand enrolments fall on each of the last days before
  :data:`END`, and the due dates spread evenly around it (about 480 a day,
  60% of them on courses not completed): planning :data:`END`'s reminders
  (``bench/notify_plan.py``) has thousands of ``due:14``, ``due:3`` and
  ``overdue:K`` rows to write, and the enrolments and completions of the
  last three days. Then:
  40% completed: every current module completed in order (a retired module
  too when that came before its retirement), a ``course_completions`` row at
  the last module's completion (mean 30 days after enrolment; one that would
  come after :data:`END` is in progress instead, so completions do not pile up
  on the last days);
  30% in progress: some current modules completed (a prefix in sequential
  courses, any in the others) and often the next one started, never all;
  30% not started: no progress at all. (Enrolments made in the last hours
  before :data:`END` count as not started.)
- quiz attempts for every completed quiz module: 1, 2 or 3 attempts (70/22/8%),
  all but the last failed, numbered 1..n, submitted within the time limit;
  a started but not completed quiz has 1-2 failed attempts half the time.
  Responses, results and layout are small JSON documents, consistent with the
  questions and the score (questions differ in difficulty, wrong answers
  prefer one distractor), so the quiz statistics have something to show.

At 100,000 staff and 1,000,000 enrolments that is about 3.3 million module
progress rows, 400,000 completions and 930,000 quiz attempts.

Rows are written in batches straight through the driver: ``executemany`` on
SQLite (with ``synchronous=OFF`` and an in-memory journal while it runs), COPY
on PostgreSQL (with the foreign key triggers off when connected as a superuser,
then every foreign key checked with one anti-join: twice as fast as checking
row by row); then ``ANALYZE`` (not with ``rebuild=False``), and PostgreSQL's
sequences are moved past the ids used here so the application can insert
afterwards. Measured on a 2-core machine (Nov 2026), default arguments: SQLite
80 s, 1.2 GiB file, peak RSS 1.3 GiB (mostly SQLite's 1 GB page cache);
PostgreSQL 15 101 s, 1.3 GiB database, peak RSS 200 MiB.

The generated courses are not in ``content/``: do not run ``lms content sync``
(or ``make run``) on this database, it would retire them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from codicefiscale import codicefiscale
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import Engine, Table, func, select, text
from sqlalchemy.engine import make_url

from config import TestingConfig
from lms import create_app
from lms.assessments.models import QuizAttempt
from lms.auth.models import User, UserScope
from lms.core.search import name_key
from lms.courses.models import Course, CourseCompletion, Module, ModuleProgress, QuizVersion
from lms.enrolments import facts
from lms.enrolments.models import Enrolment
from lms.extensions import db
from lms.register.istat import shipped_register
from lms.register.models import (
    LESS_DEVELOPED_REGION_CODES,
    Authority,
    AuthorityKind,
    Region,
    StaffMember,
)
from lms.register.operations import load_register

DEFAULT_DATABASE = Path(__file__).resolve().parent / "data" / "programme.sqlite3"

#: Times are whole seconds after this instant (naive, UTC).
EPOCH = datetime(2019, 1, 1)  # noqa: DTZ001 - naive UTC, as the database stores it
DAY = 86_400
#: The generated world's "now": nothing happens after it.
END = datetime(2026, 11, 20, 18, 0)  # noqa: DTZ001
END_S = int((END - EPOCH).total_seconds())
ENROL_FROM_S = int((datetime(2024, 1, 8) - EPOCH).total_seconds())  # noqa: DTZ001
RETIRED_AT_S = int((datetime(2025, 6, 30, 10, 0) - EPOCH).total_seconds())  # noqa: DTZ001
COURSES_CREATED_S = int((datetime(2023, 11, 15, 9, 0) - EPOCH).total_seconds())  # noqa: DTZ001

#: Argon2id (production parameters) of "Bench-2026", computed once.
PASSWORD_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$AjU4JBlHxnr6r/pnRXG9WA$"  # noqa: S105 - a hash (see above)
    "t0KZFW19cBJ2Nc1dw/XPaTppKOZSmeBpwdGhytkZ4Ig"
)

LESS_DEVELOPED_SHARE = 0.70
KIND_SHARES = (("comune", 0.82), ("regione", 0.10), ("supra", 0.08))
NEW_HIRE_SHARE = 1 / 3
LEFT_SHARE = 0.03
DIGEST_SHARE = 0.05
STAFF_PER_HR_MANAGER = 1_000
NO_HIRING_DATE_SHARE = 0.05
COMPLETED_SHARE, IN_PROGRESS_SHARE = 0.40, 0.30
DUE_SHARE = 0.5
ATTEMPT_WEIGHTS = (70, 22, 8)
QUESTIONS = 5
PASS_MARK = 60
MAX_ATTEMPTS = 3
BATCH = 20_000
PROGRESS_EVERY = 20_000

FIRST_NAMES = {
    "M": [
        "Giuseppe", "Antonio", "Francesco", "Salvatore", "Giovanni", "Vincenzo", "Luigi",
        "Mario", "Pasquale", "Gennaro", "Domenico", "Carmine", "Raffaele", "Michele", "Marco",
        "Alessandro", "Andrea", "Luca", "Davide", "Gabriele", "Matteo", "Nicola", "Rocco",
        "Ciro", "Angelo", "Fabio", "Roberto", "Stefano", "Paolo", "Sergio",
    ],
    "F": [
        "Maria", "Anna", "Giuseppina", "Rosa", "Angela", "Giovanna", "Teresa", "Lucia",
        "Carmela", "Caterina", "Francesca", "Antonella", "Concetta", "Rita", "Chiara",
        "Giulia", "Martina", "Sara", "Valentina", "Federica", "Alessia", "Elena", "Ilaria",
        "Roberta", "Simona", "Paola", "Daniela", "Laura", "Silvia", "Manuela",
    ],
}  # fmt: skip
LAST_NAMES = [
    "Russo", "Esposito", "Romano", "Greco", "Bruno", "Ferrara", "Colombo", "Rizzo",
    "Ricci", "Marino", "Gallo", "Costa", "Fontana", "Conti", "De Luca", "Mancini",
    "Lombardi", "Giordano", "Barbieri", "Moretti", "Caruso", "Ferraro", "Santoro", "Rinaldi",
    "Leone", "Longo", "Mazza", "D'Angelo", "Serra", "Vitale", "Martini", "Coppola",
    "De Rosa", "Messina", "Sorrentino", "Cirillo", "Amato", "Palumbo", "Pellegrino", "Testa",
    "Marchetti", "Parisi", "Villa", "Fabbri", "Ferri", "Monti", "Piras", "Orlando",
    "Grasso", "Sanna", "Farina", "Silvestri", "Lo Russo", "D'Amico", "Cocco", "Melis",
    "La Rosa", "Gentile", "Catalano", "Carbone",
]  # fmt: skip
#: Real cadastral codes of big cities (Napoli, Roma, Milano, Palermo, Bari, …).
BIRTHPLACES = [
    "F839", "H501", "F205", "G273", "A662", "L219", "C351", "B354", "H703", "D086",
    "H224", "F158", "L049", "D643", "B519", "F052", "E506", "B963", "A509", "I754",
]  # fmt: skip
PROFILES = [
    "specialista amministrativo",
    "specialista tecnico",
    "specialista giuridico",
    "funzionario contabile",
    "istruttore direttivo",
    None,
]
COURSE_TOPICS = [
    "Fondamenti della politica di coesione 2021-2027",
    "Appalti pubblici per i progetti finanziati",
    "Monitoraggio, rendicontazione e controlli",
    "Aiuti di Stato nei programmi cofinanziati",
    "Ammissibilità della spesa",
    "Controlli di primo livello",
    "Prevenzione delle frodi e dei conflitti di interesse",
    "Il principio DNSH nei progetti",
    "Programmazione strategica e accordo di partenariato",
    "Gestione finanziaria dei programmi",
    "Sistemi informativi per il monitoraggio",
    "Progettazione di interventi territoriali",
    "Partenariato e coinvolgimento degli stakeholder",
    "Valutazione delle politiche pubbliche",
    "Comunicazione dei progetti finanziati",
    "Strumenti finanziari",
    "Cooperazione territoriale europea",
    "Parità di genere e non discriminazione",
    "Trasparenza e anticorruzione",
    "Contabilità pubblica per i progetti",
    "Project management nella pubblica amministrazione",
    "Semplificazione amministrativa",
    "Transizione digitale della PA",
    "Protezione dei dati personali",
    "Gestione documentale e archivi",
    "Espropri e opere pubbliche",
    "Rendicontazione dei costi semplificati",
    "Revoche, recuperi e irregolarità",
    "Coordinamento tra fondi europei e nazionali",
    "Chiusura dei programmi",
]
PAGE_TITLES = [
    "Introduzione",
    "Quadro normativo",
    "Attori e responsabilità",
    "Procedure operative",
    "Casi pratici",
    "Strumenti e modulistica",
    "Errori frequenti",
    "Approfondimento",
    "Sintesi",
]


# Writing ------------------------------------------------------------------


class _Writer:
    """Writes rows (tuples) through the driver: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, engine: Engine) -> None:
        self.postgres = engine.dialect.name == "postgresql"
        self.raw = engine.raw_connection()
        self.driver = self.raw.driver_connection
        self.cursor = self.driver.cursor()
        #: Appended to "YYYY-MM-DD HH:MM:SS", as each database stores a UTC instant.
        self.ts_suffix = "+00" if self.postgres else ".000000"
        self.buffers: dict[str, list[tuple]] = {}
        self.columns: dict[str, tuple[str, ...]] = {}
        self.counts: dict[str, int] = {}
        #: PostgreSQL's foreign key triggers are off while loading (checked after).
        self.unchecked_keys = False
        if self.postgres:
            try:
                self.execute("SET session_replication_role = replica")
                self.unchecked_keys = True
            except self.driver.Error:  # not a superuser: keep the triggers
                self.driver.rollback()

    def declare(self, table: str, columns: Sequence[str]) -> None:
        self.columns[table] = tuple(columns)
        self.buffers[table] = []
        self.counts.setdefault(table, 0)

    def ts(self, seconds: int) -> str:
        return f"{EPOCH + timedelta(seconds=seconds)}{self.ts_suffix}"

    def add(self, table: str, row: tuple) -> None:
        buffer = self.buffers[table]
        buffer.append(row)
        if len(buffer) >= BATCH:
            self.flush(table)

    def flush(self, table: str | None = None) -> None:
        for name in [table] if table else list(self.buffers):
            rows = self.buffers[name]
            if rows:
                self._write(name, rows)
                self.counts[name] += len(rows)
                rows.clear()

    def _write(self, table: str, rows: list[tuple]) -> None:
        columns = ", ".join(self.columns[table])
        if self.postgres:
            with self.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(self.columns[table]))
            self.cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608 - our own names
                rows,
            )

    def execute(self, sql: str) -> list[tuple]:
        self.cursor.execute(sql)
        return list(self.cursor.fetchall()) if self.cursor.description else []

    def commit(self) -> None:
        self.flush()
        self.driver.commit()

    def close(self) -> None:
        if self.unchecked_keys:
            self.driver.rollback()
            self.execute("RESET session_replication_role")
            self.driver.commit()
        self.cursor.close()
        self.raw.close()


# The register -------------------------------------------------------------


@dataclass
class _Pool:
    """Authorities to draw from, with cumulative weights (sorted by code)."""

    ids: list[int] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)

    def add(self, authority_id: int, code: str, weight: float) -> None:
        self.ids.append(authority_id)
        self.codes.append(code)
        self.weights.append(weight)


def _capital_name(supra_name: str) -> str:
    """The capital's name in a province's: "Città metropolitana di Napoli" gives "Napoli"."""
    return supra_name.split(" di ", 1)[1] if " di " in supra_name else ""


def _municipality_weights(rng: random.Random, rows: Sequence) -> dict[int, float]:
    """Log-normal, median 1; capitals of provinces 30, of metropolitan cities 150."""
    supra = {r.id: r for r in rows if r.kind not in {AuthorityKind.COMUNE, AuthorityKind.REGIONE}}
    weights: dict[int, float] = {}
    for r in rows:
        if r.kind is AuthorityKind.COMUNE:
            weight = rng.lognormvariate(0, 1.2)
            parent = supra.get(r.parent_id)
            if parent is not None and _capital_name(parent.name) == r.name:
                metropolitan = parent.kind is AuthorityKind.CITTA_METROPOLITANA
                weight = 150.0 if metropolitan else 30.0
            weights[r.id] = weight
    return weights


def _authority_pools(rng: random.Random) -> dict[tuple[bool, str], _Pool]:
    """Pools by (less developed?, "comune" | "regione" | "supra"), weighted as documented."""
    rows = db.session.execute(
        select(
            Authority.id,
            Authority.code,
            Authority.kind,
            Authority.name,
            Authority.parent_id,
            Region.code.label("region_code"),
        )
        .join(Region)
        .where(Authority.istat_code.is_not(None))
        .order_by(Authority.code)
    ).all()
    comune_weight = _municipality_weights(rng, rows)
    by_region: dict[str, float] = {}
    by_parent: dict[int, float] = {}
    for r in rows:
        if r.id in comune_weight:
            by_region[r.region_code] = by_region.get(r.region_code, 0) + comune_weight[r.id]
            if r.parent_id is not None:
                by_parent[r.parent_id] = by_parent.get(r.parent_id, 0) + comune_weight[r.id]
    pools: dict[tuple[bool, str], _Pool] = {}
    for r in rows:
        less_developed = r.region_code in LESS_DEVELOPED_REGION_CODES
        if r.kind is AuthorityKind.COMUNE:
            group, weight = "comune", comune_weight[r.id]
        elif r.kind is AuthorityKind.REGIONE:
            group, weight = "regione", by_region.get(r.region_code, 0.0)
        else:
            group, weight = "supra", by_parent.get(r.id, 0.0)
        if weight > 0:
            pools.setdefault((less_developed, group), _Pool()).add(r.id, r.code, weight)
    return pools


# Courses ------------------------------------------------------------------


@dataclass(eq=False)
class _Module:
    id: int
    position: int
    quiz: bool
    retired: bool
    version_id: int | None = None
    time_limit: int | None = None
    #: Per question, how likely a learner gets it right (relative).
    ease: tuple[float, ...] = ()
    layout: str = ""
    #: JSON (responses, results) by the option chosen for each question.
    answers: dict[tuple[str, ...], tuple[str, str]] = field(default_factory=dict)


@dataclass
class _Course:
    id: int
    sequential: bool
    new_hires: bool
    weight: float
    modules: list[_Module]

    @cached_property
    def active(self) -> list[_Module]:
        return [m for m in self.modules if not m.retired]


def _slug(title: str) -> str:
    plain = title.lower().translate(str.maketrans("àèéìòù", "aeeiou"))
    return "-".join("".join(c if c.isalnum() else " " for c in plain).split())[:80]


def _digest(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _questions(title: str) -> list[dict]:
    return [
        {
            "id": f"q{n}",
            "kind": "single",
            "points": 1,
            "text_html": f"<p>{title}: domanda {n}.</p>",
            "options": [
                {"id": oid, "html": f"<p>Risposta {oid.upper()}</p>", "correct": oid == "a"}
                for oid in "abc"
            ],
            "answers": [],
            "explanation_html": f"<p>La risposta corretta è la A (domanda {n}).</p>",
        }
        for n in range(1, QUESTIONS + 1)
    ]


def _write_courses(w: _Writer, rng: random.Random, count: int) -> list[_Course]:
    w.declare("courses", ("id", "slug", "title", "summary", "hours", "audience", "sequential",
                          "pass_mark", "language", "status", "overview_html", "source_hash",
                          "render_version", "created_at", "updated_at"))  # fmt: skip
    w.declare("modules", ("id", "course_id", "slug", "position", "title", "minutes", "kind",
                          "body_html", "filename", "source_hash", "render_version", "version",
                          "max_attempts", "time_limit", "shuffle", "retired_at",
                          "updated_at"))  # fmt: skip
    w.declare("quiz_versions", ("id", "module_id", "version", "questions", "pass_mark",
                                "created_at"))  # fmt: skip
    created = w.ts(COURSES_CREATED_S)
    courses: list[_Course] = []
    module_id = version_id = 0
    for n in range(1, count + 1):
        topic = COURSE_TOPICS[(n - 1) % len(COURSE_TOPICS)]
        title = topic if n <= len(COURSE_TOPICS) else f"{topic} ({n // len(COURSE_TOPICS) + 1})"
        slug = _slug(title) + ("" if n <= len(COURSE_TOPICS) else f"-{n}")
        audience = rng.choice([["new_hire"], ["existing"], ["new_hire", "existing"]])
        sequential = rng.random() < 1 / 3
        w.add("courses", (n, slug, title, f"Corso sul tema: {topic.lower()}.",
                          rng.randint(4, 24) / 2, _dumps(audience), sequential, PASS_MARK, "it",
                          "published", f"<p>{title}.</p>", _digest("course", slug), "1",
                          created, created))  # fmt: skip
        pages = rng.randint(3, 7)
        kinds = ["page"] * pages + ["quiz"]
        if rng.random() < 0.3 and pages >= 3:  # noqa: PLR2004 - a quiz needs pages before it
            kinds.insert(pages // 2 + 1, "quiz")
            kinds.remove("page")
        if n in {2, 4}:  # the retired pages
            kinds.insert(2, "retired")
        course = _Course(n, sequential, "new_hire" in audience, rng.uniform(0.5, 3.0), [])
        titles = iter(rng.sample(PAGE_TITLES, len(PAGE_TITLES)))
        for position, kind in enumerate(kinds, start=1):
            module_id += 1
            quiz = kind == "quiz"
            if quiz:
                mtitle = "Verifica finale" if position == len(kinds) else "Verifica intermedia"
            else:
                mtitle = next(titles)
            mslug = _slug(mtitle)
            module = _Module(module_id, position, quiz=quiz, retired=kind == "retired")
            version = 2 if rng.random() < 0.2 else 1  # noqa: PLR2004 - some were edited once
            if quiz:
                version_id += 1
                module.version_id = version_id
                module.time_limit = rng.choice([None, 30, 45])
                module.ease = tuple(rng.uniform(0.3, 3.0) for _ in range(QUESTIONS))
                ids = [f"q{q}" for q in range(1, QUESTIONS + 1)]
                module.layout = _dumps({"questions": ids, "options": {q: list("abc") for q in ids}})
                w.add("quiz_versions", (version_id, module_id, version,
                                        _dumps(_questions(f"{title} - {mtitle}")), PASS_MARK,
                                        created))  # fmt: skip
            retired = w.ts(RETIRED_AT_S) if module.retired else None
            w.add("modules", (module_id, n, mslug, position, mtitle,
                              None if quiz else rng.randint(5, 40), "quiz" if quiz else "page",
                              f"<p>{mtitle}: testo del modulo.</p>",
                              f"{position:02d}-{mslug}.md", _digest("module", slug, mslug, version),
                              "1", version, MAX_ATTEMPTS if quiz else None, module.time_limit,
                              False, retired, retired or created))  # fmt: skip
            course.modules.append(module)
        courses.append(course)
    w.flush()
    return courses


# Staff and accounts ---------------------------------------------------------


@dataclass
class _Person:
    staff_id: int
    new_hire: bool
    #: Seconds after EPOCH: earliest enrolment and end of all activity.
    start_s: int
    until_s: int


class _CodiciFiscali:
    """Unique codici fiscali from python-codicefiscale's encoding functions, cached."""

    def __init__(self) -> None:
        self.used: set[str] = set()
        self.names: dict[tuple[str, str], str] = {}
        self.births: dict[tuple[int, str], str] = {}

    def _name(self, kind: str, name: str) -> str:
        key = (kind, name)
        if key not in self.names:
            encode = codicefiscale.encode_firstname
            if kind == "L":
                encode = codicefiscale.encode_lastname
            self.names[key] = encode(name)
        return self.names[key]

    def make(self, rng: random.Random, first: str, last: str, sex: str) -> str:
        while True:
            day = rng.randrange(16_000)  # born 1958-2001
            if (day, sex) not in self.births:
                born = date(1958, 1, 1) + timedelta(days=day)
                born_on = born.strftime("%d/%m/%Y")
                self.births[day, sex] = codicefiscale.encode_birthdate(born_on, sex)
            stem = (
                self._name("L", last)
                + self._name("F", first)
                + self.births[day, sex]
                + rng.choice(BIRTHPLACES)
            )
            code = stem + codicefiscale.encode_cin(stem)
            if code not in self.used:
                self.used.add(code)
                return code


def _email_part(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


def _draw_authorities(rng: random.Random, pools: dict[tuple[bool, str], _Pool], n: int) -> list:
    """(authority id, code) for *n* people, as documented in the module's docstring."""
    groups = [
        (less_developed, kind)
        for less_developed in (True, False)
        for kind, _share in KIND_SHARES
        if (less_developed, kind) in pools
    ]
    group_weights = [
        (LESS_DEVELOPED_SHARE if ld else 1 - LESS_DEVELOPED_SHARE) * dict(KIND_SHARES)[kind]
        for ld, kind in groups
    ]
    picked = rng.choices(groups, weights=group_weights, k=n)
    out: list = [None] * n
    for group in groups:
        where = [i for i, g in enumerate(picked) if g == group]
        pool = pools[group]
        chosen = rng.choices(range(len(pool.ids)), weights=pool.weights, k=len(where))
        for i, c in zip(where, chosen, strict=True):
            out[i] = (pool.ids[c], pool.codes[c])
    return out


def _write_staff(
    w: _Writer, rng: random.Random, pools: dict[tuple[bool, str], _Pool], count: int
) -> list[_Person]:
    w.declare("users", ("id", "email", "first_name", "last_name", "search_name", "role",
                        "password_hash", "active", "session_version", "created_at",
                        "last_login_at", "reminder_digest"))  # fmt: skip
    w.declare("staff_members", ("id", "codice_fiscale", "first_name", "last_name", "search_name",
                                "email", "authority_id", "category", "profile", "hired_on",
                                "left_on", "user_id", "created_at", "updated_at"))  # fmt: skip
    codes = _CodiciFiscali()
    people: list[_Person] = []
    for n, (authority_id, authority_code) in enumerate(
        _draw_authorities(rng, pools, count), start=1
    ):
        sex = rng.choice("MF")
        first, last = rng.choice(FIRST_NAMES[sex]), rng.choice(LAST_NAMES)
        new_hire = rng.random() < NEW_HIRE_SHARE
        if new_hire:
            hired_day = rng.randint(4 * 365 + 1, (END_S // DAY) - 20)  # 2023 to November 2026
        elif rng.random() < NO_HIRING_DATE_SHARE:
            hired_day = None
        else:
            hired_day = rng.randint(0, 4 * 365)  # 2019-2022
        left_day = None
        if rng.random() < LEFT_SHARE:
            earliest = max((hired_day or 0) + 30, ENROL_FROM_S // DAY + 60)
            if earliest < END_S // DAY - 1:
                left_day = rng.randint(earliest, END_S // DAY - 1)
        start_s = max(ENROL_FROM_S, (hired_day or 0) * DAY + 9 * 3600)
        until_s = left_day * DAY if left_day is not None else END_S
        created_s = max(start_s - rng.randint(1, 20) * DAY, ENROL_FROM_S - 30 * DAY)
        created_s += rng.randint(8 * 3600, 18 * 3600)  # office hours, UTC
        created = w.ts(created_s)
        email = f"{_email_part(first)}.{_email_part(last)}.{n}@{authority_code}.enti.example"
        last_login = w.ts(rng.randint(created_s, until_s)) if rng.random() < 0.8 else None  # noqa: PLR2004
        digest = rng.random() < DIGEST_SHARE
        folded = name_key(first, last)
        w.add("users", (n, email, first, last, folded, "learner", PASSWORD_HASH, left_day is None,
                        1, created, last_login, digest))  # fmt: skip
        w.add("staff_members", (
            n, codes.make(rng, first, last, sex), first, last, folded, email, authority_id,
            "new_hire" if new_hire else "existing", rng.choice(PROFILES),
            None if hired_day is None else str(EPOCH.date() + timedelta(days=hired_day)),
            None if left_day is None else str(EPOCH.date() + timedelta(days=left_day)),
            n, created, created,
        ))  # fmt: skip
        people.append(_Person(n, new_hire, start_s, until_s))
    w.flush()
    return people


def _write_hr_managers(
    w: _Writer,
    rng: random.Random,
    pools: dict[tuple[bool, str], _Pool],
    region_ids: Sequence[int],
    staff: int,
) -> None:
    """HR managers (user ids after the staff's), each with one region or one municipality."""
    w.declare("user_scopes", ("id", "user_id", "authority_id", "region_id"))
    count = max(2, staff // STAFF_PER_HR_MANAGER)
    municipalities = _draw_authorities(rng, {k: v for k, v in pools.items() if k[1] == "comune"},
                                       count)  # fmt: skip
    for k in range(count):
        user_id = staff + 1 + k
        created_s = ENROL_FROM_S - rng.randint(30, 90) * DAY + rng.randint(8 * 3600, 18 * 3600)
        first, last = rng.choice(FIRST_NAMES[rng.choice("MF")]), rng.choice(LAST_NAMES)
        email = f"{_email_part(first)}.{_email_part(last)}.hr{k + 1}@personale.enti.example"
        w.add("users", (user_id, email, first, last, name_key(first, last), "hr", PASSWORD_HASH,
                        k % 10 != 9, 1, w.ts(created_s), None, False))  # fmt: skip  # noqa: PLR2004
        if k % 2 == 0:
            authority_id, region_id = None, rng.choice(region_ids)
        else:
            authority_id, region_id = municipalities[k][0], None
        w.add("user_scopes", (k + 1, user_id, authority_id, region_id))
    w.flush()


# Enrolments and what people did -----------------------------------------------


def _enrolment_counts(rng: random.Random, people: list[_Person], total: int, courses: int) -> list:
    """How many courses each person takes: around the mean, summing to *total* exactly."""
    mean = total / len(people)
    counts = []
    for person in people:
        centre = mean * (1.2 if person.new_hire else 0.9)
        counts.append(min(courses, max(0, round(rng.gauss(centre, centre * 0.35)))))
    diff = total - sum(counts)
    while diff:
        i = rng.randrange(len(counts))
        if diff > 0 and counts[i] < courses:
            counts[i] += 1
            diff -= 1
        elif diff < 0 and counts[i] > 0:
            counts[i] -= 1
            diff += 1
    return counts


@dataclass
class _Ids:
    enrolment: int = 0
    progress: int = 0
    completion: int = 0
    attempt: int = 0


class _Activity:
    """Writes enrolments, progress, completions and quiz attempts, person by person."""

    def __init__(self, w: _Writer, rng: random.Random, courses: list[_Course]) -> None:
        self.w, self.rng, self.courses = w, rng, courses
        self.ids = _Ids()
        w.declare("enrolments", ("id", "staff_id", "course_id", "enrolled_at", "due_on"))
        w.declare("module_progress", ("id", "user_id", "module_id", "started_at",
                                      "completed_at", "last_seen_at", "seconds_spent"))  # fmt: skip
        w.declare("course_completions", ("id", "user_id", "course_id", "completed_at"))
        w.declare("quiz_attempts", ("id", "user_id", "module_id", "quiz_version_id", "number",
                                    "started_at", "deadline_at", "submitted_at", "expired",
                                    "layout", "responses", "results", "earned", "possible",
                                    "score_pct", "passed"))  # fmt: skip
        # Per course and staff category, 1 / weight for weighted sampling without replacement.
        self.inverse = {
            new_hire: [1 / (c.weight * (2 if new_hire and c.new_hires else 1)) for c in courses]
            for new_hire in (True, False)
        }

    def person(self, person: _Person, count: int) -> None:
        rng, inverse = self.rng, self.inverse[person.new_hire]
        # Efraimidis-Spirakis: the k largest u ** (1 / w) are a weighted sample.
        keys = [rng.random() ** inv for inv in inverse]
        chosen = sorted(sorted(range(len(keys)), key=keys.__getitem__, reverse=True)[:count])
        for index in chosen:
            self.enrolment(person, self.courses[index])

    def enrolment(self, person: _Person, course: _Course) -> None:
        rng, w = self.rng, self.w
        self.ids.enrolment += 1
        enrolled = rng.randint(person.start_s, person.until_s - 3600)
        due = None
        if rng.random() < DUE_SHARE:
            due = str(EPOCH.date() + timedelta(days=enrolled // DAY + rng.randint(60, 365)))
        w.add("enrolments", (self.ids.enrolment, person.staff_id, course.id, w.ts(enrolled), due))
        window = person.until_s - enrolled - 600
        r = rng.random()
        if window < 2 * 3600:
            return
        if r < COMPLETED_SHARE:
            self.completed(person.staff_id, course, enrolled, window)
        elif r < COMPLETED_SHARE + IN_PROGRESS_SHARE:
            self.in_progress(person.staff_id, course, enrolled, window)

    def completed(self, user_id: int, course: _Course, enrolled: int, window: int) -> None:
        rng = self.rng
        span = 3600 + int(rng.expovariate(1 / (30 * DAY)))
        if span > window:  # would finish after END: still in progress (no pile-up at END)
            self.in_progress(user_id, course, enrolled, window)
            return
        done_times = sorted(enrolled + rng.randint(600, span) for _ in course.modules)
        previous = enrolled
        last = enrolled
        for module, done in zip(course.modules, done_times, strict=True):
            started = max(previous, done - rng.randint(300, 2400))
            previous = done
            if module.retired and done >= RETIRED_AT_S:
                continue
            if module.quiz:
                self.attempts(user_id, module, started, done, self.attempt_count(), passed=True)
            self.progress(user_id, module, started, done, done)
            if not module.retired:
                last = done
        self.ids.completion += 1
        self.w.add("course_completions", (self.ids.completion, user_id, course.id, self.w.ts(last)))

    def in_progress(self, user_id: int, course: _Course, enrolled: int, window: int) -> None:
        rng = self.rng
        active = course.active
        done_count = rng.randint(0, len(active) - 1)
        if course.sequential:
            done = active[:done_count]
        else:
            done = sorted(rng.sample(active, done_count), key=lambda m: m.position)
        pending = [m for m in active if m not in done]
        current = pending[0] if done_count == 0 or rng.random() < 0.6 else None  # noqa: PLR2004
        span = min(window, 600 + int(rng.expovariate(1 / (20 * DAY))))
        times = sorted(enrolled + rng.randint(300, span) for _ in range(done_count + 1))
        previous = enrolled
        for module, finished in zip(done, times, strict=False):
            started = max(previous, finished - rng.randint(300, 2400))
            previous = finished
            if module.quiz:
                count = self.attempt_count()
                self.attempts(user_id, module, started, finished, count, passed=True)
            self.progress(user_id, module, started, finished, finished)
        if current is not None:
            started = max(previous, times[-1])
            seen = started + rng.randint(60, 1800)
            if current.quiz and rng.random() < 0.5:  # noqa: PLR2004
                count = rng.randint(1, 2)
                seen = self.attempts(user_id, current, started, seen, count, passed=False)
            self.progress(user_id, current, started, None, seen)

    def attempt_count(self) -> int:
        return self.rng.choices((1, 2, 3), ATTEMPT_WEIGHTS)[0]

    def progress(
        self, user_id: int, module: _Module, started: int, completed: int | None, seen: int
    ) -> None:
        w = self.w
        self.ids.progress += 1
        spent = min(seen - started, self.rng.randint(60, 1800))
        w.add("module_progress", (self.ids.progress, user_id, module.id, w.ts(started),
                                  None if completed is None else w.ts(completed), w.ts(seen),
                                  spent))  # fmt: skip

    def attempts(
        self, user_id: int, module: _Module, started: int, until: int, count: int, *, passed: bool
    ) -> int:
        """*count* attempts between *started* and *until*, the last passed if *passed*."""
        rng, w = self.rng, self.w
        step = (until - started) // count
        submitted = started
        for number in range(1, count + 1):
            submitted = until if number == count else started + step * number
            began = submitted - min(rng.randint(180, 1500), step)
            wins = passed and number == count
            if wins:
                right = rng.choices((3, 4, 5), (4, 4, 2))[0]
            else:
                right = rng.choices((0, 1, 2), (1, 3, 6))[0]
            earned, responses, results = self.answers(module, right)
            self.ids.attempt += 1
            deadline = None if module.time_limit is None else w.ts(began + module.time_limit * 60)
            w.add("quiz_attempts", (self.ids.attempt, user_id, module.id, module.version_id,
                                    number, w.ts(began), deadline, w.ts(submitted), False,
                                    module.layout, responses, results, earned, QUESTIONS,
                                    round(100 * earned / QUESTIONS, 2),
                                    100 * earned >= PASS_MARK * QUESTIONS))  # fmt: skip
        return submitted

    def answers(self, module: _Module, right: int) -> tuple[int, str, str]:
        """Choose which *right* questions are answered correctly; JSON cached per pattern."""
        rng = self.rng
        keys = [rng.random() ** (1 / e) for e in module.ease]
        correct = set(sorted(range(QUESTIONS), key=keys.__getitem__, reverse=True)[:right])
        chosen = []
        for q in range(QUESTIONS):
            if q in correct:
                chosen.append("a")
            else:
                u = rng.random()
                chosen.append("b" if u < 0.65 else "c" if u < 0.97 else "")  # noqa: PLR2004
        pattern = tuple(chosen)
        if pattern not in module.answers:
            module.answers[pattern] = (
                _dumps({f"q{q + 1}": [c] if c else [] for q, c in enumerate(pattern)}),
                _dumps(
                    {
                        f"q{q + 1}": {"correct": c == "a", "earned": int(c == "a"), "points": 1}
                        for q, c in enumerate(pattern)
                    }
                ),
            )
        responses, results = module.answers[pattern]
        return right, responses, results


# The run -------------------------------------------------------------------


GENERATED_TABLES = (
    "users",
    "staff_members",
    "user_scopes",
    "courses",
    "modules",
    "quiz_versions",
    "enrolments",
    "module_progress",
    "course_completions",
    "quiz_attempts",
)


def _app(app_or_url: Flask | str) -> Flask:
    if isinstance(app_or_url, Flask):
        return app_or_url
    config = type("Generate", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": app_or_url})
    return create_app(config)


def _rebuild() -> None:
    """An empty database, then the migrations."""
    engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    elif engine.url.database and engine.url.database != ":memory:":
        engine.dispose()
        path = Path(engine.url.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    upgrade()


def _check_empty() -> None:
    with db.engine.connect() as conn:
        for table in GENERATED_TABLES:
            if conn.execute(text(f"SELECT 1 FROM {table} LIMIT 1")).first():  # noqa: S608
                raise RuntimeError(f"{table} is not empty: generate with rebuild=True")


def _orphans(w: _Writer) -> list[str]:
    """Foreign keys of the generated tables that point nowhere, set-based."""
    problems = []
    for name in GENERATED_TABLES:
        for key in sorted(db.metadata.tables[name].foreign_keys, key=lambda k: k.parent.name):
            column, target = key.parent.name, key.column
            found = w.execute(
                f"SELECT COUNT(*) FROM {name} c LEFT JOIN {target.table.name} p "  # noqa: S608
                f"ON p.{target.name} = c.{column} "
                f"WHERE c.{column} IS NOT NULL AND p.{target.name} IS NULL"
            )[0][0]
            if found:
                problems.append(f"{name}.{column}: {found} rows point nowhere")
    return problems


def _finish(w: _Writer, *, analyze: bool) -> None:
    if w.unchecked_keys:
        problems = _orphans(w)
        if problems:
            raise RuntimeError("; ".join(problems))
    if w.postgres:
        for table in GENERATED_TABLES:
            w.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"COALESCE(MAX(id), 0) + 1, false) FROM {table}"
            )
    if analyze:
        w.execute("ANALYZE")
    w.commit()


def _fill_facts(w: _Writer, *, analyze: bool) -> None:
    """The reports' facts of everything written, in one set-based refresh.

    The rows above are raw inserts, which the application's session listener
    does not see (lms/enrolments/facts.py): the facts are computed from them here,
    through the application's own refresh, in one transaction.
    """
    facts.refresh()
    db.session.commit()
    # The session's connection is closed, not pooled: on SQLite an open one keeps
    # the writer from switching the journal mode back afterwards. Only that one:
    # disposing of the whole engine would orphan the connections checked out now
    # (the writer's, a test's), which then reach a dropped pool and are collected
    # unclosed (psycopg's ResourceWarning, in whichever test the collector runs).
    db.session.connection().invalidate()
    db.session.remove()
    if analyze:
        w.execute("ANALYZE course_facts")
        w.commit()


class _Clock:
    def __init__(self, log: Callable[[str], None] | None) -> None:
        self.log = log
        self.phases: dict[str, float] = {}
        self.started = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.phases[phase] = now - self.started
        self.started = now
        if self.log:
            self.log(f"  {phase}: {self.phases[phase]:.1f} s")


def run(
    app_or_url: Flask | str,
    *,
    staff: int = 100_000,
    enrolments: int = 1_000_000,
    courses: int = 30,
    seed: int = 2026,
    rebuild: bool = True,
    log: Callable[[str], None] | None = None,
) -> tuple[dict[str, int], dict[str, float]]:
    """Generate; return (row counts by table, seconds by phase)."""
    if staff < 1 or courses < 1 or not 0 <= enrolments <= staff * courses:
        raise ValueError("need staff >= 1, courses >= 1 and 0 <= enrolments <= staff * courses")
    app = _app(app_or_url)
    clock = _Clock(log)
    rng = random.Random(seed)
    with app.app_context():
        if rebuild:
            _rebuild()
            clock.lap("schema (migrations)")
        else:
            _check_empty()
        load_register(shipped_register())
        db.session.commit()
        pools = _authority_pools(rng)
        region_ids = db.session.scalars(select(Region.id).order_by(Region.code)).all()
        db.session.remove()
        clock.lap("register")
        w = _Writer(db.engine)
        try:
            if rebuild and not w.postgres:
                for pragma in ("synchronous=OFF", "journal_mode=MEMORY", "cache_size=-1000000"):
                    w.execute(f"PRAGMA {pragma}")
            course_list = _write_courses(w, rng, courses)
            clock.lap("courses")
            people = _write_staff(w, rng, pools, staff)
            _write_hr_managers(w, rng, pools, region_ids, staff)
            w.commit()
            clock.lap("staff and accounts")
            activity = _Activity(w, rng, course_list)
            counts = _enrolment_counts(rng, people, enrolments, courses)
            for person, count in zip(people, counts, strict=True):
                activity.person(person, count)
                if person.staff_id % PROGRESS_EVERY == 0 and log:
                    log(f"    {person.staff_id:,} people, {activity.ids.enrolment:,} enrolments")
            w.commit()
            clock.lap("enrolments and activity")
            _finish(w, analyze=rebuild)
            clock.lap("keys, sequences, ANALYZE")
            _fill_facts(w, analyze=rebuild)
            if rebuild and not w.postgres:
                w.execute("PRAGMA journal_mode=DELETE")
            clock.lap("report facts")
            tallies = {"regions": _count("regions"), "authorities": _count("authorities")}
            tallies.update(w.counts)
        finally:
            w.close()
        if not isinstance(app_or_url, Flask):
            db.engine.dispose()
    return tallies, clock.phases


def _count(table: str) -> int:
    with db.engine.connect() as conn:
        return conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()  # noqa: S608


def generate(
    app_or_url: Flask | str,
    *,
    staff: int = 100_000,
    enrolments: int = 1_000_000,
    courses: int = 30,
    seed: int = 2026,
    rebuild: bool = True,
) -> dict[str, int]:
    """Fill the database of *app_or_url* (an app, or a database URL); return row counts.

    With ``rebuild`` the database is emptied and migrated first; without, the
    schema must exist and the generated tables be empty.
    """
    counts, _phases = run(
        app_or_url,
        staff=staff,
        enrolments=enrolments,
        courses=courses,
        seed=seed,
        rebuild=rebuild,
    )
    return counts


def _normalise(value: object) -> object:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return value


def checksum(app_or_url: Flask | str) -> str:
    """SHA-256 of every generated row as the application reads it (same on every database).

    Staff and HR scopes point to their authority (and region) by code: authority
    ids depend on the database.
    """
    app = _app(app_or_url)
    digest = hashlib.sha256()
    models = (
        User,
        StaffMember,
        UserScope,
        Course,
        Module,
        QuizVersion,
        Enrolment,
        ModuleProgress,
        CourseCompletion,
        QuizAttempt,
    )
    with app.app_context(), db.engine.connect() as conn:
        for model in models:
            table: Table = model.__table__  # type: ignore[assignment]
            columns = [c for c in table.columns if c.name not in {"authority_id", "region_id"}]
            query = select(*columns).order_by(table.c.id)
            if model is StaffMember:
                query = query.add_columns(Authority.code).join(
                    Authority, Authority.id == table.c.authority_id
                )
            elif model is UserScope:
                query = (
                    query.add_columns(Authority.code, Region.code)
                    .outerjoin(Authority, Authority.id == table.c.authority_id)
                    .outerjoin(Region, Region.id == table.c.region_id)
                )
            digest.update(table.name.encode())
            for row in conn.execute(query.execution_options(yield_per=BATCH)):
                digest.update(repr(tuple(_normalise(v) for v in row)).encode())
    return digest.hexdigest()


def _database_size(url: str) -> str:
    app = _app(url)
    with app.app_context():
        engine_url = db.engine.url  # Flask-SQLAlchemy puts relative SQLite paths in instance/
        if engine_url.get_backend_name() == "sqlite":
            size = Path(engine_url.database or "").stat().st_size
        else:
            with db.engine.connect() as conn:
                size = conn.execute(select(func.pg_database_size(engine_url.database))).scalar_one()
        db.engine.dispose()
    return f"{size / 2**20:,.0f} MiB"


def main() -> None:
    """Generate and print the table of rows and phases."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=f"sqlite:///{DEFAULT_DATABASE}")
    parser.add_argument("--staff", type=int, default=100_000)
    parser.add_argument("--enrolments", type=int, default=1_000_000)
    parser.add_argument("--courses", type=int, default=30)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--checksum", action="store_true", help="print a SHA-256 of the rows")
    args = parser.parse_args()
    print(f"generating into {make_url(args.database_url).render_as_string(hide_password=True)}")
    started = time.perf_counter()
    counts, phases = run(
        args.database_url,
        staff=args.staff,
        enrolments=args.enrolments,
        courses=args.courses,
        seed=args.seed,
        log=print,
    )
    total = time.perf_counter() - started
    print(f"\n{'table':<22}{'rows':>12}")
    for table, rows in counts.items():
        print(f"{table:<22}{rows:>12,}")
    print(f"\n{'phase':<28}{'seconds':>10}")
    for phase, seconds in phases.items():
        print(f"{phase:<28}{seconds:>10.1f}")
    print(f"{'total':<28}{total:>10.1f}")
    print(f"database size: {_database_size(args.database_url)}")
    if args.checksum:
        print(f"checksum: {checksum(args.database_url)}")


if __name__ == "__main__":
    main()
