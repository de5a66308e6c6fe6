"""The course pages: catalogue, overview, modules, completion, media, trainer statistics.

Requests go to conftest's ``web_app`` (``client``), not to the ``app`` whose context
the test runs in; so the test commits what a request must see, and expires its
session's objects to see what a request changed.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import csrf_token
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from test_course_sync import (
    PNG,
    SVG,
    base_tree,
    count,
    get_course,
    get_module,
    make_tree,
    page_md,
    sync,
    write_tree,
)

from lms.courses.models import CourseCompletion, ModuleProgress
from lms.courses.progress import complete_module, record_visit
from lms.courses.views import MEDIA_CSP
from lms.extensions import db as _db


@pytest.fixture(autouse=True)
def content(tmp_path: Path, web_app: Flask, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The base tree, synchronised and served by ``web_app`` (every test here uses it)."""
    root = make_tree(tmp_path)
    monkeypatch.setitem(web_app.config, "CONTENT_DIR", str(root))
    sync(root)
    return root


def text(response) -> str:
    return response.get_data(as_text=True)


def complete(client: FlaskClient, course: str, module: str, *, token: bool = True):
    """POST "segna come completato" (with a CSRF token from the catalogue page)."""
    data = {"csrf_token": csrf_token(client, "/courses/")} if token else {}
    return client.post(f"/courses/{course}/{module}/completa", data=data)


def get_file(client: FlaskClient, url: str, **kwargs: object):
    """GET *url*, read the body and close the file the response holds open."""
    response = client.get(url, **kwargs)
    response.get_data()
    response.close()
    return response


def plain(fragment: str) -> str:
    """The text of an HTML fragment, spaces collapsed."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment))).strip()


def cards(page: str) -> dict[str, str]:
    """Catalogue cards (their HTML) by course slug."""
    found = {}
    for card in re.findall(r"<article\b.*?</article>", page, flags=re.DOTALL):
        slug = re.search(r'href="/courses/([a-z0-9-]+)/"', card).group(1)
        found[slug] = card
    return found


def outline(page: str) -> list[tuple[str, str, bool, str]]:
    """Overview items: (title, state class, linked, status text)."""
    items = []
    for match in re.finditer(
        r'<li class="lms-module-item([^"]*)">(.*?)</li>', page, flags=re.DOTALL
    ):
        classes, body = match.groups()
        title = re.search(r'class="lms-module-title"[^>]*>([^<]+)<', body).group(1)
        state = next((c for c in ("lms-done", "lms-locked") if c in classes.split()), "")
        linked = re.search(r'<a\b[^>]*class="lms-module-title"', body) is not None
        status = plain(body[body.index("lms-module-status") :].partition(">")[2])
        items.append((html.unescape(title), state, linked, status))
    return items


def link(page: str, rel: str) -> str | None:
    """The href of the page's link with rel=*rel*, if any."""
    tag = re.search(rf'<a\b[^>]*\brel="{rel}"[^>]*>', page)
    return re.search(r'href="([^"]+)"', tag.group(0)).group(1) if tag else None


def fresh() -> None:
    """Forget what the test's session holds: the requests changed the rows."""
    _db.session.expire_all()


def progress_of(user, course: str, module: str) -> ModuleProgress | None:
    fresh()
    return _db.session.scalar(
        select(ModuleProgress).where(
            ModuleProgress.user_id == user.id,
            ModuleProgress.module_id == get_module(course, module).id,
        )
    )


# Catalogue -------------------------------------------------------------------------------


def test_catalogue_shows_published_courses_with_facts_and_progress(
    client: FlaskClient, login_as
) -> None:
    learner = login_as("learner")
    complete_module(learner, get_module("percorso", "primo"))
    _db.session.commit()

    response = client.get("/courses/")
    assert response.status_code == 200
    found = cards(text(response))
    assert sorted(found) == ["coesione", "percorso"]  # no draft

    coesione = plain(found["coesione"])
    assert "Coesione in pratica" in coesione
    assert "Fondi, programmi e attori in tre moduli." in coesione
    assert "4,5 ore" in coesione
    assert "3 moduli" in coesione
    assert "0 di 3 moduli completati (0 %)" in coesione

    percorso = plain(found["percorso"])
    assert "Percorso guidato" in percorso
    assert "Tre moduli da seguire in ordine." in percorso
    assert "2 ore" in percorso
    assert "1 di 3 moduli completati (33 %)" in percorso
    assert "lms-pct-33" in found["percorso"]


