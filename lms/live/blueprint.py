"""Live sessions: editions (trainers), sign-ups (learners, HR), registers and attendance.

One blueprint (``/sessioni``, endpoints ``live.*``); the modules that add routes
to it are listed in :data:`VIEW_MODULES`, which :func:`lms.create_app` imports
before registering it.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("live", __name__, url_prefix="/sessioni")

#: The modules whose routes are on :data:`bp` (imported by the composition root).
VIEW_MODULES: tuple[str, ...] = ("lms.live.views", "lms.live.import_views")
