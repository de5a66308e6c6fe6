"""Convert a Moodle GIFT question file into a quiz module in the Markdown quiz syntax.

Three steps, each in its own module, all pure (no Flask, no files):

- :mod:`~lms.content.gift.parser`: :func:`decode_gift` and :func:`parse_gift` read
  GIFT the way Moodle's importer does, into :class:`GiftItem` values.
- :mod:`~lms.content.gift.html_to_markdown`: question, answer and feedback texts
  (HTML, Moodle auto-format, plain, Markdown) become Markdown.
- :mod:`~lms.content.gift.convert`: :func:`convert_gift` turns each item into a
  :class:`QuizQuestion`, or a :class:`Report` saying why not; :func:`quiz_module`
  writes the module file.
"""

from lms.content.gift.convert import (
    FALSE_LABEL,
    LABELS,
    LANGUAGES,
    TRUE_LABEL,
    Conversion,
    Labels,
    QuizOption,
    QuizQuestion,
    Report,
    ReportKind,
    convert_gift,
    quiz_module,
    title_from_filename,
)
from lms.content.gift.parser import (
    BLANK,
    GiftAnswer,
    GiftItem,
    GiftKind,
    GiftPair,
    GiftText,
    TextFormat,
    decode_gift,
    parse_gift,
)

__all__ = [
    "BLANK",
    "FALSE_LABEL",
    "LABELS",
    "LANGUAGES",
    "TRUE_LABEL",
    "Conversion",
    "GiftAnswer",
    "GiftItem",
    "GiftKind",
    "GiftPair",
    "GiftText",
    "Labels",
    "QuizOption",
    "QuizQuestion",
    "Report",
    "ReportKind",
    "TextFormat",
    "convert_gift",
    "decode_gift",
    "parse_gift",
    "quiz_module",
    "title_from_filename",
]