@pytest.mark.parametrize("role", ["trainer", "admin"])
def test_trainers_and_admins_see_drafts(client: FlaskClient, login_as, role: str) -> None:
    login_as(role)
    catalogue = cards(text(client.get("/courses/")))
    assert sorted(catalogue) == ["bozza", "coesione", "percorso"]
    assert "Bozza: visibile solo ai formatori" in plain(catalogue["bozza"])
    assert "Bozza" not in plain(catalogue["coesione"])
    overview = client.get("/courses/bozza/")
    assert overview.status_code == 200
    assert "Questo corso è una bozza" in text(overview)
    module = client.get("/courses/bozza/anteprima/")
    assert module.status_code == 200
    assert "TESTO-BOZZA" in text(module)
    media = get_file(client, "/courses/bozza/media/bozza.png")
    assert (media.status_code, media.data) == (200, PNG)


@pytest.mark.parametrize("role", ["learner", "hr"])
def test_learners_never_see_drafts(client: FlaskClient, login_as, role: str) -> None:
    user = login_as(role)
    page = text(client.get("/courses/"))
    assert "Corso in bozza" not in page
    assert "Ancora da rivedere" not in page
    assert 'href="/courses/bozza/' not in page
    assert client.get("/courses/bozza/").status_code == 404
    assert client.get("/courses/bozza/anteprima/").status_code == 404
    assert client.get("/courses/bozza/media/bozza.png").status_code == 404
    assert complete(client, "bozza", "anteprima").status_code == 404
    assert progress_of(user, "bozza", "anteprima") is None
    assert client.get("/courses/percorso/").status_code == 200  # published ones are there


