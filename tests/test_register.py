"""The ISTAT register (regions, provinces, municipalities) and authorities added by CSV."""

from __future__ import annotations

import codecs
from collections import Counter

import pytest
from sqlalchemy import func, select, update

from lms.register.istat import Register, shipped_register
from lms.register.models import Authority, AuthorityKind, Region
from lms.register.operations import import_authorities

HEADER = "code,kind,name,region_code,istat_code\n"


@pytest.fixture(scope="module")
def register() -> Register:
    return shipped_register()


def authority_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Authority))


def authority(db, code: str) -> Authority | None:
    return db.session.scalar(select(Authority).where(Authority.code == code))


# The shipped list (pure) ------------------------------------------------------


def test_twenty_regions(register):
    assert [r.code for r in register.regions] == [f"{n:02d}" for n in range(1, 21)]
    names = {r.code: r.name for r in register.regions}
    assert names["15"] == "Campania"
    assert names["18"] == "Calabria"


def test_exactly_the_seven_less_developed_regions_are_flagged(register):
    flagged = {r.code for r in register.regions if r.less_developed}
    assert flagged == {"14", "15", "16", "17", "18", "19", "20"}


def test_nuts2_codes(register):
    nuts = {r.code: r.nuts2 for r in register.regions}
    assert nuts["15"] == "ITF3"
    assert nuts["18"] == "ITF6"
    assert nuts["01"] == "ITC1"
    # Trentino-Alto Adige is two NUTS-2 areas (Bolzano, Trento): no single code.
    assert nuts["04"] is None
    assert all(code for region, code in nuts.items() if region != "04")


def test_supra_municipal_units(register):
    units = {a.istat_code: a for a in register.supra_municipal}
    assert len(units) == len(register.supra_municipal) == 107
    assert Counter(a.kind for a in units.values()) == {
        AuthorityKind.PROVINCIA: 89,
        AuthorityKind.CITTA_METROPOLITANA: 14,
        AuthorityKind.ALTRO: 4,
    }
    torino = units["201"]
    assert (torino.kind, torino.name, torino.region_code) == (
        AuthorityKind.CITTA_METROPOLITANA,
        "Città metropolitana di Torino",
        "01",
    )
    napoli = units["263"]
    assert (napoli.kind, napoli.name, napoli.region_code) == (
        AuthorityKind.CITTA_METROPOLITANA,
        "Città metropolitana di Napoli",
        "15",
    )
    assert units["078"].kind is AuthorityKind.PROVINCIA  # Cosenza
    assert units["021"].name == "Provincia autonoma di Bolzano/Bozen"
    assert all(len(code) == 3 and code.isdigit() for code in units)
    assert all(a.parent_istat_code is None for a in units.values())


def test_municipalities(register):
    municipalities = register.municipalities
    assert len(municipalities) == 7896
    codes = [m.istat_code for m in municipalities]
    assert len(set(codes)) == len(codes)
    assert all(len(code) == 6 and code.isdigit() for code in codes)
    assert {m.kind for m in municipalities} == {AuthorityKind.COMUNE}
    supra = {a.istat_code for a in register.supra_municipal}
    assert {m.parent_istat_code for m in municipalities} == supra


def test_napoli(register):
    napoli = next(m for m in register.municipalities if m.istat_code == "063049")
    assert napoli.name == "Napoli"
    assert napoli.region_code == "15"
    assert napoli.parent_istat_code == "263"


def test_accented_names_are_decoded(register):
    names = {m.istat_code: m.name for m in register.municipalities}
    assert names["040012"] == "Forlì"
    assert any("ò" in n for n in names.values())


# lms register load -------------------------------------------------------------


