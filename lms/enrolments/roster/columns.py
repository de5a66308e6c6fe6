"""The roster's columns: their names, the Italian headers accepted, the header check.

Header names are matched without regard to case, spaces or dashes, and the
Italian names in :data:`HEADER_ALIASES` are accepted. A column the roster does
not know is an error, not ignored: a misspelt ``Data assunzone`` would otherwise
drop every hiring date without a word.

The upload page explains the columns with :func:`column_guide` and offers an
empty roster headed :data:`TEMPLATE_HEADER`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from lms.core.messages import Message, _l
from lms.core.tabular import (
    EXTRA_CELLS,
    NUL,
    Header,
    Row,
    TableError,
    check_header,
    normalise_header,
)

REQUIRED_COLUMNS: Final = (
    "codice_fiscale",
    "first_name",
    "last_name",
    "email",
    "authority_code",
    "category",
)
OPTIONAL_COLUMNS: Final = ("profile", "hired_on", "left_on")
COLUMNS: Final = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

#: Header names an Italian HR office writes, as :func:`~lms.core.tabular.normalise_header`
#: leaves them ("Codice Fiscale" → ``codice_fiscale``, "E-mail" → ``e_mail``).
HEADER_ALIASES: Final[Mapping[str, str]] = {
    "cf": "codice_fiscale",
    "c.f.": "codice_fiscale",
    "codicefiscale": "codice_fiscale",
    "nome": "first_name",
    "cognome": "last_name",
    "e_mail": "email",
    "mail": "email",
    "posta_elettronica": "email",
    "codice_ente": "authority_code",
    "ente": "authority_code",
    "categoria": "category",
    "profilo": "profile",
    "profilo_professionale": "profile",
    "data_assunzione": "hired_on",
    "data_di_assunzione": "hired_on",
    "assunto_il": "hired_on",
    "assunta_il": "hired_on",
    "data_cessazione": "left_on",
    "data_di_cessazione": "left_on",
    "cessato_il": "left_on",
    "cessata_il": "left_on",
}

#: The header of the empty roster offered for download: the Italian names an HR
#: office writes, each read back as the column of :data:`COLUMNS` in its place.
TEMPLATE_HEADER: Final = (
    "Codice fiscale",
    "Nome",
    "Cognome",
    "E-mail",
    "Codice ente",
    "Categoria",
    "Profilo",
    "Data assunzione",
    "Data cessazione",
)

#: The Italian header names a message lists as accepted.
_ITALIAN_NAMES: Final = (
    "Codice fiscale, Nome, Cognome, E-mail, Codice ente, Categoria, Profilo, "
    "Data assunzione, Data cessazione"
)


def canonical_column(name: str) -> str:
    """The spec's column name for a header cell: ``"Data Assunzione"`` → ``hired_on``."""
    key = normalise_header(name)
    return HEADER_ALIASES.get(key, key)


def check_roster_header(raw: list[str], line: int) -> Header:
    """Map a header row to the spec's names, or raise naming every problem."""
    return check_header(
        raw,
        line,
        required=REQUIRED_COLUMNS,
        optional=OPTIONAL_COLUMNS,
        canonical=canonical_column,
        italian_names=_ITALIAN_NAMES,
    )


def roster_row(line: int, header: list[str], values: list[str]) -> Row:
    """Cells by column; values under no column are kept under :data:`EXTRA_CELLS`."""
    refuse_nul(values, line)
    cells: dict[str, str] = {}
    extra = []
    for name, value in zip(header, values, strict=False):
        if name:
            cells[name] = value
        elif value.strip():
            extra.append(value.strip())
    extra.extend(value.strip() for value in values[len(header) :] if value.strip())
    if extra:
        cells[EXTRA_CELLS] = ", ".join(extra)
    return Row(line=line, cells=cells)


def refuse_nul(values: list[str], line: int) -> None:
    """A NUL byte past the first 4 KiB of a CSV gets this far (the csv module keeps it)."""
    if "\x00" in "".join(values):
        raise TableError(NUL, line)


# The upload page's guide -----------------------------------------------------


@dataclass(frozen=True)
class ColumnGuide:
    """One column of the roster as the upload page explains it."""

    name: str
    required: bool
    #: Other headers accepted for it, as people write them ("data assunzione").
    aliases: tuple[str, ...]
    what: Message


_COLUMN_HELP: Final[Mapping[str, Message]] = {
    "codice_fiscale": _l("16 caratteri, maiuscole o minuscole; identifica la persona"),
    "first_name": _l("il nome"),
    "last_name": _l("il cognome"),
    "email": _l("l'indirizzo di lavoro, dove arriva il link per scegliere la password"),
    "authority_code": _l("il codice ISTAT (per esempio 063049) o il codice IPA dell'ente"),
    "category": _l("neoassunto o neoassunta, oppure in servizio (anche new_hire, existing)"),
    "profile": _l("il profilo professionale, come testo libero"),
    "hired_on": _l("la data di assunzione: GG/MM/AAAA o AAAA-MM-GG"),
    "left_on": _l(
        "la data di cessazione: dal giorno indicato la persona non conta più nei report "
        "e il suo account è disattivato"
    ),
}

#: Aliases as people write them where that is not just spaces for "_".
_SHOWN_ALIASES: Final = {"e_mail": "e-mail"}


def column_guide() -> list[ColumnGuide]:
    """Every roster column, required first, with the Italian headers accepted for it."""
    return [
        ColumnGuide(
            name=name,
            required=name in REQUIRED_COLUMNS,
            aliases=tuple(
                _SHOWN_ALIASES.get(alias, alias.replace("_", " "))
                for alias, target in HEADER_ALIASES.items()
                if target == name
            ),
            what=_COLUMN_HELP[name],
        )
        for name in COLUMNS
    ]