def test_course_pages_need_a_signed_in_user(client: FlaskClient) -> None:
    for url in (
        "/courses/",
        "/courses/coesione/",
        "/courses/coesione/introduzione/",
        "/courses/coesione/media/schema.png",
        "/formatori/",
        "/formatori/coesione/",
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.location.startswith("/login"), url
    assert client.post("/courses/coesione/introduzione/completa").status_code in {302, 400}
    assert count(ModuleProgress) == 0


# Course overview ---------------------------------------------------------------------------


def test_overview_lists_modules_in_order_with_their_state_and_a_progress_bar(
    client: FlaskClient, login_as
) -> None:
    learner = login_as("learner")
    complete_module(learner, get_module("coesione", "introduzione"))
    record_visit(learner, get_module("coesione", "fondi"))
    _db.session.commit()

    response = client.get("/courses/coesione/")
    assert response.status_code == 200
    page = text(response)
    assert outline(page) == [
        ("Introduzione", "lms-done", True, "Completato"),
        ("I fondi", "", True, "Iniziato"),
        ("Verifica", "", True, "Da iniziare"),
    ]
    assert "1 di 3 moduli completati (33\u00a0%)" in page
    assert "lms-pct-33" in page
    assert "4,5 ore di formazione" in page
    # The course's own page (course.md), rendered at sync time, with links rewritten.
    assert '<a href="/courses/coesione/introduzione/">introduzione</a>' in page
    assert '<a href="/courses/coesione/">corso</a>' in page
    assert "Moduli da seguire in ordine" not in page


def test_a_sequential_course_locks_the_modules_ahead(client: FlaskClient, login_as) -> None:
    learner = login_as("learner")
    page = text(client.get("/courses/percorso/"))
    assert "Moduli da seguire in ordine" in page
    locked = "Bloccato"
    assert outline(page) == [
        ("Primo passo", "", True, "Da iniziare"),
        ("Secondo passo", "lms-locked", False, locked),
        ("Terzo passo", "lms-locked", False, locked),
    ]
    assert 'href="/courses/percorso/secondo/"' not in page

    complete_module(learner, get_module("percorso", "primo"))
    _db.session.commit()
    page = text(client.get("/courses/percorso/"))
    assert outline(page) == [
        ("Primo passo", "lms-done", True, "Completato"),
        ("Secondo passo", "", True, "Da iniziare"),
        ("Terzo passo", "lms-locked", False, locked),
    ]
    assert "lms-pct-33" in page


def test_unknown_courses_and_modules_are_404(client: FlaskClient, login_as) -> None:
    login_as("learner")
    assert client.get("/courses/nessuno/").status_code == 404
    assert client.get("/courses/nessuno/introduzione/").status_code == 404
    assert client.get("/courses/coesione/nessuno/").status_code == 404
    assert client.get("/courses/coesione/primo/").status_code == 404  # another course's module
    assert complete(client, "coesione", "nessuno").status_code == 404


# Module pages ---------------------------------------------------------------------------


def test_a_module_page_shows_its_text_neighbours_and_the_completion_form(
    client: FlaskClient, login_as
) -> None:
    learner = login_as("learner")
    response = client.get("/courses/coesione/fondi/")
    assert response.status_code == 200
    page = text(response)
    assert re.search(r"<h1\b[^>]*>I fondi</h1>", page)
    assert "TESTO-FONDI" in page
    assert "Modulo 2 di 3" in page
    assert "0 di 3 moduli completati (0\u00a0%)" in page  # the course's progress, as on its page
    assert "15 minuti di lettura" in page
    assert link(page, "prev") == "/courses/coesione/introduzione/"
    assert link(page, "next") == "/courses/coesione/verifica/"
    form = re.search(
        r'<form method="post" action="/courses/coesione/fondi/completa"[^>]*>(.*?)</form>',
        page,
        re.DOTALL,
    )
    assert form, page
    assert 'name="csrf_token"' in form.group(1)
    assert "Segna come completato" in form.group(1)

    progress = progress_of(learner, "coesione", "fondi")
    assert progress is not None
    assert progress.completed_at is None

    first = text(client.get("/courses/coesione/introduzione/"))
    assert link(first, "prev") is None
    assert link(first, "next") == "/courses/coesione/fondi/"
    assert 'src="/courses/coesione/media/schema.png"' in first
    assert 'href="/courses/coesione/fondi/#fesr"' in first
    assert "<script>alert" not in first


def test_a_module_page_shows_the_html_stored_at_sync_time(
    client: FlaskClient, login_as, content: Path
) -> None:
    login_as("learner")
    path = content / "coesione" / "02-fondi.md"
    path.write_text(page_md("I fondi", "MODIFICATO-MA-NON-SINCRONIZZATO"), encoding="utf-8")
    page = text(client.get("/courses/coesione/fondi/"))
    assert "TESTO-FONDI" in page
    assert "MODIFICATO-MA-NON-SINCRONIZZATO" not in page
    sync(content)
    page = text(client.get("/courses/coesione/fondi/"))
    assert "MODIFICATO-MA-NON-SINCRONIZZATO" in page


def test_completing_a_module_records_it_and_goes_to_the_next(client: FlaskClient, login_as) -> None:
    learner = login_as("learner")
    response = complete(client, "coesione", "introduzione")
    assert response.status_code == 302
    assert response.location == "/courses/coesione/fondi/"
    progress = progress_of(learner, "coesione", "introduzione")
    assert progress.completed_at is not None
    first_completed_at = progress.completed_at

    page = text(client.get("/courses/coesione/introduzione/"))
    assert "Hai completato questo modulo." in page
    assert "/completa" not in page
    # Posting again changes nothing.
    assert complete(client, "coesione", "introduzione").status_code == 302
    assert progress_of(learner, "coesione", "introduzione").completed_at == first_completed_at

    # The last module leads back to the course.
    response = complete(client, "percorso", "primo")
    assert response.location == "/courses/percorso/secondo/"
    assert complete(client, "percorso", "secondo").location == "/courses/percorso/terzo/"
    assert complete(client, "percorso", "terzo").location == "/courses/percorso/"


def test_completion_needs_a_post_with_a_csrf_token(client: FlaskClient, login_as) -> None:
    learner = login_as("learner")
    assert complete(client, "coesione", "introduzione", token=False).status_code == 400
    assert client.get("/courses/coesione/introduzione/completa").status_code == 405
    assert progress_of(learner, "coesione", "introduzione") is None
    bad = client.post("/courses/coesione/introduzione/completa", data={"csrf_token": "falso"})
    assert bad.status_code == 400
    assert progress_of(learner, "coesione", "introduzione") is None


def test_a_quiz_is_not_completed_by_the_form(client: FlaskClient, login_as) -> None:
    learner = login_as("learner")
    assert complete(client, "coesione", "verifica").status_code == 400
    assert progress_of(learner, "coesione", "verifica") is None


# Sequential courses --------------------------------------------------------------------------


def test_a_locked_module_redirects_to_the_overview_with_a_warning(
    client: FlaskClient, login_as
) -> None:
    learner = login_as("learner")
    response = client.get("/courses/percorso/secondo/")
    assert response.status_code == 302
    assert response.location == "/courses/percorso/"
    page = text(client.get(response.location))
    warning = re.search(r'<div class="alert alert-warning"[^>]*>(.*?)</div>', page, re.DOTALL)
    assert warning
    assert "Completa prima i moduli precedenti" in warning.group(1)
    assert progress_of(learner, "percorso", "secondo") is None  # not even started

    assert complete(client, "percorso", "secondo").status_code == 403
    assert complete(client, "percorso", "terzo").status_code == 403
    assert progress_of(learner, "percorso", "secondo") is None

    assert complete(client, "percorso", "primo").status_code == 302
    page = client.get("/courses/percorso/secondo/")
    assert page.status_code == 200
    assert "TESTO-SECONDO" in text(page)
    assert client.get("/courses/percorso/terzo/").status_code == 302


def test_trainers_preview_every_module_of_a_sequential_course(
    client: FlaskClient, login_as
) -> None:
    login_as("trainer")
    page = text(client.get("/courses/percorso/"))
    assert "lms-locked" not in page
    assert [linked for _, _, linked, _ in outline(page)] == [True, True, True]
    response = client.get("/courses/percorso/terzo/")
    assert response.status_code == 200
    assert "TESTO-TERZO" in text(response)


# Course completion ---------------------------------------------------------------------------


def test_a_module_added_to_a_course_already_completed_does_not_announce_it_again(
    client: FlaskClient, login_as, content: Path
) -> None:
    """The completion stands; marking the new module done says only that."""
    login_as("learner")
    for module in ("primo", "secondo", "terzo"):
        complete(client, "percorso", module)
    client.get("/courses/percorso/")  # the course's flash is read
    (content / "percorso" / "04-quarto.md").write_text(
        "---\ntitle: Quarto\n---\n\nTESTO-QUARTO\n", encoding="utf-8"
    )
    sync(content)
    response = complete(client, "percorso", "quarto")
    page = text(client.get(response.location))
    assert "Hai completato il modulo «Quarto»" in page
    assert "Hai completato il corso" not in page
    assert count(CourseCompletion) == 1


def test_completing_every_module_of_a_course_without_quizzes_completes_it_once(
    client: FlaskClient, login_as
) -> None:
    learner = login_as("learner")
    for module in ("primo", "secondo"):
        assert complete(client, "percorso", module).status_code == 302
        assert count(CourseCompletion) == 0
    response = complete(client, "percorso", "terzo")
    assert response.location == "/courses/percorso/"
    page = text(client.get(response.location))
    assert "Hai completato il corso «Percorso guidato»" in page
    assert "Hai completato questo corso il" in page
    assert "3 di 3 moduli completati (100\u00a0%)" in page

    fresh()
    (completion,) = _db.session.scalars(select(CourseCompletion)).all()
    assert (completion.user_id, completion.course_id) == (learner.id, get_course("percorso").id)
    completed_at = completion.completed_at

    assert complete(client, "percorso", "terzo").status_code == 302
    fresh()
    assert _db.session.scalars(select(CourseCompletion.completed_at)).all() == [completed_at]
    assert "Completato il" in plain(cards(text(client.get("/courses/")))["percorso"])


def test_a_course_with_a_quiz_is_complete_only_once_the_quiz_is(
    client: FlaskClient, login_as
) -> None:
    learner = login_as("learner")
    assert complete(client, "coesione", "introduzione").status_code == 302
    assert complete(client, "coesione", "fondi").status_code == 302
    assert count(CourseCompletion) == 0
    page = text(client.get("/courses/coesione/"))
    assert "2 di 3 moduli completati (67\u00a0%)" in page
    assert "Hai completato questo corso" not in page

    fresh()
    assert complete_module(learner, get_module("coesione", "verifica")) is True  # quiz passed
    _db.session.commit()
    assert count(CourseCompletion) == 1
    page = text(client.get("/courses/coesione/"))
    assert "Hai completato questo corso il" in page


def test_a_completion_stands_when_a_module_is_added_later(
    client: FlaskClient, login_as, content: Path
) -> None:
    login_as("learner")
    for module in ("primo", "secondo", "terzo"):
        complete(client, "percorso", module)
    fresh()
    completion = _db.session.scalar(select(CourseCompletion))
    completion_id, completed_at = completion.id, completion.completed_at

    write_tree(content, {"percorso": {"04-quarto.md": page_md("Quarto passo", "TESTO-QUARTO.")}})
    assert sync(content).added == ["percorso/quarto"]
    fresh()
    completion = _db.session.scalar(select(CourseCompletion))
    assert (completion.id, completion.completed_at) == (completion_id, completed_at)
    page = text(client.get("/courses/percorso/"))
    assert "Hai completato questo corso il" in page
    assert "3 di 4 moduli completati (75\u00a0%)" in page
    assert outline(page)[3] == ("Quarto passo", "", True, "Da iniziare")
    assert "Completato il" in plain(cards(text(client.get("/courses/")))["percorso"])
    assert count(CourseCompletion) == 1


def test_a_retired_module_is_hidden_and_does_not_count_toward_completion(
    client: FlaskClient, login_as, content: Path
) -> None:
    learner = login_as("learner")
    record_visit(learner, get_module("percorso", "secondo"))
    _db.session.commit()
    (content / "percorso" / "02-secondo.md").unlink()
    assert sync(content).retired == ["percorso/secondo"]

    assert client.get("/courses/percorso/secondo/").status_code == 404
    assert complete(client, "percorso", "secondo").status_code == 404
    page = text(client.get("/courses/percorso/"))
    assert [title for title, *_ in outline(page)] == ["Primo passo", "Terzo passo"]
    assert "TESTO-SECONDO" not in page
    assert "0 di 2 moduli completati (0\u00a0%)" in page
    assert "2 moduli" in plain(cards(text(client.get("/courses/")))["percorso"])

    assert complete(client, "percorso", "primo").location == "/courses/percorso/terzo/"
    assert count(CourseCompletion) == 0
    assert client.get("/courses/percorso/terzo/").status_code == 200  # unlocked: no module 2
    assert complete(client, "percorso", "terzo").location == "/courses/percorso/"
    assert count(CourseCompletion) == 1
    assert progress_of(learner, "percorso", "secondo") is not None  # history kept


def test_retiring_the_only_missing_module_completes_the_course(
    client: FlaskClient, login_as, content: Path
) -> None:
    login_as("learner")
    complete(client, "percorso", "primo")
    complete(client, "percorso", "secondo")
    (content / "percorso" / "03-terzo.md").unlink()
    sync(content)
    page = text(client.get("/courses/percorso/"))
    assert "2 di 2 moduli completati (100\u00a0%)" in page
    assert "Hai completato questo corso il" in page
    assert count(CourseCompletion) == 1


# Media -------------------------------------------------------------------------------------


def test_media_are_served_with_their_type_cache_and_sandbox_headers(
    client: FlaskClient, login_as
) -> None:
    login_as("learner")
    for name, mimetype, body in (
        ("schema.png", "image/png", PNG),
        ("schema.svg", "image/svg+xml", SVG.encode()),
        ("docs/scheda.pdf", "application/pdf", b"%PDF-1.4\n%%EOF\n"),
    ):
        url = f"/courses/coesione/media/{name}"
        response = get_file(client, url)
        assert response.status_code == 200, name
        assert response.mimetype == mimetype
        assert response.data == body
        assert response.headers["Cache-Control"] == "private, max-age=3600"
        policy = response.headers["Content-Security-Policy"]
        assert policy == MEDIA_CSP
        directives = policy.split("; ")
        assert "sandbox" in directives
        assert "default-src 'none'" in directives
        assert not any(d.startswith("script-src") for d in directives)
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        etag = response.headers["ETag"]
        again = get_file(client, url, headers={"If-None-Match": etag})
        assert again.status_code == 304


def test_a_symlink_in_media_that_leaves_the_course_is_not_served(
    client: FlaskClient, login_as, content: Path
) -> None:
    secret = content.parent / "secret.txt"
    secret.write_text("SEGRETO", encoding="utf-8")
    # Validation refuses such a link, but media are served from disk, synchronised or not.
    (content / "coesione" / "media" / "ciclo.png").symlink_to(secret)
    login_as("learner")
    response = get_file(client, "/courses/coesione/media/ciclo.png")
    assert b"SEGRETO" not in response.data
    assert response.status_code == 404


def test_hidden_files_in_media_are_not_served(client: FlaskClient, login_as, content: Path) -> None:
    (content / "coesione" / "media" / ".env").write_text("NASCOSTO", encoding="utf-8")
    login_as("learner")
    response = get_file(client, "/courses/coesione/media/.env")
    assert response.status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "../course.md",
        "docs/../../course.md",
        "%2e%2e/course.md",
        "..%2fcourse.md",
        "%2e%2e%2f%2e%2e%2fpercorso%2fcourse.md",
        "..%5ccourse.md",
        "../../secret.txt",
        "%2e%2e/%2e%2e/%2e%2e/secret.txt",
        "/etc/passwd",
        "%2fetc%2fpasswd",
        "{root}/coesione/course.md",
        "%2f{root}/coesione/course.md",
        "nessuno.png",
        "docs",
        "docs/",
    ],
)
def test_media_outside_the_folder_or_missing_are_404(
    client: FlaskClient, login_as, content: Path, path: str
) -> None:
    (content.parent / "secret.txt").write_text("SEGRETO", encoding="utf-8")
    login_as("learner")
    url = "/courses/coesione/media/" + path.format(root=str(content))
    response = get_file(client, url, follow_redirects=True)
    assert response.status_code == 404, url
    assert b"SEGRETO" not in response.data
    assert b"title:" not in response.data


