"""lms.assessments.gift and ``lms quiz from-gift``: Moodle GIFT into the Markdown quiz syntax."""

from __future__ import annotations

import html
import re
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lms.assessments.cli import quiz_cli
from lms.content.gift import (
    BLANK,
    GiftKind,
    QuizOption,
    QuizQuestion,
    ReportKind,
    TextFormat,
    convert_gift,
    decode_gift,
    parse_gift,
    quiz_module,
    title_from_filename,
)
from lms.content.quiz import QuestionKind, parse_quiz
from lms.courses.content import check_rendering, load_tree
from lms.markdown import render_markdown

FIXTURES = Path(__file__).parent / "fixtures" / "gift"
ALL_CONVERTIBLE = FIXTURES / "domande.gift"
NOT_CONVERTIBLE = FIXTURES / "non-convertibili.gift"
#: Partial credit, several right answers, numerical and matching questions (issue #18).
RICH = FIXTURES / "ricche.gift"

SINGLE, MULTIPLE, TRUE_FALSE, SHORT, NUMERICAL, MATCHING = (
    QuestionKind.SINGLE,
    QuestionKind.MULTIPLE,
    QuestionKind.TRUE_FALSE,
    QuestionKind.SHORT,
    QuestionKind.NUMERICAL,
    QuestionKind.MATCHING,
)


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def line_of(path: Path, marker: str) -> int:
    """The line of the GIFT file where *marker* first appears."""
    text = read(path)
    assert text.count(marker) == 1, marker
    return text[: text.index(marker)].count("\n") + 1


def visible(markdown: str) -> str:
    """What a learner sees of a Markdown fragment: rendered, tags off, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", render_markdown(markdown))).strip()


def options(question: QuizQuestion) -> list[tuple[str, bool]]:
    return [(option.text, option.correct) for option in question.options]


def only(gift: str) -> QuizQuestion:
    conversion = convert_gift(gift)
    assert conversion.not_converted == (), conversion.reports
    (question,) = conversion.questions
    return question


def not_converted(gift: str) -> list[tuple[int, str]]:
    conversion = convert_gift(gift)
    assert conversion.questions == ()
    return [(report.line, report.message) for report in conversion.not_converted]


def body_of(module: str) -> tuple[dict, str, int]:
    """Front matter, body and the body's first line of a module file."""
    assert module.startswith("---\n")
    end = module.index("\n---\n", 4)
    front = yaml.safe_load(module[4:end])
    first_line = module[: end + 5].count("\n") + 1
    return front, module[end + 5 :], first_line


@pytest.fixture(scope="module")
def converted() -> dict[int, QuizQuestion]:
    conversion = convert_gift(read(ALL_CONVERTIBLE))
    assert conversion.not_converted == ()
    assert conversion.found == len(conversion.questions) == 25
    return {question.gift_line: question for question in conversion.questions}


def question_at(converted: dict[int, QuizQuestion], marker: str) -> QuizQuestion:
    return converted[line_of(ALL_CONVERTIBLE, marker)]


# The fixture with every convertible construct -----------------------------


def test_single_choice_on_one_line(converted) -> None:
    question = question_at(converted, "Quale regolamento reca")
    assert question.kind is SINGLE
    assert question.text == "Quale regolamento reca le disposizioni comuni sui fondi 2021-2027?"
    assert options(question) == [
        ("Regolamento (UE) 2021/1060", True),
        ("Regolamento (UE) 1303/2013", False),
        ("Regolamento (UE) 2021/241", False),
    ]
    assert question.explanation == ""


def test_name_is_dropped_and_general_and_answer_feedback_become_the_explanation(
    converted,
) -> None:
    question = question_at(converted, "::RDC::")
    assert question.kind is SINGLE
    assert question.text == "Che cosa significa la sigla RDC?"
    assert options(question) == [
        ("Regolamento recante disposizioni comuni", True),
        ("Regolamento di coesione", False),
        ("Rendiconto di cassa", False),
    ]
    assert question.explanation == (
        'Il Regolamento (UE) 2021/1060 è il "Regolamento recante disposizioni comuni".\n'
        "\n"
        "- Risposta «Regolamento recante disposizioni comuni»: Esatto.\n"
        "- Risposta «Regolamento di coesione»: No: è il regolamento sulle disposizioni comuni."
    )


def test_weighted_answers_make_a_multiple_choice(converted) -> None:
    question = question_at(converted, "::Fondi::")
    assert question.kind is MULTIPLE
    assert options(question) == [("FESR", True), ("FSE+", True), ("FEASR", False)]
    assert question.explanation == "- Risposta «FEASR»: È un fondo della politica agricola comune."


def test_weights_adding_up_to_100_after_rounding_are_accepted(converted) -> None:
    question = question_at(converted, "Quali di questi sono fondi a gestione concorrente?")
    assert question.kind is MULTIPLE
    assert options(question) == [
        ("FESR", True),
        ("FSE+", True),
        ("FEAMPA", True),
        ("Horizon Europe", False),
    ]


