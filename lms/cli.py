"""The ``lms`` console script: Flask's CLI group bound to :func:`lms.create_app`."""

from __future__ import annotations

from flask.cli import FlaskGroup

from lms import create_app

main = FlaskGroup(
    create_app=create_app,
    add_version_option=False,
    load_dotenv=False,
    help="LMS Coesione: course, staff and report management.",
)
