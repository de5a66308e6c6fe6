"""``lms content sync``: files into rows, idempotently, keeping what learners did.

The helpers at the top (a small content tree written into ``tmp_path``, and
:func:`sync`) are shared with test_course_pages.py and test_progress.py.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import Result
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from lms.core.types import utcnow
from lms.courses import sync as sync_module
from lms.courses.content import load_tree
from lms.courses.models import (
    Course,
    CourseCompletion,
    CourseStatus,
    Module,
    ModuleKind,
    ModuleProgress,
    QuizVersion,
)
from lms.courses.progress import complete_module
from lms.courses.sync import SyncReport, sync_courses
from lms.extensions import db as _db

REPO_CONTENT = Path(__file__).resolve().parent.parent / "content"

# A small content tree ----------------------------------------------------------------

#: A real (1x1, transparent) PNG, so that content-type sniffing has nothing to object to.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d4944415478da63f8ffff3f0005fe02fea7d6a4b50000000049454e44ae426082"
)
SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    '<rect width="10" height="10" fill="#06c"/></svg>\n'
)
QUIZ_INTRO = "Rispondi alle domande: ISTRUZIONI-VERIFICA."
QUIZ = f"""\
---
title: Verifica
type: quiz
max_attempts: 2
---

{QUIZ_INTRO}

## Quale regolamento reca le *disposizioni comuni*? {{points=2}}
- [x] Regolamento (UE) 2021/1060
- [ ] Regolamento (UE) 1303/2013

> Il RDC: rileggi l'[introduzione](01-introduzione.md).

## Quali fondi rientrano nella coesione?
- [x] FESR
- [x] FSE+
- [ ] FEASR

## Il FESR è un fondo strutturale.
- [x] Vero
- [ ] Falso

