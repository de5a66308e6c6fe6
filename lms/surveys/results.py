"""A survey's results for trainers: counts, distributions, means and texts, for groups of five.

The groups are the whole survey module and each live edition of the course
that its respondents attended (the response says which, :func:`attended_edition`).
A group with fewer than :data:`MIN_GROUP` responses shows only how many it has;
so does a question answered fewer than :data:`MIN_GROUP` times in a group
(an optional one, or one changed since: only answers to its current wording
count, ``since`` in ``Module.survey_questions``).

Showing the whole and some of its parts could give away the rest by
subtraction: if the whole has 12 responses and the editions shown 9 of them, the
other 3 would be the whole minus the editions. So an edition is shown only when
what is left out of the editions shown is none or at least :data:`MIN_GROUP`;
otherwise the smallest edition shown is held back too. The same rule is applied
per question, on the answers to it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select

from lms.core.types import ROME
from lms.courses.models import Module, ModuleKind
from lms.extensions import db
from lms.live.models import LiveEdition
from lms.surveys.models import SurveyAnswer, SurveyResponse

__all__ = [
    "COLUMNS",
    "MIN_GROUP",
    "GroupResult",
    "QuestionResult",
    "SurveyResults",
    "download_rows",
    "response_counts",
    "survey_results",
    "visible_parts",
]

#: The fewest responses (or answers to a question) a group needs for its results to show.
MIN_GROUP = 5
_TENTH = Decimal("0.1")

#: The columns of the downloads (CSV, XLSX).
COLUMNS = (
    "group",
    "responses",
    "question_id",
    "question",
    "kind",
    "answered",
    "value",
    "label",
    "count",
    "mean",
    "answer",
)


def visible_parts(total: int, parts: dict[int, int], minimum: int = MIN_GROUP) -> set[int]:
    """The parts of a whole of *total* that may be shown beside it.

    A part shows with at least *minimum* members, and only while what is left
    out of the parts shown is none or at least *minimum* (else it could be
    worked out by subtraction): the smallest parts shown are then held back.
    """
    if total < minimum:
        return set()
    shown = {key for key, count in parts.items() if count >= minimum}
    while shown and 0 < total - sum(parts[key] for key in shown) < minimum:
        shown.remove(min(shown, key=lambda key: (parts[key], key)))
    return shown


@dataclass
class _Tally:
    """The answers of one group to one question."""

    answered: int = 0
    counts: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    texts: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class QuestionResult:
    """One question's results in one group; *shown* False: only *answered* may be shown."""

    question: dict
    answered: int
    shown: bool
    #: Per point of the scale (1 first), for a shown scale question.
    counts: tuple[int, ...] = ()
    #: The mean point, one decimal, for a shown scale question.
    mean: Decimal | None = None
    #: The free-text answers, in no meaningful order, for a shown text question.
    texts: tuple[str, ...] = ()

    @property
    def chart(self) -> dict[str, object]:
        """The data of the question's bar chart (js/charts.js)."""
        return {"labels": self.question["labels"], "counts": list(self.counts)}


@dataclass(frozen=True)
class GroupResult:
    """The results of one group: the whole survey (*edition* None) or one edition."""

    edition: LiveEdition | None
    responses: int
    shown: bool
    questions: tuple[QuestionResult, ...]

    @property
    def key(self) -> str:
        """How the downloads name the group."""
        if self.edition is None:
            return "all"
        start = self.edition.starts_at.astimezone(ROME).strftime("%Y-%m-%d %H:%M")
        return f"edition {self.edition.id} {start}"


@dataclass(frozen=True)
class SurveyResults:
    """A survey module's results: the whole, then each edition its respondents attended."""

    module: Module
    whole: GroupResult
    editions: tuple[GroupResult, ...]

    def group(self, edition_id: int | None) -> GroupResult | None:
        """The whole (None) or the group of one edition; None if it has no responses."""
        if edition_id is None:
            return self.whole
        return next((g for g in self.editions if g.edition and g.edition.id == edition_id), None)


def response_counts(module_ids: list[int]) -> dict[int, int]:
    """Per survey module id: how many responses it has (none: absent)."""
    if not module_ids:
        return {}
    rows = db.session.execute(
        select(SurveyResponse.module_id, func.count())
        .where(SurveyResponse.module_id.in_(module_ids))
        .group_by(SurveyResponse.module_id)
    )
    return {module_id: int(count) for module_id, count in rows}


def _mean(tally: _Tally) -> Decimal | None:
    if not tally.answered:
        return None
    total = sum(point * count for point, count in tally.counts.items())
    return (Decimal(total) / Decimal(tally.answered)).quantize(_TENTH, rounding=ROUND_HALF_UP)


def _question_result(question: dict, tally: _Tally, shown: bool) -> QuestionResult:  # noqa: FBT001
    if not shown:
        return QuestionResult(question, tally.answered, shown=False)
    if question["kind"] == "text":
        return QuestionResult(question, tally.answered, shown=True, texts=tuple(tally.texts))
    points = len(question["labels"])
    counts = tuple(tally.counts.get(point, 0) for point in range(1, points + 1))
    return QuestionResult(question, tally.answered, shown=True, counts=counts, mean=_mean(tally))