@pytest.mark.parametrize(
    ("marker", "truth"),
    [
        ("Il FESR finanzia anche infrastrutture.{T}", True),
        ("Il FSE+ è gestito direttamente dalla Commissione.{F}", False),
        ("::Obiettivi::", True),
        ("L'Accordo di partenariato", False),
    ],
)
def test_true_false_in_every_spelling(converted, marker: str, *, truth: bool) -> None:
    question = question_at(converted, marker)
    assert question.kind is TRUE_FALSE
    assert options(question) == [("Vero", truth), ("Falso", not truth)]


def test_true_false_feedback_goes_to_the_wrong_and_the_right_option(converted) -> None:
    question = question_at(converted, "L'Accordo di partenariato")
    assert question.text == "L'Accordo di partenariato è adottato dal Parlamento europeo."
    assert question.explanation == (
        "L'Accordo è negoziato tra lo Stato membro e la Commissione.\n"
        "\n"
        "- Risposta «Vero»: No: lo adotta la Commissione.\n"
        "- Risposta «Falso»: Giusto."
    )


def test_short_answer_keeps_the_full_credit_answers_once_and_the_feedback(converted) -> None:
    question = question_at(converted, "Qual è la sigla del Fondo")
    assert question.kind is SHORT
    assert question.options == ()
    # "fesr" repeats "FESR" (answers are compared ignoring case): kept once.
    # The 0% "*" answer only carries the feedback for any other answer.
    assert question.answers == ("FESR", "ERDF")
    assert question.explanation == (
        "- Risposta «ERDF»: È la sigla inglese.\n- Qualsiasi altra risposta: Non è la sigla giusta."
    )


def test_exact_numbers_become_numerical_questions(converted) -> None:
    # A plain number alone would be a short answer: "± 0" keeps them numerical.
    assert question_at(converted, "{#2021}").answers == ("2021 ± 0",)
    assert question_at(converted, "{#=7:0}").answers == ("7 ± 0",)
    decimal = question_at(converted, "{#0.85")
    assert decimal.kind is NUMERICAL
    # Written with the Italian decimal comma; learners may type a comma or a point.
    assert decimal.answers == ("0,85 ± 0",)
    assert decimal.explanation == (
        "- Risposta «0,85»: Cioè l'85%.\n- Qualsiasi altra risposta: Vedi l'articolo 112 del RDC."
    )


def test_missing_word_puts_a_blank_in_the_text(converted) -> None:
    choice = question_at(converted, "Il periodo di programmazione in corso")
    assert (
        choice.text == f"Il periodo di programmazione in corso è il {BLANK} e segue il precedente."
    )
    assert choice.kind is SINGLE
    assert options(choice) == [("2014-2020", False), ("2021-2027", True), ("2028-2034", False)]
    short = question_at(converted, "è detto {")
    assert short.text == f"Il Regolamento (UE) 2021/1060 è detto {BLANK}."
    assert short.answers == ("RDC", "regolamento sulle disposizioni comuni")
    assert visible(choice.text) == choice.text  # the blank is not emphasis or a rule


def test_comment_inside_a_question_and_an_answer_on_two_lines(converted) -> None:
    question = question_at(converted, "Chi approva i programmi?")
    assert options(question) == [("La Commissione europea", True), ("Il Consiglio dell'UE", False)]


def test_html_becomes_markdown(converted) -> None:
    question = question_at(converted, "::HTML::")
    assert question.text == (
        "Quale **articolo** del RDC tratta la *concentrazione tematica*? Una sola risposta."
    )
    assert options(question) == [
        ("Nessuno: è nei regolamenti **specifici** dei fondi", True),
        ("L'articolo 5 &lt;b>(obiettivi)&lt;/b>", False),  # [plain]: shown as written
        ("L'articolo **22**", False),  # [markdown]: kept
    ]
    assert question.explanation == (
        "Lo dicono i regolamenti **specifici**.\n\nPer il FESR, l'articolo 4."
    )
    assert visible(question.options[1].text) == "L'articolo 5 <b>(obiettivi)</b>"


def test_markdown_plain_and_moodle_formats(converted) -> None:
    markdown = question_at(converted, "[markdown]Quale fondo")
    assert markdown.text == "Quale fondo sostiene la **transizione giusta**?"
    assert markdown.explanation == "- Risposta «JTF»: Il *Just Transition Fund*."
    plain = question_at(converted, "[plain]Quale separatore")
    assert plain.text == (
        'Quale separatore decimale si usa in italiano, "," o "."? Vale 2\\*3=6 e a_b_c.'
    )
    assert visible(plain.text) == (
        'Quale separatore decimale si usa in italiano, "," o "."? Vale 2*3=6 e a_b_c.'
    )
    moodle = question_at(converted, "[moodle]")
    assert (
        moodle.text == "Il testo in formato Moodle va a capo qui, e *supporta* l'HTML & le entità."
    )
    link = question_at(converted, "[html]Il testo del")
    assert (
        link.text
        == "Il testo del [RDC](https://eur-lex.europa.eu/eli/reg/2021/1060/oj) è su EUR-Lex."
    )


