"""An XLSX "ZIP bomb" is refused before it is unpacked, in the memory of a normal upload.

A 1 MB workbook whose shared strings unpack to 500 MiB used to be opened by
openpyxl, which keeps every shared string in memory: the process grew by
several hundred MiB for 10 s or more before anything was said. The roster
reader now refuses it from the ZIP's directory alone (declared sizes and
compression ratios, ``_check_xlsx_archive``), and while openpyxl loads a
workbook no part it keeps whole may unpack to more than
``MAX_XLSX_PART_BYTES``, whatever its name (``_GuardedArchive``).

The bombs are written a chunk at a time, so that the tests themselves stay
small in memory; peak memory is measured in a child process (``ru_maxrss``),
for the bomb and for a normal 5,000-row roster read the same way.
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import xlsxwriter
from conftest import csrf_token
from flask.testing import FlaskClient

from lms.auth.models import Role, User
from lms.core.messages import english
from lms.core.tabular import TableError
from lms.enrolments import roster
from lms.enrolments.roster import read_roster, validate_rows

ROOT = Path(__file__).resolve().parent.parent
HEADER = ["codice_fiscale", "first_name", "last_name", "email", "authority_code", "category"]
ODD_COMPRESSION = "the workbook has a part compressed in an unusual way"
TOO_LARGE = "the workbook is too large once unpacked: save it as CSV"
MiB = 1024 * 1024


def small_workbook(rows: int = 1) -> bytes:
    """An XLSX as Excel lays it out (shared strings in xl/sharedStrings.xml)."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, HEADER)
    for n in range(rows):
        person = [f"RSSMRA75D21F{n:03d}", f"Nome{n}", f"Cognome{n}", f"p{n}@comune.napoli.it"]
        sheet.write_row(n + 1, 0, [*person, "063049", "neoassunto"])
    book.close()
    return out.getvalue()


