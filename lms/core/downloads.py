"""A table as a download, streamed, never cached: the one place every page's download goes through.

Two files of the same rows (the writers are in :mod:`lms.core.export` and
:mod:`lms.core.people_xlsx`):

- ``xlsx``, the file for people, offered first: Italian headers and values,
  typed cells, the filters and the as-of date above the table, a print layout
  (:class:`~lms.core.people_xlsx.PeopleSheet`);
- ``csv``, the programme's CSV of ``staff-and-reports.md``, for scripts:
  English headers and values, ``,`` separated, dots for decimals.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from flask import Response, stream_with_context

from lms.core.export import CSV_MIMETYPE, XLSX_MIMETYPE, csv_chunks
from lms.core.people_xlsx import PeopleSheet, people_xlsx_chunks

#: The formats every download offers, with their content types.
FORMATS = {"csv": CSV_MIMETYPE, "xlsx": XLSX_MIMETYPE}


def table_download(
    name: str,
    fmt: str,
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    sheet: PeopleSheet,
) -> Response:
    """*rows* as ``name.fmt``: the programme's CSV under *header*, or the XLSX *sheet* describes.

    *sheet* has one column per name of *header*. Pages with personal data:
    ``Cache-Control: no-store``. A CSV's content type carries its charset
    (UTF-8, with a BOM).
    """
    if len(sheet.columns) != len(header):
        raise ValueError(
            f"the sheet of {name!r} has {len(sheet.columns)} columns for {len(header)} names"
        )
    body: Iterator[bytes]
    if fmt == "csv":
        body = csv_chunks(header, rows)
    elif fmt == "xlsx":
        body = people_xlsx_chunks(sheet, rows)
    else:
        raise ValueError(f"unknown download format {fmt!r}")
    return Response(
        stream_with_context(body),
        content_type=FORMATS[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{name}.{fmt}"',
            "Cache-Control": "no-store",
        },
    )
