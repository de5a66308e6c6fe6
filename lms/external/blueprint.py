"""Training done elsewhere: declarations (learners), approvals and bulk import (HR).

One blueprint (``/formazione-esterna``, endpoints ``external.*``); the modules that add routes
to it are listed in :data:`VIEW_MODULES`, which :func:`lms.create_app` imports
before registering it.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("external", __name__, url_prefix="/formazione-esterna")

#: The modules whose routes are on :data:`bp` (imported by the composition root).
VIEW_MODULES: tuple[str, ...] = (
    "lms.external.views",
    "lms.external.review_views",
    "lms.external.import_views",
)
