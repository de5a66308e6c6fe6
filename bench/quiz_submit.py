"""Benchmark: 200 learners start and submit the same quiz at once; nothing lost, nothing twice.

    .venv/bin/python bench/quiz_submit.py [--database-url URL] [--learners 200]
        [--worker-class gthread] [--threads 4] [--json FILE]

Against gunicorn (2 workers, see bench/harness.py) on the generated programme
database, over HTTP with CSRF tokens, as browsers would:

1. signs in ``--learners`` active learners who never attempted the chosen quiz
   (the final quiz of the first non-sequential course: any learner may open it);
2. all at once, each learner clicks "start" twice (two concurrent POSTs, a
   double click): one attempt must open;
3. each reads the quiz page (the attempt's questions) and picks answers;
4. all at once, each submits (timed: p50, p95, max); then each submits the
   same form again (a replay), which must change nothing;
5. checks the database: exactly one attempt per learner, numbered 1, graded
   (submitted, not expired, with a score) with the answers that were sent; no
   other new attempt on the quiz.

Every run uses learners who had no attempt on the quiz, so it can be repeated
on the same database (each run adds 200 graded attempts to it).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from harness import (
    bench_app_context,
    csrf_token,
    database_url,
    describe_url,
    fetch,
    percentile,
    serve,
    sign_in_all,
)

_ACTION = re.compile(r'id="quiz-form"\s+action="([^"]+/tentativi/(\d+))"')
_SHOWN = re.compile(r'name="([^"]+)__shown"')
_OPTION = re.compile(r'name="([^"]+)" id="[^"]*" value="([^"]+)"')


def pick(url: str, count: int) -> tuple[int, str, list[tuple[int, str]]]:
    """The quiz (module id, path) and *count* learners (id, e-mail) who never attempted it."""
    from sqlalchemy import exists, select  # noqa: PLC0415

    from lms.assessments.models import QuizAttempt  # noqa: PLC0415
    from lms.auth.models import Role, User  # noqa: PLC0415
    from lms.courses.models import Course, CourseStatus, Module, ModuleKind  # noqa: PLC0415
    from lms.extensions import db  # noqa: PLC0415

    with bench_app_context(url):
        module_id, course_slug, module_slug = db.session.execute(
            select(Module.id, Course.slug, Module.slug)
            .join(Course, Course.id == Module.course_id)
            .where(
                Course.status == CourseStatus.PUBLISHED,
                Course.retired_at.is_(None),
                Course.sequential.is_(False),
                Module.kind == ModuleKind.QUIZ,
                Module.retired_at.is_(None),
            )
            .order_by(Course.id, Module.position.desc())
            .limit(1)
        ).one()
        learners = [
            (user_id, email)
            for user_id, email in db.session.execute(
                select(User.id, User.email)
                .where(
                    User.active.is_(True),
                    User.role == Role.LEARNER,
                    User.id % 89 == 3,  # noqa: PLR2004 - spread over the whole population
                    ~exists().where(
                        QuizAttempt.user_id == User.id, QuizAttempt.module_id == module_id
                    ),
                )
                .order_by(User.id)
                .limit(count)
            )
        ]
        db.engine.dispose()
    if len(learners) < count:
        raise RuntimeError(f"only {len(learners)} learners left who never attempted the quiz")
    return module_id, f"/courses/{course_slug}/{module_slug}/", learners


def all_at_once(tasks: list[Callable[[], object]]) -> list[tuple[object, float]]:
    """Run every task in its own thread, released together; (result, seconds) each."""
    barrier = threading.Barrier(len(tasks))
    results: list[tuple[object, float]] = [(None, 0.0)] * len(tasks)

    def run(index: int) -> None:
        barrier.wait()
        started = time.perf_counter()
        try:
            outcome: object = tasks[index]()
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            outcome = exc
        results[index] = (outcome, time.perf_counter() - started)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(tasks))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def read_form(page: str, rng: random.Random) -> tuple[str, int, list[tuple[str, str]]]:
    """The submit URL, the attempt id and a filled-in form from a quiz page."""
    action = _ACTION.search(page)
    if action is None:
        raise RuntimeError("no open attempt on the quiz page")
    form = [("csrf_token", csrf_token(page))]
    options: dict[str, list[str]] = {}
    for name, value in _OPTION.findall(page):
        options.setdefault(name, []).append(value)
    for question in _SHOWN.findall(page):
        form.append((f"{question}__shown", "1"))
        if options.get(question):
            form.append((question, rng.choice(options[question])))
    return action.group(1), int(action.group(2)), form


def check(url: str, module_id: int, learners: list[tuple[int, str]], sent: dict) -> dict:
    """What the database holds for these learners on the quiz."""
    from sqlalchemy import func, select  # noqa: PLC0415

    from lms.assessments.models import QuizAttempt  # noqa: PLC0415
    from lms.extensions import db  # noqa: PLC0415

    ids = [user_id for user_id, _email in learners]
    problems: list[str] = []
    with bench_app_context(url):
        attempts = list(
            db.session.scalars(
                select(QuizAttempt).where(
                    QuizAttempt.module_id == module_id, QuizAttempt.user_id.in_(ids)
                )
            )
        )
        by_user: dict[int, list] = {}
        for attempt in attempts:
            by_user.setdefault(attempt.user_id, []).append(attempt)
        for user_id in ids:
            mine = by_user.get(user_id, [])
            if len(mine) != 1:
                problems.append(f"user {user_id}: {len(mine)} attempts")
                continue
            attempt = mine[0]
            answers = {
                k: [v] for k, v in sent.get(user_id, []) if k != "csrf_token" and "__" not in k
            }
            if attempt.number != 1:
                problems.append(f"user {user_id}: attempt numbered {attempt.number}")
            if attempt.submitted_at is None or attempt.expired or attempt.score_pct is None:
                problems.append(f"user {user_id}: attempt {attempt.id} not graded")
            elif attempt.responses != answers:
                problems.append(f"user {user_id}: attempt {attempt.id} has other answers")
        total = db.session.scalar(
            select(func.count(QuizAttempt.id)).where(QuizAttempt.user_id.in_(ids))
        )
        db.engine.dispose()
    return {
        "attempts": len(attempts),
        "graded": sum(1 for a in attempts if a.score_pct is not None and not a.expired),
        "attempts_of_these_learners_anywhere": total,
        "problems": problems,
    }


def main() -> None:
    """Run the scenario, check, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--worker-class", default="gthread")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    url = database_url(args.database_url)
    module_id, path, learners = pick(url, args.learners)
    print(f"database: {describe_url(url)}; quiz {path}; {len(learners)} learners")
    rng = random.Random(7)
    with serve(url, worker_class=args.worker_class, threads=args.threads) as port:
        started = time.perf_counter()
        cookies = sign_in_all(port, [email for _id, email in learners])
        print(f"signed in {len(cookies)} learners in {time.perf_counter() - started:.1f} s")
        with ThreadPoolExecutor(8) as pool:
            pages = list(pool.map(lambda c: fetch(port, "GET", path, cookie=c)[2], cookies))
        start_path = path + "tentativi"

        def start(cookie: str, page: str) -> int:
            return fetch(
                port, "POST", start_path, cookie=cookie, form=[("csrf_token", csrf_token(page))]
            )[0]

        starts = all_at_once(
            [
                (lambda c=c, p=p: start(c, p))
                for c, p in zip(cookies, pages, strict=True)
                for _double_click in range(2)
            ]
        )
        start_errors = [s for s, _t in starts if s != 302]  # noqa: PLR2004
        with ThreadPoolExecutor(8) as pool:
            pages = list(pool.map(lambda c: fetch(port, "GET", path, cookie=c)[2], cookies))
        forms = [read_form(page, rng) for page in pages]
        sent = {
            user_id: form for (user_id, _email), (_a, _n, form) in zip(learners, forms, strict=True)
        }

        def submit(cookie: str, action: str, form: list) -> tuple[int, str]:
            status, response, _body = fetch(port, "POST", action, cookie=cookie, form=form)
            return status, response.getheader("Location") or ""

        tasks = [
            (lambda c=c, f=f: submit(c, f[0], f[2])) for c, f in zip(cookies, forms, strict=True)
        ]
        submits = all_at_once(tasks)
        replays = all_at_once(tasks)
    submit_times = [t for _r, t in submits]
    bad_submits = [
        r
        for (r, _t), f in zip(submits, forms, strict=True)
        if not (isinstance(r, tuple) and r[0] == 302 and r[1].endswith(f"/tentativi/{f[1]}"))  # noqa: PLR2004
    ]
    bad_replays = [r for r, _t in replays if not (isinstance(r, tuple) and r[0] == 302)]  # noqa: PLR2004
    found = check(url, module_id, learners, sent)
    ok = (
        not found["problems"]
        and not start_errors
        and not bad_submits
        and not bad_replays
        and found["attempts"] == len(learners)
        and found["graded"] == len(learners)
    )
    result = {
        "learners": len(learners),
        "start_p95_ms": percentile([t for _r, t in starts], 95) * 1000,
        "submit_p50_ms": percentile(submit_times, 50) * 1000,
        "submit_p95_ms": percentile(submit_times, 95) * 1000,
        "submit_max_ms": max(submit_times) * 1000,
        "start_errors": len(start_errors),
        "submit_errors": len(bad_submits),
        "replay_errors": len(bad_replays),
        "ok": ok,
        **found,
    }
    print(
        f"starts (2 a learner, at once): {len(starts)}, not a redirect: {len(start_errors)}, "
        f"p95 {result['start_p95_ms']:.0f} ms\n"
        f"submits (at once): {len(submits)}, wrong answer: {len(bad_submits)}; "
        f"p50 {result['submit_p50_ms']:.0f} ms, p95 {result['submit_p95_ms']:.0f} ms, "
        f"max {result['submit_max_ms']:.0f} ms\n"
        f"replays: wrong answer {len(bad_replays)}\n"
        f"database: {found['attempts']} attempts on the quiz for {len(learners)} learners, "
        f"{found['graded']} graded; problems: {len(found['problems'])} "
        f"{found['problems'][:5]}\n"
        f"{'OK: no attempt lost or duplicated' if ok else 'FAILED'}"
    )
    if bad_submits[:3]:
        print("first wrong submit answers:", bad_submits[:3], file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
