"""Surveys without the web: the sync of survey modules, the `required` rule, checking and
storing answers anonymously, the edition attended, and the results' rule of five.

The helpers at the top (a course with a page, a live module and a survey, written into
``tmp_path`` and synchronised; people with staff records; answering) are shared with
tests/test_surveys_web.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select

from lms.auth.models import User
from lms.courses.content import load_tree
from lms.courses.models import Course, CourseCompletion, Module, ModuleProgress
from lms.courses.progress import complete_module, course_is_complete
from lms.courses.queries import course_outline, outline_progress, progress_on
from lms.courses.sync import sync_courses
from lms.enrolments.models import Enrolment
from lms.extensions import db as _db
from lms.live.models import AttendanceSource, LiveAttendance, LiveEdition
from lms.register.models import Authority, StaffCategory, StaffMember
from lms.reports.filters import parse_filters
from lms.reports.learners import learner_rows
from lms.surveys.models import SurveyAnswer, SurveyResponse, SurveySubmission
from lms.surveys.operations import (
    MAX_TEXT,
    AlreadySubmitted,
    attended_edition,
    check_answers,
    has_answered,
    submit_survey,
)
from lms.surveys.results import MIN_GROUP, download_rows, survey_results, visible_parts

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# A course with a survey ----------------------------------------------------------------------

SURVEY_BODY = """\
Aiutaci a migliorare il corso: INTRODUZIONE-QUESTIONARIO.

## Quanto ti è stato *utile* il corso?
- Per nulla
- Poco
- Abbastanza
- Molto

## I materiali erano chiari.

## Che cosa miglioreresti? {testo}