def test_media_of_a_course_without_a_media_folder_are_404(client: FlaskClient, login_as) -> None:
    login_as("learner")
    assert client.get("/courses/percorso/media/schema.png").status_code == 404
    assert client.get("/courses/percorso/media/../../coesione/media/schema.png").status_code == 404


# A course whose files are gone ------------------------------------------------------------------


def test_a_course_whose_folder_disappeared_after_sync_still_works_but_for_media(
    client: FlaskClient, login_as, tmp_path: Path, content: Path
) -> None:
    # Synchronised from another checkout, then its folder is not where the site serves from.
    other = tmp_path / "altro"
    tree = base_tree()
    tree["sparito"] = {
        "course.md": tree["percorso"]["course.md"].replace("Percorso guidato", "Sparito"),
        "01-unico.md": page_md("Unico", "TESTO-SPARITO.\n\n![x](media/foto.png)"),
        "media/foto.png": PNG,
    }
    write_tree(other, tree)
    sync(other)
    shutil.rmtree(other)
    assert not (content / "sparito").exists()

    login_as("learner")
    catalogue = client.get("/courses/")
    assert catalogue.status_code == 200
    assert sorted(cards(text(catalogue))) == ["coesione", "percorso", "sparito"]
    assert client.get("/courses/sparito/").status_code == 200
    page = client.get("/courses/sparito/unico/")
    assert page.status_code == 200
    assert "TESTO-SPARITO" in text(page)
    assert complete(client, "sparito", "unico").status_code == 302
    assert client.get("/courses/sparito/media/foto.png").status_code == 404
    # The other courses are unaffected.
    assert client.get("/courses/coesione/introduzione/").status_code == 200
    assert get_file(client, "/courses/coesione/media/schema.png").status_code == 200


