"""Text in the PDFs the product makes: the font shipped with the app and what it can print.

Certificates (lms.certificates.pdf) and attendance registers (lms.live.register_export)
set their text in Titillium Web, the public administration's typeface, shipped with
the app (OFL): a PDF reader needs no font of its own, and names outside Latin-1
(Łukasz, Dvořák) print. :func:`printable_text` spells what the font lacks with
letters it has, so that nothing vanishes from a page without a trace.
"""

from __future__ import annotations

import logging
import unicodedata
from functools import cache
from pathlib import Path

from fontTools.ttLib import TTFont

__all__ = ["FONT_DIR", "FONT_FAMILY", "FONT_FILES", "printable_text"]

# fpdf2 subsets the font with fontTools, which logs every glyph list at INFO.
logging.getLogger("fontTools").setLevel(logging.WARNING)

FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "fonts"
FONT_FAMILY = "Titillium"
FONT_FILES = {"": "TitilliumWeb-Regular.ttf", "B": "TitilliumWeb-SemiBold.ttf"}


@cache
def _printable() -> frozenset[int]:
    """Code points the embedded font has glyphs for."""
    cmap = set()
    for name in FONT_FILES.values():
        font = TTFont(FONT_DIR / name, lazy=True)
        cmap.update(font.getBestCmap())
        font.close()
    return frozenset(cmap)


def printable_text(text: str) -> str:
    """*text* with characters the font lacks replaced by their base letters, else by "?".

    The font covers every Latin alphabet of Europe; this only matters for other
    scripts, which would otherwise vanish from the page without a trace.
    """
    printable = _printable()
    out = []
    for ch in text:
        if ord(ch) in printable:
            out.append(ch)
            continue
        out.append(_fallback(ch, printable) or "?")
    return "".join(out)


def _fallback(ch: str, printable: frozenset[int]) -> str:
    """*ch* spelt with characters the font has: "Ǆ" as "DŽ", else its base letters."""
    spelt = unicodedata.normalize("NFC", unicodedata.normalize("NFKD", ch))
    out = []
    for c in spelt:
        if ord(c) in printable:
            out.append(c)
        else:
            out.extend(base for base in unicodedata.normalize("NFD", c) if ord(base) in printable)
    return "".join(out)
