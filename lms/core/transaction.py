"""One transaction per request, and side effects only after it is committed.

As in Indico's request handler: views and operations change the session and
flush, but never commit. The request commits once, at the end, when its
response is a success (a status below 400); any error response or exception
rolls the whole request back. Side effects that must not happen for a change
that was not stored (e-mail, in particular) are queued with :func:`pending`
and run only once the commit succeeded: for a request, after its response has
been sent, so that a page that sends an e-mail answers as fast as one that does
not (the forgotten-password page must not tell known addresses from unknown
ones by its speed).

Command-line commands, which have no request, call :func:`commit` themselves:
it commits, then runs what was queued.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, Response, current_app, g

from lms.extensions import db

log = logging.getLogger(__name__)

_QUEUE = "_after_commit"  # in flask.g: key -> side effect
T = TypeVar("T", bound=Callable[[], object])


def pending(key: str, factory: Callable[[], T]) -> T:
    """The side effect queued under *key* for after the commit, made with *factory* if none.

    It runs once the current transaction is committed, never if it is rolled
    back. Side effects gather their work and do it at once (the e-mail of one
    request go over one connection): the first caller queues it, the others add to it.
    """
    queue = g.setdefault(_QUEUE, {})
    if key not in queue:
        queue[key] = factory()
    return queue[key]


def _take_queue() -> list[Callable[[], object]]:
    return list((g.pop(_QUEUE, None) or {}).values())


def _run(callbacks: list[Callable[[], object]]) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:  # one failed side effect must not stop the others
            log.exception("a side effect after the commit failed")


def commit() -> None:
    """Commit the session, then run the side effects queued with :func:`pending`."""
    db.session.commit()
    _run(_take_queue())


def rollback() -> None:
    """Roll the session back and drop the side effects queued for it."""
    db.session.rollback()
    _take_queue()


def init_app(app: Flask) -> None:
    """Commit each successful request once, roll back the others."""
    app.after_request(_end_request)


def _end_request(response: Response) -> Response:
    if response.status_code >= 400:  # noqa: PLR2004 - an error: nothing of the request stays
        rollback()
        return response
    # A failed commit raises here, and Flask answers with the error page instead.
    session = db.session()
    if response.is_streamed:
        # A streamed body (a download) is written after the request's context has
        # ended, from the objects the view loaded (the reader, the filters): they
        # must keep their values, which are the ones just committed.
        expire, session.expire_on_commit = session.expire_on_commit, False
        try:
            session.commit()
        finally:
            session.expire_on_commit = expire
    else:
        session.commit()
    callbacks = _take_queue()
    if callbacks:
        # The proxy's object: the callback runs after the request's context is gone.
        # (Flask types current_app as a Flask, which hides the proxy's own method.)
        app = current_app._get_current_object()  # type: ignore[attr-defined]  # noqa: SLF001

        def run_after_response() -> None:
            with app.app_context():
                _run(callbacks)

        response.call_on_close(run_after_response)
    return response