# Trainers' statistics ------------------------------------------------------------------------


STATS_ROW = re.compile(
    r'<th scope="row"><a href="/courses/(?P<course>[^/]+)/(?P<module>[^/]+)/"[^>]*>'
    r"(?P<label>[^<]*)</a></th>\s*<td>(?P<kind>[^<]*)</td>\s*"
    r'<td class="text-end">(?P<started>\d+)</td>\s*<td class="text-end">(?P<completed>\d+)</td>'
)
DASHBOARD_ROW = re.compile(
    r'<th scope="row"><a href="/formatori/(?P<course>[^/]+)/"[^>]*>[^<]*</a></th>\s*'
    r"<td>(?P<status>.*?)</td>\s*"
    r'<td class="text-end">(?P<modules>\d+)</td>\s*<td class="text-end">(?P<hours>[^<]*)</td>\s*'
    r'<td class="text-end">(?P<started>\d+)</td>\s*<td class="text-end">(?P<completed>\d+)</td>'
)
CHART_DATA = re.compile(
    r'<script type="application/json" id="module-chart-data">(.*?)</script>', re.DOTALL
)


@pytest.fixture
def activity(make_user) -> None:
    """Four learners at different points of two courses."""
    a, b, c, d = (make_user() for _ in range(4))
    module = get_module
    record_visit(a, module("coesione", "introduzione"))
    for learner in (b, c):
        complete_module(learner, module("coesione", "introduzione"))
    complete_module(b, module("coesione", "fondi"))
    record_visit(c, module("coesione", "fondi"))
    complete_module(c, module("coesione", "verifica"))
    for slug in ("primo", "secondo", "terzo"):
        complete_module(d, module("percorso", slug))
    _db.session.commit()