def rewrite(path: Path, replace: dict[str, Callable[[], Iterator[bytes]]]) -> Path:
    """Copy a small workbook to *path*, writing the members in *replace* chunk by chunk."""
    source = zipfile.ZipFile(io.BytesIO(small_workbook()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for info in source.infolist():
            if info.filename not in replace:
                out.writestr(info.filename, source.read(info.filename))
        for name, chunks in replace.items():
            with out.open(name, "w") as member:
                for chunk in chunks():
                    member.write(chunk)
    return path


def shared_strings(total: int, *, string: bytes) -> Callable[[], Iterator[bytes]]:
    """Shared strings: the header's and one person's, then *string* until *total* bytes."""
    table = zipfile.ZipFile(io.BytesIO(small_workbook())).read("xl/sharedStrings.xml")
    head, _, _ = table.rpartition(b"</sst>")

    def chunks() -> Iterator[bytes]:
        yield head
        block = (b"<si><t>" + string + b"</t></si>") * max(1, MiB // (len(string) + 15))
        written = len(head)
        while written < total:
            yield block
            written += len(block)
        yield b"</sst>"

    return chunks


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 1 MB of XLSX whose shared strings unpack to 500 MiB (1,000-letter strings)."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.xlsx"
    return rewrite(path, {"xl/sharedStrings.xml": shared_strings(500 * MiB, string=b"A" * 1000)})


@pytest.fixture(scope="module")
def normal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 5,000-row roster as Excel would save it."""
    path = tmp_path_factory.mktemp("normal") / "personale.xlsx"
    path.write_bytes(small_workbook(5000))
    return path


def zip_entry(path: Path, name: str) -> zipfile.ZipInfo:
    """What the ZIP at *path* says of its member *name*."""
    with zipfile.ZipFile(path) as archive:
        return archive.getinfo(name)


def problem(data: bytes) -> str:
    """The reader's one-line problem with *data*, in English (empty when there is none)."""
    try:
        rows = read_roster(data, "personale.xlsx")
        validate_rows(rows, authority_codes={"063049": 1})
    except TableError as exc:
        with english():
            return str(exc)
    return ""


def test_a_shared_strings_bomb_is_refused_at_once(bomb: Path) -> None:
    data = bomb.read_bytes()
    assert len(data) < 2 * MiB
    assert zip_entry(bomb, "xl/sharedStrings.xml").file_size > 500 * MiB  # what it would be
    assert problem(data).startswith(ODD_COMPRESSION)


#: Reads a roster and prints the process's peak RSS. Linux keeps ``ru_maxrss`` across
#: exec, so a child started by a large parent (pytest) would report the parent's
#: size: the high-water mark of the child's own memory (VmHWM) is read instead.
MEASURE = """
import json, re, resource, sys
from pathlib import Path
from lms.core.tabular import TableError
from lms.enrolments.roster import read_roster, validate_rows

data = Path(sys.argv[1]).read_bytes()
try:
    result = validate_rows(read_roster(data, "personale.xlsx"), authority_codes={"063049": 1})
    outcome = f"{result.rows_read} rows"
except TableError as exc:
    outcome = "refused: " + str(exc)
try:
    status = Path("/proc/self/status").read_text()
    peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1)) / 1024
except OSError:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"outcome": outcome, "peak_mib": peak}))
"""


def peak_memory(path: Path) -> tuple[str, float]:
    """Read *path* in a fresh interpreter: (what happened, peak RSS in MiB)."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", MEASURE, str(path)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    return answer["outcome"], answer["peak_mib"]


def test_the_bomb_costs_no_more_memory_than_a_normal_upload(bomb: Path, normal: Path) -> None:
    normal_outcome, normal_peak = peak_memory(normal)
    bomb_outcome, bomb_peak = peak_memory(bomb)
    sys.stderr.write(f"peak RSS MiB: 5,000-row roster {normal_peak:.0f}, bomb {bomb_peak:.0f}\n")
    assert normal_outcome == "5000 rows"
    assert bomb_outcome.startswith("refused: ")
    # Before: the bomb's peak was several hundred MiB above the normal file's.
    assert bomb_peak < normal_peak + 20, (bomb_peak, normal_peak)


def test_a_large_part_that_compresses_normally_is_refused_while_loading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shared strings within the ratio but beyond the size openpyxl may keep whole."""
    monkeypatch.setattr(roster, "MAX_XLSX_PART_BYTES", 2 * MiB)
    random_text = os.urandom(3 * MiB // 2).hex().encode()  # hex digits: about 2 times
    chunks = iter(random_text[n : n + 5000] for n in range(0, len(random_text), 5000))
    path = rewrite(
        tmp_path / "big.xlsx",
        {"xl/sharedStrings.xml": _distinct_strings(chunks)},
    )
    info = zip_entry(path, "xl/sharedStrings.xml")
    assert info.file_size > 2 * MiB
    assert info.file_size < 3 * info.compress_size
    assert problem(path.read_bytes()) == TOO_LARGE


def _distinct_strings(strings: Iterator[bytes]) -> Callable[[], Iterator[bytes]]:
    table = zipfile.ZipFile(io.BytesIO(small_workbook())).read("xl/sharedStrings.xml")
    head, _, _ = table.rpartition(b"</sst>")

    def chunks() -> Iterator[bytes]:
        yield head
        for text in strings:
            yield b"<si><t>" + text + b"</t></si>"
        yield b"</sst>"

    return chunks


def test_a_part_kept_whole_is_refused_whatever_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shared strings moved among the worksheets, where a name-based rule would let them by."""
    monkeypatch.setattr(roster, "MAX_XLSX_PART_BYTES", MiB)
    source = zipfile.ZipFile(io.BytesIO(small_workbook()))
    types = source.read("[Content_Types].xml").replace(
        b"/xl/sharedStrings.xml", b"/xl/worksheets/strings.xml"
    )
    rels = source.read("xl/_rels/workbook.xml.rels").replace(
        b"sharedStrings.xml", b"worksheets/strings.xml"
    )
    strings = iter(os.urandom(1000).hex().encode() for _ in range(1200))
    path = tmp_path / "moved.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            if info.filename == "xl/sharedStrings.xml":
                continue
            data = {"[Content_Types].xml": types, "xl/_rels/workbook.xml.rels": rels}.get(
                info.filename, source.read(info.filename)
            )
            out.writestr(info.filename, data)
        with out.open("xl/worksheets/strings.xml", "w") as member:
            for chunk in _distinct_strings(strings)():
                member.write(chunk)
    assert zip_entry(path, "xl/worksheets/strings.xml").file_size > 2 * MiB
    assert problem(path.read_bytes()) == TOO_LARGE


def test_worksheets_are_streamed_and_may_be_larger_than_a_part_kept_whole(
    normal: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = normal.read_bytes()
    with zipfile.ZipFile(normal) as archive:
        sizes = {info.filename: info.file_size for info in archive.infolist()}
    sheet = sizes.pop("xl/worksheets/sheet1.xml")
    monkeypatch.setattr(roster, "MAX_XLSX_PART_BYTES", max(sizes.values()))
    assert sheet > max(sizes.values()) * 3 // 2
    result = validate_rows(read_roster(data, "personale.xlsx"), authority_codes={"063049": 1})
    assert result.rows_read == 5000


@pytest.mark.parametrize("member", ["xl/styles.xml", "xl/worksheets/sheet1.xml", "docProps/x.xml"])
def test_any_member_that_would_unpack_a_thousand_times_is_refused(
    tmp_path: Path, member: str
) -> None:
    def chunks() -> Iterator[bytes]:
        block = b"<x/>" * (MiB // 4)
        for _ in range(20):
            yield block

    path = rewrite(tmp_path / "bomb.xlsx", {member: chunks})
    assert problem(path.read_bytes()).startswith(ODD_COMPRESSION)


def test_a_member_that_lies_about_its_size_is_cut_at_the_size_it_declares(
    tmp_path: Path,
) -> None:
    """Why declared sizes can be trusted: zipfile stops there, then fails the CRC check.

    The shared strings really unpack to 100 MiB; the ZIP says 4 KiB.
    """
    path = rewrite(
        tmp_path / "liar.xlsx",
        {"xl/sharedStrings.xml": shared_strings(100 * MiB, string=b"A" * 1000)},
    )
    raw = bytearray(path.read_bytes())
    name = b"xl/sharedStrings.xml"
    for signature, name_length_at, size_at, name_at in (
        (b"PK\x03\x04", 26, 22, 30),  # local header
        (b"PK\x01\x02", 28, 24, 46),  # central directory
    ):
        at = raw.find(signature)
        while raw[at + name_at : at + name_at + len(name)] != name:
            at = raw.find(signature, at + 4)
        assert struct.unpack_from("<H", raw, at + name_length_at)[0] == len(name)
        struct.pack_into("<I", raw, at + size_at, 4096)
    info = zipfile.ZipFile(io.BytesIO(bytes(raw))).getinfo("xl/sharedStrings.xml")
    assert info.file_size <= 4096
    assert problem(bytes(raw)).startswith("the file is not a CSV or XLSX file")


def test_a_zip_of_countless_entries_is_refused_before_they_are_listed(tmp_path: Path) -> None:
    path = tmp_path / "many.xlsx"
    source = zipfile.ZipFile(io.BytesIO(small_workbook()))
    with zipfile.ZipFile(path, "w") as out:
        for info in source.infolist():
            out.writestr(info.filename, source.read(info.filename))
        for n in range(roster.MAX_XLSX_MEMBERS + 1):
            out.writestr(f"x/{n}", b"")
    assert problem(path.read_bytes()) == TOO_LARGE


def test_the_upload_page_says_so(
    client: FlaskClient, login_as: Callable[..., User], bomb: Path
) -> None:
    login_as(Role.ADMIN)
    token = csrf_token(client, "/personale/importa").encode()
    # The body is built here: Werkzeug's test client would spool a file this size to
    # a temporary file it never closes (a ResourceWarning).
    boundary = b"xYzZYbomb"
    body = b"".join(
        [
            b"--" + boundary + b'\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n',
            token + b"\r\n--" + boundary + b"\r\n",
            b'Content-Disposition: form-data; name="roster"; filename="personale.xlsx"\r\n',
            b"Content-Type: application/octet-stream\r\n\r\n",
            bomb.read_bytes() + b"\r\n--" + boundary + b"--\r\n",
        ]
    )
    response = client.post(
        "/personale/importa",
        data=body,
        content_type="multipart/form-data; boundary=" + boundary.decode(),
    )
    assert response.status_code == 200
    assert "la cartella di lavoro contiene una parte compressa in modo anomalo" in (
        response.get_data(as_text=True)
    )
