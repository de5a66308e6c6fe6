"""Quiz statistics as Moodle's quiz statistics report defines them.

- facility index: the mean share of a question's points that the attempts earned;
- discrimination index: the correlation (Pearson) between the score on the
  question and the score on the rest of the test, across attempts;
- score distribution: attempts per band of ten percentage points;
- most-missed options: the wrong options (or wrong short and numerical answers,
  or wrong pairs of a matching question) chosen most;
- for a matching question, the share of attempts that matched each left-hand
  item right (which pair is the hard one).

Computed over the graded (not expired) attempts of one version of the quiz, so
that a question's id always means the same question.
"""

from __future__ import annotations

import html
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from lms.content.quiz import normalise_short_answer

#: Below this many attempts the discrimination index says nothing useful.
MIN_ATTEMPTS_FOR_DISCRIMINATION = 2
#: Below this many submitted attempts the indices swing with every new attempt;
#: the page says so (a rule of thumb of item analysis, not a statistical test).
FEW_ATTEMPTS = 30


@dataclass(frozen=True)
class QuestionStats:
    """Per-question figures."""

    question: Mapping
    attempts: int
    facility_pct: float | None
    discrimination_pct: float | None
    #: (option HTML, escaped short or numerical answer, or "left → right" HTML of a
    #: wrong pair, times chosen) for wrong choices, most first.
    most_missed: list[tuple[str, int]]
    #: Matching: (left-hand item's HTML, percent of attempts that matched it right).
    pairs: list[tuple[str, float]] = field(default_factory=list)


@dataclass
class QuizStats:
    """Figures for a whole quiz version."""

    attempts: int = 0
    passed: int = 0
    #: Ten bands: [0,10), [10,20), …, [90,100].
    distribution: list[int] = field(default_factory=lambda: [0] * 10)
    mean_score: float | None = None
    questions: list[QuestionStats] = field(default_factory=list)

    @property
    def pass_rate_pct(self) -> float | None:
        """Share of attempts that passed."""
        return 100 * self.passed / self.attempts if self.attempts else None


def _pearson(xs: list[float], ys: list[float]) -> float | None:
    n = len(xs)
    if n < MIN_ATTEMPTS_FOR_DISCRIMINATION:
        return None
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mean_x) ** 2 for x in xs)
    syy = sum((y - mean_y) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    return sxy / math.sqrt(sxx * syy)


def _band(score: Decimal | float) -> int:
    return min(9, int(float(score) // 10))


def quiz_statistics(
    questions: Sequence[Mapping], attempts: Iterable[tuple[Decimal, bool, dict, dict]]
) -> QuizStats:
    """Statistics from (score_pct, passed, results, responses) of graded attempts."""
    stats = QuizStats()
    earned: dict[str, list[float]] = {q["id"]: [] for q in questions}
    totals: list[float] = []
    wrong_choices: dict[str, Counter[str]] = {q["id"]: Counter() for q in questions}
    #: Matching: per question, per pair id, how many attempts matched it right.
    pairs_right: dict[str, Counter[str]] = {q["id"]: Counter() for q in questions}
    scores = []
    for score, passed, results, responses in attempts:
        stats.attempts += 1
        stats.passed += bool(passed)
        stats.distribution[_band(score)] += 1
        scores.append(float(score))
        total = 0.0
        for question in questions:
            result = results.get(question["id"], {})
            got = float(result.get("earned", 0))
            earned[question["id"]].append(got)
            total += got
            response = responses.get(question["id"], [])
            if question["kind"] == "matching":
                _count_pairs(question, response, pairs_right[question["id"]])
            if not result.get("correct"):
                _count_wrong(question, response, wrong_choices)
        totals.append(total)
    stats.mean_score = sum(scores) / len(scores) if scores else None
    for question in questions:
        qid, points = question["id"], float(question["points"])
        earned_here = earned[qid]
        rest = [t - g for t, g in zip(totals, earned_here, strict=True)]
        r = _pearson(earned_here, rest)
        stats.questions.append(
            QuestionStats(
                question=question,
                attempts=len(earned_here),
                facility_pct=(
                    100 * sum(earned_here) / (points * len(earned_here)) if earned_here else None
                ),
                discrimination_pct=None if r is None else 100 * r,
                most_missed=wrong_choices[qid].most_common(3),
                pairs=[
                    (pair["html"], 100 * pairs_right[qid][pair["id"]] / len(earned_here))
                    for pair in question.get("pairs", [])
                ]
                if earned_here
                else [],
            )
        )
    return stats


def _count_pairs(question: Mapping, response: list[str], counter: Counter[str]) -> None:
    for pair, given in zip(question["pairs"], response, strict=False):
        if given == pair["match"]:
            counter[pair["id"]] += 1


def _count_wrong(question: Mapping, chosen: list[str], counters: dict[str, Counter[str]]) -> None:
    counter = counters[question["id"]]
    kind = question["kind"]
    if kind in ("short", "numerical"):
        if chosen and chosen[0].strip():
            # Learners' own text: escaped here, because the page shows option HTML as is.
            counter[html.escape(normalise_short_answer(chosen[0]))] += 1
        return
    if kind == "matching":
        choices = {c["id"]: c["html"] for c in question["choices"]}
        for pair, given in zip(question["pairs"], chosen, strict=False):
            if given and given != pair["match"] and given in choices:
                counter[f"{pair['html']} → {choices[given]}"] += 1
        return
    options = {o["id"]: o for o in question["options"]}
    for oid in chosen:
        option = options.get(oid)
        # A partial-credit option (an unchecked one worth, say, 50%) is a miss too.
        if option is not None and not option["correct"]:
            counter[option["html"]] += 1
