"""lms.courses.content and ``lms content check``: every problem, with its file and line."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lms import markdown as lms_markdown
from lms.courses import content as content_module
from lms.courses import content_check
from lms.courses.cli import content_cli
from lms.courses.content import (
    ContentError,
    ModuleType,
    check_rendering,
    load_tree,
    resolve_link,
)
from lms.markdown import is_relative_url, render_markdown

REPO_CONTENT = Path(__file__).resolve().parent.parent / "content"

COURSE_MD = """\
---
title: Fondamenti della coesione
summary: Le basi della politica di coesione.
hours: 6
audience: [new_hire, existing]
sequential: true
pass_mark: 70
language: it
status: published
---

# Fondamenti

Si parte dal [quadro normativo](01-quadro.md) e si chiude con la [verifica](02-verifica.md).

![Il ciclo](media/ciclo.png)
"""

SMALL_COURSE_MD = "---\ntitle: Corso breve\nhours: 1\n---\nTesto.\n"

PAGE_MD = """\
---
title: Il quadro normativo
minutes: 20
---

Il [Regolamento (UE) 2021/1060](https://eur-lex.europa.eu/eli/reg/2021/1060/oj) e la
[pagina del corso](course.md). Torna [su](#il-quadro). Scrivi a [noi](mailto:a@b.it).
Allegato: [scheda][s].

[s]: media/docs/scheda.pdf
"""

QUIZ_MD = """\
---
title: Verifica finale
type: quiz
max_attempts: 3
time_limit: 15
shuffle: true
---

Rispondete a tutte le domande.

## Quale regolamento reca le disposizioni comuni? {points=2}
- [x] Regolamento (UE) 2021/1060
- [ ] Regolamento (UE) 1303/2013

> Il RDC, vedi [il modulo](01-quadro.md#regole).

## Sigla del regolamento?
= RDC
"""


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def make_course(root: Path, slug: str = "fondamenti", **files: str | bytes | None) -> Path:
    """A valid course under root/slug; *files* (relative path -> text, or None to
    leave the file out) replace its files: make_course(root, **{"01-quadro.md": ...}).
    """
    course = root / slug
    defaults: dict[str, str | bytes | None] = {
        "course.md": COURSE_MD,
        "01-quadro.md": PAGE_MD,
        "02-verifica.md": QUIZ_MD,
        "media/ciclo.png": b"\x89PNG\r\n\x1a\n",
        "media/docs/scheda.pdf": b"%PDF-1.4\n",
    }
    defaults.update(files)
    for name, text in defaults.items():
        if text is not None:
            write(course / name, text)
    return course


def messages(root: Path) -> list[str]:
    return [str(error) for error in load_tree(root)[1]]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "content"


# A clean tree -----------------------------------------------------------------


def test_a_clean_course_loads_with_typed_values(root: Path) -> None:
    course_dir = make_course(root)
    courses, errors = load_tree(root)
    assert errors == []
    (course,) = courses
    assert course.slug == "fondamenti"
    assert course.path == course_dir
    assert course.title == "Fondamenti della coesione"
    assert course.summary == "Le basi della politica di coesione."
    assert course.hours == 6.0
    assert course.audience == ("new_hire", "existing")
    assert course.sequential is True
    assert course.pass_mark == 70
    assert course.language == "it"
    assert course.status == "published"
    assert course.body.startswith("\n# Fondamenti")
    assert course.body_line == 11
    assert course.media == ("ciclo.png", "docs/scheda.pdf")
    assert course.source_hash == hashlib.sha256(COURSE_MD.encode()).hexdigest()

    page, quiz = course.modules
    assert (page.slug, page.position, page.filename) == ("quadro", 1, "01-quadro.md")
    assert page.type is ModuleType.PAGE
    assert page.minutes == 20
    assert (page.pass_mark, page.max_attempts, page.time_limit, page.shuffle) == (
        None,
        None,
        None,
        False,
    )
    assert page.questions == ()
    assert page.body_line == 5
    assert page.source_hash == hashlib.sha256(PAGE_MD.encode()).hexdigest()

    assert (quiz.slug, quiz.position, quiz.type) == ("verifica", 2, ModuleType.QUIZ)
    assert quiz.pass_mark == 70  # the course's
    assert (quiz.max_attempts, quiz.time_limit, quiz.shuffle) == (3, 15, True)
    assert quiz.intro == "Rispondete a tutte le domande."
    assert [q.text for q in quiz.questions] == [
        "Quale regolamento reca le disposizioni comuni?",
        "Sigla del regolamento?",
    ]
    assert quiz.questions[0].line == 11  # a line of the file, not of the body
    assert quiz.questions[0].points == 2


def test_defaults_apply_when_optional_keys_are_absent(root: Path) -> None:
    make_course(
        root,
        **{
            "course.md": "---\ntitle: Corso\nhours: 1.5\n---\nTesto.\n",
            "02-verifica.md": "---\ntitle: Quiz\ntype: quiz\n---\n## Q\n- [x] a\n- [ ] b\n",
        },
    )
    (course,), errors = load_tree(root)
    assert errors == []
    assert course.hours == 1.5
    assert (course.summary, course.audience, course.sequential) == ("", (), False)
    assert (course.pass_mark, course.language, course.status) == (60, "it", "published")
    quiz = course.modules[1]
    assert (quiz.pass_mark, quiz.max_attempts, quiz.time_limit, quiz.shuffle) == (
        60,
        None,
        None,
        False,
    )


def test_a_quiz_may_override_the_course_pass_mark(root: Path) -> None:
    make_course(
        root, **{"02-verifica.md": QUIZ_MD.replace("type: quiz", "type: quiz\npass_mark: 80")}
    )
    (course,), errors = load_tree(root)
    assert errors == []
    assert course.modules[1].pass_mark == 80


def test_readme_hidden_files_and_non_markdown_files_at_the_root_are_ignored(root: Path) -> None:
    make_course(root)
    write(root / "README.md", "# Contenuti\n")
    write(root / "LICENSE", "CC BY 4.0\n")
    write(root / ".gitattributes", "* text\n")
    write(root / ".bozze" / "x.md", "nothing\n")
    write(root / "fondamenti" / "README.md", "Note per i manutentori.\n")
    write(root / "fondamenti" / ".DS_Store", "x")
    write(root / "fondamenti" / "media" / ".gitkeep", "")
    courses, errors = load_tree(root)
    assert errors == []
    assert courses[0].media == ("ciclo.png", "docs/scheda.pdf")


def test_a_draft_course_is_validated_too(root: Path) -> None:
    make_course(root, **{"course.md": COURSE_MD.replace("status: published", "status: draft")})
    make_course(
        root,
        "bozza",
        **{"course.md": "---\ntitle: Bozza\nhours: 2\nstatus: draft\nlivello: base\n---\n"},
    )
    courses, errors = load_tree(root)
    assert [course.status for course in courses] == ["draft"]
    assert [str(error) for error in errors] == [
        (
            f"{root}/bozza/course.md:5: unknown key 'livello' (known keys: title, summary, hours,"
            " audience, sequential, pass_mark, language, status)"
        )
    ]


def test_errors_name_the_path_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    make_course(Path("content"), **{"01-quadro.md": "---\ntitle: Q\nminutes: 0\n---\n"})
    assert messages(Path("content")) == [
        "content/fondamenti/01-quadro.md:3: 'minutes' must be a whole number of at least 1, not 0"
    ]


# Folder and file names -----------------------------------------------------------


def test_course_folder_names_must_be_slugs(root: Path) -> None:
    for slug in ("Fondi_UE", "fondi--ue", "-fondi", "fondì"):
        make_course(root, slug)
    expected = "course folder name must be a slug: lowercase a-z, 0-9 and single '-' between them"
    assert sorted(messages(root)) == sorted(
        f"{root}/{slug}:0: {expected}" for slug in ("Fondi_UE", "fondi--ue", "-fondi", "fondì")
    )
    assert load_tree(root)[0] == []


def test_missing_course_md_and_a_course_without_modules(root: Path) -> None:
    make_course(root, **{"course.md": None})
    write(root / "vuoto" / "course.md", "---\ntitle: Vuoto\nhours: 1\n---\n")
    assert messages(root) == [
        f"{root}/fondamenti/course.md:0: missing: every course needs a course.md",
        f"{root}/vuoto:0: the course has no modules (files named NN-slug.md)",
    ]


def test_module_file_names_and_stray_files(root: Path) -> None:
    make_course(
        root,
        **{
            "1_intro.md": "x",
            "Intro.md": "x",
            "03-Intro.md": "x",
            "04-intro.markdown": "x",
            "note.txt": "x",
            "bozze/05-x.md": "x",
        },
    )
    base = f"{root}/fondamenti"
    not_module = (
        ":0: not a module file name: expected NN-slug.md (a number, '-', then lowercase a-z, 0-9"
        " and '-')"
    )
    stray = ":0: does not belong in a course folder (only course.md, NN-slug.md modules and media/)"
    assert messages(root) == [
        f"{base}/03-Intro.md{not_module}",
        f"{base}/04-intro.markdown{stray}",
        f"{base}/1_intro.md{not_module}",
        f"{base}/Intro.md{not_module}",
        f"{base}/bozze{stray}",
        f"{base}/note.txt{stray}",
    ]


def test_duplicate_slugs_numbers_and_reserved_slugs(root: Path) -> None:
    page = "---\ntitle: Pagina\n---\nTesto.\n"
    make_course(
        root,
        **{"03-quadro.md": page, "1-altro.md": page, "04-media.md": page, "05-x.md": page},
    )
    base = f"{root}/fondamenti"
    assert messages(root) == [
        f"{base}/01-quadro.md:0: duplicate module number 1 (also 1-altro.md)",
        f"{base}/03-quadro.md:0: duplicate module slug 'quadro' (also 01-quadro.md)",
        f"{base}/04-media.md:0: 'media' cannot be a module slug: the course uses it",
    ]


def test_a_markdown_file_outside_any_course(root: Path) -> None:
    make_course(root)
    write(root / "01-intro.md", "x")
    assert messages(root) == [
        f"{root}/01-intro.md:0: Markdown file outside a course folder: move it into one"
    ]


def test_media_must_be_a_folder(root: Path) -> None:
    make_course(
        root,
        **{
            "course.md": SMALL_COURSE_MD,
            "01-quadro.md": "---\ntitle: Q\n---\n",
            "media/ciclo.png": None,
            "media/docs/scheda.pdf": None,
            "media": "non una cartella",
        },
    )
    assert messages(root) == [f"{root}/fondamenti/media:0: media must be a folder"]


def test_a_missing_root(tmp_path: Path) -> None:
    assert messages(tmp_path / "nessuno") == [f"{tmp_path}/nessuno:0: no such folder"]


# Front matter --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "# Senza front matter\n",
            ["1: no front matter: the file must start with a line '---'"],
            id="missing",
        ),
        pytest.param(
            "---\ntitle: Aperto\n\nTesto senza chiusura.\n",
            ["1: the front matter is not closed: add a line '---' after it"],
            id="unterminated",
        ),
        pytest.param(
            "---\ntitle: Ok\nminutes: [1, 2\n---\n",
            ["3: the front matter is not valid YAML: expected ',' or ']', but got '<stream end>'"],
            id="not YAML",
        ),
        pytest.param(
            "---\ntitle: Ok\n  minutes: 2\n---\n",
            ["3: the front matter is not valid YAML: mapping values are not allowed here"],
            id="bad indentation",
        ),
        pytest.param(
            "---\n- title\n- minutes\n---\n",
            ["2: the front matter must be 'key: value' lines"],
            id="not a mapping",
        ),
        pytest.param("---\n---\nTesto.\n", ["1: the front matter is empty"], id="empty"),
        pytest.param(
            "---\ntitle: Q\nminutes: 2\x07\n---\n",
            ["3: the front matter has a control character (code 7)"],
            id="control character",
        ),
        pytest.param(
            "---\ntitle: Q\n? [a, b]\n: 1\n---\n",
            ["3: a front matter key must be a plain word"],
            id="key not a word",
        ),
        pytest.param(
            "---\ntitolo: Quadro\nminuti: 20\n---\n",
            [
                "1: missing required key 'title' in the front matter",
                "2: unknown key 'titolo' (did you mean 'title'?)",
                "3: unknown key 'minuti' (did you mean 'minutes'?)",
            ],
            id="unknown keys with their lines",
        ),
        pytest.param(
            "---\ntitle: A\ntitle: B\n---\n",
            ["3: duplicate key 'title' (first on line 2)"],
            id="duplicate key",
        ),
        pytest.param(
            "---\ntitle:\n---\n",
            ["2: 'title' has no value"],
            id="key without value",
        ),
        pytest.param(
            "---\ntitle: 2021\n---\n",
            ["2: 'title' must be text, not 2021 (put it in quotes)"],
            id="title not text",
        ),
        pytest.param(
            "---\ntitle: Q\nx: !!python/object:os.system ls\n---\n",
            [
                (
                    "3: 'x': could not determine a constructor for the tag"
                    " 'tag:yaml.org,2002:python/object:os.system'"
                )
            ],
            id="unsafe YAML tag",
        ),
        pytest.param(
            "---\ntitle: Q\ntype: video\nminutes: 0\n---\n",
            [
                "3: 'type' must be page, quiz, live or survey, not 'video'",
                "4: 'minutes' must be a whole number of at least 1, not 0",
            ],
            id="bad type and minutes",
        ),
        pytest.param(
            "---\ntitle: Q\npass_mark: 70\nshuffle: true\nmax_attempts: 2\ntime_limit: 5\n---\n",
            [
                "3: 'pass_mark' is for quizzes only: add 'type: quiz' or remove it",
                "4: 'shuffle' is for quizzes only: add 'type: quiz' or remove it",
                "5: 'max_attempts' is for quizzes only: add 'type: quiz' or remove it",
                "6: 'time_limit' is for quizzes only: add 'type: quiz' or remove it",
            ],
            id="quiz-only keys on a page",
        ),
        pytest.param(
            "---\ntitle: Q\ntype: page\nshuffle: true\n---\n",
            ["4: 'shuffle' is for quizzes only: add 'type: quiz' or remove it"],
            id="quiz-only key on an explicit page",
        ),
        pytest.param(
            "---\ntitle: Q\ntype: quiz\npass_mark: 101\nmax_attempts: -1\ntime_limit: '10'\n"
            'shuffle: "true"\n---\n## Q\n- [x] a\n- [ ] b\n',
            [
                "4: 'pass_mark' must be a whole number from 0 to 100 (percent), not 101",
                "5: 'max_attempts' must be a whole number of at least 1, not -1",
                "6: 'time_limit' must be a whole number of at least 1, not '10'",
                "7: 'shuffle' must be true or false, not 'true'",
            ],
            id="bad quiz settings",
        ),
        pytest.param(
            "---\ntitle: Q\ntype: quiz\npass_mark: 70.5\n---\n## Q\n- [x] a\n- [ ] b\n",
            ["4: 'pass_mark' must be a whole number from 0 to 100 (percent), not 70.5"],
            id="fractional pass mark",
        ),
        pytest.param(
            b"---\ntitle: Q\n---\nTesto \xe8 in Latin-1.\n",
            ["4: not UTF-8 text: save it as UTF-8"],
            id="not UTF-8",
        ),
    ],
)
def test_module_front_matter_errors(root: Path, text: str | bytes, expected: list[str]) -> None:
    make_course(root, **{"01-quadro.md": text})
    path = f"{root}/fondamenti/01-quadro.md"
    assert messages(root) == [f"{path}:{message}" for message in expected]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        pytest.param(
            "summary: Riassunto\n",
            [
                "1: missing required key 'title' in the front matter",
                "1: missing required key 'hours' in the front matter",
            ],
            id="missing title and hours",
        ),
        pytest.param(
            "title: C\nhours: quattro\n",
            ["3: 'hours' must be a number, not 'quattro'"],
            id="hours not a number",
        ),
        pytest.param(
            "title: C\nhours: 0\n", ["3: 'hours' must be more than 0, not 0"], id="hours zero"
        ),
        pytest.param(
            "title: C\nhours: .inf\n", ["3: 'hours' must be more than 0, not inf"], id="hours inf"
        ),
        pytest.param(
            "title: C\nhours: true\n",
            ["3: 'hours' must be a number, not true"],
            id="hours boolean",
        ),
        pytest.param(
            "title: C\nhours: 2\naudience: [dirigenti, new_hire]\n",
            ["4: 'audience' may only list new_hire and existing, not 'dirigenti'"],
            id="unknown audience",
        ),
        pytest.param(
            "title: C\nhours: 2\naudience: [new_hire, ~]\n",
            ["4: 'audience' may only list new_hire and existing, not nothing"],
            id="empty audience item",
        ),
        pytest.param(
            "title: C\nhours: 2\naudience: new_hire\n",
            ["4: 'audience' must be a list such as [new_hire, existing], not 'new_hire'"],
            id="audience not a list",
        ),
        pytest.param(
            "title: C\nhours: 2\nsequential: si\n",
            ["4: 'sequential' must be true or false, not 'si'"],
            id="sequential not boolean",
        ),
        pytest.param(
            "title: C\nhours: 2\npass_mark: 120\n",
            ["4: 'pass_mark' must be a whole number from 0 to 100 (percent), not 120"],
            id="pass mark above 100",
        ),
        pytest.param(
            "title: C\nhours: 2\nlanguage: fr\nstatus: bozza\n",
            [
                "4: 'language' must be it or en, not 'fr'",
                "5: 'status' must be published or draft, not 'bozza'",
            ],
            id="language and status",
        ),
        pytest.param(
            "title: '  '\nhours: 2\nsummary: 3\n",
            ["2: 'title' is empty", "4: 'summary' must be text, not 3 (put it in quotes)"],
            id="empty title and numeric summary",
        ),
    ],
)
def test_course_front_matter_errors(root: Path, lines: str, expected: list[str]) -> None:
    make_course(root, **{"course.md": f"---\n{lines}---\n\nTesto.\n"})
    path = f"{root}/fondamenti/course.md"
    assert messages(root) == [f"{path}:{message}" for message in expected]


# Links ---------------------------------------------------------------------------


def link_errors(root: Path, body: str) -> list[str]:
    """Errors for a page whose body (starting on line 4) is *body*."""
    make_course(root, **{"01-quadro.md": f"---\ntitle: Quadro\n---\n{body}"})
    prefix = f"{root}/fondamenti/01-quadro.md:"
    return [message.removeprefix(prefix) for message in messages(root)]


@pytest.mark.parametrize(
    "body",
    [
        "[corso](course.md) [quiz](02-verifica.md) [me](01-quadro.md#a) [sez](#sezione)",
        "[q](./02-verifica.md) ![c](media/ciclo.png) ![c](./media/ciclo.png 'titolo')",
        "[s](media/docs/scheda.pdf) [s](<media/docs/scheda.pdf>) [s](media/docs/../ciclo.png)",
        "[e](https://example.org/a_(b)) [e](http://example.org) [m](mailto:a@b.it)",
        "[![miniatura](media/ciclo.png)](media/docs/scheda.pdf)",
        "[r][ref]\n\n[ref]: media/ciclo.png 'Titolo'\n[^1]: una nota, non un link",
        "`[x](media/manca.png)` e ``[y](javascript:alert(1))``",
        "```\n[x](media/manca.png)\n![y](../fuori.png)\n```",
        "~~~markdown\n[x](/assoluto)\n~~~",
        "\\[non è un link\\](media/manca.png)",
        '<a href="https://example.org/a.png">esterna</a> <a href="#sezione">su</a>',
        "[spazio](media/con%20spazio.png)",
    ],
)
def test_valid_links(root: Path, body: str) -> None:
    write(root / "fondamenti" / "media" / "con spazio.png", b"x")
    assert link_errors(root, body) == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("[x](03-manca.md)", ["4: link '03-manca.md': no such module in this course"]),
        ("[x](03-manca.md#sez)", ["4: link '03-manca.md#sez': no such module in this course"]),
        (
            "[x](verifica.md)",
            [
                ("4: link 'verifica.md': not a module of this course"
                " (module files are named NN-slug.md)")
            ],
        ),
        ("![x](media/manca.png)", ["4: link 'media/manca.png': no such file in media/"]),
        ("![x](media/Ciclo.png)", ["4: link 'media/Ciclo.png': no such file in media/"]),
        ("[x](media/docs)", ["4: link 'media/docs' is a folder, not a file"]),
        ("[x](media/)", ["4: link 'media/' is a folder, not a file"]),
        (
            "![x](ciclo.png)",
            ["4: link 'ciclo.png' leaves the course's media/ folder"],
        ),
        (
            "![x](../altro/media/a.png)",
            ["4: link '../altro/media/a.png' leaves the course's media/ folder"],
        ),
        (
            "![x](media/../../x.png)",
            ["4: link 'media/../../x.png' leaves the course's media/ folder"],
        ),
        (
            "![x](media/../segreto.txt)",
            ["4: link 'media/../segreto.txt' leaves the course's media/ folder"],
        ),
        (
            "![x](/static/a.png)",
            ["4: link '/static/a.png' leaves the course's media/ folder"],
        ),
        (
            "[x](../altro/01-intro.md)",
            ["4: link '../altro/01-intro.md' leaves the course's media/ folder"],
        ),
        ("[x](media\\ciclo.png)", ["4: link 'media\\ciclo.png': use '/' in paths, not '\\'"]),
        ("[x](//example.org/a)", ["4: link '//example.org/a': write the full address, https://…"]),
        ("[x]()", ["4: empty link target"]),
        (
            "[x](javascript:alert(1))",
            [("4: link 'javascript:alert(1)': 'javascript:' links are not allowed (only http,"
             " https, mailto)")],
        ),
        (
            "[x](JaVaScRiPt:alert(1))",
            [("4: link 'JaVaScRiPt:alert(1)': 'javascript:' links are not allowed (only http,"
             " https, mailto)")],
        ),
        (
            "[x](&#106;avascript:alert(1))",
            [("4: link '&#106;avascript:alert(1)': 'javascript:' links are not allowed (only"
             " http, https, mailto)")],
        ),
        (
            "![x](data:image/png;base64,iVBORw0KGgo=)",
            [("4: link 'data:image/png;base64,iVBORw0KGgo=': 'data:' links are not allowed (only"
             " http, https, mailto)")],
        ),
        (
            "[x](vbscript:msgbox)",
            [("4: link 'vbscript:msgbox': 'vbscript:' links are not allowed (only http, https,"
             " mailto)")],
        ),
        (
            "[x](ftp://example.org/a)",
            [("4: link 'ftp://example.org/a': 'ftp:' links are not allowed (only http, https,"
             " mailto)")],
        ),
        (
            "[r][ref]\n\n[ref]: media/manca.pdf",
            ["6: link 'media/manca.pdf': no such file in media/"],
        ),
        (
            "[r][ref]\n\n[ref]: javascript:alert(1)",
            [("6: link 'javascript:alert(1)': 'javascript:' links are not allowed (only http,"
             " https, mailto)")],
        ),
        (
            "[![x](media/manca.png)](04-manca.md)",
            [
                "4: link 'media/manca.png': no such file in media/",
                "4: link '04-manca.md': no such module in this course",
            ],
        ),
        (
            '<img src="media/ciclo.png" alt="Il ciclo" width="300">',
            [("4: relative link 'media/ciclo.png' in raw HTML <img> is not rewritten: write it in"
             " Markdown, ![…](media/ciclo.png)")],
        ),
        (
            "<a href='02-verifica.md'>quiz</a>",
            [("4: relative link '02-verifica.md' in raw HTML <a> is not rewritten: write it in"
             " Markdown, […](02-verifica.md)")],
        ),
        (
            '<a href="javascript:alert(1)">x</a>',
            [("4: link 'javascript:alert(1)': 'javascript:' links are not allowed (only http,"
             " https, mailto)")],
        ),
        ("<img alt=x src=media/manca.png>", ["4: link 'media/manca.png': no such file in media/"]),
    ],
)  # fmt: skip
def test_invalid_links(root: Path, body: str, expected: list[str]) -> None:
    assert link_errors(root, body) == expected


EXTERNAL = (
    "image from another site: the site's security policy blocks it, so learners would"
    " see a broken image; put the file in the course's media/ folder"
)
NO_ALT = (
    "4: image without a description: write what it shows between the brackets,"
    " ![…](…), for people who cannot see it"
)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("![Il ciclo di programma](media/ciclo.png)", []),
        ("![ciclo][fig]\n\n[fig]: media/ciclo.png", []),
        ("`![](media/ciclo.png)` in code", []),
        ("```\n![](media/ciclo.png)\n```", []),
        # Not an image, but still a link: the page shows "!" and an empty link there.
        # (The old checker read no link with a space in its target.)
        ("\\![](non è un'immagine)", [("4: link 'non è un'immagine' leaves the course's media/"
                                       " folder")]),
        (
            "Testo ![](media/ciclo.png) e ![ ](media/ciclo.png)",
            [NO_ALT] * 2,
        ),
        (
            "![][fig]\n\n[fig]: media/ciclo.png",
            [NO_ALT],
        ),
        (
            '<img src="https://example.org/a.png" title="alt=no">',
            ['4: <img> without alt: add alt="what it shows"', f"4: {EXTERNAL}"],
        ),
        ("![Logo](https://example.org/logo.png)", [f"4: {EXTERNAL}"]),
        ("![Logo](<http://example.org/logo.png>)", [f"4: {EXTERNAL}"]),
        ("[![Logo](media/ciclo.png)](https://example.org)", []),  # a local image, linked out
        (
            "<script>alert('x')</script> e <STYLE>body{}</STYLE>",
            [
                ("4: raw HTML <script> is removed when the page is shown: take it out"
                " (pages cannot run scripts, set styles or embed other pages)"),
                ("4: raw HTML <style> is removed when the page is shown: take it out"
                " (pages cannot run scripts, set styles or embed other pages)"),
            ],
        ),
        (
            '<span onclick="x()">testo</span>',
            [("4: raw HTML attribute onclick= is removed when the page is shown: take it out"
             " (pages cannot run scripts)")],
        ),
        ("`<script>` nel codice e la parola onclick= nel testo", []),
    ],
)  # fmt: skip
def test_images_say_what_they_show(root: Path, body: str, expected: list[str]) -> None:
    assert link_errors(root, body) == expected


def test_links_report_their_own_line_in_a_long_page(root: Path) -> None:
    body = "Riga 4.\n\nRiga 6 con [rotto](media/a.png).\n\n```\n[ignorato](x)\n```\n[b](05-x.md)\n"
    assert link_errors(root, body) == [
        "6: link 'media/a.png': no such file in media/",
        "11: link '05-x.md': no such module in this course",
    ]


# What the page shows as code is never checked -------------------------------------

SCRIPT = "<script>alert(1)</script>"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(f"Codice:\n\n    [x](media/manca.png)\n    {SCRIPT}\n", id="indented block"),
        pytest.param(f"```\n[x](media/manca.png)\n{SCRIPT}\n```\n", id="fenced block"),
        pytest.param(f"~~~html\n![](../fuori.png)\n{SCRIPT}\n~~~\n", id="fenced with language"),
        pytest.param(
            f"- voce\n\n        [x](media/manca.png)\n        {SCRIPT}\n", id="block in a list"
        ),
        pytest.param(f"> `[x](media/manca.png)` e `{SCRIPT}`\n", id="code spans in a quote"),
        pytest.param(
            "> ```\n> [x](media/manca.png)\n> ```\n", id="backticks in a quote: a code span"
        ),
        pytest.param(
            "<div>\n[x](media/manca.png)\n</div>\n", id="Markdown inside raw HTML is plain text"
        ),
        pytest.param("<!-- [x](media/manca.png) <script> -->\n", id="an HTML comment"),
    ],
)
def test_links_and_html_shown_as_code_are_not_checked(root: Path, body: str) -> None:
    assert link_errors(root, body) == []


def test_code_before_a_link_does_not_move_its_line(root: Path) -> None:
    body = (
        "    [x](media/manca.png)\n"  # 4
        "\n"  # 5
        "```\n"  # 6
        "[x](media/manca.png)\n"  # 7
        "```\n"  # 8
        "[x](media/manca.png)\n"  # 9: the same text, but a link
    )
    assert link_errors(root, body) == ["9: link 'media/manca.png': no such file in media/"]


def test_what_is_not_code_for_the_renderer_is_checked(root: Path) -> None:
    # A fence closed by a longer fence, or never closed, is no code block for
    # Python-Markdown: the page shows a live link.
    assert link_errors(root, "~~~\n[x](media/manca.png)\n~~~~\n") == [
        "5: link 'media/manca.png': no such file in media/"
    ]
    assert link_errors(root, "```\n[y](03-manca.md)\n") == [
        "5: link '03-manca.md': no such module in this course"
    ]


# What the sanitiser removes, on its line ------------------------------------------


def removed(tag: str, instead: str) -> str:
    return (
        f"raw HTML <{tag}> is removed when the page is shown, only the text inside it stays:"
        f" take it out ({instead})"
    )


def test_elements_the_sanitiser_removes_are_reported_on_their_line(root: Path) -> None:
    body = (
        "Un video:\n"  # 4
        "\n"  # 5
        '<video controls src="media/a.mp4">\n'  # 6
        '  <source src="media/a.mp4" type="video/mp4">\n'  # 7
        "</video>\n"  # 8
        "\n"  # 9
        'Testo <svg viewBox="0 0 1 1"><circle r="1"/></svg> e\n'  # 10
        "una parola <u>sottolineata</u>.\n"  # 11
    )
    assert link_errors(root, body) == [
        f"6: {removed('video', 'link to the file instead, [the video](media/….mp4)')}",
        "10: "
        + removed(
            "svg",
            "save the drawing in media/ and show it as an image, ![what it shows](media/….svg)",
        ),
        f"11: {removed('u', 'for emphasis write *…* or **…**')}",
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            '<span style="color: red">rosso</span>',
            [("4: raw HTML attribute style= is removed when the page is shown: take it out"
              " (pages cannot set styles)")],
        ),
        (
            '<a href="https://example.org" target="_blank">x</a>',
            ["4: raw HTML attribute target= on <a> is removed when the page is shown: take it out"],
        ),
        (
            '<div class="btn">x</div>',
            [('4: raw HTML attribute class="btn" on <div> is removed when the page is shown: only'
              " these classes are kept: admonition, admonition-title, caution, danger, footnote,"
              " footnote-backref, footnote-ref, important, note, tip, toc, toctitle, warning")],
        ),
        (
            "Testo\n\n<table><tr><td colspan=tre>x</td></tr></table>",
            [('6: raw HTML attribute colspan="tre" on <td> is removed when the page is shown: the'
              " page does not accept that value")],
        ),
        (
            '<div class="admonition note" lang="en"><abbr title="x">y</abbr></div>',
            [],
        ),
        (
            # What is inside a removed element is not reported again.
            "<form>\n<input name=x>\n<button onclick=x>Go</button>\n</form>",
            [("4: raw HTML <form> is removed when the page is shown, only the text inside it"
              " stays: take it out (pages cannot hold forms: questions go in a quiz module,"
              " type: quiz)")],
        ),
    ],
)  # fmt: skip
def test_attributes_the_sanitiser_removes_are_reported(
    root: Path, body: str, expected: list[str]
) -> None:
    assert link_errors(root, body) == expected


def test_the_checker_asks_the_sanitisers_own_allow_list(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No second list: change the sanitiser's and the checker's verdict changes with it."""
    body = "Una <u>parola</u> e una <abbr>sigla</abbr>."
    assert link_errors(root, body) == [f"4: {removed('u', 'for emphasis write *…* or **…**')}"]
    assert "<u>" not in render_markdown(body)

    monkeypatch.setattr(
        lms_markdown, "ALLOWED_TAGS", (lms_markdown.ALLOWED_TAGS | {"u"}) - {"abbr"}
    )
    assert link_errors(root, body) == [
        (
            "4: raw HTML <abbr> is removed when the page is shown, only the text inside it stays:"
            " take it out"
        )
    ]
    assert "<u>parola</u>" in render_markdown(body)
    assert "<abbr>" not in render_markdown(body)

    monkeypatch.setitem(
        lms_markdown.ALLOWED_ATTRIBUTES, "span", {"style": lambda value: value == "color: red"}
    )
    assert link_errors(root, '<span style="color: red">a</span>') == []
    assert link_errors(root, '<span style="color: blue">a</span>') == [
        (
            "4: raw HTML attribute style= is removed when the page is shown: take it out"
            " (pages cannot set styles)"
        )
    ]


def test_lines_are_the_files_in_every_kind_of_block(root: Path) -> None:
    body = (
        "# Titolo\n"  # 4
        "\n"  # 5
        "Testo con una nota[^n] e\n"  # 6
        "un [rotto](media/a.png) a capo  \n"  # 7: ends with a line break
        "e [altro](media/b.png).\n"  # 8
        "\n"  # 9
        "> citazione\n"  # 10
        "> con [q](media/c.png)\n"  # 11
        "\n"  # 12
        "- voce\n"  # 13
        "- voce con ![](media/ciclo.png)\n"  # 14
        "\n"  # 15
        "| a | b |\n"  # 16
        "|---|---|\n"  # 17
        "| [t](media/d.png) | <u>x</u> |\n"  # 18
        "\n"  # 19
        '!!! note "Nota"\n'  # 20
        "    Vedi [m](03-manca.md).\n"  # 21
        "\n"  # 22
        "[^n]: La nota, con [f](media/e.png).\n"  # 23
        "\n"  # 24
        "> [r][ref]\n"  # 25
        ">\n"  # 26
        "> [ref]: media/f.png\n"  # 27
        "\n"  # 28
        "<div>\n"  # 29
        '<img src="https://example.org/x.png"\n'  # 30
        '     alt="esterna">\n'  # 31
        "</div>\n"  # 32
    )
    none = "no such file in media/"
    assert link_errors(root, body) == [
        f"7: link 'media/a.png': {none}",
        f"8: link 'media/b.png': {none}",
        f"11: link 'media/c.png': {none}",
        ("14: image without a description: write what it shows between the brackets, ![…](…),"
         " for people who cannot see it"),
        f"18: link 'media/d.png': {none}",
        f"18: {removed('u', 'for emphasis write *…* or **…**')}",
        "21: link '03-manca.md': no such module in this course",
        f"23: link 'media/e.png': {none}",
        f"27: link 'media/f.png': {none}",
        f"30: {EXTERNAL}",
    ]  # fmt: skip


def test_links_in_a_file_without_front_matter_use_file_lines(root: Path) -> None:
    make_course(root, **{"01-quadro.md": "Titolo\n\n[x](media/manca.png)\n"})
    path = f"{root}/fondamenti/01-quadro.md"
    assert messages(root) == [
        f"{path}:1: no front matter: the file must start with a line '---'",
        f"{path}:3: link 'media/manca.png': no such file in media/",
    ]


def test_links_in_course_md_and_in_quizzes_are_checked(root: Path) -> None:
    make_course(
        root,
        **{
            "course.md": COURSE_MD + "\n[x](09-manca.md)\n",
            "02-verifica.md": QUIZ_MD.replace("01-quadro.md#regole", "media/manca.png"),
        },
    )
    base = f"{root}/fondamenti"
    assert messages(root) == [
        f"{base}/02-verifica.md:15: link 'media/manca.png': no such file in media/",
        f"{base}/course.md:18: link '09-manca.md': no such module in this course",
    ]


def test_a_long_target_is_shortened_in_the_message(root: Path) -> None:
    target = "data:image/png;base64," + "A" * 200
    (message,) = link_errors(root, f"![x]({target})")
    assert message.startswith("4: link 'data:image/png;base64,AAAA")
    assert "…': 'data:' links are not allowed" in message
    assert len(message) < 160


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_symlinks_that_leave_media_are_errors_and_so_are_links_to_them(
    root: Path, tmp_path: Path
) -> None:
    secret = write(tmp_path / "segreto.txt", "password")
    course = make_course(root)
    (course / "media" / "segreto.txt").symlink_to(secret)
    (course / "media" / "interno.png").symlink_to(course / "media" / "ciclo.png")
    (course / "03-link.md").symlink_to(secret)
    (course / "course.md").rename(tmp_path / "course.md")
    (course / "course.md").symlink_to(tmp_path / "course.md")
    write(
        course / "04-pagina.md", "---\ntitle: P\n---\n[s](media/segreto.txt) [i](media/interno.png)"
    )
    base = f"{root}/fondamenti"
    assert messages(root) == [
        f"{base}/03-link.md:0: symbolic links are not allowed in a course folder",
        (
            f"{base}/04-pagina.md:4: link 'media/segreto.txt' leaves the course's media/ folder"
            " (symbolic link)"
        ),
        f"{base}/course.md:0: symbolic links are not allowed in a course folder",
        f"{base}/media/segreto.txt:0: symbolic link that leaves the course's media/ folder",
    ]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_media_itself_must_not_be_a_symlink(root: Path, tmp_path: Path) -> None:
    shared = tmp_path / "condivisi"
    write(shared / "ciclo.png", b"x")
    course = make_course(root, **{"media/ciclo.png": None, "media/docs/scheda.pdf": None})
    (course / "media").symlink_to(shared)
    result = messages(root)
    assert f"{root}/fondamenti/media:0: media/ must be a folder, not a symbolic link" in result


def test_active_media_files_are_refused(root: Path) -> None:
    make_course(
        root,
        **{
            "media/pagina.html": "<script>alert(1)</script>",
            "media/buona.svg": '<svg xmlns="http://www.w3.org/2000/svg"><title>ok</title></svg>',
            "media/cattiva.svg": '<svg xmlns="http://www.w3.org/2000/svg">\n'
            '<circle onload="alert(1)"/>\n<script>alert(1)</script></svg>',
        },
    )
    base = f"{root}/fondamenti/media"
    assert messages(root) == [
        f"{base}/cattiva.svg:2: SVG with an on… event attribute: images must not contain script",
        f"{base}/cattiva.svg:3: SVG with <script>: images must not contain script",
        (
            f"{base}/pagina.html:0: '.html' files cannot be course media: a browser would run them"
            " as part of the site (convert to PDF, or link to where they are published)"
        ),
    ]


# Quizzes -------------------------------------------------------------------------


def test_quiz_errors_point_into_the_file(root: Path) -> None:
    quiz = (
        "---\n"  # 1
        "title: Verifica\n"  # 2
        "type: quiz\n"  # 3
        "---\n"  # 4
        "Istruzioni.\n"  # 5
        "\n"  # 6
        "## Senza risposta giusta\n"  # 7
        "- [ ] a\n"  # 8
        "- [ ] b\n"  # 9
        "\n"  # 10
        "## Doppia {points=zero}\n"  # 11
        "- [x] FESR\n"  # 12
        "- [ ] fesr\n"  # 13
        "\n"  # 14
        "## Vero o falso\n"  # 15
        "- [x] Vero\n"  # 16
        "- [x] Falso\n"  # 17
    )
    make_course(root, **{"02-verifica.md": quiz})
    path = f"{root}/fondamenti/02-verifica.md"
    assert messages(root) == [
        f"{path}:7: no correct answer: check at least one box [x]",
        f"{path}:11: points must be a whole number of at least 1, not 'zero'",
        f"{path}:13: duplicate option 'fesr' (same as line 12)",
        f"{path}:15: a true/false question needs exactly one checked answer",
    ]


def test_a_quiz_without_questions(root: Path) -> None:
    make_course(root, **{"02-verifica.md": "---\ntitle: V\ntype: quiz\n---\nSolo testo.\n"})
    assert messages(root) == [
        f"{root}/fondamenti/02-verifica.md:5: a quiz needs at least one question (a '## …' heading)"
    ]


def test_a_page_with_task_lists_is_not_parsed_as_a_quiz(root: Path) -> None:
    make_course(root, **{"01-quadro.md": "---\ntitle: P\n---\n## Lista\n- [ ] da fare\n"})
    assert messages(root) == []


# Many problems at once -------------------------------------------------------------


def test_every_problem_in_every_course_is_reported_in_one_pass(root: Path) -> None:
    make_course(
        root,
        **{
            "course.md": COURSE_MD.replace("hours: 6", "hours: sei"),
            "01-quadro.md": PAGE_MD.replace("minutes: 20", "minuti: 20") + "\n[x](media/no.png)\n",
            "02-verifica.md": QUIZ_MD.replace("- [x] Regolamento (UE) 2021/1060", "- [ ] R"),
        },
    )
    make_course(root, "Secondo_Corso", **{"02-verifica.md": None, "1-intro.md": "x"})
    courses, errors = load_tree(root)
    assert courses == []
    first = f"{root}/Secondo_Corso"
    second = f"{root}/fondamenti"
    assert [str(error) for error in errors] == [
        (
            f"{first}:0: course folder name must be a slug: lowercase a-z, 0-9 and single '-'"
            " between them"
        ),
        f"{first}/01-quadro.md:0: duplicate module number 1 (also 1-intro.md)",
        f"{first}/1-intro.md:1: no front matter: the file must start with a line '---'",
        f"{first}/course.md:14: link '02-verifica.md': no such module in this course",
        f"{second}/01-quadro.md:3: unknown key 'minuti' (did you mean 'minutes'?)",
        f"{second}/01-quadro.md:12: link 'media/no.png': no such file in media/",
        f"{second}/02-verifica.md:11: no correct answer: check at least one box [x]",
        f"{second}/course.md:4: 'hours' must be a number, not 'sei'",
    ]


# resolve_link and rendering ------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "url"),
    [
        ("02-fondi.md", "/courses/coesione/fondi/"),
        ("02-fondi.md#obiettivi", "/courses/coesione/fondi/#obiettivi"),
        ("./02-fondi.md", "/courses/coesione/fondi/"),
        ("course.md", "/courses/coesione/"),
        ("course.md#programma", "/courses/coesione/#programma"),
        ("media/a.png", "/courses/coesione/media/a.png"),
        ("./media/docs/b.pdf", "/courses/coesione/media/docs/b.pdf"),
        ("media/con%20spazio.png", "/courses/coesione/media/con%20spazio.png"),
        ("media/a.png?v=2#p", "/courses/coesione/media/a.png?v=2#p"),
        ("media/../a.png", None),
        ("../altro/01-x.md", None),
        ("altro.md", None),
        ("#sezione", None),
        ("/assoluto", None),
        ("https://example.org/02-fondi.md", None),
        ("//example.org/media/a.png", None),
        ("javascript:alert(1)", None),
        ("http://[x](", None),
        ("", None),
    ],
)
def test_resolve_link(target: str, url: str | None) -> None:
    assert resolve_link("coesione", target) == url


def test_resolve_link_with_another_prefix() -> None:
    assert resolve_link("c", "01-a.md", prefix="/corsi") == "/corsi/c/a/"


def test_check_rendering_renders_every_page_and_module(root: Path) -> None:
    make_course(root)
    courses, _ = load_tree(root)
    assert check_rendering(courses) == []


def test_check_rendering_reports_a_module_that_fails_to_render(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_course(root)
    courses, _ = load_tree(root)
    seen: list[str] = []

    def fragile_render(text: str, *, link_resolver: object = None) -> str:
        seen.append(text)
        if "Regolamento (UE) 2021/1060](https" in text:
            raise RecursionError("too deep")
        assert callable(link_resolver)
        return ""

    monkeypatch.setattr(content_module, "render_markdown", fragile_render)
    assert [str(error) for error in check_rendering(courses)] == [
        f"{root}/fondamenti/01-quadro.md:1: cannot be rendered: RecursionError('too deep')"
    ]
    assert len(seen) == 3  # course.md and both modules


def test_content_error_sorts_and_prints() -> None:
    error = ContentError(Path("content/c/course.md"), 3, "x")
    assert str(error) == "content/c/course.md:3: x"


# The CLI -------------------------------------------------------------------------


@pytest.fixture
def content_runner(app: Flask) -> FlaskCliRunner:
    if "content" not in app.cli.commands:
        app.cli.add_command(content_cli)
    return app.test_cli_runner()


def test_cli_check_on_a_clean_tree_prints_a_summary(
    content_runner: FlaskCliRunner, root: Path
) -> None:
    make_course(root)
    make_course(root, "secondo", **{"course.md": SMALL_COURSE_MD, "02-verifica.md": None})
    result = content_runner.invoke(args=["content", "check", str(root)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "2 courses, 3 modules, 1 quiz with 2 questions: no problems\n"
    assert result.stderr == ""


def test_cli_check_prints_every_error_on_stderr_and_fails(
    content_runner: FlaskCliRunner, root: Path
) -> None:
    make_course(root, **{"01-quadro.md": "---\ntitle: Q\nminutes: 0\n---\n[x](media/no.png)\n"})
    result = content_runner.invoke(args=["content", "check", str(root)])
    assert result.exit_code == 1
    path = f"{root}/fondamenti/01-quadro.md"
    assert result.stderr.splitlines() == [
        f"{path}:3: 'minutes' must be a whole number of at least 1, not 0",
        f"{path}:5: link 'media/no.png': no such file in media/",
    ]
    assert result.stdout == ""


def test_cli_check_reports_rendering_failures(
    content_runner: FlaskCliRunner, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_course(root)

    def broken(text: str, **_: object) -> str:
        raise ValueError(text[:0] + "boom")

    monkeypatch.setattr(content_module, "render_markdown", broken)
    result = content_runner.invoke(args=["content", "check", str(root)])
    assert result.exit_code == 1
    assert f"{root}/fondamenti/course.md:1: cannot be rendered: ValueError('boom')" in (
        result.stderr.splitlines()
    )


def test_cli_check_of_one_course_folder_checks_that_course_alone(
    content_runner: FlaskCliRunner, root: Path
) -> None:
    make_course(root)
    make_course(root, "rotto", **{"01-quadro.md": "---\ntitle: Q\nminutes: 0\n---\n"})
    result = content_runner.invoke(args=["content", "check", str(root / "fondamenti")])
    assert result.exit_code == 0, result.output
    assert result.stdout == "1 course, 2 modules, 1 quiz with 2 questions: no problems\n"
    broken = content_runner.invoke(args=["content", "check", str(root / "rotto")])
    assert broken.exit_code == 1
    assert broken.stderr.splitlines() == [
        f"{root}/rotto/01-quadro.md:3: 'minutes' must be a whole number of at least 1, not 0"
    ]


def test_cli_sync_refuses_one_course_folder(content_runner: FlaskCliRunner, root: Path) -> None:
    make_course(root)
    result = content_runner.invoke(args=["content", "sync", str(root / "fondamenti")])
    assert result.exit_code == 2
    assert "sync takes the whole content folder" in result.stderr
    assert result.stdout == ""


def test_cli_check_defaults_to_content_dir(
    content_runner: FlaskCliRunner, app: Flask, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_course(root, **{"course.md": SMALL_COURSE_MD, "02-verifica.md": None})
    monkeypatch.setitem(app.config, "CONTENT_DIR", str(root))
    result = content_runner.invoke(args=["content", "check"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "1 course, 1 module, 0 quizzes with 0 questions: no problems\n"


def test_cli_check_shows_content_dir_relative_to_the_working_directory(
    content_runner: FlaskCliRunner, app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_course(tmp_path / "content", **{"course.md": None})
    monkeypatch.setitem(app.config, "CONTENT_DIR", str(tmp_path / "content"))
    monkeypatch.chdir(tmp_path)
    result = content_runner.invoke(args=["content", "check"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "content/fondamenti/course.md:0: missing: every course needs a course.md"
    ]


def test_cli_check_on_a_missing_folder(content_runner: FlaskCliRunner, tmp_path: Path) -> None:
    result = content_runner.invoke(args=["content", "check", str(tmp_path / "manca")])
    assert result.exit_code == 1
    assert result.stderr == f"{tmp_path}/manca:0: no such folder\n"


@pytest.mark.skipif(not REPO_CONTENT.is_dir(), reason="no content/ in this checkout")
def test_the_courses_shipped_in_content_pass_the_check() -> None:
    courses, errors = load_tree(REPO_CONTENT)
    errors += check_rendering(courses)
    assert [str(error) for error in errors] == []
    assert courses


# The checker and the resolver agree ------------------------------------------------

TARGET_FRAGMENTS = [
    "media/", "media", "ciclo.png", "docs/", "scheda.pdf", "../", "./", "/", "//", "#x",
    "?v=1", "01-quadro.md", "02-verifica.md", "03-manca.md", "course.md", "%20", "&#106;",
    "javascript:", "https:", "mailto:", "\\", ":", " ", "x", ".md",
]  # fmt: skip


# The autouse `db` fixture of conftest is function-scoped; this test never uses it.
@settings(
    max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.sampled_from(TARGET_FRAGMENTS), min_size=1, max_size=6).map("".join))
@example("&#106;media/../01-quadro.md")  # a character reference (found by Hypothesis)
def test_every_relative_link_the_checker_accepts_resolves_inside_the_course(target: str) -> None:
    allowed = content_check.LinkTargets(
        pages=frozenset({"course.md", "01-quadro.md", "02-verifica.md"}),
        media=frozenset({"ciclo.png", "docs/scheda.pdf"}),
        media_dirs=frozenset({"docs"}),
        escaping=frozenset(),
    )
    problem = content_check.link_problem(target, allowed)
    url = resolve_link("fondamenti", target)
    if problem is None and is_relative_url(target):
        assert url is not None
        assert url.startswith("/courses/fondamenti/")
        # Only the path navigates: a fragment or query may contain anything.
        assert "/../" not in url.split("?")[0].split("#")[0]
    if url is not None:
        assert url.startswith("/courses/fondamenti/")
        assert ".." not in url.split("?")[0].split("#")[0].split("/")
