"""The main menu: each entry appears for the roles that may use it, once its page exists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
    NavItem("surveys.index", _l("Questionari"), Capability.VIEW_COURSE_STATS),
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


#: Blueprints whose pages belong, in the menu, to another blueprint's entry: a quiz is
#: taken in a course, a quiz's statistics are a course's statistics.
SECTION_OF_BLUEPRINT: dict[str, str] = {"quiz": "courses", "quiz_stats": "trainer"}
#: Pages that belong to another section than their blueprint's (None: to no entry).
#: A survey answered (its page sent back with errors) and a seat booked or given up
#: are a learner's course pages; one's own training done elsewhere is not the HR
#: managers' "Formazione esterna".
SECTION_OF_ENDPOINT: dict[str, str | None] = {
    "surveys.answer": "courses",
    "live.book": "courses",
    "live.withdraw": "courses",
    "certificates.download": "courses",
    "external.mine": None,
    "external.declare_training": None,
    "external.withdraw_training": None,
}
#: Entries marked on their own page only: the home page's blueprint is the site's.
EXACT_ENTRIES = frozenset({"site.home"})


def menu_section(endpoint: str | None) -> str | None:
    """The section of the menu an endpoint's page is in (a blueprint's name), if any."""
    if not endpoint or "." not in endpoint:
        return None
    if endpoint in SECTION_OF_ENDPOINT:
        return SECTION_OF_ENDPOINT[endpoint]
    blueprint = endpoint.rsplit(".", 1)[0]
    return SECTION_OF_BLUEPRINT.get(blueprint, blueprint)


def nav_entry_active(entry: str, endpoint: str | None) -> bool:
    """Whether the menu entry *entry* is marked on the page of *endpoint*.

    On its own page, and on the other pages of its section (an edition of "Sessioni
    dal vivo", a request of "Formazione esterna"); the home page on itself only.
    """
    if endpoint == entry:
        return True
    if entry in EXACT_ENTRIES:
        return False
    section = menu_section(entry)
    return section is not None and section == menu_section(endpoint)


def _entries(user: Any) -> tuple[tuple[str, str, object], ...]:
    """(endpoint, URL, label) of the entries *user* sees, found once for each role.

    The menu is a fixed table over the capabilities, which roles grant
    (lms/auth/permissions.py: a fixed table too), and over the pages the app has:
    so the entries are found once for each role, their URLs once for each prefix
    the app is served under. Labels stay lazy: each page translates them.
    """
    kept: dict[tuple[object, str], tuple[tuple[str, str, object], ...]]
    kept = current_app.extensions.setdefault("lms_menu", {})
    key = (user.role, request.script_root)
    found = kept.get(key)
    if found is None:
        found = tuple(
            (item.endpoint, url_for(item.endpoint), item.label)
            for item in MENU
            if item.endpoint in current_app.view_functions
            and (item.capability is None or any(can(user, c) for c in _needed(item.capability)))
        )
        kept[key] = found
    return found


def _needed(capability: Capability | tuple[Capability, ...]) -> tuple[Capability, ...]:
    return (capability,) if isinstance(capability, Capability) else capability


def navigation() -> list[dict[str, object]]:
    """Menu entries for the signed-in person, with the current section's marked."""
    user = current_user._get_current_object()  # noqa: SLF001 - once, not through the proxy
    if not user.is_authenticated:
        return []
    endpoint = request.endpoint
    return [
        {
            "endpoint": entry,
            "url": url,
            "label": label,
            "active": nav_entry_active(entry, endpoint),
            # aria-current: "page" on the entry's own page, "true" on its sub-pages.
            "current": "page" if endpoint == entry else "true",
        }
        for entry, url, label in _entries(user)
    ]
