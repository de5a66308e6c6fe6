"""Shared by the HTTP benchmarks: a gunicorn server, signed-in sessions, percentiles.

The server is the product's app (``bench/bench_app.py`` adds only ``/bench/bare``)
run by gunicorn with 2 workers on ``127.0.0.1`` and a free port, against the
generated programme database. Worker class: ``gthread`` with 4 threads a worker
by default. Sync workers close the connection after every response (no
keep-alive), so at 50 clients a good part of what they would measure is TCP
set-up; threads also let a worker overlap its PostgreSQL round trips. Python's
GIL keeps each worker on one core, so 2 workers is what 2 cores can use.
A gthread worker accepts every connection it can (gunicorn's
``worker_connections``, 1,000 by default): ``bench/load.py`` caps it at each
worker's share of the clients, or both of wrk's connections' halves may end
on one worker (see :func:`connections_per_worker`).

Sessions are made the way a browser makes them: ``GET /login`` for the CSRF
token and the session cookie, then ``POST /login`` with the generated users'
password (``Bench-2026``). The login rate limits are raised for the bench
server only (``LMS_LOGIN_LIMIT_*``), since every sign-in comes from 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode, urlsplit

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
#: The product's code the benches import and serve: this checkout, or another
#: revision's tree (``bench/cpu.py --rev`` checks one out into a temporary git
#: worktree and sets ``LMS_BENCH_SOURCE`` for its child processes). The bench
#: scripts themselves always come from this checkout, so both are measured alike.
SOURCE = Path(os.environ.get("LMS_BENCH_SOURCE") or REPO)
sys.path.insert(0, str(SOURCE))

DEFAULT_DATABASE_URL = f"sqlite:///{BENCH_DIR / 'data' / 'programme.sqlite3'}"
PASSWORD = "Bench-2026"  # noqa: S105 - the generated users' published bench password
USER_AGENT = "lms-bench"
HOST = "127.0.0.1"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def database_url(given: str | None = None) -> str:
    """The database to run on: *given*, else ``LMS_BENCH_DATABASE_URL``, else the SQLite file."""
    return given or os.environ.get("LMS_BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def server_env(url: str, port: int, instance: str, source: Path) -> dict[str, str]:
    """The settings the bench server runs with (also the in-process runs of bench/cpu.py)."""
    return {
        "LMS_ENV": "production",
        "LMS_SECRET_KEY": secrets.token_hex(32),
        "LMS_DATABASE_URL": url,
        "LMS_ALLOW_SQLITE_IN_PRODUCTION": "1",
        "LMS_SECURE_COOKIES": "0",  # plain HTTP on loopback
        "LMS_LOGIN_LIMIT_PER_ADDRESS": "100000 per minute",
        "LMS_LOGIN_LIMIT_PER_ACCOUNT": "100000 per minute",
        "LMS_INSTANCE_DIR": instance,
        "LMS_BASE_URL": f"http://{HOST}:{port}",
        "PYTHONPATH": str(source),
        "LMS_BENCH_SOURCE": str(source),
    }


@contextlib.contextmanager
def serve(
    url: str, *, workers: int = 2, worker_class: str = "gthread", threads: int = 4
) -> Iterator[int]:
    """Run gunicorn on the bench app against *url*; yield its port, stop it afterwards."""
    with serve_process(url, workers=workers, worker_class=worker_class, threads=threads) as (
        port,
        _process,
    ):
        yield port


@contextlib.contextmanager
def serve_process(
    url: str,
    *,
    workers: int = 2,
    worker_class: str = "gthread",
    threads: int = 4,
    source: Path | None = None,
    worker_connections: int | None = None,
) -> Iterator[tuple[int, subprocess.Popen]]:
    """:func:`serve`, yielding (port, gunicorn's master process); *source*: the code to serve.

    *worker_connections*: the most connections a gthread worker holds at once
    (gunicorn's default when None).
    """
    source = source or SOURCE
    port = free_port()
    instance = tempfile.mkdtemp(prefix="lms-bench-instance-")
    env = {**os.environ, **server_env(url, port, instance, source)}
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(workers),
        "--worker-class",
        worker_class,
        "--threads",
        str(threads),
        *(["--worker-connections", str(worker_connections)] if worker_connections else []),
        "--bind",
        f"{HOST}:{port}",
        "--backlog",
        "2048",
        "--timeout",
        "120",
        "--log-level",
        "warning",
        "--chdir",
        str(BENCH_DIR),
        "bench_app:app",
    ]
    log_path = Path(instance) / "gunicorn.log"
    log = log_path.open("wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=log)  # noqa: S603
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                tail = log_path.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{tail}")
            with contextlib.suppress(OSError):
                status, _headers, _body = fetch(port, "GET", "/healthz")
                if status == 200:  # noqa: PLR2004
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not answer /healthz within 90 s")
            time.sleep(0.3)
        yield port, process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        errors = [x for x in log_path.read_text(errors="replace").splitlines() if " ERROR " in x]
        if errors:
            print(f"gunicorn logged {len(errors)} errors, the first: {errors[0]}", file=sys.stderr)


def fetch(
    port: int,
    method: str,
    path: str,
    *,
    cookie: str | None = None,
    form: Sequence[tuple[str, str]] | None = None,
    conn: http.client.HTTPConnection | None = None,
) -> tuple[int, http.client.HTTPResponse, str]:
    """One request; (status, response, body). A fresh connection unless *conn* is given."""
    own = conn is None
    conn = conn or http.client.HTTPConnection(HOST, port, timeout=120)
    headers = {"User-Agent": USER_AGENT}
    if cookie:
        headers["Cookie"] = cookie
    body = None
    if form is not None:
        body = urlencode(list(form))
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
    finally:
        if own:
            conn.close()
    return response.status, response, text


def session_cookie(response: http.client.HTTPResponse, previous: str | None = None) -> str | None:
    """The ``lms_session`` cookie a response sets, else *previous*."""
    for header in response.headers.get_all("Set-Cookie") or []:
        pair = header.split(";", 1)[0]
        if pair.startswith("lms_session="):
            return pair
    return previous


def csrf_token(page: str) -> str:
    """The CSRF token of the first form on *page*."""
    found = _CSRF.search(page)
    if not found:
        raise RuntimeError("no csrf_token on the page")
    return found.group(1)


def sign_in(port: int, email: str) -> str:
    """Sign *email* in through ``/login``; return the session cookie (``lms_session=…``)."""
    status, response, page = fetch(port, "GET", "/login")
    cookie = session_cookie(response)
    form = [("csrf_token", csrf_token(page)), ("email", email), ("password", PASSWORD)]
    status, response, _page = fetch(port, "POST", "/login", cookie=cookie, form=form)
    if status != 302:  # noqa: PLR2004
        raise RuntimeError(f"sign-in of {email} answered {status}")
    signed = session_cookie(response, cookie)
    if signed is None:
        raise RuntimeError(f"sign-in of {email} set no session")
    # Follow the redirect, as a browser does, and keep the cookie it sets: signing
    # in starts a new session, and the first page's forms put the CSRF secret in
    # it. Without it every page a bench requests would make a new secret and
    # send a new cookie (work no browser causes), and every form would fail.
    landing = urlsplit(response.getheader("Location") or "/")
    status, response, _page = fetch(port, "GET", landing.path or "/", cookie=signed)
    if status != 200:  # noqa: PLR2004
        raise RuntimeError(f"the page after the sign-in of {email} answered {status}")
    return session_cookie(response, signed) or signed


def sign_in_all(port: int, emails: Sequence[str], parallel: int = 8) -> list[str]:
    """Sign every address in (a few at a time); the cookies in the same order."""
    with ThreadPoolExecutor(parallel) as pool:
        return list(pool.map(lambda email: sign_in(port, email), emails))


def percentile(values: Sequence[float], pct: float) -> float:
    """The *pct* percentile of *values* (nearest rank)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, round(pct / 100 * len(ordered) + 0.4999))
    return ordered[min(rank, len(ordered)) - 1]


def bench_app_context(url: str):  # noqa: ANN201 - a Flask app context
    """An app context on *url* for the benches' own queries (picking users, checking)."""
    from config import TestingConfig  # noqa: PLC0415
    from lms import create_app  # noqa: PLC0415

    config = type("Bench", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url})
    return create_app(config).app_context()


