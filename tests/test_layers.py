"""The domains form layers that import only downwards (docs/architecture.md draws them).

Every ``import`` of every module under ``lms/`` is read with :mod:`ast`, those
inside functions too (an import moved into a function to dodge a cycle is still
a dependency). A module may import its own package and the packages of lower
layers, never a higher one, and never another package's views (a page that
another domain draws is registered, not imported). The composition root
(``lms/__init__.py``, ``lms/models.py``, ``lms/cli.py``, ``lms/wsgi.py``) puts
the app together and may import anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import lms

ROOT = Path(lms.__file__).resolve().parent

#: Lowest first. Packages on one line of this list form one layer.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("extensions",),  # the Flask extensions, unbound
    ("core",),  # types, messages, tables, downloads, e-mail, the request's transaction
    ("markdown", "markdown_lines", "markdown_inspect"),  # Markdown to safe HTML, the one renderer
    ("content",),  # the content format: quiz files, GIFT, content errors (pure logic)
    ("audit",),  # the log every domain writes to
    ("register",),  # regions, authorities, staff members
    ("auth",),  # accounts, roles, HR scopes over the register, permissions
    ("spid",),  # SPID and CIE sign-in: a SAML service provider over the accounts
    ("courses",),  # courses, modules, progress and completions
    ("assessments",),  # quizzes taken: attempts, grading, statistics
    ("enrolments",),  # roster import, enrolment, standing rules, links for staff
    ("live",),  # live sessions: editions, sign-ups, waiting lists, attendance, registers
    ("surveys",),  # course evaluation: anonymous answers, results for groups of five or more
    ("external",),  # training done elsewhere: declarations, HR approval, bulk import
    ("certificates",),  # certificates of completed courses
    ("notifications",),  # due dates: the home page's notices, the private calendar feed
    ("reports",),  # read-only pages over everything: reports, the audit log's page
    ("site",),  # the home page, the menu, the demo
)
COMPOSITION_ROOT = frozenset({"__init__", "models", "cli", "wsgi"})
RANK = {package: rank for rank, layer in enumerate(LAYERS) for package in layer}


def _package(module: str) -> str | None:
    """The top package under ``lms`` that *module* (dotted, ``lms.x.y``) belongs to."""
    parts = module.split(".")
    if parts[0] != "lms" or len(parts) < 2:
        return None
    return parts[1]


def imports_of(source: str, module: str) -> list[tuple[int, str]]:
    """(line, imported module) for every import in *source*, the module *module*'s."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = module.split(".")[: -node.level]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target == "lms":  # from lms import audit
                found += [(node.lineno, f"lms.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, target))
    return found


def violations(source: str, module: str) -> list[str]:
    """Why *source* (module *module*) breaks the layers; empty when it does not."""
    own = _package(module)
    if own is None or own in COMPOSITION_ROOT:
        return []
    if own not in RANK:
        return [f"{module}: package {own!r} is in no layer (add it to LAYERS)"]
    problems = []
    for line, target in imports_of(source, module):
        other = _package(target)
        if other is None or other == own:
            continue
        if other not in RANK:
            problems.append(f"{module}:{line} imports {target}: not in a layer")
        elif RANK[other] > RANK[own]:
            problems.append(f"{module}:{line} imports {target}, a higher layer ({other})")
        elif target.split(".")[-1].endswith("views"):
            problems.append(f"{module}:{line} imports {target}, another domain's views")
    return problems


def _modules() -> list[tuple[str, Path]]:
    return [
        (".".join(("lms", *path.relative_to(ROOT).with_suffix("").parts)), path)
        for path in sorted(ROOT.rglob("*.py"))
    ]


def test_every_package_is_in_a_layer() -> None:
    packages = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    modules = {p.stem for p in ROOT.glob("*.py")} - COMPOSITION_ROOT
    assert (packages | modules) - set(RANK) == set()


def test_no_module_imports_upwards() -> None:
    problems = []
    for module, path in _modules():
        problems += violations(path.read_text(encoding="utf-8"), module.removesuffix(".__init__"))
    assert problems == []


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("lms.core.types", "from lms.courses.models import Course\n"),
        ("lms.register.models", "def f():\n    from lms.auth.models import User\n"),
        ("lms.audit.operations", "from lms import auth\n"),
        ("lms.courses.queries", "import lms.enrolments.models\n"),
        ("lms.reports.views", "from lms.courses.views import bp\n"),
        ("lms.courses.sync", "from ..enrolments import enrol\n"),
    ],
    ids=["top level", "inside a function", "from lms import", "import", "views", "relative"],
)
def test_a_planted_upward_import_is_found(module: str, source: str) -> None:
    assert violations(source, module) != []


def test_downward_and_own_imports_pass() -> None:
    source = (
        "from lms.core.types import utcnow\n"
        "from lms.courses.models import Course\n"
        "from lms.enrolments import enrol\n"
        "from . import links\n"
    )
    assert violations(source, "lms.enrolments.views") == []
