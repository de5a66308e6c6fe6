"""Benchmark: home page and module page under load, against a bare endpoint.

    .venv/bin/python bench/load.py [--database-url URL] [--clients 50] [--seconds 15]
        [--rounds 2] [--worker-class gthread] [--threads 4] [--json FILE]

Starts gunicorn (2 workers, see bench/harness.py) on the generated programme
database (``bench/data/programme.sqlite3`` by default, or
``LMS_BENCH_DATABASE_URL``), signs in ``--clients`` learners who have
enrolments through ``/login``, then loads three URLs in turn with ``wrk`` on
loopback, ``--clients`` connections (one learner's session each, rotated by a
Lua script), ``--seconds`` each after a 3-second warm-up:

- ``/bench/bare``: the floor, a Flask view that does nothing (bench/bench_app.py);
- ``/``: each learner's home page (their enrolments, progress, yearly hours);
- the first page module of a course each learner is enrolled in (a module
  page records the visit: one write a request).

The rounds are interleaved (bare, home, module, bare, …) so that a noisy
neighbour disturbs all three alike; each figure is the median over the rounds.
Without ``wrk`` (scripts/install-bench-tools.sh installs it) a thread-based
Python client does the same, and says so: it is slower than wrk and competes
with the server for the 2 cores, so only its ratios mean much.

Each gthread worker holds at most its share of the clients' connections
(``--worker-connections``, by default the clients over the 2 workers, rounded
up): with gunicorn's default (1,000) one worker could take all of them and
serve every request on one core while the other idled (issue #19, third
pass). In the middle of each run the connections each worker holds are
counted (``connections per worker``), to show the split.

Targets (issue #7): p99 under 100 ms at 50 clients; throughput at least a
third of the bare endpoint's.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from harness import (
    HOST,
    USER_AGENT,
    bench_app_context,
    children,
    connections_per_worker,
    database_url,
    describe_url,
    fetch,
    machine_cpu,
    named_cpu,
    percentile,
    process_cpu,
    serve_process,
    sign_in_all,
)

LUA = """
local items = {ITEMS}
local n = 0

