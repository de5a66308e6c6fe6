"""Profile the home and module pages in-process: SQL statements per request, time, hot spots.

    .venv/bin/python bench/profile_pages.py [--database-url URL] [--requests 200]
        [--learners 20] [--top 25] [--json FILE]

Signs in ``--learners`` of the learners bench/load.py loads (through the
Flask test client, with the real sign-in), then requests each page
``--requests`` times in turn, counting the SQL statements every request runs
(an SQLAlchemy ``before_cursor_execute`` listener) and timing them; with
``--top`` it also prints cProfile's most expensive functions (cumulative).
No HTTP server and no load: this says where one request spends its time.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import re
import statistics
import time
from pathlib import Path

from harness import PASSWORD, USER_AGENT, database_url
from load import pick_learners
from sqlalchemy import event

from config import ProductionConfig
from lms import create_app
from lms.extensions import db


def main() -> None:
    """Profile and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--learners", type=int, default=20)
    parser.add_argument("--top", type=int, default=0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    url = database_url(args.database_url)
    learners = pick_learners(url, args.learners)
    settings = {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "profile-only",
        "SESSION_COOKIE_SECURE": False,
        "RATELIMIT_ENABLED": False,
        "ALLOW_SQLITE_IN_PRODUCTION": True,
    }
    app = create_app(type("Profile", (ProductionConfig,), settings))
    statements: list[str] = []
    with app.app_context():
        event.listen(
            db.engine,
            "before_cursor_execute",
            lambda _c, _cur, sql, *_a: statements.append(sql),
        )
    clients = []
    for email, path in learners:
        client = app.test_client()
        client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        reply = client.post(
            "/login", data={"csrf_token": token, "email": email, "password": PASSWORD}
        )
        assert reply.status_code == 302, reply.status_code  # noqa: S101, PLR2004
        clients.append((client, path))
    report = {}
    for label in ("home", "module"):
        counts, times = [], []
        profile = cProfile.Profile()
        for n in range(args.requests):
            client, path = clients[n % len(clients)]
            target = "/" if label == "home" else path
            statements.clear()
            started = time.perf_counter()
            if args.top:
                profile.enable()
            reply = client.get(target)
            if args.top:
                profile.disable()
            times.append(time.perf_counter() - started)
            assert reply.status_code == 200, (target, reply.status_code)  # noqa: S101, PLR2004
            counts.append(len(statements))
        report[label] = {
            "sql_per_request": statistics.median(counts),
            "sql_max": max(counts),
            "ms_median": statistics.median(times) * 1000,
        }
        print(
            f"{label:<7} SQL statements a request: median {statistics.median(counts):g}, "
            f"max {max(counts)}; time a request: median {statistics.median(times) * 1000:.1f} ms"
        )
        if args.top:
            pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)
            client, path = clients[0]
            statements.clear()
            client.get("/" if label == "home" else path)
            for sql in statements:
                print("   ", " ".join(sql.split())[:200])
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
