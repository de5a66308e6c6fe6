"""A table as a download: CSV or XLSX, streamed, never cached (the writers are in export)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from flask import Response, stream_with_context

from lms.core.export import CSV_MIMETYPE, XLSX_MIMETYPE, csv_chunks, xlsx_chunks

#: The formats every download offers, with their content types.
FORMATS = {"csv": CSV_MIMETYPE, "xlsx": XLSX_MIMETYPE}


def table_download(
    name: str, fmt: str, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> Response:
    """*rows* under *header* as ``name.fmt`` (``csv`` or ``xlsx``), written while it is sent.

    Pages with personal data: ``Cache-Control: no-store``. A CSV's content type
    carries its charset (UTF-8, with a BOM for Excel).
    """
    if fmt == "csv":
        body = csv_chunks(header, rows)
    elif fmt == "xlsx":
        body = xlsx_chunks(header, rows, title=name)
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