## Altri commenti {testo, facoltativa}
"""
#: q1: a 4-point scale; q2: the 5-point agreement scale; q3: text; q4: optional text.
QUESTION_IDS = ("q1", "q2", "q3", "q4")
FULL = {"q1": 3, "q2": 5, "q3": "Più esempi pratici"}
#: The first label of the agreement scale as rendered.
LABEL_HTML = "Per niente d'accordo"


def course_files(
    *,
    survey_body: str = SURVEY_BODY,
    required: bool = False,
    sequential: bool = False,
    live: bool = False,
    language: str = "it",
    status: str = "published",
) -> dict[str, str]:
    """Course "corso": a page ("lettura"), a live module ("webinar") if *live*, the survey."""
    files = {
        "course.md": f"---\ntitle: Corso con questionario\nhours: 3\nlanguage: {language}\n"
        f"sequential: {str(sequential).lower()}\nstatus: {status}\n---\n\nPanoramica.\n",
        "01-lettura.md": "---\ntitle: Lettura\n---\n\nTesto da leggere.\n",
        "03-questionario.md": "---\ntitle: Questionario di gradimento\ntype: survey\n"
        f"required: {str(required).lower()}\n---\n\n{survey_body}",
    }
    if live:
        files["02-webinar.md"] = "---\ntitle: Webinar\ntype: live\nhours: 1\n---\n\nIl webinar.\n"
    return files


def write_course(root: Path, **options: object) -> Path:
    """Write (or rewrite) course "corso" under *root* and return *root*."""
    for name, text in course_files(**options).items():  # type: ignore[arg-type]
        path = root / "corso" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def sync_content(root: Path) -> None:
    sources, errors = load_tree(root)
    assert errors == [], [str(e) for e in errors]
    sync_courses(sources)
    _db.session.commit()


def get_module(slug: str, course: str = "corso") -> Module:
    return _db.session.scalar(
        select(Module).join(Course).where(Course.slug == course, Module.slug == slug)
    )


def make_survey(tmp_path: Path, **options: object) -> Module:
    """Course "corso" written and synchronised; its survey module."""
    sync_content(write_course(tmp_path / "content", **options))
    return get_module("questionario")


def answer(user: User, module: Module, answers: dict | None = None) -> None:
    """*user* answers *module* (FULL by default) and the answers are committed."""
    submit_survey(user, module, FULL if answers is None else answers)
    _db.session.commit()


def count(model: type) -> int:
    _db.session.expire_all()
    return _db.session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def learner(make_user: Callable[..., User]) -> User:
    return make_user("learner")


@pytest.fixture
def people(make_user: Callable[..., User]) -> Callable[[int], list[User]]:
    def factory(n: int) -> list[User]:
        return [make_user("learner") for _ in range(n)]

    return factory


# Staff, editions and attendance -------------------------------------------------------------

_codes = iter(range(1, 100_000))


def staff_for(user: User, authority: Authority, course: Course | None = None) -> StaffMember:
    """A staff record for *user* (enrolled in *course*, if given)."""
    n = next(_codes)
    member = StaffMember(
        codice_fiscale=f"SRVPRS{n:09d}X",
        first_name=user.first_name,
        last_name=user.last_name,
        email=user.email,
        authority_id=authority.id,
        category=StaffCategory.EXISTING,
        user_id=user.id,
    )
    _db.session.add(member)
    _db.session.flush()
    if course is not None:
        _db.session.add(Enrolment(staff_id=member.id, course_id=course.id))
    _db.session.commit()
    return member


def edition_of(module: Module, starts_at: datetime, *, cancelled: bool = False) -> LiveEdition:
    edition = LiveEdition(
        module_id=module.id,
        starts_at=starts_at,
        minutes=60,
        place="Aula 1",
        cancelled_at=starts_at if cancelled else None,
    )
    _db.session.add(edition)
    _db.session.commit()
    return edition


def attend(member: StaffMember, edition: LiveEdition, minutes: int = 60) -> None:
    _db.session.add(
        LiveAttendance(
            edition_id=edition.id,
            staff_id=member.id,
            minutes=minutes,
            source=AttendanceSource.REGISTER,
        )
    )
    _db.session.commit()


# Synchronisation ----------------------------------------------------------------------------


def test_sync_stores_the_questions_rendered_with_ids_kinds_labels_and_since(
    tmp_path: Path,
) -> None:
    survey = make_survey(tmp_path)
    questions = survey.survey_questions
    assert [q["id"] for q in questions] == list(QUESTION_IDS)
    assert [q["kind"] for q in questions] == ["scale", "scale", "text", "text"]
    assert [q["optional"] for q in questions] == [False, False, False, True]
    assert questions[0]["text_html"] == "Quanto ti è stato <em>utile</em> il corso?"
    assert questions[0]["text"] == "Quanto ti è stato utile il corso?"
    assert questions[0]["labels"] == ["Per nulla", "Poco", "Abbastanza", "Molto"]
    assert questions[1]["labels"][0] == "Per niente d'accordo"
    assert questions[1]["labels_html"][0] == LABEL_HTML
    assert questions[2]["labels"] == []
    assert {q["since"] for q in questions} == {1}
    assert survey.version == 1
    assert survey.required is False
    # The page shows the introduction; the questions are drawn as a form.
    assert "INTRODUZIONE-QUESTIONARIO" in survey.body_html
    assert "miglioreresti" not in survey.body_html
    assert get_module("lettura").survey_questions is None


def test_an_edited_question_counts_from_the_new_version_and_the_others_keep_theirs(
    tmp_path: Path,
) -> None:
    root = tmp_path / "content"
    make_survey(tmp_path)
    edited = SURVEY_BODY.replace("I materiali erano chiari.", "I materiali erano completi.")
    sync_content(write_course(root, survey_body=edited))
    _db.session.expire_all()
    survey = get_module("questionario")
    assert survey.version == 2
    assert [q["since"] for q in survey.survey_questions] == [1, 2, 1, 1]
    # Nothing changed: nothing moves.
    sync_content(write_course(root, survey_body=edited))
    _db.session.expire_all()
    assert get_module("questionario").version == 2
    # Making a question optional keeps what it asks: its answers still add up.
    optional = edited.replace("miglioreresti? {testo}", "miglioreresti? {testo} {facoltativa}")
    sync_content(write_course(root, survey_body=optional))
    _db.session.expire_all()
    survey = get_module("questionario")
    assert survey.version == 3
    assert [q["since"] for q in survey.survey_questions] == [1, 2, 1, 1]
    assert survey.survey_questions[2]["optional"] is True


def test_the_default_scale_follows_the_course_language(tmp_path: Path) -> None:
    root = tmp_path / "content"
    make_survey(tmp_path)
    sync_content(write_course(root, language="en"))
    _db.session.expire_all()
    survey = get_module("questionario")
    assert survey.version == 2  # course.md alone changed, yet the labels did
    assert survey.survey_questions[1]["labels"][-1] == "Strongly agree"
    assert [q["since"] for q in survey.survey_questions] == [1, 2, 1, 1]


# The `required` rule ------------------------------------------------------------------------


def test_a_course_whose_only_missing_module_is_an_optional_survey_is_complete(
    tmp_path: Path, learner: User
) -> None:
    survey = make_survey(tmp_path)
    course = survey.course
    assert course_is_complete(learner, course) is False
    assert complete_module(learner, get_module("lettura"), T0) is True
    _db.session.commit()
    assert course_is_complete(learner, course) is True
    completion = _db.session.scalar(select(CourseCompletion))
    assert (completion.user_id, completion.course_id) == (learner.id, course.id)
    [entry] = progress_on(learner.id, [course])
    assert (entry.modules, entry.completed, entry.progress_pct) == (1, 1, 100)
    progress = outline_progress(course_outline(learner, course))
    assert (progress.done, progress.total, progress.pct) == (1, 1, 100)


def test_a_required_survey_must_be_answered(tmp_path: Path, learner: User) -> None:
    survey = make_survey(tmp_path, required=True)
    assert complete_module(learner, get_module("lettura"), T0) is False
    [entry] = progress_on(learner.id, [survey.course])
    assert (entry.modules, entry.completed, entry.progress_pct) == (2, 1, 50)
    assert submit_survey(learner, survey, FULL) is True
    _db.session.commit()
    assert count(CourseCompletion) == 1


def test_making_a_survey_optional_completes_the_course_for_those_who_did_the_rest(
    tmp_path: Path, learner: User, make_user: Callable[..., User]
) -> None:
    root = tmp_path / "content"
    make_survey(tmp_path, required=True)
    newcomer = make_user("learner")
    complete_module(learner, get_module("lettura"), T0)
    _db.session.commit()
    assert count(CourseCompletion) == 0
    sync_content(write_course(root, required=False))
    _db.session.expire_all()
    assert [c.user_id for c in _db.session.scalars(select(CourseCompletion))] == [learner.id]
    assert newcomer.id != learner.id


def test_an_optional_module_does_not_hold_back_the_next_ones_in_a_sequential_course(
    tmp_path: Path, learner: User
) -> None:
    root = tmp_path / "content"
    write_course(root, sequential=True)
    (root / "corso" / "04-ultima.md").write_text(
        "---\ntitle: Ultima lettura\n---\n\nTesto.\n", encoding="utf-8"
    )
    sync_content(root)
    course = get_module("lettura").course
    locked = {s.module.slug: s.locked for s in course_outline(learner, course)}
    assert locked == {"lettura": False, "questionario": True, "ultima": True}
    complete_module(learner, get_module("lettura"), T0)
    _db.session.commit()
    locked = {s.module.slug: s.locked for s in course_outline(learner, course)}
    assert locked == {"lettura": False, "questionario": False, "ultima": False}
    progress = outline_progress(course_outline(learner, course))
    assert (progress.done, progress.total) == (1, 2)


def test_the_learner_report_counts_required_modules_only(
    tmp_path: Path, learner: User, make_authority: Callable[..., Authority]
) -> None:
    survey = make_survey(tmp_path)
    staff_for(learner, make_authority(), survey.course)
    complete_module(learner, get_module("lettura"), T0)
    _db.session.commit()
    [row] = list(learner_rows(parse_filters(None, {})))
    assert (row.status, str(row.progress_pct)) == ("completed", "100.0")


def test_the_learner_report_progress_of_a_course_not_completed_ignores_the_survey(
    tmp_path: Path, learner: User, make_authority: Callable[..., Authority]
) -> None:
    root = tmp_path / "content"
    write_course(root)
    (root / "corso" / "04-ultima.md").write_text(
        "---\ntitle: Ultima lettura\n---\n\nTesto.\n", encoding="utf-8"
    )
    sync_content(root)
    survey = get_module("questionario")
    staff_for(learner, make_authority(), survey.course)
    complete_module(learner, get_module("lettura"), T0)
    submit_survey(learner, survey, FULL, T0)
    _db.session.commit()
    [row] = list(learner_rows(parse_filters(None, {})))
    # Two required modules, one done; the survey answered counts for nothing.
    assert (row.status, str(row.progress_pct)) == ("in_progress", "50.0")


# Checking answers ---------------------------------------------------------------------------


def form(**fields: str | list[str]) -> dict[str, list[str]]:
    return {key: value if isinstance(value, list) else [value] for key, value in fields.items()}


def test_check_answers_accepts_a_complete_form_and_ignores_other_fields(tmp_path: Path) -> None:
    survey = make_survey(tmp_path)
    checked = check_answers(
        survey.survey_questions,
        form(q1="3", q2="5", q3="  Più esempi\r\npratici  ", q4="", csrf_token="x", q9="1"),
    )
    assert checked.errors == {}
    assert checked.answers == {"q1": 3, "q2": 5, "q3": "Più esempi\npratici"}


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"q1": "", "q2": [], "q3": ""}, {"q1", "q2", "q3"}),
        ({"q1": "0"}, {"q1"}),
        ({"q1": "5"}, {"q1"}),  # a 4-point scale
        ({"q2": "6"}, {"q2"}),
        ({"q1": "x"}, {"q1"}),
        ({"q1": "-1"}, {"q1"}),
        ({"q1": "٣"}, {"q1"}),  # an Arabic-Indic three: a digit, but not ours
        ({"q1": ["1", "2"]}, {"q1"}),
        ({"q3": "   "}, {"q3"}),  # blank is not an answer
        ({"q3": "a" * (MAX_TEXT + 1)}, {"q3"}),
        ({"q3": "con un NUL\x00 dentro"}, {"q3"}),
        ({"q3": "con un campanello\x07"}, {"q3"}),
        ({"q3": "testo \u202egirato"}, {"q3"}),
        ({"q4": "con un escape \x1b[31m"}, {"q4"}),  # optional, but still checked
        ({"q3": ["uno", "due"]}, {"q3"}),
    ],
    ids=[
        "nothing",
        "zero",
        "past-the-scale",
        "past-the-default-scale",
        "not-a-number",
        "negative",
        "arabic-digit",
        "two-values",
        "blank-text",
        "too-long",
        "nul",
        "bell",
        "bidi-override",
        "escape-in-optional",
        "two-texts",
    ],
)
def test_check_answers_refuses_with_an_error_per_field(
    tmp_path: Path, fields: dict, errors: set[str]
) -> None:
    survey = make_survey(tmp_path)
    complete = {"q1": "2", "q2": "3", "q3": "Un testo"}
    checked = check_answers(survey.survey_questions, form(**(complete | fields)))
    assert set(checked.errors) == errors
    assert not checked.valid
    assert all(message for message in checked.errors.values())


def test_check_answers_keeps_what_was_typed_to_show_it_again(tmp_path: Path) -> None:
    survey = make_survey(tmp_path)
    checked = check_answers(survey.survey_questions, form(q1="9", q3="Mio testo"))
    assert checked.submitted == {"q1": "9", "q3": "Mio testo", "q4": ""}
    assert checked.answers == {"q3": "Mio testo"}


def test_the_longest_text_and_tabs_and_new_lines_are_fine(tmp_path: Path) -> None:
    survey = make_survey(tmp_path)
    text = "riga\tuno\n" + "è" * (MAX_TEXT - 9)
    checked = check_answers(survey.survey_questions, form(q1="1", q2="1", q3=text))
    assert checked.errors == {}
    assert checked.answers["q3"] == text


# Storing answers ----------------------------------------------------------------------------


def test_submitting_stores_the_submission_the_response_and_completes_the_module(
    tmp_path: Path, learner: User
) -> None:
    survey = make_survey(tmp_path, required=True)
    complete_module(learner, get_module("lettura"), T0)
    assert submit_survey(learner, survey, FULL | {"q4": "Niente"}, T0) is True
    _db.session.commit()
    submission = _db.session.scalar(select(SurveySubmission))
    assert (submission.user_id, submission.module_id, submission.submitted_at) == (
        learner.id,
        survey.id,
        T0,
    )
    response = _db.session.scalar(select(SurveyResponse))
    assert re.fullmatch(r"[0-9a-f]{32}", response.id)
    assert (response.module_id, response.module_version, response.edition_id) == (
        survey.id,
        1,
        None,
    )
    answers = {a.question_id: (a.scale_value, a.text_value) for a in response.answers}
    assert answers == {
        "q1": (3, None),
        "q2": (5, None),
        "q3": (None, "Più esempi pratici"),
        "q4": (None, "Niente"),
    }
    progress = _db.session.scalar(
        select(ModuleProgress).where(ModuleProgress.module_id == survey.id)
    )
    assert progress.completed_at == T0
    assert has_answered(learner, survey)
    assert count(CourseCompletion) == 1


def test_answers_keep_the_version_they_answered(tmp_path: Path, people) -> None:
    root = tmp_path / "content"
    survey = make_survey(tmp_path)
    first, second = people(2)
    answer(first, survey)
    sync_content(write_course(root, survey_body=SURVEY_BODY + "\n## Una domanda in più\n"))
    _db.session.expire_all()
    answer(second, get_module("questionario"))
    versions = sorted(_db.session.scalars(select(SurveyResponse.module_version)))
    assert versions == [1, 2]


def test_a_second_submission_is_refused_and_writes_nothing(tmp_path: Path, learner: User) -> None:
    survey = make_survey(tmp_path)
    answer(learner, survey)
    with pytest.raises(AlreadySubmitted):
        submit_survey(learner, survey, FULL)
    _db.session.rollback()
    assert (count(SurveySubmission), count(SurveyResponse), count(SurveyAnswer)) == (1, 1, 3)


def test_a_submission_that_loses_the_race_is_refused_on_its_primary_key(
    tmp_path: Path, learner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two tabs: both saw no submission; the second insert fails on the key, nothing else."""
    survey = make_survey(tmp_path)
    answer(learner, survey)
    monkeypatch.setattr("lms.surveys.operations.has_answered", lambda *_: False)
    with pytest.raises(AlreadySubmitted):
        submit_survey(learner, survey, FULL)
    _db.session.commit()  # the savepoint was rolled back; the transaction goes on
    assert (count(SurveySubmission), count(SurveyResponse), count(SurveyAnswer)) == (1, 1, 3)


