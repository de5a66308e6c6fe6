"""Per-request cost that holds still on a shared machine (issue #19): CPU, instructions, SQL.

    cd bench && ../.venv/bin/python cpu.py [--database-url URL] [--rev REV]
        [--rounds 5] [--requests 200] [--bare-requests 1000] [--busy]
        [--callgrind] [--callgrind-requests 30] [--json FILE]

Wall time here moves by 2x between identical runs (other engineers' test
suites and browsers share the 2 cores); the CPU a request costs the process
that serves it does not, because time spent waiting for a core is nobody's
CPU time. Three figures for ``/bench/bare`` (the floor: a Flask view that does
nothing), the home page and a module page:

- **CPU a request** of the serving process: gunicorn with one ``gthread``
  worker (the worker class and threads of bench/load.py) on the bench app,
  ``--learners`` learners signed in through ``/login``, a warm-up, then
  ``--requests`` requests a page (``--bare-requests`` for the floor, which is
  ten times cheaper) sent one after another from one keep-alive connection,
  the sessions in turn. The worker's user + system time is read from
  ``/proc/<pid>/stat`` before and after each round; the figure is the median
  of ``--rounds`` rounds, with their spread (max - min over the median).
  Rounds go bare, home, module, bare, … so a disturbance hits all three.
  ``--busy`` keeps the other core busy with a loop during the rounds, to show
  the figure does not move when the machine is loaded.
- **Instructions a request** (``--callgrind``): the same app in-process (Flask's
  test client, no HTTP) under ``valgrind --tool=callgrind``, counted only over
  the measured loop of each page: a tiny C helper compiled on the spot issues
  callgrind's client requests (start instrumentation after start-up and
  sign-in, zero the counters, loop, dump with the page's name), so start-up,
  imports and Argon2 are not counted. Python under callgrind is ~50x slower,
  hence few requests, and optional. ``PYTHONHASHSEED=0`` keeps dict and set
  layouts, hence the instructions, the same from run to run.
- **SQL statements a request**: counted in-process (an SQLAlchemy
  ``before_cursor_execute`` listener, as bench/profile_pages.py does); target
  at most 4 a page.

Pages are printed as a ratio of the bare endpoint's cost. Target: a page costs
at most 3x the bare endpoint, which is what "a third of the bare endpoint's
throughput" (bench/load.py's target) means when the CPU is the bottleneck:
requests a second = CPU available / CPU a request.

``--rev REV`` measures that git revision's code too, side by side with this
checkout (the "before" of a change): the revision is checked out into a
temporary worktree (``git worktree add --detach /tmp/bench-rev-<sha>``, removed
afterwards, its translations compiled), and its app is served and run
in-process with that tree on ``PYTHONPATH`` (``LMS_BENCH_SOURCE``), against the
same database and the same learners, its rounds interleaved with this
checkout's. The bench scripts are this checkout's for both. The database
stays at this checkout's migrations: an older revision's models simply do not
map a table they do not know (e.g. ``course_facts``, 0016).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path

from harness import (
    BENCH_DIR,
    HOST,
    PASSWORD,
    REPO,
    USER_AGENT,
    children,
    database_url,
    describe_url,
    process_cpu,
    serve_process,
    server_env,
    sign_in_all,
)

PAGES = ("bare", "home", "module")
#: A page may cost this many times the bare endpoint (a third of its throughput).
MAX_RATIO = 3.0
#: At most this many SQL statements a page (issue #19).
MAX_SQL = 4

HELPER_C = r"""
#include <valgrind/callgrind.h>
void bench_start(void) { CALLGRIND_START_INSTRUMENTATION; }
void bench_zero(void) { CALLGRIND_ZERO_STATS; }
void bench_dump(const char *label) { CALLGRIND_DUMP_STATS_AT(label); }
int bench_on_valgrind(void) { return RUNNING_ON_VALGRIND; }
"""


# --- /proc ------------------------------------------------------------------------------


def the_worker(master: int, timeout: float = 30) -> int:
    """The pid of gunicorn's only worker under *master*."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = children(master)
        if len(found) == 1:
            return found[0]
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn {master} has workers {children(master)}, expected one")


# --- the code trees -----------------------------------------------------------------------