def test_escaped_control_characters_everywhere(converted) -> None:
    question = question_at(converted, "Nel GIFT, quale segno")
    assert question.text == "Nel GIFT, quale segno indica la risposta giusta: = oppure ~?"
    assert [visible(text) for text, _ in options(question)] == [
        "= (uguale)",
        "~ (tilde)",
        "# (cancelletto)",
        "{ e } (graffe)",
        "\\ (barra rovesciata)",
    ]
    assert [correct for _, correct in options(question)] == [True, False, False, False, False]
    assert question.explanation == (
        "- Risposta «= (uguale)»: Esatto: = indica la risposta giusta.\n"
        "- Risposta «~ (tilde)»: No: ~ indica una risposta sbagliata."
    )


def test_escapes_that_would_break_the_heading(converted) -> None:
    hashes = question_at(converted, "Quale carattere è questo")
    assert hashes.text == "Quale carattere è questo: \\#"  # not a closing '#' of the heading
    assert hashes.answers == ("il cancelletto", "hash")
    braces = question_at(converted, "Una domanda che finisce con graffe")
    assert braces.text == "Una domanda che finisce con graffe: {punti=2&#125;"  # not {points=N}
    assert visible(braces.text) == "Una domanda che finisce con graffe: {punti=2}"
    newline = question_at(converted, "Prima riga")
    assert newline.text == "Prima riga seconda riga della domanda."


def test_options_that_look_like_markdown_show_as_written(converted) -> None:
    question = question_at(converted, "[plain]Quale di queste opzioni")
    shown = [visible(text) for text, _ in options(question)]
    assert shown == [
        "[x] già spuntata",
        "- un elenco",
        "> una citazione",
        "1. un elenco numerato",
        "# un titolo",
        "*enfasi* e `codice`",
        "<b>tag</b> &amp; entità",
        "___",
    ]
    assert options(question)[0] == ("\\[x\\] già spuntata", True)


def test_every_question_is_worth_one_point_and_the_category_is_a_note() -> None:
    conversion = convert_gift(read(ALL_CONVERTIBLE))
    assert conversion.complete
    thirds = line_of(ALL_CONVERTIBLE, "Quali di questi sono fondi a gestione concorrente?")
    assert [(r.line, r.kind) for r in conversion.reports] == [
        (5, ReportKind.NOTE),
        (thirds, ReportKind.NOTE),  # no negative weight: ticking every box is full credit
    ]
    assert "$course$/top/Politica di coesione/Fondi" in conversion.reports[0].message
    assert "ticking every box earns full credit" in conversion.reports[1].message
    module = quiz_module(conversion.questions, "Verifica")
    assert "{points=" not in module
    assert "Politica di coesione/Fondi" not in module  # not shown to learners
    assert "RDC::" not in module  # nor the question names


# Round trip ----------------------------------------------------------------


@pytest.mark.parametrize("path", [ALL_CONVERTIBLE, NOT_CONVERTIBLE, RICH])
def test_the_module_parses_back_into_the_same_questions(path: Path) -> None:
    conversion = convert_gift(read(path))
    module = quiz_module(conversion.questions, "Verifica: fondi «SIE»")
    front, body, first_line = body_of(module)
    assert front == {"title": "Verifica: fondi «SIE»", "type": "quiz"}
    questions, errors = parse_quiz(body, first_line=first_line)
    assert errors == []
    assert len(questions) == len(conversion.questions)
    for parsed, question in zip(questions, conversion.questions, strict=True):
        assert parsed.text == question.text
        assert parsed.kind is question.kind
        assert parsed.points == 1
        assert [(o.text, o.correct) for o in parsed.options] == options(question)
        assert [o.weight for o in parsed.options] == [o.weight for o in question.options]
        assert parsed.answers == question.answers
        weights = question.answer_weights or (None,) * len(question.answers)
        assert parsed.answer_credits == tuple(Decimal(100) if w is None else w for w in weights)
        assert [(p.left, p.right) for p in parsed.pairs] == list(question.pairs)
        assert parsed.explanation == question.explanation


def test_the_module_passes_the_content_checker(tmp_path: Path) -> None:
    course = tmp_path / "content" / "fondi-sie"
    course.mkdir(parents=True)
    (course / "course.md").write_text("---\ntitle: Fondi SIE\nhours: 2\n---\n\nCorso.\n")
    module = quiz_module(convert_gift(read(ALL_CONVERTIBLE)).questions, "Verifica finale")
    (course / "01-verifica-finale.md").write_text(module, encoding="utf-8")
    courses, errors = load_tree(tmp_path / "content")
    assert errors == []
    assert check_rendering(courses) == []
    (quiz,) = courses[0].modules
    assert quiz.title == "Verifica finale"
    assert len(quiz.questions) == 25


# What is not converted, with its line ---------------------------------------


