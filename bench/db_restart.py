"""Measurement: PostgreSQL restarted under load; what people see, and what is kept.

    .venv/bin/python bench/db_restart.py [--learners 60] [--seconds 24] [--restart-at 6]
        [--cluster "15 main"] [--json FILE]

Needs a local PostgreSQL cluster this script may restart (``pg_ctlcluster``,
as root: the CI machine's or a developer's, never a shared server). It makes
its own database (``lms_restart``), migrates it, synchronises ``content/`` and
creates ``--learners`` learners, then runs gunicorn (2 workers, see
``bench/harness.py``) on it. The learners take the final quiz of *Appalti
pubblici* (not sequential), one at a time each, started a few per second over
``--seconds``: open the quiz, start an attempt, read it, submit it. At
``--restart-at`` seconds the PostgreSQL cluster is restarted (``restart -m
fast``: open connections are cut, as in a failover).

It prints what every request answered (status counts per step; for errors,
whether the page was the site's own, its ``Retry-After``), how long the
database was away, and then checks the database: every submission the site
acknowledged (a redirect to the attempt's review) must be stored, submitted
and graded. Exit 1 if one is not.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from harness import bench_app_context, csrf_token, fetch, serve, session_cookie
from quiz_submit import read_form

DATABASE = "lms_restart"
ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DATABASE}"
PASSWORD = "Bench-2026"  # noqa: S105 - the published bench password (bench/harness.py)
QUIZ = "/courses/appalti-pubblici/verifica-finale/"
REPO = Path(__file__).resolve().parent.parent


def prepare(learners: int) -> list[str]:
    """A fresh database with the shipped courses and *learners* accounts; their e-mails."""
    from flask_migrate import upgrade  # noqa: PLC0415
    from sqlalchemy import create_engine, text  # noqa: PLC0415

    engine = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {DATABASE}"))
    engine.dispose()
    from lms.auth.models import Role, User  # noqa: PLC0415
    from lms.auth.passwords import hash_password  # noqa: PLC0415
    from lms.core import transaction  # noqa: PLC0415
    from lms.courses.content import load_tree  # noqa: PLC0415
    from lms.courses.sync import sync_courses  # noqa: PLC0415
    from lms.extensions import db  # noqa: PLC0415

    emails = [f"discente{n:03d}@restart.example" for n in range(learners)]
    with bench_app_context(URL):
        upgrade(directory=str(REPO / "migrations"))
        courses, errors = load_tree(REPO / "content")
        if errors:
            raise RuntimeError(f"content/ has problems: {errors[:3]}")
        sync_courses(courses)
        hashed = hash_password(PASSWORD)
        db.session.add_all(
            User(email=email, role=Role.LEARNER, password_hash=hashed) for email in emails
        )
        transaction.commit()
        db.engine.dispose()
    return emails


class Log:
    """Every answer, by step, with the time it came (seconds from the start)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.answers: list[dict] = []
        self.acknowledged: dict[int, str] = {}  # attempt id -> e-mail
        self.started = time.monotonic()

    def add(self, step: str, status: int | str, **details: object) -> None:
        with self.lock:
            self.answers.append(
                {"step": step, "status": status, "t": time.monotonic() - self.started, **details}
            )