def stats_rows(page: str) -> list[tuple[str, str, str, int, int]]:
    return [
        (
            m["module"],
            html.unescape(m["label"]),
            m["kind"],
            int(m["started"]),
            int(m["completed"]),
        )
        for m in STATS_ROW.finditer(page)
    ]


@pytest.mark.usefixtures("activity")
@pytest.mark.parametrize("role", ["trainer", "admin"])
def test_course_statistics_count_learners_per_module(
    client: FlaskClient, login_as, role: str
) -> None:
    login_as(role)
    response = client.get("/formatori/coesione/")
    assert response.status_code == 200
    page = text(response)
    rows = stats_rows(page)
    assert rows == [
        ("introduzione", "1. Introduzione", "Lettura", 3, 2),
        ("fondi", "2. I fondi", "Lettura", 2, 1),
        ("verifica", "3. Verifica", "Verifica", 1, 1),
    ]
    chart = json.loads(CHART_DATA.search(page).group(1))
    assert chart["labels"] == [label for _, label, *_ in rows]
    assert chart["started"] == [started for *_, started, _ in rows]
    assert chart["completed"] == [completed for *_, completed in rows]
    assert "0 persone hanno completato il corso." in page

    page = text(client.get("/formatori/percorso/"))
    assert [(m, s, c) for m, _, _, s, c in stats_rows(page)] == [
        ("primo", 1, 1),
        ("secondo", 1, 1),
        ("terzo", 1, 1),
    ]
    assert "1 persona ha completato il corso." in page