def describe_url(url: str) -> str:
    """The database without its password, for printing."""
    return re.sub(r"://([^:@/]+):[^@/]+@", r"://\1:***@", url)


# --- /proc ------------------------------------------------------------------------------


def parse_stat(text: str) -> tuple[int, int, int]:
    """(ppid, utime, stime) from the text of ``/proc/<pid>/stat``; times in clock ticks.

    The second field, the command in parentheses, may itself hold spaces and
    parentheses (``(gunicorn: worker [bench_app:app])``), so the fields are
    counted from the last ``)``: after it come state (3), ppid (4), …, utime
    (14) and stime (15), as proc(5) numbers them.
    """
    rest = text[text.rindex(")") + 1 :].split()
    return int(rest[1]), int(rest[11]), int(rest[12])


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of process *pid* so far, all its threads."""
    _ppid, utime, stime = parse_stat(Path(f"/proc/{pid}/stat").read_text())
    return (utime + stime) / CLOCK_TICKS


def _stats() -> Iterator[tuple[int, str]]:
    """(pid, text of ``/proc/<pid>/stat``) of every process that is still there."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                yield int(entry.name), (entry / "stat").read_text()


def children(pid: int) -> list[int]:
    """The processes whose parent is *pid*."""
    return [child for child, text in _stats() if parse_stat(text)[0] == pid]