def git(*args: str) -> str:
    """Run git in the checkout; its output."""
    return subprocess.run(  # noqa: S603 - fixed command
        ["git", "-C", str(REPO), *args],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def checkout_label() -> str:
    """This checkout: ``HEAD <sha>``, and whether the product's code has uncommitted changes."""
    sha = git("rev-parse", "--short", "HEAD")
    dirty = git("status", "--porcelain", "--", "lms", "config.py", "migrations")
    return f"HEAD {sha}" + (" + uncommitted changes" if dirty else "")


def compile_translations(tree: Path) -> None:
    """Compile *tree*'s message catalogues (the .mo files are not in git)."""
    subprocess.run(  # noqa: S603 - fixed command
        [
            sys.executable,
            *("-m", "babel.messages.frontend", "-q", "compile", "-d"),
            str(tree / "lms" / "translations"),
        ],
        check=True,
        capture_output=True,
    )


@contextlib.contextmanager
def revision_tree(rev: str) -> Iterator[tuple[str, Path]]:
    """Check *rev* out into a temporary worktree; yield (label, path); remove it afterwards."""
    sha = git("rev-parse", "--verify", f"{rev}^{{commit}}")
    short = sha[:7]
    path = Path(tempfile.gettempdir()) / f"bench-rev-{short}"
    if path.exists():  # left by an interrupted run
        subprocess.run(  # noqa: S603 - fixed command
            ["git", "-C", str(REPO), "worktree", "remove", "--force", str(path)],  # noqa: S607
            capture_output=True,
            check=False,
        )
        shutil.rmtree(path, ignore_errors=True)
        git("worktree", "prune")
    git("worktree", "add", "--detach", str(path), sha)
    try:
        compile_translations(path)
        yield f"{short} (--rev {rev})" if rev not in {short, sha} else short, path
    finally:
        git("worktree", "remove", "--force", str(path))


# --- CPU time of the serving process -----------------------------------------------------


def timed_round(
    port: int, worker: int, items: Sequence[tuple[str, str]], n: int, label: str = ""
) -> dict:
    """*n* requests one after another on one keep-alive connection; the worker's CPU for them."""
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    headers = {"User-Agent": USER_AGENT}
    # The worker finishes a response after the client has read it (closing the
    # WSGI iterable, the keep-alive bookkeeping): let it settle before reading.
    time.sleep(0.05)
    cpu_before = process_cpu(worker)
    started = time.perf_counter()
    for i in range(n):
        cookie, path = items[i % len(items)]
        conn.request("GET", path, headers={**headers, "Cookie": cookie})
        response = conn.getresponse()
        response.read()
        if response.status != 200:  # noqa: PLR2004
            raise RuntimeError(f"{label}: {path} answered {response.status}")
    wall = time.perf_counter() - started
    time.sleep(0.05)
    cpu = process_cpu(worker) - cpu_before
    conn.close()
    return {"cpu_ms": cpu / n * 1000, "wall_ms": wall / n * 1000}


@contextlib.contextmanager
def busy_loop(enabled: bool) -> Iterator[None]:  # noqa: FBT001
    """A process spinning on a core while the rounds run (``--busy``)."""
    if not enabled:
        yield
        return
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        spinner.kill()
        spinner.wait()


def measure_servers(
    url: str,
    trees: Sequence[tuple[str, Path]],
    learners: Sequence[tuple[str, str]],
    requests: dict[str, int],
    rounds: int,
    busy: bool,  # noqa: FBT001
) -> dict[str, dict]:
    """CPU a request of each tree's gunicorn worker, per page: median and spread of the rounds."""
    servers = []
    with ExitStack() as stack:
        for label, source in trees:
            port, master = stack.enter_context(
                serve_process(url, workers=1, worker_class="gthread", threads=4, source=source)
            )
            worker = the_worker(master.pid)
            cookies = sign_in_all(port, [email for email, _path in learners])
            items = {
                "bare": [(c, "/bench/bare") for c in cookies],
                "home": [(c, "/") for c in cookies],
                "module": [(c, path) for c, (_e, path) in zip(cookies, learners, strict=True)],
            }
            for page in PAGES:  # warm-up: templates compiled, caches and pools filled
                timed_round(
                    port, worker, items[page], max(len(cookies), requests[page] // 4), label
                )
            servers.append((label, port, worker, items))
        found: dict[str, dict[str, list[dict]]] = {
            label: {p: [] for p in PAGES} for label, *_ in servers
        }
        with busy_loop(busy):
            for n in range(rounds):
                for label, port, worker, items in servers:
                    for page in PAGES:
                        found[label][page].append(
                            timed_round(port, worker, items[page], requests[page], label)
                        )
                print(
                    f"  round {n + 1}/{rounds}: "
                    + "; ".join(
                        f"{label} "
                        + " ".join(f"{p} {found[label][p][-1]['cpu_ms']:.2f}" for p in PAGES)
                        for label, *_ in servers
                    )
                    + " ms CPU a request",
                    flush=True,
                )
        for label, _port, worker, _items in servers:
            if not Path(f"/proc/{worker}").exists():
                raise RuntimeError(f"{label}: the worker {worker} was restarted during the rounds")
    return {
        label: {page: summarise(results) for page, results in pages.items()}
        for label, pages in found.items()
    }


def summarise(results: list[dict]) -> dict:
    """Median CPU and wall time a request over the rounds, and the rounds' spread."""
    cpu = [r["cpu_ms"] for r in results]
    median = statistics.median(cpu)
    return {
        "cpu_ms": median,
        "spread_pct": (max(cpu) - min(cpu)) / median * 100 if median else float("nan"),
        "wall_ms": statistics.median(r["wall_ms"] for r in results),
        "rounds_cpu_ms": cpu,
    }


# --- in-process: SQL statements, instructions --------------------------------------------


def build_helper(directory: Path) -> Path | None:
    """Compile the callgrind client-request helper; None without gcc or valgrind's headers."""
    gcc = shutil.which("gcc") or shutil.which("cc")
    if not gcc:
        return None
    source = directory / "bench_callgrind.c"
    library = directory / "bench_callgrind.so"
    source.write_text(HELPER_C)
    done = subprocess.run(  # noqa: S603 - fixed command
        [gcc, "-O1", "-shared", "-fPIC", "-o", str(library), str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    return library if done.returncode == 0 else None


def run_child(
    url: str,
    source: Path,
    learners: Sequence[tuple[str, str]],
    requests: dict[str, int],
    *,
    count_sql: bool,
    callgrind: Path | None = None,
    workdir: Path,
) -> dict:
    """Run this script's in-process part with *source*'s code (under callgrind when given)."""
    spec = workdir / f"spec-{os.getpid()}-{time.monotonic_ns()}.json"
    out = spec.with_suffix(".out.json")
    spec.write_text(
        json.dumps(
            {
                "learners": learners,
                "requests": requests,
                "count_sql": count_sql,
                "helper": str(callgrind) if callgrind else None,
                "out": str(out),
            }
        )
    )
    instance = tempfile.mkdtemp(prefix="lms-bench-instance-", dir=workdir)
    env = {**os.environ, **server_env(url, 0, instance, source), "PYTHONHASHSEED": "0"}
    command = [sys.executable, str(Path(__file__).resolve()), "--child", str(spec)]
    dumps = workdir / f"callgrind-{spec.stem}"
    if callgrind:
        dumps.mkdir()
        command = [
            shutil.which("valgrind") or "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",  # start-up and sign-in run uninstrumented (fast)
            f"--callgrind-out-file={dumps}/callgrind.out.%p",
            *command,
        ]
    done = subprocess.run(  # noqa: S603 - our own script
        command, cwd=BENCH_DIR, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode or not out.exists():
        tail = "\n".join([*done.stdout.splitlines()[-20:], *done.stderr.splitlines()[-20:]])
        raise RuntimeError(f"in-process run failed ({done.returncode}):\n{tail}")
    result = json.loads(out.read_text())
    if callgrind:
        result["instructions"] = read_dumps(dumps, requests)
        shutil.rmtree(dumps, ignore_errors=True)
    return result


def read_dumps(directory: Path, requests: dict[str, int]) -> dict[str, float]:
    """Instructions a request of each page, from callgrind's dumps named after the pages."""
    found: dict[str, float] = {}
    for path in directory.iterdir():
        text = path.read_text(errors="replace")
        trigger = re.search(r"^desc: Trigger: Client Request: (\S+)", text, re.MULTILINE)
        total = re.search(r"^(?:summary|totals): (\d+)", text, re.MULTILINE)
        if trigger and total and trigger.group(1) in requests:
            found[trigger.group(1)] = int(total.group(1)) / requests[trigger.group(1)]
    missing = set(requests) - set(found)
    if missing:
        raise RuntimeError(f"callgrind wrote no dump for {sorted(missing)} in {directory}")
    return found


def signed_in_clients(app: object, learners: Sequence[Sequence[str]]) -> list[tuple]:
    """A Flask test client for each learner, signed in through ``/login``; (client, module path)."""
    clients = []
    for email, path in learners:
        client = app.test_client()  # type: ignore[attr-defined]
        client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
        page = client.get("/login").get_data(as_text=True)
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        if not found:
            raise RuntimeError("no csrf_token on /login")
        form = {"csrf_token": found.group(1), "email": email, "password": PASSWORD}
        reply = client.post("/login", data=form)
        if reply.status_code != 302:  # noqa: PLR2004
            raise RuntimeError(f"sign-in of {email} answered {reply.status_code}")
        clients.append((client, path))
    return clients


def page_loop(clients: Sequence[tuple], statements: list[str], page: str, n: int) -> list[int]:
    """*n* requests of *page*, the clients in turn; the SQL statements each ran."""
    counts = []
    for i in range(n):
        client, path = clients[i % len(clients)]
        target = {"bare": "/bench/bare", "home": "/", "module": path}[page]
        statements.clear()
        reply = client.get(target)
        if reply.status_code != 200:  # noqa: PLR2004
            raise RuntimeError(f"{target} answered {reply.status_code}")
        counts.append(len(statements))
    return counts


def child(spec_path: Path) -> None:
    """The in-process part: the bench app, its test client, each page's loop."""
    spec = json.loads(spec_path.read_text())
    from bench_app import app  # noqa: PLC0415 - after LMS_BENCH_SOURCE is on sys.path
    from sqlalchemy import event  # noqa: PLC0415

    from lms.extensions import db  # noqa: PLC0415

    helper = ctypes.CDLL(spec["helper"]) if spec["helper"] else None
    statements: list[str] = []
    if spec["count_sql"]:
        with app.app_context():
            event.listen(
                db.engine,
                "before_cursor_execute",
                lambda _c, _cur, sql, *_a: statements.append(sql),
            )
    clients = signed_in_clients(app, spec["learners"])
    for page in PAGES:  # warm-up, uninstrumented under callgrind
        page_loop(clients, statements, page, max(len(clients), 10))
    if helper:
        helper.bench_start()
        for page in PAGES:  # once more instrumented: callgrind's own translations made
            page_loop(clients, statements, page, len(clients))
    report: dict[str, dict] = {"sql": {}, "cpu_ms": {}}
    for page, n in spec["requests"].items():
        if helper:
            helper.bench_zero()
        started = time.process_time()
        counts = page_loop(clients, statements, page, n)
        cpu = time.process_time() - started
        if helper:
            helper.bench_dump(page.encode())
        report["cpu_ms"][page] = cpu / n * 1000
        if spec["count_sql"]:
            report["sql"][page] = {
                "median": statistics.median(counts),
                "max": max(counts),
                "min": min(counts),
            }
    Path(spec["out"]).write_text(json.dumps(report))


# --- the report ----------------------------------------------------------------------------


def ratio(value: float, bare: float) -> str:
    """*value* as a multiple of the bare endpoint's."""
    return f"{value / bare:.2f}x" if bare else "?"


def print_report(result: dict) -> None:
    """The figures, each tree a block, pages as multiples of the bare endpoint."""
    for tree in result["trees"]:
        print(f"\n{tree['label']}  ({tree['source']})")
        cpu, sql, ins = tree["cpu"], tree["sql"], tree.get("instructions")
        print(
            f"  {'page':<8}{'SQL/req':>8}"
            + (f"{'CPU ms/req':>11}{'x bare':>8}{'spread':>8}{'wall ms':>9}" if cpu else "")
            + (f"{'instr/req':>13}{'x bare':>8}" if ins else "")
        )
        for page in PAGES:
            line = f"  {page:<8}{sql[page]['median']:>8g}"
            if cpu:
                line += (
                    f"{cpu[page]['cpu_ms']:>11.3f}"
                    f"{ratio(cpu[page]['cpu_ms'], cpu['bare']['cpu_ms']):>8}"
                    f"{cpu[page]['spread_pct']:>7.1f}%{cpu[page]['wall_ms']:>9.2f}"
                )
            if ins:
                line += f"{ins[page]:>13,.0f}{ratio(ins[page], ins['bare']):>8}"
            print(line)
    print(
        f"\ntargets: a page <= {MAX_RATIO:g}x the bare endpoint's CPU (a third of its throughput"
        f" when the CPU is the bottleneck); <= {MAX_SQL} SQL statements a page"
    )


def main() -> None:
    """Measure and print; ``--json`` for bench/run_all.py."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--rev", action="append", default=[], help="also measure this revision")
    parser.add_argument("--learners", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200, help="a page, a round")
    parser.add_argument("--bare-requests", type=int, default=1000, help="the floor, a round")
    parser.add_argument(
        "--no-checkout",
        action="store_true",
        help="measure only the --rev trees, not this checkout (e.g. while its code is mid-edit)",
    )
    parser.add_argument("--busy", action="store_true", help="keep the other core busy meanwhile")
    parser.add_argument("--callgrind", action="store_true", help="count instructions too")
    parser.add_argument("--callgrind-requests", type=int, default=30)
    parser.add_argument("--callgrind-learners", type=int, default=3)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    from load import pick_learners  # noqa: PLC0415 - imports the product

    url = database_url(args.database_url)
    started = time.perf_counter()
    learners = pick_learners(url, args.learners)
    requests = {"bare": args.bare_requests, "home": args.requests, "module": args.requests}
    load_before = os.getloadavg()
    print(
        f"database: {describe_url(url)}; {len(learners)} learners; gunicorn: 1 gthread worker x 4"
        f" threads; {args.rounds} rounds of {args.bare_requests} bare and {args.requests} page"
        f" requests{'; the other core kept busy' if args.busy else ''}",
        flush=True,
    )
    with ExitStack() as stack:
        trees = [stack.enter_context(revision_tree(rev)) for rev in args.rev]
        if not args.no_checkout:
            trees.append((checkout_label(), REPO))
        if not trees:
            parser.error("--no-checkout needs at least one --rev")
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="lms-bench-cpu-")))
        cpu = (
            measure_servers(url, trees, learners, requests, args.rounds, args.busy)
            if args.rounds
            else {}
        )
        helper = build_helper(workdir) if args.callgrind else None
        if args.callgrind and not (helper and shutil.which("valgrind")):
            print("callgrind: not measured (needs valgrind, gcc and valgrind/callgrind.h)")
        report = []
        for label, source in trees:
            inproc = run_child(url, source, learners, requests, count_sql=True, workdir=workdir)
            tree = {
                "label": label,
                "source": str(source),
                "current": source == REPO,
                "cpu": cpu.get(label),
                "sql": inproc["sql"],
                "inprocess_cpu_ms": inproc["cpu_ms"],
            }
            if helper and shutil.which("valgrind"):
                n = args.callgrind_requests
                grind = run_child(
                    url,
                    source,
                    learners[: args.callgrind_learners],
                    {"bare": n, "home": n, "module": n},
                    count_sql=False,
                    callgrind=helper,
                    workdir=workdir,
                )
                tree["instructions"] = grind["instructions"]
                tree["callgrind_requests"] = n
            report.append(tree)
    result = {
        "database": describe_url(url),
        "learners": len(learners),
        "rounds": args.rounds,
        "requests": requests,
        "busy": args.busy,
        "load_average": [load_before, os.getloadavg()],
        "seconds": time.perf_counter() - started,
        "max_ratio": MAX_RATIO,
        "max_sql": MAX_SQL,
        "trees": report,
    }
    print_report(result)
    print(f"({result['seconds']:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