def _tallies(module: Module, questions: list[dict]) -> dict[int | None, dict[str, _Tally]]:
    """Per edition id (None: no edition) and question id: the answers that count.

    An answer counts when it was given to the question's current wording (the
    response's module version at least the question's ``since``) and, for a
    scale, is one of its points.
    """
    by_id = {q["id"]: q for q in questions}
    tallies: dict[int | None, dict[str, _Tally]] = defaultdict(lambda: defaultdict(_Tally))
    scale_rows = db.session.execute(
        select(
            SurveyResponse.edition_id,
            SurveyResponse.module_version,
            SurveyAnswer.question_id,
            SurveyAnswer.scale_value,
            func.count(),
        )
        .join(SurveyAnswer, SurveyAnswer.response_id == SurveyResponse.id)
        .where(SurveyResponse.module_id == module.id, SurveyAnswer.scale_value.is_not(None))
        .group_by(
            SurveyResponse.edition_id,
            SurveyResponse.module_version,
            SurveyAnswer.question_id,
            SurveyAnswer.scale_value,
        )
    )
    for edition_id, version, qid, value, count in scale_rows:
        question = by_id.get(qid)
        if question is None or question["kind"] != "scale" or version < question["since"]:
            continue
        if value is None or not 1 <= value <= len(question["labels"]):
            continue
        tally = tallies[edition_id][qid]
        tally.answered += int(count)
        tally.counts[value] += int(count)
    # Texts in the order of the responses' random ids: nothing to tell who wrote what.
    text_rows = db.session.execute(
        select(
            SurveyResponse.edition_id,
            SurveyResponse.module_version,
            SurveyAnswer.question_id,
            SurveyAnswer.text_value,
        )
        .join(SurveyAnswer, SurveyAnswer.response_id == SurveyResponse.id)
        .where(SurveyResponse.module_id == module.id, SurveyAnswer.text_value.is_not(None))
        .order_by(SurveyResponse.id, SurveyAnswer.question_id)
    )
    for edition_id, version, qid, text in text_rows:
        question = by_id.get(qid)
        if question is None or question["kind"] != "text" or version < question["since"]:
            continue
        if text is None:
            continue
        tally = tallies[edition_id][qid]
        tally.answered += 1
        tally.texts.append(text)
    return tallies


def _merged(groups: list[dict[str, _Tally]], qid: str) -> _Tally:
    merged = _Tally()
    for group in groups:
        tally = group.get(qid)
        if tally is None:
            continue
        merged.answered += tally.answered
        for point, count in tally.counts.items():
            merged.counts[point] += count
        merged.texts.extend(tally.texts)
    return merged


def survey_results(module: Module) -> SurveyResults:
    """The results of the survey *module*, with the rules above applied to every group."""
    if module.kind is not ModuleKind.SURVEY:
        raise ValueError("not a survey module")
    questions = list(module.survey_questions or [])
    responses = {
        edition_id: int(count)
        for edition_id, count in db.session.execute(
            select(SurveyResponse.edition_id, func.count())
            .where(SurveyResponse.module_id == module.id)
            .group_by(SurveyResponse.edition_id)
        )
    }
    total = sum(responses.values())
    per_edition = {key: count for key, count in responses.items() if key is not None}
    editions_shown = visible_parts(total, per_edition)
    tallies = _tallies(module, questions)

    whole_questions = []
    edition_questions: dict[int, list[QuestionResult]] = {key: [] for key in per_edition}
    for question in questions:
        qid = question["id"]
        whole = _merged(list(tallies.values()), qid)
        parts = {key: tallies[key][qid] for key in per_edition}
        answered = {key: tally.answered for key, tally in parts.items() if key in editions_shown}
        shown_here = visible_parts(whole.answered, answered)
        whole_questions.append(
            _question_result(question, whole, total >= MIN_GROUP and whole.answered >= MIN_GROUP)
        )
        for key, tally in parts.items():
            edition_questions[key].append(_question_result(question, tally, key in shown_here))

    editions = {
        edition.id: edition
        for edition in db.session.scalars(
            select(LiveEdition).where(LiveEdition.id.in_(list(per_edition)))
        )
    }
    groups = [
        GroupResult(
            editions[key],
            per_edition[key],
            shown=key in editions_shown,
            questions=tuple(edition_questions[key]),
        )
        for key in sorted(per_edition, key=lambda key: (editions[key].starts_at, key))
    ]
    return SurveyResults(
        module,
        GroupResult(None, total, shown=total >= MIN_GROUP, questions=tuple(whole_questions)),
        tuple(groups),
    )


def download_rows(results: SurveyResults) -> Iterator[list[object]]:
    """The rows of the downloads (:data:`COLUMNS`): each group, with the same rules as the page.

    A group held back is one row with its number of responses; a question held
    back, one row with its number of answers; a shown scale question, one row
    per point; a shown text question, one row per answer.
    """
    for group in (results.whole, *results.editions):
        head: list[object] = [group.key, group.responses]
        if not group.shown:
            yield [*head, *[None] * (len(COLUMNS) - len(head))]
            continue
        for result in group.questions:
            question = result.question
            about: list[object] = [question["id"], question["text"], question["kind"]]
            if not result.shown:
                yield [*head, *about, result.answered, None, None, None, None, None]
            elif question["kind"] == "text":
                for text in result.texts:
                    yield [*head, *about, result.answered, None, None, None, None, text]
            else:
                for point, (label, count) in enumerate(
                    zip(question["labels"], result.counts, strict=True), start=1
                ):
                    yield [*head, *about, result.answered, point, label, count, result.mean, None]