def test_register_load_is_idempotent_and_repairs_changes(runner, db):
    first = runner.invoke(args=["register", "load"])
    assert first.exit_code == 0, first.output
    # 20 regions + 20 regional authorities + 107 supra-municipal + 7,896 municipalities
    assert "register: 8043 added, 0 updated, 0 unchanged" in first.stdout
    assert "ISTAT" in first.stdout

    assert db.session.scalar(select(func.count()).select_from(Region)) == 20
    assert authority_count(db) == 20 + 107 + 7896
    campania = db.session.scalar(select(Region).where(Region.code == "15"))
    assert (campania.name, campania.nuts2, campania.less_developed) == ("Campania", "ITF3", True)
    regione = authority(db, "15")
    assert (regione.kind, regione.name, regione.region_id) == (
        AuthorityKind.REGIONE,
        "Regione Campania",
        campania.id,
    )
    napoli = authority(db, "063049")
    assert (napoli.name, napoli.kind, napoli.istat_code) == (
        "Napoli",
        AuthorityKind.COMUNE,
        "063049",
    )
    assert napoli.region_id == campania.id
    assert napoli.parent.istat_code == "263"
    assert napoli.parent.kind is AuthorityKind.CITTA_METROPOLITANA
    assert (
        db.session.scalar(
            select(func.count()).select_from(Authority).where(Authority.parent_id.is_(None))
        )
        == 20 + 107
    )

    second = runner.invoke(args=["register", "load"])
    assert second.exit_code == 0, second.output
    assert "register: 0 added, 0 updated, 8043 unchanged" in second.stdout
    assert authority_count(db) == 20 + 107 + 7896

    # A municipality renamed in the database (and a hand-added authority) ...
    db.session.execute(
        update(Authority).where(Authority.istat_code == "063049").values(name="Napule")
    )
    db.session.add(
        Authority(code="UC999", kind=AuthorityKind.UNIONE_DI_COMUNI, name="Unione", region=campania)
    )
    db.session.commit()
    third = runner.invoke(args=["register", "load"])
    assert third.exit_code == 0, third.output
    # ... is restored; the hand-added authority is left alone.
    assert "register: 0 added, 1 updated, 8042 unchanged" in third.stdout
    db.session.expire_all()
    assert authority(db, "063049").name == "Napoli"
    assert authority(db, "UC999").name == "Unione"


# import_authorities -------------------------------------------------------------


def test_import_adds_a_union_of_municipalities(db, make_region):
    make_region("15")
    result = import_authorities(
        (HEADER + "UC_CILENTO,unione_di_comuni,Unione dei Comuni del Cilento,15,\n").encode()
    )
    assert result.errors == []
    assert (result.added, result.updated, result.unchanged) == (1, 0, 0)
    added = authority(db, "UC_CILENTO")
    assert added.kind is AuthorityKind.UNIONE_DI_COMUNI
    assert added.name == "Unione dei Comuni del Cilento"
    assert added.region.code == "15"
    assert added.istat_code is None


def test_import_same_file_twice_changes_nothing(db, make_region):
    make_region("15")
    make_region("18")
    data = (
        HEADER
        + "UC_CILENTO,unione_di_comuni,Unione dei Comuni del Cilento,15,\n"
        + "ARSAC,altro,Azienda Regionale per lo Sviluppo dell'Agricoltura Calabrese,18,\n"
    ).encode()
    first = import_authorities(data)
    assert (first.added, first.updated, first.unchanged, first.errors) == (2, 0, 0, [])
    db.session.commit()
    second = import_authorities(data)
    assert (second.added, second.updated, second.unchanged, second.errors) == (0, 0, 2, [])
    assert authority_count(db) == 2


def test_import_updates_a_changed_name(db, make_region):
    make_region("15")
    import_authorities((HEADER + "UC1,unione_di_comuni,Unione Vecchia,15,\n").encode())
    result = import_authorities((HEADER + "UC1,unione_di_comuni,Unione Nuova,15,\n").encode())
    assert (result.added, result.updated, result.errors) == (0, 1, [])
    assert authority(db, "UC1").name == "Unione Nuova"


def test_import_reports_every_bad_row_and_writes_nothing(db, make_region):
    make_region("15")
    db.session.commit()
    data = (
        HEADER
        + "UC_OK,unione_di_comuni,Unione Valida,15,\n"  # line 2: fine
        + "UC_X,consorzio,Consorzio X,15,\n"  # line 3: unknown kind
        + "UC_Y,unione_di_comuni,Unione Y,99,\n"  # line 4: unknown region
        + "UC_Z,unione_di_comuni,,15,\n"  # line 5: empty name
        + "UC_OK,unione_di_comuni,Unione Doppia,15,\n"  # line 6: duplicate code
        + "UC_W,altro,Ente W,15,12345\n"  # line 7: bad ISTAT code
    ).encode()
    before = authority_count(db)
    result = import_authorities(data)
    # One message per bad row, "line N, column: reason", in file order; the
    # reason names what is wrong.
    expected = [
        ("line 3, kind: ", ["consorzio", "unione_di_comuni"]),
        ("line 4, region_code: ", ["99"]),
        ("line 5, name: ", []),
        ("line 6, code: ", ["UC_OK", "line 2"]),
        ("line 7, istat_code: ", ["6 digits"]),
    ]
    assert len(result.errors) == len(expected), result.errors
    for error, (prefix, fragments) in zip(result.errors, expected, strict=True):
        assert error.startswith(prefix), error
        for fragment in fragments:
            assert fragment in error
    assert result.added == result.updated == 0
    db.session.commit()  # even a commit afterwards writes nothing
    assert authority_count(db) == before
    assert authority(db, "UC_OK") is None