# Anonymity ----------------------------------------------------------------------------------


def test_no_column_of_the_answers_names_a_person_or_a_time(db) -> None:
    schema = inspect(db.engine)
    assert {c["name"] for c in schema.get_columns("survey_responses")} == {
        "id",
        "module_id",
        "module_version",
        "edition_id",
    }
    assert {c["name"] for c in schema.get_columns("survey_answers")} == {
        "response_id",
        "question_id",
        "scale_value",
        "text_value",
    }
    for table in ("survey_responses", "survey_answers"):
        targets = {fk["referred_table"] for fk in schema.get_foreign_keys(table)}
        assert targets <= {"modules", "live_editions", "survey_responses"}, table
    # Who answered is kept apart, and says nothing of what.
    assert {c["name"] for c in schema.get_columns("survey_submissions")} == {
        "user_id",
        "module_id",
        "submitted_at",
    }


def test_responses_cannot_be_matched_to_submissions_by_their_order(tmp_path: Path, people) -> None:
    """Here each text says who wrote it; the responses' keys must not give the order back."""
    survey = make_survey(tmp_path)
    users = people(12)
    for number, user in enumerate(users):
        answer(user, survey, FULL | {"q3": f"risposta {number:02d}"})
    ids = list(_db.session.scalars(select(SurveyResponse.id)))
    assert len(set(ids)) == 12
    assert all(re.fullmatch(r"[0-9a-f]{32}", key) for key in ids)
    submitted = _db.session.scalars(
        select(SurveySubmission.user_id).order_by(SurveySubmission.submitted_at)
    )
    assert list(submitted) == [u.id for u in users]  # who answered, in order
    by_key = list(
        _db.session.scalars(
            select(SurveyAnswer.text_value)
            .join(SurveyResponse)
            .where(SurveyAnswer.question_id == "q3")
            .order_by(SurveyResponse.id)
        )
    )
    assert sorted(by_key) == [f"risposta {n:02d}" for n in range(12)]
    # The key is the only order the application reads answers in, and it is random:
    # twelve responses come out in the order they were given once in 479,001,600 runs.
    assert by_key != sorted(by_key)