def named_cpu(name: str) -> float:
    """User + system CPU seconds so far of every process whose command is *name*.

    ``postgres``: the database server on this machine, its backends included
    (the bench's connections stay open in the pools, so a window's difference
    is what the server spent in it). Processes that end in between are lost.
    """
    total = 0
    for _pid, text in _stats():
        if text[text.index("(") + 1 : text.rindex(")")] == name:
            _ppid, utime, stime = parse_stat(text)
            total += utime + stime
    return total / CLOCK_TICKS


def machine_cpu() -> tuple[float, float]:
    """(busy, total) core-seconds of the whole machine since boot, from ``/proc/stat``.

    Busy is everything but idle and iowait; total includes them. Over an
    interval, busy / total is the share of all cores that were working.
    """
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # noqa: PLR2004 - iowait
    total = sum(fields[:8])  # user … steal; guest time is already in user
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


def _established(port: int, tables: Sequence[Path]) -> set[str]:
    """Socket inodes of the established TCP connections whose local port is *port*."""
    inodes: set[str] = set()
    for table in tables:
        with contextlib.suppress(OSError):
            for line in table.read_text().splitlines()[1:]:
                fields = line.split()
                # local address "HEX_IP:HEX_PORT", state 01 = ESTABLISHED, inode (field 10)
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                    inodes.add(fields[9])
    return inodes


def connections_per_worker(
    pids: Sequence[int],
    port: int,
    tables: Sequence[Path] = (Path("/proc/net/tcp"), Path("/proc/net/tcp6")),
) -> list[int]:
    """How many of the clients' connections to *port* each process of *pids* holds now.

    From ``/proc/net/tcp`` (the connections, by socket inode) and each
    process's ``/proc/<pid>/fd`` (its sockets). The third pass of issue #19
    found, with ``ss``, gthread workers holding 45/5 or 50/0 of wrk's 50
    connections: the one holding them all serves every request on one core
    (the GIL) while the other idles.
    """
    inodes = _established(port, tables)
    counts = []
    for pid in pids:
        held = 0
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    link = str(fd.readlink())
                    if link.startswith("socket:[") and link[8:-1] in inodes:
                        held += 1
        counts.append(held)
    return counts