def test_import_reports_several_problems_of_one_row(make_region):
    make_region("15")
    result = import_authorities((HEADER + "bad code!,nope,,77,1\n").encode())
    columns = [e.split(":")[0] for e in result.errors]
    assert columns == [
        "line 2, code",
        "line 2, kind",
        "line 2, name",
        "line 2, region_code",
        "line 2, istat_code",
    ]


def test_import_refuses_an_all_digit_code_that_is_not_the_istat_code(make_region):
    make_region("15")
    result = import_authorities((HEADER + "123456,altro,Ente,15,\n").encode())
    assert len(result.errors) == 1
    assert result.errors[0].startswith("line 2, code: ")
    assert "ISTAT" in result.errors[0]


def test_import_windows_1252_with_semicolons_keeps_accents(db, make_region):
    make_region("15")
    data = (
        "code;kind;name;region_code;istat_code\r\n"
        "UC_ARTE;unione_di_comuni;Unione dei Comuni Città d'Arte;15;\r\n"
        "UC_NOLA;Unione_di_Comuni;Unione dell’Agro Nolano – Comuni;15;\r\n"
    ).encode("cp1252")
    result = import_authorities(data)
    assert result.errors == []
    assert result.added == 2
    assert authority(db, "UC_ARTE").name == "Unione dei Comuni Città d'Arte"
    assert authority(db, "UC_NOLA").name == "Unione dell’Agro Nolano – Comuni"
    assert authority(db, "UC_NOLA").kind is AuthorityKind.UNIONE_DI_COMUNI


def test_import_utf8_with_bom(db, make_region):
    make_region("15")
    data = codecs.BOM_UTF8 + (HEADER + "UC_BOM,unione_di_comuni,Unione Forlì,15,\n").encode()
    result = import_authorities(data)
    assert result.errors == []
    assert authority(db, "UC_BOM").name == "Unione Forlì"


def test_import_region_code_without_leading_zero(db, make_region):
    make_region("01")
    result = import_authorities((HEADER + "UC_PIE,unione_di_comuni,Unione Langhe,1,\n").encode())
    assert result.errors == []
    assert authority(db, "UC_PIE").region.code == "01"


def test_import_row_matching_an_istat_authority_records_its_ipa_code(db, make_authority):
    napoli = make_authority(istat_code="063049", name="Napoli")
    db.session.commit()
    before = authority_count(db)
    data = (HEADER + "c_f839,comune,Comune di Napoli,15,063049\n").encode()
    result = import_authorities(data)
    assert result.errors == []
    assert (result.added, result.updated) == (0, 1)
    assert authority_count(db) == before
    db.session.refresh(napoli)
    assert napoli.ipa_code == "c_f839"
    assert napoli.code == "063049"
    assert napoli.name == "Napoli"  # the ISTAT name stays

    again = import_authorities(data)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 1)


@pytest.mark.parametrize(
    "row",
    [
        "c_f839,unione_di_comuni,Unione,15,",  # a new authority whose code is Napoli's IPA code
        "c_f839,comune,Comune di Salerno,15,065116",  # Napoli's IPA code given to Salerno
    ],
    ids=["new-authority", "ipa-of-another"],
)
def test_import_code_already_used_as_an_ipa_code_is_a_row_error(db, make_authority, row):
    """IPA codes are unique: the row is reported, not a database error."""
    napoli = make_authority(istat_code="063049", name="Napoli", ipa_code="c_f839")
    salerno = make_authority(istat_code="065116", name="Salerno")
    db.session.commit()
    before = authority_count(db)
    result = import_authorities((HEADER + row + "\n").encode())
    assert result.errors
    assert all(e.startswith("line 2, ") for e in result.errors), result.errors
    db.session.rollback()
    assert authority_count(db) == before
    assert (napoli.ipa_code, salerno.ipa_code) == ("c_f839", None)


@pytest.mark.parametrize("data", [b"", b"\n\n", codecs.BOM_UTF8])
def test_import_empty_file_is_one_error(data):
    result = import_authorities(data)
    assert result.errors == ["the file is empty"]
    assert result.added == 0