# The edition attended -----------------------------------------------------------------------


def test_the_response_records_the_latest_edition_attended(
    tmp_path: Path, learner: User, make_authority: Callable[..., Authority]
) -> None:
    survey = make_survey(tmp_path, live=True)
    live = get_module("webinar")
    member = staff_for(learner, make_authority(), survey.course)
    early = edition_of(live, T0)
    late = edition_of(live, T0 + timedelta(days=7))
    later_absent = edition_of(live, T0 + timedelta(days=14))
    cancelled = edition_of(live, T0 + timedelta(days=21), cancelled=True)
    assert attended_edition(learner, survey.course) is None
    attend(member, early)
    assert attended_edition(learner, survey.course) == early.id
    attend(member, late, minutes=10)  # present for a while: it is their edition
    attend(member, later_absent, minutes=0)
    attend(member, cancelled)
    assert attended_edition(learner, survey.course) == late.id
    answer(learner, survey)
    assert _db.session.scalar(select(SurveyResponse.edition_id)) == late.id


def test_an_edition_of_another_course_is_not_the_response_s(
    tmp_path: Path, learner: User, make_authority: Callable[..., Authority]
) -> None:
    root = tmp_path / "content"
    write_course(root, live=True)
    other = root / "altro"
    for name, text in course_files(live=True).items():
        (other / name).parent.mkdir(parents=True, exist_ok=True)
        (other / name).write_text(text, encoding="utf-8")
    sync_content(root)
    member = staff_for(learner, make_authority())
    attend(member, edition_of(get_module("webinar", "altro"), T0))
    assert attended_edition(learner, get_module("questionario").course) is None