def test_every_kind_of_not_converted_question_is_reported_with_its_line() -> None:
    conversion = convert_gift(read(NOT_CONVERTIBLE))
    at = lambda marker: line_of(NOT_CONVERTIBLE, marker)  # noqa: E731
    expected = [
        (at("::Saggio::"), "essay question ({})"),
        (at("Questo è solo un testo descrittivo"), "description without an answer block"),
        (at("::Numero parziale::"), "no value worth 100%"),
        (at("::Non numero::"), "'sette' is not a number"),
        (at("::Tolleranza negativa::"), "the tolerance -1 is negative"),
        (at("::Intervallo rovesciato::"), "numerical range '8..6' goes down"),
        (at("::Jolly::"), "the answer 'FE*' uses '*' as a wildcard"),
        (at("::Pesi::"), "the weights of the right answers add up to 80%, not 100%"),
        (at("::Doppione::"), "the answer 'fesr' appears twice"),
        (at("::Nessuna giusta::"), "no right answer"),
        (at("::Uguale e peso::"), "no answer worth 100%"),
        (at("::Una sola::"), "needs at least two answers"),
        (at("::Una coppia::"), "a matching question needs at least two pairs"),
        (at("::Coppia senza freccia::"), "matching answer 'FSE+' without '->'"),
        (at("::Immagine::"), "refers to a file kept in Moodle (@@PLUGINFILE@@)"),
        (at("::Link::"), "link to 'view.php?id=3', which is not a full http(s) address"),
        (at("::Senza testo::"), "no question text"),
        (at("::Vero e falso::"), "a true/false question needs exactly one checked answer"),
        (at("Graffa aperta"), "'{' without a closing '}'"),
        (at("Graffa chiusa"), "'}' without an opening '{'"),
        (at("Due blocchi"), "a second '{' or '}' after the answers"),
        (at("Domanda senza una riga vuota"), "no blank line after $CATEGORY"),
    ]
    reported = [(report.line, report.message) for report in conversion.not_converted]
    assert len(reported) == len(expected)
    for (line, message), (expected_line, fragment) in zip(reported, expected, strict=True):
        assert line == expected_line, (message, fragment)
        assert fragment in message, (line, message)
    assert [(r.line, r.kind) for r in conversion.reports if r.kind is ReportKind.NOTE] == [
        (at("$CATEGORY: $course$/top/Da rivedere"), ReportKind.NOTE),
        (at("$CATEGORY: Altra categoria"), ReportKind.NOTE),
    ]
    assert [q.text for q in conversion.questions] == ["Una domanda che si converte."]
    assert conversion.found == 23
    assert not conversion.complete


def test_a_partial_credit_answer_keeps_its_weight() -> None:
    question = only("Chi?{\n=Nazareth\n=%75%Nazereth#Quasi.\n}")
    assert (question.kind, question.answers) == (SHORT, ("Nazareth", "Nazereth"))
    assert question.answer_weights == (None, Decimal(75))
    assert (
        question.markdown()
        == "## Chi?\n= Nazareth\n= {75%} Nazereth\n\n> - Risposta «Nazereth»: Quasi.\n"
    )


def test_a_0_percent_short_answer_only_adds_its_feedback() -> None:
    question = only("Il fondo per la pesca?{=FEAMPA =%0%FEASR#Quello è agricolo.}")
    assert question.answers == ("FEAMPA",)
    assert question.explanation == "- Risposta «FEASR»: Quello è agricolo."


def test_a_literal_star_in_a_short_answer_is_not_a_wildcard() -> None:
    assert only("Quanto fa 2 per 3, scritto con il segno?{=2\\*3}").answers == ("2*3",)


def test_negative_weights_are_wrong_options_and_positive_ones_right() -> None:
    question = only("Quali?{~%-50%No ~%50%Sì ~%50%Anche ~%-50%Neppure}")
    assert options(question) == [("No", False), ("Sì", True), ("Anche", True), ("Neppure", False)]
    assert question.kind is MULTIPLE


def test_a_single_positive_weight_of_100_is_a_single_choice() -> None:
    question = only("Quale?{~%100%Questa ~Quella ~%-100%Nessuna}")
    assert question.kind is SINGLE
    assert options(question) == [("Questa", True), ("Quella", False), ("Nessuna", False)]


def test_duplicate_options_after_normalisation_are_not_written() -> None:
    assert not_converted("Quale?{=FESR ~ fesr }") == [
        (1, "the answer 'fesr' appears twice in the question")
    ]


# Reading GIFT as Moodle reads it --------------------------------------------


def test_kinds_are_decided_as_moodle_decides_them() -> None:
    items = parse_gift(
        "$CATEGORY: tom/dick\n\nA{}\n\nB{#1}\n\nC{~a =b}\n\nD{=a->b =c->d}\n\n"
        "E{T}\n\nF{true}\n\nG{=a}\n\nH\n\nI{=a"
    )
    assert [item.kind for item in items] == [
        GiftKind.CATEGORY,
        GiftKind.ESSAY,
        GiftKind.NUMERICAL,
        GiftKind.MULTIPLE_CHOICE,
        GiftKind.MATCHING,
        GiftKind.TRUE_FALSE,
        GiftKind.SHORT_ANSWER,  # Moodle's T/F keywords are upper case only
        GiftKind.SHORT_ANSWER,
        GiftKind.DESCRIPTION,
        GiftKind.INVALID,
    ]
    assert [item.line for item in items] == [1, 3, 5, 7, 9, 11, 13, 15, 17, 19]


def test_escapes_and_a_literal_backslash() -> None:
    (item,) = parse_gift(r"Segni \: \# \= \{ \} \~ e \\ e \\= e \n fine?{~\\=a ~b}")
    assert item.text.text == "Segni : # = { } ~ e \\ e \\= e \n fine?"
    # "\\=" is a backslash and then an answer marker, as in Moodle.
    assert [(a.prefix, a.text.text) for a in item.answers] == [("~", "\\"), ("=", "a"), ("~", "b")]


