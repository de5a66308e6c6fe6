"""Course surveys: results and exports for trainers (the survey page itself is a module page).

One blueprint (``/questionari``, endpoints ``surveys.*``); the modules that add routes
to it are listed in :data:`VIEW_MODULES`, which :func:`lms.create_app` imports
before registering it.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("surveys", __name__, url_prefix="/questionari")

#: The modules whose routes are on :data:`bp` (imported by the composition root).
VIEW_MODULES: tuple[str, ...] = ("lms.surveys.views",)
