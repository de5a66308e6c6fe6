"""Fill English translations into the catalogue: ``python scripts/po_fill.py 'it=>en' ...``.

A small maintainer's helper so that new strings can be translated from the
command line; pybabel has no command to set a single msgstr.
"""

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parent.parent / "lms/translations/en/LC_MESSAGES/messages.po"

catalog = read_po(PO.open("rb"))
for pair in sys.argv[1:]:
    source, _, target = pair.partition("=>")
    message = catalog.get(source)
    if message is None:
        sys.exit(f"not in the catalogue: {source!r}")
    message.string = target
with PO.open("wb") as out:
    write_po(out, catalog, width=0, omit_header=False)
print(f"{PO}: {len(sys.argv) - 1} translation(s) set")
