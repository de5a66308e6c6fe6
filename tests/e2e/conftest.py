"""Browser tests: the real app on 127.0.0.1, driven by headless Chromium.

Chromium is Debian's package (``scripts/install-chromium.sh``; ``$LMS_CHROMIUM``
names another), driven by Playwright's Python package through
``executable_path``. Without it these tests are skipped with the reason, unless
``LMS_REQUIRE_BROWSER=1`` (set by ``.ci/run``): then they fail.

The server is the real application, served by werkzeug in a thread, on its own
temporary SQLite database built by the migrations and filled as ``make run``
fills it: the register, the courses of ``content/`` (plus one draft course),
the demo accounts and staff. SQLite only: the PostgreSQL pass of ``make test``
skips these tests (what they check is the browser side; the database code runs
on both in the rest of the suite).

Every page a test visits goes through :func:`Browser.check` (axe-core, WCAG 2.1
A and AA rules; a serious or critical violation fails the test). With
``LMS_SCREENSHOTS=1`` the tests save the main pages to ``docs/screenshots/``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import dispose_app, make_test_app
from flask import Flask
from flask_migrate import upgrade
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("LMS_CHROMIUM", "/usr/bin/chromium"))
REQUIRE_BROWSER = os.environ.get("LMS_REQUIRE_BROWSER", "").strip() in {"1", "true", "yes"}
SCREENSHOTS = os.environ.get("LMS_SCREENSHOTS", "").strip() in {"1", "true", "yes"}
SCREENSHOT_DIR = ROOT / "docs" / "screenshots"
AXE_URL = "/static/vendor/axe-core/axe.min.js"
#: The rules that must pass: WCAG 2.0 and 2.1, levels A and AA. axe's best practices
#: run too; their findings are listed at the end of the run, without failing it.
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
AXE_RUN_TAGS = (*AXE_TAGS, "best-practice")
FAILING_IMPACTS = {"serious", "critical"}

#: Chromium's console line for a resource answered with a 4xx status.
_CLIENT_ERROR = re.compile(r"the server responded with a status of 4\d\d")

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}

#: Accounts the tests add next to the demo ones (the test hasher is cheap).
KEYBOARD_LEARNER = ("tastiera@e2e.example", "Tastiera-2026")
PHONE_LEARNER = ("telefono@e2e.example", "Telefono-2026")

DRAFT_COURSE = """---
title: Fondi europei e aiuti di Stato
summary: Quando un contributo pubblico a un'impresa è un aiuto di Stato.
hours: 2
audience:
  - existing
sequential: true
pass_mark: 70
language: it
status: draft
---

# Fondi europei e aiuti di Stato

Corso in preparazione: visibile solo ai formatori.
"""

DRAFT_MODULE = """---
title: Che cos'è un aiuto di Stato
minutes: 10
---

# Che cos'è un aiuto di Stato

Un aiuto di Stato è un vantaggio concesso con risorse pubbliche a un'impresa, in modo
selettivo, che può falsare la concorrenza e incidere sugli scambi tra Stati membri.
"""


def _skip_reason() -> str | None:
    if os.environ.get("LMS_TEST_DATABASE_URL"):
        return "browser tests run on SQLite only: they ran in the SQLite pass"
    if CHROMIUM.is_file() or REQUIRE_BROWSER:
        return None
    return (
        f"no Chromium at {CHROMIUM}: browser tests skipped "
        "(install it with scripts/install-chromium.sh, or set LMS_CHROMIUM)"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip the browser tests, with the reason, when they cannot run here."""
    reason = _skip_reason()
    if reason is None:
        return
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.skip(reason=reason))


# The live server ----------------------------------------------------------------


@dataclass
class LiveServer:
    """The application under test and the address it answers on."""

    app: Flask
    url: str


def _content_dir(tmp: Path) -> Path:
    """The shipped courses and a draft course for the trainer's preview."""
    content = tmp / "content"
    shutil.copytree(ROOT / "content", content)
    draft = content / "aiuti-di-stato"
    draft.mkdir()
    (draft / "course.md").write_text(DRAFT_COURSE, encoding="utf-8")
    (draft / "01-nozione-di-aiuto.md").write_text(DRAFT_MODULE, encoding="utf-8")
    return content