def take_quiz(port: int, email: str, log: Log, rng: random.Random) -> None:
    """One learner's quiz, each step logged; a failed step ends the try."""

    def step(name: str, method: str, path: str, **kwargs: object) -> tuple[int, object, str]:
        try:
            status, response, body = fetch(port, method, path, **kwargs)
        except OSError as error:
            log.add(name, f"connection: {type(error).__name__}")
            raise
        details = {}
        if status >= 500:  # noqa: PLR2004
            details = {
                "retry_after": response.getheader("Retry-After"),
                "site_page": "Formazione" in body or "Riprova" in body,
                "gunicorn_page": "Internal Server Error" in body and "<h1>" not in body,
            }
        log.add(name, status, **details)
        return status, response, body

    try:
        _status, response, page = step("login page", "GET", "/login")
        cookie = session_cookie(response)
        form = [("csrf_token", csrf_token(page)), ("email", email), ("password", PASSWORD)]
        status, response, _page = step("sign-in", "POST", "/login", cookie=cookie, form=form)
        if status != 302:  # noqa: PLR2004
            return
        cookie = session_cookie(response, cookie)
        status, _r, page = step("open", "GET", QUIZ, cookie=cookie)
        if status != 200:  # noqa: PLR2004
            return
        status, _r, _b = step(
            "start",
            "POST",
            QUIZ + "tentativi",
            cookie=cookie,
            form=[("csrf_token", csrf_token(page))],
        )
        if status != 302:  # noqa: PLR2004
            return
        status, _r, page = step("read", "GET", QUIZ, cookie=cookie)
        if status != 200:  # noqa: PLR2004
            return
        action, attempt_id, form = read_form(page, rng)
        status, response, _b = step("submit", "POST", action, cookie=cookie, form=form)
        location = response.getheader("Location") or ""
        if status == 302 and location.endswith(f"/tentativi/{attempt_id}"):  # noqa: PLR2004
            with log.lock:
                log.acknowledged[attempt_id] = email
    except (OSError, RuntimeError) as error:
        log.add("unfinished", f"{type(error).__name__}: {error}")


def restart(cluster: str, log: Log) -> dict:
    """Restart the cluster (open connections cut); how long it took."""
    version, name = cluster.split()
    started = time.monotonic()
    subprocess.run(  # noqa: S603 - our own command line
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "restart", "-m", "fast"],  # noqa: S607
        check=True,
        capture_output=True,
    )
    return {"restart_at": started - log.started, "restart_seconds": time.monotonic() - started}


def check(acknowledged: dict[int, str]) -> list[str]:
    """Problems with the acknowledged attempts (none: each stored, submitted, graded)."""
    from sqlalchemy import select  # noqa: PLC0415

    from lms.assessments.models import QuizAttempt  # noqa: PLC0415
    from lms.extensions import db  # noqa: PLC0415

    with bench_app_context(URL):
        stored = {
            attempt.id: attempt
            for attempt in db.session.scalars(
                select(QuizAttempt).where(QuizAttempt.id.in_(list(acknowledged)))
            )
        }
        db.engine.dispose()
    problems = []
    for attempt_id in acknowledged:
        attempt = stored.get(attempt_id)
        if attempt is None:
            problems.append(f"attempt {attempt_id}: acknowledged, not stored")
        elif attempt.submitted_at is None or attempt.score_pct is None:
            problems.append(f"attempt {attempt_id}: acknowledged, not graded")
    return problems


def main() -> None:
    """Prepare, load, restart, check, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=24.0)
    parser.add_argument("--restart-at", type=float, default=6.0)
    parser.add_argument("--cluster", default="15 main")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    emails = prepare(args.learners)
    rng = random.Random(7)
    with serve(URL, worker_class="gthread", threads=4) as port:
        log = Log()
        threads = []
        timing: dict = {}
        restarter = threading.Timer(
            args.restart_at, lambda: timing.update(restart(args.cluster, log))
        )
        restarter.start()
        gap = args.seconds / len(emails)
        for email in emails:
            thread = threading.Thread(target=take_quiz, args=(port, email, log, rng))
            thread.start()
            threads.append(thread)
            time.sleep(gap)
        for thread in threads:
            thread.join()
        restarter.join()
    problems = check(log.acknowledged)
    by_step = Counter((a["step"], a["status"]) for a in log.answers)
    errors = [a for a in log.answers if isinstance(a["status"], int) and a["status"] >= 500]  # noqa: PLR2004
    result = {
        **timing,
        "learners": len(emails),
        "answers": {
            f"{step} {status}": n for (step, status), n in sorted(by_step.items(), key=str)
        },
        "errors_5xx": len(errors),
        "errors_with_retry_after": sum(1 for a in errors if a.get("retry_after")),
        "errors_on_the_site_page": sum(1 for a in errors if a.get("site_page")),
        "errors_on_gunicorn_page": sum(1 for a in errors if a.get("gunicorn_page")),
        "first_error_at": min((a["t"] for a in errors), default=None),
        "last_error_at": max((a["t"] for a in errors), default=None),
        "acknowledged_submissions": len(log.acknowledged),
        "problems": problems,
    }
    print(json.dumps(result, indent=2, default=str))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
