"""The WSGI app the HTTP benchmarks serve: the product's app plus one bare endpoint.

    gunicorn --chdir bench bench_app:app      (bench/harness.py starts it)

``/bench/bare`` answers ``ok`` without touching the database, the session or a
template: the floor the page measurements are compared with, served by the
same gunicorn workers through the same Flask app (its ``after_request`` hooks
included). It exists only here, never in the product's ``lms.wsgi``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# LMS_BENCH_SOURCE: another revision's tree to serve (bench/cpu.py --rev).
sys.path.insert(
    0, os.environ.get("LMS_BENCH_SOURCE") or str(Path(__file__).resolve().parent.parent)
)

from lms import create_app

app = create_app()


@app.get("/bench/bare")
def bare() -> tuple[str, int, dict[str, str]]:
    """The floor: a Flask view that does nothing."""
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}
