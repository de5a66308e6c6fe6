"""WSGI entry point for production servers: ``gunicorn 'lms.wsgi:app'``."""

from lms import create_app

app = create_app()