def test_names_formats_and_feedback_are_read() -> None:
    (item,) = parse_gift("::Il nome\\: uno::[html]<p>Testo</p>{=[plain]a#[markdown]*bene* ~b}")
    assert item.name == "Il nome: uno"
    assert (item.text.text, item.text.format) == ("<p>Testo</p>", TextFormat.HTML)
    right, wrong = item.answers
    assert (right.text.text, right.text.format) == ("a", TextFormat.PLAIN)
    assert right.feedback is not None
    assert (right.feedback.text, right.feedback.format) == ("*bene*", TextFormat.MARKDOWN)
    assert wrong.text.format is TextFormat.HTML  # answers default to the question's format


def test_comment_lines_and_blank_lines_separate_and_count() -> None:
    items = parse_gift("// a\n// b\n\n  // c\n  ::N::\n  Q?{\n// d\n  =x\n  ~y}\n\n\n\nR{T}\n")
    assert [(item.line, item.name) for item in items] == [(5, "N"), (13, "")]
    assert [answer.line for answer in items[0].answers] == [8, 9]


def test_general_feedback_in_html_keeps_paragraphs_and_lists() -> None:
    question = only(
        "[html]Scegli.{=a ~b####<p>Vedi:</p><ul><li>1. primo</li><li><b>secondo</b></li></ul>Fine.}"
    )
    assert question.explanation == "Vedi:\n\n- 1\\. primo\n- **secondo**\n\nFine."
    assert "<li>1. primo</li>" in render_markdown(question.explanation)


def test_moodle_format_line_breaks_become_paragraphs_in_the_explanation() -> None:
    question = only("Scegli.{=a ~b####Prima riga\\nseconda riga}")
    assert question.explanation == "Prima riga\n\nseconda riga"


def test_html_emphasis_code_and_unknown_tags() -> None:
    question = only(
        "[html]<div>Il <span>codice</span> <code>a*b</code> e <strong> forte </strong>"
        " m<sup>2</sup><script>x()</script></div>{=a ~b}"
    )
    assert question.text == "Il codice `a*b` e **forte** m<sup>2</sup>"
    assert visible(question.text) == "Il codice a*b e forte m2"


def test_an_image_at_a_full_address_is_kept() -> None:
    question = only('[html]Grafico: <img src="https://example.org/g.png" alt="spesa">{=a ~b}')
    assert question.text == "Grafico: ![spesa](https://example.org/g.png)"


def test_heading_text_never_starts_a_block() -> None:
    assert only("[plain]# titolo?{=a ~b}").text == "\\# titolo?"
    assert only("[plain]- elenco?{=a ~b}").text == "\\- elenco?"
    assert only("{=a ~b} è la risposta").text == f"{BLANK} è la risposta"


# Files and titles ----------------------------------------------------------


def test_decoding_utf8_with_bom_then_cp1252() -> None:
    assert decode_gift("\ufeffPerché?{T}\r\n".encode()) == ("Perché?{T}\n", "utf-8")
    assert decode_gift("Perché €?{T}".encode("cp1252")) == ("Perché €?{T}", "cp1252")
    with pytest.raises(UnicodeDecodeError):
        decode_gift(b"\x81\x8d\x8f\x90\x9d")


@pytest.mark.parametrize(
    ("stem", "title"),
    [("verifica_fondi-SIE", "Verifica fondi SIE"), ("quiz", "Quiz"), ("--", "Quiz")],
)
def test_title_from_the_file_name(stem: str, title: str) -> None:
    assert title_from_filename(stem) == title


def test_the_module_file_layout() -> None:
    question = QuizQuestion(
        gift_line=1,
        text="Quale?",
        kind=SINGLE,
        options=(QuizOption("a", correct=True), QuizOption("b", correct=False)),
        explanation="Perché.\n\nSì.",
    )
    assert quiz_module([question], "Titolo: due punti") == (
        "---\ntitle: 'Titolo: due punti'\ntype: quiz\n---\n\n"
        "## Quale?\n- [x] a\n- [ ] b\n\n> Perché.\n>\n> Sì.\n"
    )


# The command ---------------------------------------------------------------


def run(*args: str):
    return CliRunner().invoke(quiz_cli, ["from-gift", *args])


def test_cli_converts_everything_and_exits_0(tmp_path: Path) -> None:
    output = tmp_path / "01-verifica.md"
    result = run(str(ALL_CONVERTIBLE), "-o", str(output))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{output}: 25 questions written"
    thirds = line_of(ALL_CONVERTIBLE, "Quali di questi sono fondi a gestione concorrente?")
    assert result.stderr.splitlines() == [
        (
            f"{ALL_CONVERTIBLE}:5: note: category '$course$/top/Politica di coesione/Fondi'"
            " (Moodle's question bank) is not kept in the quiz"
        ),
        (
            f"{ALL_CONVERTIBLE}:{thirds}: note: no wrong answer takes points away: ticking every"
            " box earns full credit, as in Moodle (give the wrong answers negative weights such"
            " as {-50%})"
        ),
    ]
    module = output.read_text(encoding="utf-8")
    assert module == quiz_module(convert_gift(read(ALL_CONVERTIBLE)).questions, "Domande")
    front, _, _ = body_of(module)
    assert front == {"title": "Domande", "type": "quiz"}


