"""The main menu: each entry appears for the roles that may use it, once its page exists."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from lms.auth.permissions import Capability, can


@dataclass(frozen=True)
class NavItem:
    """A menu entry."""

    endpoint: str
    label: object  # a lazy translated string
    #: None: every signed-in person; several: whoever has any of them.
    capability: Capability | tuple[Capability, ...] | None


#: Entries whose endpoint is not registered yet (a capability still to be built)
#: are left out rather than shown as dead links.
MENU: tuple[NavItem, ...] = (
    NavItem("site.home", _l("Home"), None),
    NavItem("courses.catalogue", _l("Corsi"), Capability.LEARN),
    NavItem("trainer.dashboard", _l("Statistiche corsi"), Capability.VIEW_COURSE_STATS),
    # Trainers schedule sessions and keep registers; HR managers book their people.
    NavItem(
        "live.index", _l("Sessioni dal vivo"), (Capability.SCHEDULE_SESSIONS, Capability.ENROL)
    ),
    NavItem("staff.staff_list", _l("Personale"), Capability.MANAGE_STAFF),
    NavItem("register.authorities", _l("Enti"), Capability.MANAGE_STAFF),
    # HR managers decide on the training their people did elsewhere.
    NavItem("external.review_queue", _l("Formazione esterna"), Capability.MANAGE_STAFF),
    NavItem("reports.home", _l("Report"), Capability.VIEW_REPORTS),
    # The roles that read reports (HR within their scope, admins) read the log too.
    NavItem("audit.entries", _l("Registro attività"), Capability.VIEW_REPORTS),
    NavItem("admin.users", _l("Utenti"), Capability.MANAGE_USERS),
)


def navigation() -> list[dict[str, object]]:
    """Menu entries for the signed-in person, with the current one marked."""
    if not current_user.is_authenticated:
        return []
    items = []
    for item in MENU:
        if item.endpoint not in current_app.view_functions:
            continue
        needed = (item.capability,) if isinstance(item.capability, Capability) else item.capability
        if needed is not None and not any(can(current_user, c) for c in needed):
            continue
        items.append(
            {
                "endpoint": item.endpoint,
                "url": url_for(item.endpoint),
                "label": item.label,
                "active": request.endpoint == item.endpoint,
            }
        )
    return items