@pytest.mark.usefixtures("activity")
def test_the_dashboard_lists_every_course_with_started_and_completed(
    client: FlaskClient, login_as
) -> None:
    login_as("trainer")
    response = client.get("/formatori/")
    assert response.status_code == 200
    rows = {
        m["course"]: (
            plain(m["status"]),
            int(m["modules"]),
            m["hours"],
            int(m["started"]),
            int(m["completed"]),
        )
        for m in DASHBOARD_ROW.finditer(text(response))
    }
    assert rows == {
        "coesione": ("pubblicato", 3, "4,5", 3, 0),
        "percorso": ("pubblicato", 3, "2", 1, 1),
        "bozza": ("bozza", 1, "1", 0, 0),
    }


@pytest.mark.usefixtures("activity")
def test_statistics_leave_out_retired_modules(client: FlaskClient, login_as, content: Path) -> None:
    (content / "percorso" / "02-secondo.md").unlink()
    sync(content)
    login_as("trainer")
    page = text(client.get("/formatori/percorso/"))
    assert [(m, label) for m, label, *_ in stats_rows(page)] == [
        ("primo", "1. Primo passo"),
        ("terzo", "2. Terzo passo"),
    ]
    assert json.loads(CHART_DATA.search(page).group(1))["started"] == [1, 1]


def test_statistics_of_drafts_for_trainers_and_404_for_unknown_courses(
    client: FlaskClient, login_as
) -> None:
    login_as("trainer")
    page = client.get("/formatori/bozza/")
    assert page.status_code == 200
    assert stats_rows(text(page)) == [("anteprima", "1. Anteprima", "Lettura", 0, 0)]
    assert client.get("/formatori/nessuno/").status_code == 404


@pytest.mark.parametrize("role", ["learner", "hr"])
def test_learners_and_hr_may_not_see_statistics(client: FlaskClient, login_as, role: str) -> None:
    login_as(role)
    assert client.get("/formatori/").status_code == 403
    assert client.get("/formatori/coesione/").status_code == 403
    assert client.get("/formatori/nessuno/").status_code == 403


def test_chart_data_survives_a_title_with_a_closing_script_tag(
    client: FlaskClient, login_as, content: Path
) -> None:
    write_tree(content, {"percorso": {"01-primo.md": page_md('"Tag </script><b id=x>y</b>"')}})
    sync(content)
    login_as("trainer")
    page = text(client.get("/formatori/percorso/"))
    assert "<b id=x>" not in page  # the title is text, never markup
    chart = json.loads(CHART_DATA.search(page).group(1))
    assert chart["labels"][0] == "1. Tag </script><b id=x>y</b>"