def test_cli_lists_what_it_skips_writes_the_rest_and_exits_1(tmp_path: Path) -> None:
    output = tmp_path / "quiz.md"
    result = run(str(NOT_CONVERTIBLE), "-o", str(output), "--title", "Da rivedere")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if ": not converted: " in line]
    expected = [
        report.format(str(NOT_CONVERTIBLE))
        for report in convert_gift(read(NOT_CONVERTIBLE)).not_converted
    ]
    assert lines == expected
    assert len(lines) == 22
    assert lines[0] == (
        f"{NOT_CONVERTIBLE}:{line_of(NOT_CONVERTIBLE, '::Saggio::')}: not converted:"
        " essay question ({}): it needs a person to mark it, and the Markdown quiz has no"
        " essay questions"
    )
    assert (
        result.stdout.strip()
        == f"{output}: 1 question written, 22 not converted (listed on stderr)"
    )
    front, body, _ = body_of(output.read_text(encoding="utf-8"))
    assert front == {"title": "Da rivedere", "type": "quiz"}
    assert body == "\n## Una domanda che si converte.\n- [x] sì\n- [ ] no\n"


def test_cli_reads_cp1252_and_says_so(tmp_path: Path) -> None:
    source = tmp_path / "vecchio.gift"
    source.write_bytes("Qual è la valuta dell'UE?{=l'euro (€) ~la lira}".encode("cp1252"))
    output = tmp_path / "out.md"
    result = run(str(source), "-o", str(output))
    assert result.exit_code == 0
    assert result.stderr.strip() == f"{source}: note: not UTF-8, read as Windows-1252"
    assert "- [x] l'euro (€)" in output.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"// solo commenti\n\n$CATEGORY: vuota\n", "no questions found; nothing written"),
        (b"", "no questions found; nothing written"),
        (b"Descrivi.{}", "no question could be converted; nothing written"),
        (b"\x81\x8d\x8f", "not a text file (neither UTF-8 nor Windows-1252)"),
    ],
)
def test_cli_exits_2_when_nothing_can_be_written(
    tmp_path: Path, content: bytes, message: str
) -> None:
    source = tmp_path / "banca.gift"
    source.write_bytes(content)
    output = tmp_path / "out.md"
    result = run(str(source), "-o", str(output))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == f"{source}: {message}"
    assert "Traceback" not in result.output
    assert not output.exists()


def test_cli_exits_2_on_a_missing_file_and_bad_usage(tmp_path: Path) -> None:
    missing = run(str(tmp_path / "assente.gift"), "-o", str(tmp_path / "out.md"))
    assert missing.exit_code == 2
    assert missing.stderr.startswith(f"{tmp_path / 'assente.gift'}: cannot read the file:")
    assert "Traceback" not in missing.output
    assert run(str(ALL_CONVERTIBLE)).exit_code == 2  # no -o
    assert run(str(ALL_CONVERTIBLE), "-o", str(tmp_path / "x.md"), "-t", " ").exit_code == 2
    same = run(str(ALL_CONVERTIBLE), "-o", str(ALL_CONVERTIBLE))
    assert same.exit_code == 2
    assert "would replace the GIFT file" in same.stderr
    unwritable = run(str(ALL_CONVERTIBLE), "-o", str(tmp_path / "no" / "such" / "dir.md"))
    assert unwritable.exit_code == 2
    assert "cannot write the file" in unwritable.stderr


# Any input -----------------------------------------------------------------

_PIECES = st.sampled_from(
    [
        "{", "}", "~", "=", "#", "####", "%50%", "%-100%", "%100%", "->", "::", ":", "\\",
        "\\=", "\\{", "\\n", "//", "$CATEGORY: x", "[html]", "[plain]", "[markdown]", "<b>",
        "</b>", "<p>", "<img src='x'>", "&amp;", "T", "FALSE", "#1..2", "#3:0", "*", "_____",
        "- ", "> ", "1. ", "`", "[x]", "\n", "\n\n", " ", "Vero", "Falso", "sì", "no", "FESR",
        "#1:2", "#=1:0 =%50%2:1", "%33.33333%", "%-50%", "→", "1e3", "..", "±", "{50%}",
        "=a->b =c->d", "= -> e", "-> ->", "=%50%",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECES | st.text(max_size=3), max_size=40).map("".join))
def test_any_input_gives_a_valid_module_and_accounts_for_every_item(gift: str) -> None:
    conversion = convert_gift(gift)
    assert conversion.found == len(conversion.questions) + len(conversion.not_converted)
    if conversion.questions:
        _, body, first_line = body_of(quiz_module(conversion.questions, "Prova"))
        questions, errors = parse_quiz(body, first_line=first_line)
        assert errors == []
        assert len(questions) == len(conversion.questions)


# Partial credit, several right answers, numerical and matching questions (issue #18) --------


@pytest.fixture(scope="module")
def rich() -> dict[int, QuizQuestion]:
    conversion = convert_gift(read(RICH))
    assert conversion.not_converted == (), conversion.not_converted
    assert conversion.found == len(conversion.questions) == 16
    return {question.gift_line: question for question in conversion.questions}