def _fill(app: Flask, content: Path) -> None:
    """What `make run` does: register, content, demo accounts and staff; plus two learners."""
    from lms.auth.operations import create_user  # noqa: PLC0415
    from lms.courses.content import load_tree  # noqa: PLC0415
    from lms.courses.sync import sync_courses  # noqa: PLC0415
    from lms.extensions import db  # noqa: PLC0415
    from lms.register.istat import shipped_register  # noqa: PLC0415
    from lms.register.operations import load_register  # noqa: PLC0415
    from lms.site.demo import load_demo, load_demo_staff  # noqa: PLC0415

    with app.app_context():
        upgrade()
        load_register(shipped_register())
        courses, errors = load_tree(content)
        assert not errors, errors
        sync_courses(courses)
        load_demo()
        load_demo_staff()
        for email, password in (KEYBOARD_LEARNER, PHONE_LEARNER):
            create_user(
                email=email,
                role="learner",
                password=password,
                first_name="Paola",
                last_name="Ricci",
            )
        db.session.commit()
        db.session.remove()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app served on a free port of 127.0.0.1 for the whole run."""
    tmp = tmp_path_factory.mktemp("e2e")
    content = _content_dir(tmp)
    app = make_test_app(f"sqlite:///{tmp / 'e2e.sqlite3'}", CONTENT_DIR=str(content))
    _fill(app, content)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = url
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    yield LiveServer(app, url)
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
    dispose_app(app)


# The browser ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """Headless Chromium (one process for the run)."""
    if not CHROMIUM.is_file():
        pytest.fail(
            f"LMS_REQUIRE_BROWSER is set but there is no Chromium at {CHROMIUM}: "
            "run scripts/install-chromium.sh",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


@dataclass
class AxeLog:
    """What axe-core found over the run (pages checked, non-blocking findings)."""

    pages: list[str] = field(default_factory=list)
    minor: dict[str, set[str]] = field(default_factory=dict)


AXE_LOG = AxeLog()


def format_violations(violations: list[dict]) -> str:
    """One block per violation: rule, impact, help, and the nodes it was found on."""
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']}"
            f" [{violation['helpUrl']}]"
        )
        lines.extend(
            f"    {' '.join(map(str, node['target']))}: {node['summary']}"
            for node in violation["nodes"][:8]
        )
    return "\n".join(lines)


class Browser:
    """A browser context on the live server, with the checks every page gets."""

    def __init__(self, context: object, server: LiveServer) -> None:
        self.context = context
        self.server = server
        self.page = context.new_page()
        self.server_errors: list[str] = []
        self.console_errors: list[str] = []
        self.page.on("response", self._on_response)
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.console_errors.append(str(error)))

    def _on_response(self, response: object) -> None:
        if response.status >= 500:  # a server error
            self.server_errors.append(f"{response.status} {response.url}")

    def _on_console(self, message: object) -> None:
        # A CSP violation or a script error shows up here. So does a page answered
        # with a 4xx (a form sent back with its errors, a refusal): those are the
        # answers under test, and 5xx answers are caught by _on_response.
        if message.type == "error" and not _CLIENT_ERROR.search(message.text):
            self.console_errors.append(message.text)

    def url(self, path: str) -> str:
        """The absolute address of *path* on the live server."""
        return self.server.url + path

    def goto(self, path: str, *, check: bool = True) -> object:
        """Open *path*, wait for it to load, run axe on it."""
        response = self.page.goto(self.url(path))
        if check:
            self.check()
        return response

    def check(self, label: str | None = None) -> list[dict]:
        """Run axe-core on the current page; fail on serious or critical violations."""
        page = self.page
        page.wait_for_load_state("load")
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            # Served by the app itself, so the Content-Security-Policy allows it.
            page.add_script_tag(url=self.url(AXE_URL))
        violations = page.evaluate(
            """async (tags) => {
                const result = await window.axe.run(document, {
                    runOnly: {type: 'tag', values: tags},
                    resultTypes: ['violations'],
                });
                return result.violations.map((v) => ({
                    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl, tags: v.tags,
                    nodes: v.nodes.map((n) => ({target: n.target, summary: n.failureSummary})),
                }));
            }""",
            list(AXE_RUN_TAGS),
        )
        where = label or page.url.removeprefix(self.server.url)
        AXE_LOG.pages.append(where)
        failing = [
            v
            for v in violations
            if v["impact"] in FAILING_IMPACTS and set(v["tags"]) & set(AXE_TAGS)
        ]
        for violation in violations:
            if violation not in failing:
                AXE_LOG.minor.setdefault(f"{violation['id']} ({violation['impact']})", set()).add(
                    where
                )
        assert not failing, (
            f"axe-core: serious or critical WCAG violations on {where}:\n"
            + format_violations(failing)
        )
        return violations

    def shot(self, name: str, *, full_page: bool = False) -> None:
        """Save the page as docs/screenshots/<name>.png when LMS_SCREENSHOTS is set."""
        if SCREENSHOTS:
            SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=full_page)

    def sign_in(self, email: str, password: str) -> None:
        """Sign in through the login form, as a person would."""
        self.goto("/login")
        self.page.get_by_label("E-mail").fill(email)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Accedi").click()
        self.page.wait_for_url(self.url("/"))
        # The demo accounts are shared by every test, and an account keeps the language
        # its last session chose: a test that switched to English must not leave the
        # next one reading English pages.
        if self.page.locator("html").get_attribute("lang") != "it":
            from playwright.sync_api import expect  # noqa: PLC0415 - as sync_playwright above

            self.page.get_by_role("button", name="Italiano").click()
            expect(self.page.locator("html")).to_have_attribute("lang", "it")
        self.check()

    def json(self, script: str) -> object:
        """Evaluate *script* in the page and return its JSON-able value."""
        return json.loads(json.dumps(self.page.evaluate(script)))


@pytest.fixture
def open_browser(chromium: object, live_server: LiveServer) -> Iterator[Callable[..., Browser]]:
    """Open browser contexts (desktop by default); each checked for errors at the end."""
    opened: list[Browser] = []

    def factory(viewport: dict[str, int] = DESKTOP) -> Browser:
        context = chromium.new_context(
            viewport=viewport, locale="it-IT", timezone_id="Europe/Rome", accept_downloads=True
        )
        context.set_default_timeout(15_000)
        opened.append(Browser(context, live_server))
        return opened[-1]

    yield factory
    for browser in opened:
        browser.context.close()
    for browser in opened:
        assert not browser.server_errors, f"server errors: {browser.server_errors}"
        assert not browser.console_errors, f"browser console errors: {browser.console_errors}"


def pytest_terminal_summary(terminalreporter: object) -> None:
    """After the run: how many pages axe-core checked, and its non-blocking findings."""
    if not AXE_LOG.pages:
        return
    terminalreporter.write_line(
        f"axe-core: {len(AXE_LOG.pages)} page checks ({len(set(AXE_LOG.pages))} distinct pages),"
        " no serious or critical violation allowed"
    )
    for rule, pages in sorted(AXE_LOG.minor.items()):
        terminalreporter.write_line(f"  axe-core (not failing) {rule}: {', '.join(sorted(pages))}")