# Results: the rule of five ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "parts", "shown"),
    [
        (4, {1: 4}, set()),
        (5, {1: 5}, {1}),
        (12, {1: 9}, set()),  # 3 left: 12 - 9 would show them
        (14, {1: 9}, {1}),  # 5 left out
        (15, {1: 5, 2: 7}, {2}),  # 3 left: the smallest shown is held back too
        (20, {1: 5, 2: 5, 3: 6, 4: 4}, {2, 3}),  # 4 left: hold back 1 (5), which leaves 9
        (10, {1: 5, 2: 5}, {1, 2}),
        (9, {1: 5, 2: 4}, set()),
    ],
)
def test_visible_parts(total: int, parts: dict[int, int], shown: set[int]) -> None:
    assert visible_parts(total, parts) == shown


def test_four_responses_show_only_their_number(tmp_path: Path, people) -> None:
    survey = make_survey(tmp_path)
    for user in people(MIN_GROUP - 1):
        answer(user, survey)
    results = survey_results(survey)
    assert (results.whole.responses, results.whole.shown) == (4, False)
    assert all(not q.shown for q in results.whole.questions)
    assert all(q.counts == () and q.texts == () and q.mean is None for q in results.whole.questions)
    assert list(download_rows(results)) == [["all", 4, *[None] * 9]]