def rich_at(rich: dict[int, QuizQuestion], marker: str) -> QuizQuestion:
    return rich[line_of(RICH, marker)]


def weighted(question: QuizQuestion) -> list[tuple[str, bool, Decimal | None]]:
    return [(o.text, o.correct, o.weight) for o in question.options]


def test_partial_credit_of_a_single_choice_keeps_its_weight(rich) -> None:
    question = rich_at(rich, "::Parziale singola::")
    assert question.kind is SINGLE
    assert weighted(question) == [
        ("2021/1058", True, None),
        ("2021/1060", False, Decimal(50)),
        ("1303/2013", False, None),
    ]
    assert "- Risposta «2021/1060»: È il regolamento sulle disposizioni comuni: vale metà." in (
        question.explanation
    )


def test_several_fully_right_answers_are_any_of_them(rich) -> None:
    question = rich_at(rich, "::Due giuste::")
    assert question.kind is SINGLE  # radio buttons: one of them is enough
    assert weighted(question) == [
        ("FESR", True, Decimal(100)),
        ("FSE+", True, Decimal(100)),
        ("Horizon Europe", False, None),
    ]


def test_an_equals_answer_with_a_weight_is_partial_credit(rich) -> None:
    question = rich_at(rich, "Come si chiama il fondo per la pesca?")
    assert weighted(question) == [
        ("FEAMPA", True, None),
        ("FEAMP", False, Decimal(50)),
        ("FESR", False, None),
    ]


def test_short_answers_keep_their_weights_and_0_percent_ones_their_feedback(rich) -> None:
    question = rich_at(rich, "::Breve parziale::")
    assert question.kind is SHORT
    assert (question.answers, question.answer_weights) == (
        ("Autorità di gestione", "AdG"),
        (None, Decimal(50)),
    )
    assert "- Risposta «Commissione»: No: la Commissione approva il programma." in (
        question.explanation
    )


def test_multiple_answers_keep_positive_and_negative_weights(rich) -> None:
    question = rich_at(rich, "::Pesi negativi::")
    assert question.kind is MULTIPLE
    assert weighted(question) == [
        ("FESR", True, Decimal(50)),
        ("FSE+", True, Decimal(50)),
        ("Horizon Europe", False, Decimal(-50)),
        ("LIFE", False, Decimal(-50)),
    ]
    thirds = rich_at(rich, "Quali documenti servono")
    assert [o.weight for o in thirds.options] == [Decimal("33.33333")] * 3 + [Decimal(-100)]
    assert "- [x] {33,33333%} La strategia" in thirds.markdown()  # the Italian decimal comma


def test_a_multiple_choice_without_negative_weights_is_converted_with_a_note() -> None:
    conversion = convert_gift(read(RICH))
    notes = {r.line: r.message for r in conversion.reports if r.kind is ReportKind.NOTE}
    assert (
        "ticking every box earns full credit, as in Moodle"
        in notes[line_of(RICH, "Quali sono fondi strutturali?")]
    )
    assert (
        "the weight -100% of 'FEASR' is not kept"
        in notes[line_of(RICH, "Quale fondo finanzia l'occupazione?")]
    )
    assert weighted(
        rich_at({q.gift_line: q for q in conversion.questions}, "Quale fondo finanzia")
    ) == [
        ("FSE+", True, None),
        ("FESR", False, None),
        ("FEASR", False, None),
    ]


def test_numerical_tolerances_ranges_and_weights(rich) -> None:
    assert rich_at(rich, "::Tolleranza::").answers == ("27 ± 1",)
    assert rich_at(rich, "::Intervallo::").answers == ("6..8",)
    decimals = rich_at(rich, "::Decimali::")
    assert decimals.kind is NUMERICAL
    assert decimals.answers == ("0,85 ± 0,005",)
    assert decimals.explanation == (
        "- Risposta «0,85 ± 0,005»: Cioè l'85%.\n"
        "- Qualsiasi altra risposta: Vedi l'articolo 112 del RDC."
    )
    several = rich_at(rich, "::Più valori::")
    assert (several.answers, several.answer_weights) == (
        ("2021 ± 0", "2021 ± 1"),
        (None, Decimal(50)),
    )
    assert several.explanation == (
        "- Risposta «2021»: Esatto.\n- Risposta «2021 ± 1»: Ci sei vicino: vale metà."
    )
    gap = rich_at(rich, "Quante cifre ha il codice ISTAT")
    assert (gap.text, gap.answers) == (
        f"Quante cifre ha il codice ISTAT di un comune? Sono {BLANK}.",
        ("6 ± 0",),
    )


def test_matching_questions_keep_their_pairs_and_distractors(rich) -> None:
    funds = rich_at(rich, "::Abbinamento::")
    assert funds.kind is MATCHING
    assert funds.pairs == (
        ("FESR", "sviluppo regionale"),
        ("FSE+", "occupazione e inclusione"),
        ("JTF", "transizione giusta"),
    )
    assert funds.explanation == "Lo dicono i regolamenti dei fondi."
    one_line = rich_at(rich, "Abbina ogni città alla sua regione.")
    assert one_line.pairs == (("Napoli", "Campania"), ("Catanzaro", "Calabria"), ("Bari", "Puglia"))
    distractor = rich_at(rich, "Abbina ogni autorità")
    assert distractor.pairs[-1] == ("", "approva il bilancio dello Stato")
    assert distractor.markdown().splitlines()[-1] == "- -> approva il bilancio dello Stato"