## Sigla del regolamento recante disposizioni comuni?
= RDC
"""


def course_md(title: str, hours: float = 2, body: str = "", **keys: object) -> str:
    """A course.md with *title*, *hours* and any other front matter *keys*."""
    lines = [f"title: {title}", f"hours: {hours}"]
    for key, value in keys.items():
        text = str(value).lower() if isinstance(value, bool) else value
        lines.append(f"{key}: {text}")
    return "---\n" + "\n".join(lines) + "\n---\n" + body


def page_md(title: str, body: str = "Testo.", minutes: int | None = None) -> str:
    """A page module."""
    extra = f"minutes: {minutes}\n" if minutes else ""
    return f"---\ntitle: {title}\n{extra}---\n\n{body}\n"


def base_tree() -> dict[str, dict[str, str | bytes]]:
    """Three courses: one with a quiz, one sequential without quizzes, one draft."""
    return {
        "coesione": {
            "course.md": course_md(
                "Coesione in pratica",
                4.5,
                "# Coesione in pratica\n\nSi comincia dall'[introduzione](01-introduzione.md)"
                " e si torna al [corso](course.md).\n",
                summary="Fondi, programmi e attori in tre moduli.",
                audience="[new_hire]",
                pass_mark=70,
            ),
            "01-introduzione.md": page_md(
                "Introduzione",
                "## Perché la coesione\n\n"
                "TESTO-INTRODUZIONE. Poi leggi i [fondi](02-fondi.md#fesr).\n\n"
                "![Schema del ciclo](media/schema.png)\n\n"
                "Scarica la [scheda](media/docs/scheda.pdf).",
                minutes=10,
            ),
            "02-fondi.md": page_md("I fondi", "## FESR\n\nTESTO-FONDI.", minutes=15),
            "03-verifica.md": QUIZ,
            "media/schema.png": PNG,
            "media/schema.svg": SVG,
            "media/docs/scheda.pdf": b"%PDF-1.4\n%%EOF\n",
        },
        "percorso": {
            "course.md": course_md(
                "Percorso guidato", 2, summary="Tre moduli da seguire in ordine.", sequential=True
            ),
            "01-primo.md": page_md("Primo passo", "TESTO-PRIMO."),
            "02-secondo.md": page_md("Secondo passo", "TESTO-SECONDO."),
            "03-terzo.md": page_md("Terzo passo", "TESTO-TERZO."),
        },
        "bozza": {
            "course.md": course_md(
                "Corso in bozza", 1, summary="Ancora da rivedere.", status="draft"
            ),
            "01-anteprima.md": page_md("Anteprima", "TESTO-BOZZA.\n\n![x](media/bozza.png)"),
            "media/bozza.png": PNG,
        },
    }


def write_tree(root: Path, tree: Mapping[str, Mapping[str, str | bytes]]) -> Path:
    """Write *tree* (course -> relative path -> text) under *root*."""
    for course, files in tree.items():
        for name, text in files.items():
            path = root / course / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(text, bytes):
                path.write_bytes(text)
            else:
                path.write_text(text, encoding="utf-8")
    return root


def make_tree(tmp_path: Path, tree: Mapping[str, Mapping[str, str | bytes]] | None = None) -> Path:
    """The base tree (or *tree*) under tmp_path/content."""
    return write_tree(tmp_path / "content", base_tree() if tree is None else tree)


def sync(root: Path, now: datetime | None = None) -> SyncReport:
    """Validate *root* (it must be clean), synchronise it and commit."""
    sources, errors = load_tree(root)
    assert errors == [], errors
    report = sync_courses(sources, now=now)
    _db.session.commit()
    return report


def get_course(slug: str) -> Course:
    return _db.session.scalar(select(Course).where(Course.slug == slug))


def get_module(course_slug: str, module_slug: str) -> Module:
    return _db.session.scalar(
        select(Module).join(Course).where(Course.slug == course_slug, Module.slug == module_slug)
    )


def count(model: type) -> int:
    return _db.session.scalar(select(func.count()).select_from(model))


def snapshot() -> dict[str, list[dict]]:
    """Every column of every course, module and quiz version row."""
    _db.session.expire_all()
    return {
        model.__tablename__: [
            row._asdict()
            for row in _db.session.execute(
                select(model.__table__).order_by(model.__table__.c.id)
            ).all()
        ]
        for model in (Course, Module, QuizVersion)
    }


# First synchronisation ----------------------------------------------------------------


def test_first_sync_adds_every_course_and_module(tmp_path: Path) -> None:
    report = sync(make_tree(tmp_path))
    assert sorted(report.added) == [
        "bozza",
        "bozza/anteprima",
        "coesione",
        "coesione/fondi",
        "coesione/introduzione",
        "coesione/verifica",
        "percorso",
        "percorso/primo",
        "percorso/secondo",
        "percorso/terzo",
    ]
    assert report.changed == report.retired == []

    course = get_course("coesione")
    assert course.title == "Coesione in pratica"
    assert course.summary == "Fondi, programmi e attori in tre moduli."
    assert str(course.hours) == "4.50"
    assert course.audience == ["new_hire"]
    assert (course.sequential, course.pass_mark, course.language) == (False, 70, "it")
    assert course.status is CourseStatus.PUBLISHED
    assert course.retired_at is None
    assert get_course("percorso").sequential is True
    assert get_course("bozza").status is CourseStatus.DRAFT

    modules = [
        (m.position, m.slug, m.filename, m.kind, m.minutes, m.version) for m in course.modules
    ]
    assert modules == [
        (1, "introduzione", "01-introduzione.md", ModuleKind.PAGE, 10, 1),
        (2, "fondi", "02-fondi.md", ModuleKind.PAGE, 15, 1),
        (3, "verifica", "03-verifica.md", ModuleKind.QUIZ, None, 1),
    ]
    quiz = course.modules[2]
    assert (quiz.pass_mark, quiz.max_attempts, quiz.time_limit, quiz.shuffle) == (
        70,
        2,
        None,
        False,
    )
    assert all(m.retired_at is None for m in course.modules)


def test_rendered_html_is_stored_with_links_rewritten_to_site_urls(tmp_path: Path) -> None:
    sync(make_tree(tmp_path))
    intro = get_module("coesione", "introduzione").body_html
    assert "TESTO-INTRODUZIONE" in intro
    assert 'href="/courses/coesione/fondi/#fesr"' in intro
    assert 'src="/courses/coesione/media/schema.png"' in intro
    assert 'href="/courses/coesione/media/docs/scheda.pdf"' in intro
    assert ".md" not in intro
    overview = get_course("coesione").overview_html
    assert 'href="/courses/coesione/introduzione/"' in overview
    assert 'href="/courses/coesione/"' in overview
    assert '<h2 id="fesr">' in get_module("coesione", "fondi").body_html


# Idempotence ----------------------------------------------------------------------------


def test_a_second_sync_changes_no_row_not_even_updated_at(tmp_path: Path) -> None:
    root = make_tree(tmp_path)
    sync(root)
    before = snapshot()
    again = sync(root, now=utcnow() + timedelta(days=3))
    assert again.nothing_changed
    assert (again.added, again.changed, again.retired) == ([], [], [])
    assert snapshot() == before


def test_an_unchanged_sync_after_retirement_changes_nothing(tmp_path: Path) -> None:
    root = make_tree(tmp_path)
    sync(root)
    (root / "percorso" / "03-terzo.md").unlink()
    shutil.rmtree(root / "bozza")
    assert sorted(sync(root).retired) == ["bozza", "percorso/terzo"]
    before = snapshot()
    assert sync(root).nothing_changed
    assert snapshot() == before


# Changes keep identity and progress ---------------------------------------------------------


def test_changed_text_keeps_the_module_row_and_progress_and_bumps_the_version(
    tmp_path: Path, make_user
) -> None:
    root = make_tree(tmp_path)
    sync(root)
    learner = make_user()
    intro = get_module("coesione", "introduzione")
    complete_module(learner, intro)
    _db.session.commit()
    intro_id = intro.id
    progress_before = _db.session.scalar(select(ModuleProgress))
    progress_id, completed_at = progress_before.id, progress_before.completed_at
    fondi_before = get_module("coesione", "fondi").updated_at

    path = root / "coesione" / "01-introduzione.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("TESTO-INTRODUZIONE", "TESTO-RIVEDUTO"),
        encoding="utf-8",
    )
    report = sync(root)
    assert (report.added, report.changed, report.retired) == ([], ["coesione/introduzione"], [])

    _db.session.expire_all()
    intro = get_module("coesione", "introduzione")
    assert intro.id == intro_id
    assert intro.version == 2
    assert "TESTO-RIVEDUTO" in intro.body_html
    assert "TESTO-INTRODUZIONE" not in intro.body_html
    assert count(Module) == 7
    progress = _db.session.scalar(select(ModuleProgress))
    assert (progress.id, progress.module_id, progress.completed_at) == (
        progress_id,
        intro_id,
        completed_at,
    )
    assert get_module("coesione", "fondi").updated_at == fondi_before  # untouched


def test_a_changed_course_md_updates_the_course_only(tmp_path: Path) -> None:
    root = make_tree(tmp_path)
    sync(root)
    course_id = get_course("percorso").id
    write_tree(root, {"percorso": {"course.md": course_md("Percorso nuovo", 3, sequential=False)}})
    report = sync(root)
    assert (report.added, report.changed, report.retired) == ([], ["percorso"], [])
    _db.session.expire_all()
    course = get_course("percorso")
    assert (course.id, course.title, str(course.hours), course.sequential) == (
        course_id,
        "Percorso nuovo",
        "3.00",
        False,
    )
    assert [m.version for m in course.modules] == [1, 1, 1]


def test_a_renumbered_file_moves_the_module_without_a_new_version(tmp_path: Path) -> None:
    root = make_tree(tmp_path)
    sync(root)
    module_id = get_module("percorso", "secondo").id
    (root / "percorso" / "02-secondo.md").rename(root / "percorso" / "05-secondo.md")
    assert sync(root).changed == ["percorso/secondo"]
    _db.session.expire_all()
    module = get_module("percorso", "secondo")
    assert (module.id, module.position, module.filename, module.version) == (
        module_id,
        5,
        "05-secondo.md",
        1,
    )
    assert [m.slug for m in get_course("percorso").modules] == ["primo", "terzo", "secondo"]


def test_a_removed_file_retires_the_module_and_restoring_it_brings_it_back(
    tmp_path: Path, make_user
) -> None:
    root = make_tree(tmp_path)
    sync(root)
    learner = make_user()
    second = get_module("percorso", "secondo")
    complete_module(learner, second)
    _db.session.commit()
    second_id = second.id
    saved = (root / "percorso" / "02-secondo.md").read_bytes()

    (root / "percorso" / "02-secondo.md").unlink()
    report = sync(root)
    assert (report.added, report.changed, report.retired) == ([], [], ["percorso/secondo"])
    _db.session.expire_all()
    retired = get_module("percorso", "secondo")
    assert retired.id == second_id
    assert retired.retired_at is not None
    assert retired.version == 1
    assert count(ModuleProgress) == 1  # the learner's history is kept
    assert get_course("percorso").retired_at is None

    (root / "percorso" / "02-secondo.md").write_bytes(saved)
    report = sync(root)
    assert (report.added, report.changed, report.retired) == ([], ["percorso/secondo"], [])
    _db.session.expire_all()
    restored = get_module("percorso", "secondo")
    assert (restored.id, restored.retired_at, restored.version) == (second_id, None, 1)
    assert _db.session.scalar(select(ModuleProgress.module_id)) == second_id
    assert count(Module) == 7


def test_a_removed_course_folder_retires_the_course_and_keeps_its_rows(
    tmp_path: Path, make_user
) -> None:
    root = make_tree(tmp_path)
    sync(root)
    learner = make_user()
    for module in get_course("percorso").modules:
        complete_module(learner, module)
    _db.session.commit()
    assert count(CourseCompletion) == 1
    saved = tmp_path / "saved"
    shutil.copytree(root / "percorso", saved)

    shutil.rmtree(root / "percorso")
    report = sync(root)
    assert (report.added, report.changed, report.retired) == ([], [], ["percorso"])
    _db.session.expire_all()
    course = get_course("percorso")
    assert course.retired_at is not None
    assert len(course.modules) == 3
    assert (count(ModuleProgress), count(CourseCompletion)) == (3, 1)
    assert get_course("coesione").retired_at is None

    shutil.copytree(saved, root / "percorso")
    report = sync(root)
    assert report.changed == ["percorso"]
    assert report.added == report.retired == []
    _db.session.expire_all()
    assert get_course("percorso").retired_at is None
    assert count(Course) == 3


def test_a_new_module_is_added_to_an_existing_course(tmp_path: Path) -> None:
    root = make_tree(tmp_path)
    sync(root)
    write_tree(root, {"percorso": {"04-quarto.md": page_md("Quarto passo")}})
    report = sync(root)
    assert (report.added, report.changed, report.retired) == (["percorso/quarto"], [], [])
    _db.session.expire_all()
    assert [m.slug for m in get_course("percorso").modules] == [
        "primo",
        "secondo",
        "terzo",
        "quarto",
    ]


# Quizzes ------------------------------------------------------------------------------------


def test_a_quiz_stores_only_its_intro_as_html_never_the_answer_key(tmp_path: Path) -> None:
    sync(make_tree(tmp_path))
    html = get_module("coesione", "verifica").body_html
    assert QUIZ_INTRO in html
    for secret in ("[x]", "2021/1060", "1303/2013", "FEASR", "RDC", "Vero", "correct", "<li"):
        assert secret not in html, secret


def test_a_quiz_version_holds_the_questions_with_their_answer_key(tmp_path: Path) -> None:
    sync(make_tree(tmp_path))
    quiz = get_module("coesione", "verifica")
    (version,) = quiz.quiz_versions
    assert (version.version, version.pass_mark) == (1, 70)
    questions = version.questions
    assert [(q["id"], q["kind"], q["points"]) for q in questions] == [
        ("q1", "single", 2),
        ("q2", "multiple", 1),
        ("q3", "true_false", 1),
        ("q4", "short", 1),
    ]
    first = questions[0]
    assert first["text_html"] == "Quale regolamento reca le <em>disposizioni comuni</em>?"
    assert first["options"] == [
        {"id": "a", "html": "Regolamento (UE) 2021/1060", "correct": True, "credit": "100"},
        {"id": "b", "html": "Regolamento (UE) 1303/2013", "correct": False, "credit": "0"},
    ]
    assert 'href="/courses/coesione/introduzione/"' in first["explanation_html"]
    assert [o["correct"] for o in questions[1]["options"]] == [True, True, False]
    assert [(o["html"], o["correct"]) for o in questions[2]["options"]] == [
        ("Vero", True),
        ("Falso", False),
    ]
    assert questions[3]["answers"] == ["RDC"]
    assert questions[3]["options"] == []


def test_each_quiz_change_makes_a_new_quiz_version_and_nothing_else_does(tmp_path: Path) -> None:
    root = make_tree(tmp_path)
    sync(root)
    path = root / "coesione" / "03-verifica.md"
    assert sync(root).nothing_changed
    assert count(QuizVersion) == 1

    path.write_text(QUIZ.replace("- [ ] FEASR", "- [ ] FEASR\n- [ ] FEAMPA"), encoding="utf-8")
    assert sync(root).changed == ["coesione/verifica"]
    _db.session.expire_all()
    quiz = get_module("coesione", "verifica")
    assert quiz.version == 2
    assert [v.version for v in quiz.quiz_versions] == [1, 2]
    first, second = quiz.quiz_versions
    assert len(first.questions[1]["options"]) == 3  # the old version stands as it was
    assert len(second.questions[1]["options"]) == 4

    assert sync(root).nothing_changed
    path.rename(root / "coesione" / "09-verifica.md")  # a move is not a new version
    assert sync(root).changed == ["coesione/verifica"]
    path.with_name("09-verifica.md").unlink()
    assert sync(root).retired == ["coesione/verifica"]
    path.write_text(QUIZ.replace("- [ ] FEASR", "- [ ] FEASR\n- [ ] FEAMPA"), encoding="utf-8")
    assert sync(root).changed == ["coesione/verifica"]  # restored unchanged
    _db.session.expire_all()
    assert count(QuizVersion) == 2
    assert get_module("coesione", "verifica").version == 2


def test_a_new_course_pass_mark_reaches_its_quizzes(tmp_path: Path) -> None:
    root = make_tree(tmp_path)
    sync(root)
    course = root / "coesione" / "course.md"
    course.write_text(
        course.read_text(encoding="utf-8").replace("pass_mark: 70", "pass_mark: 80"),
        encoding="utf-8",
    )
    changed = sync(root).changed
    assert {"coesione", "coesione/verifica"} <= set(changed)
    _db.session.expire_all()
    quiz = get_module("coesione", "verifica")
    assert quiz.pass_mark == 80
    assert [v.pass_mark for v in quiz.quiz_versions] == [70, 80]
    assert "percorso" not in changed


def test_a_new_course_pass_mark_does_not_touch_pages(tmp_path: Path) -> None:
    root = make_tree(tmp_path)
    sync(root)
    course = root / "coesione" / "course.md"
    course.write_text(
        course.read_text(encoding="utf-8").replace("pass_mark: 70", "pass_mark: 80"),
        encoding="utf-8",
    )
    assert sorted(sync(root).changed) == ["coesione", "coesione/verifica"]
    _db.session.expire_all()
    assert get_module("coesione", "introduzione").version == 1
    assert get_module("coesione", "fondi").version == 1


def test_a_new_render_version_rerenders_without_new_versions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_tree(tmp_path)
    sync(root)
    render = sync_module.render_markdown
    monkeypatch.setattr(sync_module, "RENDER_VERSION", "2")
    monkeypatch.setattr(
        sync_module, "render_markdown", lambda *a, **k: render(*a, **k) + "<p>NUOVO-RENDER</p>"
    )
    report = sync(root)
    assert len(report.changed) == 10  # every course and module re-rendered
    _db.session.expire_all()
    modules = _db.session.scalars(select(Module)).all()
    assert all("NUOVO-RENDER" in m.body_html for m in modules)
    assert all("NUOVO-RENDER" in c.overview_html for c in _db.session.scalars(select(Course)))
    assert {m.version for m in modules} == {1}
    assert count(QuizVersion) == 1
    assert sync(root).nothing_changed


def test_a_quiz_pass_mark_of_zero_is_kept(tmp_path: Path) -> None:
    tree = base_tree()
    tree["coesione"]["03-verifica.md"] = QUIZ.replace("type: quiz", "type: quiz\npass_mark: 0")
    sync(make_tree(tmp_path, tree))
    quiz = get_module("coesione", "verifica")
    assert quiz.pass_mark == 0
    assert quiz.quiz_versions[0].pass_mark == 0


# The command line ----------------------------------------------------------------------------


def sync_cli(runner: FlaskCliRunner, root: Path) -> Result:
    return runner.invoke(args=["content", "sync", str(root)])


def test_cli_check_on_the_shipped_content_prints_the_summary(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["content", "check", str(REPO_CONTENT)])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    courses = [p for p in REPO_CONTENT.iterdir() if (p / "course.md").is_file()]
    modules = [
        p for c in courses for p in c.iterdir() if re.fullmatch(r"\d+-[a-z0-9-]+\.md", p.name)
    ]
    quizzes = [p for p in modules if "\ntype: quiz\n" in p.read_text(encoding="utf-8")]
    questions = sum(
        len(re.findall(r"^## ", p.read_text(encoding="utf-8"), re.MULTILINE)) for p in quizzes
    )
    assert len(courses) == 4  # three courses and the laboratory with a live session
    assert result.stdout == (
        f"{len(courses)} courses, {len(modules)} modules, {len(quizzes)} quizzes"
        f" with {questions} questions: no problems\n"
    )  # every count is above 1 in the shipped content


def test_cli_sync_prints_what_it_added_changed_and_retired(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    root = make_tree(tmp_path)
    result = sync_cli(runner, root)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "added: coesione" in lines
    assert "added: coesione/verifica" in lines
    assert "added: percorso/terzo" in lines
    assert lines[-1] == "content: 10 added, 0 changed, 0 retired"
    assert (count(Course), count(Module), count(QuizVersion)) == (3, 7, 1)

    before = snapshot()
    again = sync_cli(runner, root)
    assert again.exit_code == 0, again.output
    assert again.stdout == "content: 3 courses up to date, nothing changed\n"
    assert snapshot() == before

    (root / "percorso" / "03-terzo.md").unlink()
    intro = root / "coesione" / "01-introduzione.md"
    intro.write_text(intro.read_text(encoding="utf-8") + "\nAggiunta.\n", encoding="utf-8")
    write_tree(root, {"percorso": {"04-quarto.md": page_md("Quarto")}})
    result = sync_cli(runner, root)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "added: percorso/quarto",
        "changed: coesione/introduzione",
        "retired: percorso/terzo",
        "content: 1 added, 1 changed, 1 retired",
    ]


def test_cli_sync_defaults_to_content_dir(
    runner: FlaskCliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(runner.app.config, "CONTENT_DIR", str(make_tree(tmp_path)))
    result = runner.invoke(args=["content", "sync"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "content: 10 added, 0 changed, 0 retired"


def test_cli_sync_of_a_broken_tree_prints_errors_and_writes_nothing(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    root = make_tree(tmp_path)
    # One course is broken; the two others are fine, and still nothing is written.
    write_tree(root, {"percorso": {"02-secondo.md": "---\ntitle: Secondo\nminuti: 5\n---\nx\n"}})
    assert (count(Course), count(Module)) == (0, 0)
    result = sync_cli(runner, root)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"{root}/percorso/02-secondo.md:3: unknown key 'minuti' (did you mean 'minutes'?)\n"
    )
    assert (count(Course), count(Module), count(QuizVersion)) == (0, 0, 0)


def test_cli_sync_of_a_broken_change_leaves_the_database_as_it_was(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    root = make_tree(tmp_path)
    assert sync_cli(runner, root).exit_code == 0
    before = snapshot()
    # A valid change in one file, and a module removed while another still links to it.
    intro = root / "coesione" / "01-introduzione.md"
    intro.write_text(intro.read_text(encoding="utf-8") + "\nAggiunta.\n", encoding="utf-8")
    (root / "coesione" / "02-fondi.md").unlink()
    shutil.rmtree(root / "bozza")
    result = sync_cli(runner, root)
    assert result.exit_code == 1
    assert result.stdout == ""
    errors = result.stderr.splitlines()
    missing = "link '02-fondi.md#fesr': no such module in this course"
    assert errors == [f"{root}/coesione/01-introduzione.md:8: {missing}"]
    assert re.fullmatch(r".+:\d+: .+", errors[0])
    assert snapshot() == before
