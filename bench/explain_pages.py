"""The database's own cost of each statement a page runs: EXPLAIN ANALYZE on PostgreSQL.

    .venv/bin/python bench/explain_pages.py --database-url postgresql+psycopg://… [--plans]

Signs one of the learners bench/load.py loads in (the Flask test client, the
real sign-in), requests the home page and a module page once to warm them,
then once more while an SQLAlchemy ``before_cursor_execute`` listener keeps
every statement with its parameters; each SELECT is then run three times
under ``EXPLAIN (ANALYZE, BUFFERS)`` on its own connection, and the last
run's planning and execution times are printed (``--plans``: the whole plan).
Writes (the module page's visit) are listed, not run.

Under load the database's CPU is paid on the same cores as the app's
(bench/load.py prints both): this says which statement it goes to. It found
the catalogue's counts correlated to each course (two scans of the modules a
course): 1.75 ms of the home page's 3.4 ms in PostgreSQL (issue #19).
"""

from __future__ import annotations

import argparse
import re
from typing import Any

import psycopg
from harness import PASSWORD, USER_AGENT, database_url
from load import pick_learners
from sqlalchemy import event
from sqlalchemy.engine import make_url

from config import ProductionConfig
from lms import create_app
from lms.extensions import db


def main() -> None:
    """Explain and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--plans", action="store_true", help="print each whole plan")
    args = parser.parse_args()
    url = database_url(args.database_url)
    if not url.startswith("postgresql"):
        parser.error("EXPLAIN ANALYZE's figures are PostgreSQL's: give --database-url postgresql…")
    (email, module_path), *_rest = pick_learners(url, 1)
    settings = {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "explain-only",
        "SESSION_COOKIE_SECURE": False,
        "RATELIMIT_ENABLED": False,
    }
    app = create_app(type("Explain", (ProductionConfig,), settings))
    statements: list[tuple[str, Any]] = []
    with app.app_context():
        event.listen(
            db.engine,
            "before_cursor_execute",
            lambda _c, _cur, sql, params, *_a: statements.append((sql, params)),
        )
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
    page = client.get("/login").get_data(as_text=True)
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    if found is None:
        raise RuntimeError("no CSRF token on the sign-in page")
    reply = client.post(
        "/login", data={"csrf_token": found.group(1), "email": email, "password": PASSWORD}
    )
    if reply.status_code != 302:  # noqa: PLR2004
        raise RuntimeError(f"sign-in answered {reply.status_code}")
    parts = make_url(url).set(drivername="postgresql")
    with psycopg.connect(parts.render_as_string(hide_password=False)) as conn:
        for label, path in (("home", "/"), ("module", module_path)):
            client.get(path)
            statements.clear()
            client.get(path)
            print(f"== {label} ({path}): {len(statements)} statements")
            for sql, params in statements:
                flat = " ".join(sql.split())
                if not flat.upper().startswith("SELECT"):
                    print(f"  (not run) {flat[:110]}")
                    continue
                for _ in range(3):
                    plan = [
                        row[0] for row in conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                    ]
                times = " ".join(line.strip() for line in plan if line.endswith(" ms"))
                print(f"  {times}  {flat[:90]}")
                if args.plans:
                    print("\n".join(f"      {line}" for line in plan))
            conn.rollback()


if __name__ == "__main__":
    main()