def test_five_responses_show_distributions_means_and_texts(tmp_path: Path, people) -> None:
    survey = make_survey(tmp_path)
    values = [(1, 1), (2, 5), (4, 5), (4, 4), (4, 3)]
    for (q1, q2), user in zip(values, people(5), strict=True):
        answer(user, survey, {"q1": q1, "q2": q2, "q3": f"testo {q1}{q2}"})
    results = survey_results(survey)
    whole = results.whole
    assert (whole.responses, whole.shown) == (5, True)
    q1, q2, q3, q4 = whole.questions
    assert (q1.shown, q1.counts, str(q1.mean)) == (True, (1, 1, 0, 3), "3.0")
    assert (q2.shown, q2.counts, str(q2.mean)) == (True, (1, 0, 1, 1, 2), "3.6")
    assert (q3.shown, sorted(q3.texts)) == (
        True,
        ["testo 11", "testo 25", "testo 43", "testo 44", "testo 45"],
    )
    assert (q4.shown, q4.answered) == (False, 0)  # optional, not answered
    rows = list(download_rows(results))
    assert rows[0] == [
        "all",
        5,
        "q1",
        "Quanto ti è stato utile il corso?",
        "scale",
        5,
        1,
        "Per nulla",
        1,
        q1.mean,
        None,
    ]
    assert len(rows) == 4 + 5 + 5 + 1
    assert rows[-1] == ["all", 5, "q4", "Altri commenti", "text", 0, None, None, None, None, None]