def test_import_header_without_rows_is_one_error(make_region):
    make_region("15")
    result = import_authorities(HEADER.encode() + b"\n")
    assert len(result.errors) == 1
    assert "no rows" in result.errors[0]


def test_import_wrong_header_is_one_error(db, make_region):
    make_region("15")
    result = import_authorities(b"codice,tipo,nome,regione\nUC1,altro,Ente,15\n")
    assert len(result.errors) == 1
    assert result.errors[0].startswith("line 1: missing column(s): code, kind, name, region_code")
    assert authority_count(db) == 0


def test_import_binary_file_is_one_error():
    result = import_authorities(b"PK\x03\x04\x00\x00\x00")
    assert result.errors == ["the file is not a text (CSV) file"]


# lms register import-authorities ------------------------------------------------------


@pytest.fixture
def campania(db, make_region) -> Region:
    region = make_region("15")
    db.session.commit()  # the command rolls back its session on error or dry run
    return region


@pytest.mark.usefixtures("campania")
def test_cli_import_bad_file_exits_1_with_errors_on_stderr(runner, db, tmp_path):
    path = tmp_path / "enti.csv"
    path.write_text(
        HEADER + "UC_OK,unione_di_comuni,Unione,15,\nUC_X,consorzio,X,15,\nUC_Y,altro,,99,\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["register", "import-authorities", str(path)])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 3
    assert all(line.startswith(f"{path}: line ") for line in lines)
    assert lines[0].startswith(f"{path}: line 3, kind: consorzio")
    assert lines[1] == f"{path}: line 4, name: required"
    assert lines[2].startswith(f"{path}: line 4, region_code: 99")
    assert "Traceback" not in result.output
    assert authority_count(db) == 0


@pytest.mark.usefixtures("campania")
def test_cli_import_good_file(runner, db, tmp_path):
    path = tmp_path / "enti.csv"
    path.write_text(HEADER + "UC_OK,unione_di_comuni,Unione,15,\n", encoding="utf-8")
    result = runner.invoke(args=["register", "import-authorities", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "authorities: 1 added, 0 updated, 0 unchanged"
    assert result.stderr == ""
    db.session.rollback()  # what the command wrote is committed
    assert authority(db, "UC_OK").name == "Unione"


@pytest.mark.usefixtures("campania")
def test_cli_import_dry_run_writes_nothing(runner, db, tmp_path):
    path = tmp_path / "enti.csv"
    path.write_text(HEADER + "UC_OK,unione_di_comuni,Unione,15,\n", encoding="utf-8")
    result = runner.invoke(args=["register", "import-authorities", "--dry-run", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        "dry run, nothing written: authorities: 1 added, 0 updated, 0 unchanged"
    )
    assert authority_count(db) == 0


@pytest.mark.usefixtures("campania")
def test_cli_import_dry_run_of_a_bad_file_still_fails(runner, tmp_path):
    path = tmp_path / "enti.csv"
    path.write_text(HEADER + "UC_X,consorzio,X,15,\n", encoding="utf-8")
    result = runner.invoke(args=["register", "import-authorities", "--dry-run", str(path)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{path}: line 2, kind:")


def test_cli_import_empty_file_is_one_line(runner, tmp_path):
    path = tmp_path / "vuoto.csv"
    path.write_bytes(b"")
    result = runner.invoke(args=["register", "import-authorities", str(path)])
    assert result.exit_code == 1
    assert result.stderr == f"{path}: the file is empty\n"


def test_the_authorities_list_puts_the_region_first_then_bodies_above_municipalities(
    client, login_as, make_authority
):
    make_authority(istat_code="063049", name="Comune di Napoli")
    make_authority(istat_code="063001", name="Comune di Acerra")
    make_authority("15", kind=AuthorityKind.REGIONE, name="Regione Campania")
    make_authority(
        "263", kind=AuthorityKind.CITTA_METROPOLITANA, name="Città metropolitana di Napoli"
    )
    make_authority("061", kind=AuthorityKind.PROVINCIA, name="Provincia di Caserta")
    make_authority("u1", kind=AuthorityKind.UNIONE_DI_COMUNI, name="Unione dei comuni A")
    login_as("admin")
    page = client.get("/enti/").get_data(as_text=True)
    names = [
        "Regione Campania",
        "Città metropolitana di Napoli",
        "Provincia di Caserta",
        "Comune di Acerra",
        "Comune di Napoli",
        "Unione dei comuni A",
    ]
    positions = [page.index(name) for name in names]
    assert positions == sorted(positions)