init = function(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  n = math.random(1, #items)
end

request = function()
  n = n + 1
  local item = items[(n % #items) + 1]
  return wrk.format("GET", item[2], {["Cookie"] = item[1], ["User-Agent"] = "USER_AGENT"})
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT {\\"requests\\": %d, \\"duration_us\\": %d, \\"p50_us\\": %d, \\"p99_us\\": %d, "
    .. "\\"mean_us\\": %.1f, \\"errors\\": %d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.mean, e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def pick_learners(url: str, count: int) -> list[tuple[str, str]]:
    """*count* active learners with enrolments: (e-mail, path of a page module they may open).

    The module is the first current module of one of their courses (never
    locked, even in a sequential course), taken where that is a page.
    """
    from sqlalchemy import select  # noqa: PLC0415

    from lms.auth.models import Role, User  # noqa: PLC0415
    from lms.courses.models import Course, CourseStatus, Module, ModuleKind  # noqa: PLC0415
    from lms.enrolments.models import Enrolment  # noqa: PLC0415
    from lms.extensions import db  # noqa: PLC0415
    from lms.register.models import StaffMember  # noqa: PLC0415

    with bench_app_context(url):
        first: dict[int, str] = {}
        rows = db.session.execute(
            select(Course.id, Course.slug, Module.slug, Module.kind)
            .join(Module, Module.course_id == Course.id)
            .where(
                Course.status == CourseStatus.PUBLISHED,
                Course.retired_at.is_(None),
                Module.retired_at.is_(None),
            )
            .order_by(Course.id, Module.position)
        )
        seen: set[int] = set()
        for course_id, course_slug, module_slug, kind in rows:
            if course_id not in seen:
                seen.add(course_id)
                if kind is ModuleKind.PAGE:
                    first[course_id] = f"/courses/{course_slug}/{module_slug}/"
        picked: dict[str, str] = {}
        rows = db.session.execute(
            select(User.email, Enrolment.course_id)
            .join(StaffMember, StaffMember.user_id == User.id)
            .join(Enrolment, Enrolment.staff_id == StaffMember.id)
            .where(User.active.is_(True), User.role == Role.LEARNER, User.id % 97 == 5)  # noqa: PLR2004
            .order_by(User.id, Enrolment.course_id)
        )
        for email, course_id in rows:
            if email not in picked and course_id in first:
                picked[email] = first[course_id]
                if len(picked) == count:
                    break
        db.engine.dispose()
    if len(picked) < count:
        raise RuntimeError(f"only {len(picked)} learners with a page module to open")
    return list(picked.items())


def run_wrk(port: int, items: list[tuple[str, str]], clients: int, seconds: float) -> dict:
    """Load with wrk; requests/s, p50/p99 in ms, errors."""
    entries = ", ".join(f'{{"{cookie}", "{path}"}}' for cookie, path in items)
    script = LUA.replace("{ITEMS}", "{" + entries + "}").replace("USER_AGENT", USER_AGENT)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as file:
        file.write(script)
    try:
        out = subprocess.run(  # noqa: S603 - fixed command
            [
                shutil.which("wrk") or "wrk",
                "-t2",
                f"-c{clients}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "-s",
                file.name,
                f"http://{HOST}:{port}/",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        Path(file.name).unlink()
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    raw = json.loads(line.removeprefix("RESULT "))
    return {
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "requests": raw["requests"],
        "errors": raw["errors"],
    }


def run_threads(port: int, items: list[tuple[str, str]], clients: int, seconds: float) -> dict:
    """The same load from Python threads (one keep-alive connection each)."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    stop = time.perf_counter() + seconds

    def client(index: int) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        n = index
        while time.perf_counter() < stop:
            cookie, path = items[n % len(items)]
            n += 1
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Cookie": cookie, "User-Agent": USER_AGENT})
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                errors[index] += 1
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=30)
                continue
            latencies[index].append(time.perf_counter() - started)
            if response.status >= 400:  # noqa: PLR2004
                errors[index] += 1
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    flat = [x for each in latencies for x in each]
    return {
        "rps": len(flat) / elapsed,
        "p50_ms": percentile(flat, 50) * 1000,
        "p99_ms": percentile(flat, 99) * 1000,
        "requests": len(flat),
        "errors": sum(errors),
    }


@contextlib.contextmanager
def cpu_spent(master: int) -> Iterator[dict[str, float]]:
    """CPU seconds spent while the block runs: gunicorn's workers, this process's children
    that ended in it (the load client), a PostgreSQL server on this machine, the whole
    machine (busy and elapsed core-seconds).

    Wall time under load says how fast the pages came back; these say where the
    cores went: a page whose server CPU is 3x the bare endpoint's but whose
    throughput is 1/5 of it lost the difference somewhere other than in the
    app's own work (the client, the kernel, idle cores).
    """
    workers = children(master)
    server = sum(process_cpu(pid) for pid in workers)
    client = resource.getrusage(resource.RUSAGE_CHILDREN)
    database = named_cpu("postgres")
    busy, total = machine_cpu()
    spent: dict[str, float] = {}
    yield spent
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_after, total_after = machine_cpu()
    spent["database"] = named_cpu("postgres") - database
    spent["server"] = sum(process_cpu(pid) for pid in workers) - server
    spent["client"] = (after.ru_utime + after.ru_stime) - (client.ru_utime + client.ru_stime)
    spent["busy"] = busy_after - busy
    spent["total"] = total_after - total


@contextlib.contextmanager
def split_midway(master: int, port: int, seconds: float) -> Iterator[list[int]]:
    """The connections each of gunicorn's workers holds halfway through the block's run."""
    split: list[int] = []

    def count() -> None:
        split.extend(connections_per_worker(sorted(children(master)), port))

    timer = threading.Timer(seconds / 2, count)
    timer.start()
    try:
        yield split
    finally:
        timer.cancel()
        timer.join()


def per_request(spent: dict[str, float], requests: int) -> dict[str, float]:
    """Server and client CPU a request in ms, and how many cores were busy on average."""
    count = max(1, requests)
    return {
        "server_cpu_ms": spent["server"] * 1000 / count,
        "client_cpu_ms": spent["client"] * 1000 / count,
        "database_cpu_ms": spent.get("database", 0.0) * 1000 / count,
        "busy_cores": spent["busy"] / max(spent["total"], 1e-9) * (os.cpu_count() or 1),
    }


#: gunicorn's workers: one a core (the GIL keeps each on one).
WORKERS = 2


def check_pages(port: int, targets: dict[str, list[tuple[str, str]]]) -> None:
    """Every session sees its page (200), not the sign-in page."""
    for label, items in targets.items():
        for cookie, path in items:
            status, _response, _body = fetch(port, "GET", path, cookie=cookie)
            if status != 200:  # noqa: PLR2004
                raise RuntimeError(f"{label}: {path} answered {status}")


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--worker-class", default="gthread")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--worker-connections",
        type=int,
        default=None,
        help="most connections a gthread worker holds (default: its share of the clients)",
    )
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument(
        "--only", nargs="*", choices=("bare", "home", "module"), help="measure only these"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    url = database_url(args.database_url)
    tool = args.client
    if tool == "auto":
        tool = "wrk" if shutil.which("wrk") else "python"
    runner = run_wrk if tool == "wrk" else run_threads
    learners = pick_learners(url, args.clients)
    share = args.worker_connections or math.ceil(args.clients / WORKERS)
    gthread = args.worker_class == "gthread"
    per_worker = f" x {args.threads} threads, {share} connections each at most" if gthread else ""
    print(
        f"database: {describe_url(url)}; gunicorn: {WORKERS} {args.worker_class} workers"
        f"{per_worker}; "
        f"load: {tool}, {args.clients} clients, {args.seconds:g} s a run, {args.rounds} rounds"
    )
    rounds: dict[str, list[dict]] = {"bare": [], "home": [], "module": []}
    with serve_process(
        url,
        workers=WORKERS,
        worker_class=args.worker_class,
        threads=args.threads,
        worker_connections=share if gthread else None,
    ) as (port, master):
        started = time.perf_counter()
        cookies = sign_in_all(port, [email for email, _path in learners])
        print(f"signed in {len(cookies)} learners in {time.perf_counter() - started:.1f} s")
        targets = {
            "bare": [(c, "/bench/bare") for c in cookies],
            "home": [(c, "/") for c in cookies],
            "module": [(c, path) for c, (_email, path) in zip(cookies, learners, strict=True)],
        }
        if args.only:
            targets = {k: v for k, v in targets.items() if k in args.only}
            rounds = {k: v for k, v in rounds.items() if k in args.only}
        check_pages(port, targets)
        for n in range(args.rounds):
            for label, items in targets.items():
                if args.warmup:
                    runner(port, items, args.clients, args.warmup)
                with (
                    cpu_spent(master.pid) as spent,
                    split_midway(master.pid, port, args.seconds) as split,
                ):
                    result = runner(port, items, args.clients, args.seconds)
                result |= per_request(spent, result["requests"]) | {"split": split}
                rounds[label].append(result)
                print(
                    f"  round {n + 1} {label:<7}{result['rps']:>9.0f} req/s  "
                    f"p50 {result['p50_ms']:>7.1f} ms  p99 {result['p99_ms']:>7.1f} ms  "
                    f"server {result['server_cpu_ms']:.2f} ms  client "
                    f"{result['client_cpu_ms']:.2f} ms  database "
                    f"{result['database_cpu_ms']:.2f} ms CPU a request  "
                    f"cores busy {result['busy_cores']:.2f}  connections per worker "
                    f"{'/'.join(map(str, split))}  errors {result['errors']}"
                )
        check_pages(port, targets)
    summary = {
        label: {
            key: statistics.median(r[key] for r in results)
            for key in (
                "rps",
                "p50_ms",
                "p99_ms",
                "errors",
                "server_cpu_ms",
                "client_cpu_ms",
                "database_cpu_ms",
                "busy_cores",
            )
        }
        | {"rounds": results, "splits": [r["split"] for r in results]}
        for label, results in rounds.items()
    }
    bare = summary["bare"]["rps"] if "bare" in summary else float("nan")
    bare_cpu = summary["bare"]["server_cpu_ms"] if "bare" in summary else float("nan")
    print(
        f"\n{'endpoint':<10}{'req/s':>9}{'vs bare':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
        f"{'server CPU ms':>15}{'vs bare':>9}{'client CPU ms':>15}{'database CPU ms':>17}"
        f"{'cores busy':>12}"
    )
    for label, s in summary.items():
        print(
            f"{label:<10}{s['rps']:>9.0f}{s['rps'] / bare:>9.2f}"
            f"{s['p50_ms']:>9.1f}{s['p99_ms']:>9.1f}{s['errors']:>8.0f}"
            f"{s['server_cpu_ms']:>15.2f}{s['server_cpu_ms'] / bare_cpu:>9.2f}"
            f"{s['client_cpu_ms']:>15.2f}{s['database_cpu_ms']:>17.2f}{s['busy_cores']:>12.2f}"
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "tool": tool,
                    "clients": args.clients,
                    "seconds": args.seconds,
                    "worker_class": args.worker_class,
                    "threads": args.threads,
                    "workers": WORKERS,
                    "worker_connections": share if gthread else None,
                    "results": summary,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