def test_the_rich_module_is_graded_as_moodle_grades_it() -> None:
    """The converted module, stored as the sync stores it: its key gives Moodle's credits."""
    from lms.assessments.grading import grade  # noqa: PLC0415
    from lms.content.quiz import question_payload  # noqa: PLC0415

    _, body, first_line = body_of(quiz_module(convert_gift(read(RICH)).questions, "Ricche"))
    questions, errors = parse_quiz(body, first_line=first_line)
    assert errors == []
    stored = [
        question_payload(f"q{n}", q, inline=str, block=str) for n, q in enumerate(questions, 1)
    ]
    by_text = {q["text_html"][:30]: q for q in stored}

    def credit(start: str, *response: str) -> Decimal:
        question = by_text[start[:30]]
        return grade([question], {question["id"]: response}, 60).results[0].earned

    assert credit("Qual è il regolamento del FESR", "b") == Decimal("0.5")
    assert credit("Quale di questi è un fondo del", "b") == 1
    assert credit("Quali fondi sono a gestione co", "a", "c") == 0
    assert credit("Quali fondi sono a gestione co", "a", "b", "c") == Decimal("0.5")
    assert credit("In che anno è iniziata la prog", "2020") == Decimal("0.5")
    assert credit("Quanti sono gli Stati membri d", "28") == 1
    assert credit("Quanti sono gli Stati membri d", "29") == 0
    assert credit("Qual è il tasso massimo di cof", "0,854") == 1


# The quiz's language ----------------------------------------------------------------------------


def test_an_english_quiz_gets_english_words_and_decimal_points() -> None:
    conversion = convert_gift(
        "Il FESR finanzia anche infrastrutture.{T#No.#Yes.}\n\n"
        "Quanto vale?{#0.85:0.01#Right.~#See article 112.}\n\n"
        "Sigla?{=ERDF =%50%FESR#Half.}",
        "en",
    )
    true_false, numerical, short = conversion.questions
    assert options(true_false) == [("True", True), ("False", False)]
    assert true_false.explanation == "- Answer “True”: Yes.\n- Answer “False”: No."
    assert numerical.answers == ("0.85 ± 0.01",)
    assert (
        numerical.explanation
        == "- Answer “0.85 ± 0.01”: Right.\n- Any other answer: See article 112."
    )
    assert "= {50%} FESR" in short.markdown()
    assert "Vero" not in quiz_module(conversion.questions, "Quiz")
    assert "Risposta" not in quiz_module(conversion.questions, "Quiz")


def test_an_english_true_false_reads_back_as_true_false() -> None:
    (question,) = convert_gift("The sun rises in the east.{T}", "en").questions
    assert question.kind is TRUE_FALSE


def write_course_md(folder: Path, language: str | None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    extra = f"language: {language}\n" if language else ""
    (folder / "course.md").write_text(f"---\ntitle: Corso\nhours: 1\n{extra}---\n\nTesto.\n")


def test_cli_writes_in_the_language_of_the_course_it_writes_into(tmp_path: Path) -> None:
    source = tmp_path / "banca.gift"
    source.write_text("Il sole sorge a est.{T}\n\nQuanto?{#1.5:0.5}\n", encoding="utf-8")
    english = tmp_path / "english-course"
    write_course_md(english, "en")
    result = run(str(source), "-o", str(english / "02-quiz.md"))
    assert result.exit_code == 0, result.output
    module = (english / "02-quiz.md").read_text(encoding="utf-8")
    assert "- [x] True\n- [ ] False" in module
    assert "= 1.5 ± 0.5" in module
    italian = tmp_path / "corso-italiano"
    write_course_md(italian, None)  # Italian by default
    assert run(str(source), "-o", str(italian / "02-quiz.md")).exit_code == 0
    module = (italian / "02-quiz.md").read_text(encoding="utf-8")
    assert "- [x] Vero\n- [ ] Falso" in module
    assert "= 1,5 ± 0,5" in module


def test_cli_language_option_wins_and_a_different_course_language_is_noted(
    tmp_path: Path,
) -> None:
    source = tmp_path / "banca.gift"
    source.write_text("Il sole sorge a est.{T}\n", encoding="utf-8")
    course = tmp_path / "corso"
    write_course_md(course, "it")
    result = run(str(source), "-o", str(course / "02-quiz.md"), "--language", "en")
    assert result.exit_code == 0
    assert result.stderr.strip() == (
        f"{course / 'course.md'}: note: the course is in 'it'; writing in 'en' as asked"
    )
    assert "- [x] True" in (course / "02-quiz.md").read_text(encoding="utf-8")
    outside = run(str(source), "-o", str(tmp_path / "quiz.md"), "-l", "en")
    assert (outside.exit_code, outside.stderr) == (0, "")
    assert run(str(source), "-o", str(tmp_path / "x.md"), "-l", "fr").exit_code == 2
    assert run(str(source), "-o", str(tmp_path / "y.md")).exit_code == 0  # Italian by default
    assert "- [x] Vero" in (tmp_path / "y.md").read_text(encoding="utf-8")
