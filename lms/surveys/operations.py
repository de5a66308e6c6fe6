"""Answering a survey: checking the answers, storing them apart from the person.

:func:`check_answers` reads a posted form against the module's questions and
says, per question, what is wrong; :func:`submit_survey` stores, in the
request's transaction, that the person answered (:class:`SurveySubmission`)
and, separately, what was answered (:class:`SurveyResponse`, with a random id,
no person and no time), then completes the module. Nothing here reads
answers back for a person: once stored, nobody can tell whose they are.
"""

from __future__ import annotations

import secrets
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms.auth.models import Role, User
from lms.core.types import utcnow
from lms.courses.models import Course, Module, ModuleKind
from lms.courses.progress import complete_module
from lms.extensions import db
from lms.live.models import LiveAttendance, LiveEdition
from lms.register.models import StaffMember
from lms.surveys.models import SurveyAnswer, SurveyResponse, SurveySubmission

__all__ = [
    "ANSWERING_ROLES",
    "MAX_TEXT",
    "AlreadySubmitted",
    "CheckedAnswers",
    "attended_edition",
    "check_answers",
    "has_answered",
    "submit_survey",
]

#: Who answers surveys: the people whose training the results are about. Trainers'
#: and administrators' previews would only blur them.
ANSWERING_ROLES = frozenset({Role.LEARNER, Role.HR})
#: The longest free-text answer, in characters.
MAX_TEXT = 2000
#: Characters refused in free text besides the C0/C1 controls: those that reorder
#: how the text around them is displayed (a trainer would read something else).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_ALLOWED_CONTROLS = frozenset("\n\t")


class AlreadySubmitted(Exception):
    """The person has already answered this survey (another tab, a second click)."""


@dataclass
class CheckedAnswers:
    """A posted form read against the questions: the answers, or the errors per question."""

    #: Question id -> a point of the scale (1 …) or a text; unanswered questions absent.
    answers: dict[str, int | str] = field(default_factory=dict)
    #: Question id -> what is wrong with its answer (translated when shown).
    errors: dict[str, str] = field(default_factory=dict)
    #: What the person typed or chose, to show the form again with it.
    submitted: dict[str, str] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        """Whether the answers can be stored."""
        return not self.errors


def _clean_text(raw: str) -> tuple[str, str | None]:
    """The text as stored (NFC, Unix line ends, trimmed) and what is wrong with it, if anything."""
    text = unicodedata.normalize("NFC", raw.replace("\r\n", "\n").replace("\r", "\n")).strip()
    for char in text:
        if (
            unicodedata.category(char) == "Cc" and char not in _ALLOWED_CONTROLS
        ) or char in _BIDI_CONTROLS:
            return text, str(
                _l("Il testo contiene caratteri di controllo non ammessi: toglili e riprova.")
            )
    if len(text) > MAX_TEXT:
        return text, str(
            _l(
                "Il testo è troppo lungo: %(n)d caratteri, al massimo %(max)d.",
                n=len(text),
                max=MAX_TEXT,
            )
        )
    return text, None


def _check_scale(question: dict, values: Sequence[str], checked: CheckedAnswers) -> None:
    qid = question["id"]
    choices = [value for value in values if value != ""]
    if len(choices) > 1:
        checked.errors[qid] = str(_l("Scegli un solo valore."))
        return
    if not choices:
        if not question["optional"]:
            checked.errors[qid] = str(_l("Rispondi a questa domanda."))
        return
    value = choices[0]
    checked.submitted[qid] = value
    points = len(question["labels"])
    if not (value.isascii() and value.isdigit() and 1 <= int(value) <= points):
        checked.errors[qid] = str(_l("Scegli uno dei valori della scala."))
        return
    checked.answers[qid] = int(value)


def _check_text(question: dict, values: Sequence[str], checked: CheckedAnswers) -> None:
    qid = question["id"]
    if len(values) > 1:
        checked.errors[qid] = str(_l("Una sola risposta per domanda."))
        return
    text, problem = _clean_text(values[0] if values else "")
    checked.submitted[qid] = text
    if problem is not None:
        checked.errors[qid] = problem
    elif not text:
        if not question["optional"]:
            checked.errors[qid] = str(_l("Rispondi a questa domanda."))
    else:
        checked.answers[qid] = text


def check_answers(questions: list[dict], form: Mapping[str, Sequence[str]]) -> CheckedAnswers:
    """Read *form* (field name -> values) against *questions* (``Module.survey_questions``).

    Required questions must be answered; a scale's answer is one of its points
    (``1`` … its number of labels); a text is at most :data:`MAX_TEXT`
    characters without control characters. Fields of no question are ignored.
    """
    checked = CheckedAnswers()
    for question in questions:
        values = list(form.get(question["id"], ()))
        if question["kind"] == "text":
            _check_text(question, values, checked)
        else:
            _check_scale(question, values, checked)
    return checked


def has_answered(user: User, module: Module) -> bool:
    """Whether *user* has answered the survey *module* (never what they answered)."""
    found = db.session.scalar(
        select(SurveySubmission.user_id).where(
            SurveySubmission.user_id == user.id, SurveySubmission.module_id == module.id
        )
    )
    return found is not None


def attended_edition(user: User, course: Course) -> int | None:
    """The latest edition of a live module of *course* that *user* attended, if any.

    Attended: present for some minutes, as the register or the meeting
    platform's report says, at an edition that was not cancelled.
    """
    return db.session.scalar(
        select(LiveEdition.id)
        .join(LiveAttendance, LiveAttendance.edition_id == LiveEdition.id)
        .join(StaffMember, StaffMember.id == LiveAttendance.staff_id)
        .join(Module, Module.id == LiveEdition.module_id)
        .where(
            StaffMember.user_id == user.id,
            Module.course_id == course.id,
            Module.kind == ModuleKind.LIVE,
            LiveAttendance.minutes > 0,
            LiveEdition.cancelled_at.is_(None),
        )
        .order_by(LiveEdition.starts_at.desc(), LiveEdition.id.desc())
        .limit(1)
    )


def submit_survey(
    user: User, module: Module, answers: Mapping[str, int | str], now: datetime | None = None
) -> bool:
    """Store *answers* to *module* anonymously and complete it; whether the course is complete.

    In the caller's transaction: the submission (who, which survey) first, so
    that a second submission fails on its primary key (:class:`AlreadySubmitted`)
    before anything else is written; then the response (random id, the
    module's version, the live edition attended) and its answers, with no link
    to the person. Audit entries are not written: they would say who answered
    when, which the submission already says, and nothing more.
    """
    if module.kind is not ModuleKind.SURVEY:
        raise ValueError("not a survey module")
    now = now or utcnow()
    if has_answered(user, module):
        raise AlreadySubmitted
    try:
        with db.session.begin_nested():
            db.session.add(SurveySubmission(user_id=user.id, module_id=module.id, submitted_at=now))
    except IntegrityError as exc:  # another tab's submission, committed meanwhile
        raise AlreadySubmitted from exc
    response = SurveyResponse(
        id=secrets.token_hex(16),
        module_id=module.id,
        module_version=module.version,
        edition_id=attended_edition(user, module.course),
    )
    response.answers = [
        SurveyAnswer(
            question_id=qid,
            scale_value=value if isinstance(value, int) else None,
            text_value=value if isinstance(value, str) else None,
        )
        for qid, value in answers.items()
    ]
    db.session.add(response)
    db.session.flush()
    return complete_module(user, module, now)