def test_an_optional_question_answered_four_times_is_held_back(tmp_path: Path, people) -> None:
    survey = make_survey(tmp_path)
    for number, user in enumerate(people(6)):
        extra = {"q4": f"commento {number}"} if number < 4 else {}
        answer(user, survey, FULL | extra)
    q4 = survey_results(survey).whole.questions[3]
    assert (q4.answered, q4.shown, q4.texts) == (4, False, ())


def test_answers_to_an_earlier_wording_do_not_count(tmp_path: Path, people) -> None:
    root = tmp_path / "content"
    survey = make_survey(tmp_path)
    users = people(7)
    for user in users[:3]:
        answer(user, survey)
    edited = SURVEY_BODY.replace("I materiali erano chiari.", "I materiali erano completi.")
    sync_content(write_course(root, survey_body=edited))
    _db.session.expire_all()
    survey = get_module("questionario")
    for user in users[3:]:
        answer(user, survey)
    q1, q2, _q3, _q4 = survey_results(survey).whole.questions
    assert (q1.answered, q1.shown) == (7, True)  # unchanged: every version counts
    assert (q2.answered, q2.shown) == (4, False)  # changed: only version 2's four


def test_results_per_edition_and_the_rest_by_subtraction(
    tmp_path: Path, people, make_authority: Callable[..., Authority]
) -> None:
    survey = make_survey(tmp_path, live=True)
    live = get_module("webinar")
    authority = make_authority()
    first = edition_of(live, T0)
    second = edition_of(live, T0 + timedelta(days=7))
    users = people(13)
    for user in users[:6]:
        attend(staff_for(user, authority), first)
    for user in users[6:10]:
        attend(staff_for(user, authority), second)
    for number, user in enumerate(users):  # 6 from the first, 4 from the second, 3 from none
        answer(user, survey, FULL | {"q1": 1 + number % 4})
    results = survey_results(survey)
    assert (results.whole.responses, results.whole.shown) == (13, True)
    groups = {g.edition.id: g for g in results.editions}
    assert (groups[second.id].responses, groups[second.id].shown) == (4, False)
    # The first edition has 6, but 13 - 6 = 7 left out: shown.
    assert (groups[first.id].responses, groups[first.id].shown) == (6, True)
    assert groups[first.id].questions[0].counts == (2, 2, 1, 1)
    assert results.group(first.id) is groups[first.id]
    assert results.group(999_999) is None
    keys = [row[0] for row in download_rows(results)]
    assert keys.count(f"edition {second.id} 2026-03-09 10:00") == 1  # only its count


def test_an_edition_that_would_give_the_rest_away_is_held_back(
    tmp_path: Path, people, make_authority: Callable[..., Authority]
) -> None:
    survey = make_survey(tmp_path, live=True)
    edition = edition_of(get_module("webinar"), T0)
    authority = make_authority()
    users = people(8)
    for user in users[:5]:
        attend(staff_for(user, authority), edition)
    for user in users:
        answer(user, survey)
    results = survey_results(survey)
    [group] = results.editions
    assert (results.whole.shown, group.responses, group.shown) == (True, 5, False)
    assert [row[:2] for row in download_rows(results) if row[0] != "all"] == [
        ["edition " + str(edition.id) + " 2026-03-02 10:00", 5]
    ]


def test_survey_results_refuse_other_modules(tmp_path: Path) -> None:
    make_survey(tmp_path)
    with pytest.raises(ValueError, match="not a survey"):
        survey_results(get_module("lettura"))
