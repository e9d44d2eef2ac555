"""crmtui vdir sync: a folder of .vcf files (a phone's, through vdirsyncer) and the book, both ways, with real files."""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "vdir"


@pytest.fixture
def crm(book, cli):
    assert cli("add", "Ana López", "--company", "Acme", "--email", "ana@acme.example", "--phone", "+34 600 123 456",
               "--stage", "customer")[0] == 0
    assert cli("add", "Ben Schmidt", "--email", "ben@schmidt.example")[0] == 0
    return book


def record(book: Path, handle: str) -> dict:
    return tomllib.loads((book / "customers" / f"{handle}.toml").read_text("utf-8"))


def commits(book: Path) -> list[str]:
    return subprocess.run(["git", "-C", str(book), "log", "--format=%s"], capture_output=True, text=True).stdout.split("\n")[:-1]


def edit_card(path: Path, old: str, new: str) -> None:
    text = path.read_bytes().decode("utf-8")
    assert old in text
    path.write_bytes(text.replace(old, new).encode("utf-8"))


def test_the_round_trip_both_ways(crm, cli, tmp_path):
    phone = tmp_path / "contacts" / "phone"
    code, out, err = cli("vdir", "sync", phone)
    assert code == 0, err
    assert sorted(p.name for p in phone.iterdir()) == ["ana-lopez.vcf", "ben-schmidt.vcf"]
    assert "UID:crmtui-ana-lopez" in (phone / "ana-lopez.vcf").read_text("utf-8")
    before = commits(crm)
    # nothing changed on either side: nothing written
    stamp = (phone / "ana-lopez.vcf").stat().st_mtime_ns
    code, out, _ = cli("vdir", "sync", phone)
    assert "0 cards written" in out and commits(crm) == before
    assert (phone / "ana-lopez.vcf").stat().st_mtime_ns == stamp

    # on the phone: Ana gets a second number and a new company; a card is added (an iPhone's)
    edit_card(phone / "ana-lopez.vcf", "ORG:Acme\r\n", "ORG:Acme Corp\r\nTEL;TYPE=CELL:+34 699 000 111\r\n")
    shutil.copy(FIXTURES / "greta-iphone.vcf", phone / "5F2B1A70.vcf")
    # in the book: Ben gets a title
    (crm / "customers" / "ben-schmidt.toml").write_text(
        (crm / "customers" / "ben-schmidt.toml").read_text("utf-8") + 'title = "CFO"\n', "utf-8")
    code, out, err = cli("vdir", "sync", phone)
    assert code == 0, err
    ana = record(crm, "ana-lopez")
    assert ana["company"] == "Acme Corp"  # only the card changed: its value wins
    assert ana["phones"] == ["+34 600 123 456", "+34 699 000 111"]
    greta = record(crm, "greta-someone")
    assert (greta["name"], greta["emails"], greta["stage"]) == ("Greta Someone", ["greta@fintech.example"],
                                                                "prospect")
    assert commits(crm)[0] == "Sync vCards with phone: 1 added, 1 updated"
    assert "title" in record(crm, "ben-schmidt")  # the book's own edit, committed as an outside edit
    assert "TITLE:CFO" in (phone / "ben-schmidt.vcf").read_text("utf-8")  # and written to its card
    # the iPhone's card keeps its UID, its file name, and what crmtui has no field for
    card = (phone / "5F2B1A70.vcf").read_bytes().decode("utf-8")
    assert "UID:5F2B1A70-7C3E-4E0B-9A51-1F0A2B3C4D5E" in card
    for kept in ("item2.ADR;type=HOME;type=pref:;;Torstraße 1;Berlin;;10119;Germany", "NICKNAME:Gre",
                 "X-SHAREDPHOTO-ID:8A5C2C36", "item2.X-ABADR:de"):
        assert kept in card
    photo = card.replace("\r\n ", "").split("PHOTO;ENCODING=b;TYPE=JPEG:")[1].split("\r\n")[0]
    assert photo.startswith("/9j/4AAQ") and photo.endswith("/8QAFAAB")  # the whole photo, folded again
    # and once synced, both sides are still
    before = commits(crm)
    code, out, _ = cli("vdir", "sync", phone)
    assert "0 cards written" in out and commits(crm) == before


def test_an_edit_on_both_sides(crm, cli, tmp_path):
    phone = tmp_path / "phone"
    assert cli("vdir", "sync", phone)[0] == 0
    # the same record changed on both sides since the last sync
    edit_card(phone / "ana-lopez.vcf", "ORG:Acme\r\n", "ORG:Acme Iberia\r\nTITLE:CTO\r\nEMAIL:ana.lopez@gmail.example\r\n")
    # and in the book, as an editor would
    text = (crm / "customers" / "ana-lopez.toml").read_text("utf-8").replace('company = "Acme"', 'company = "Acme Corp"')
    (crm / "customers" / "ana-lopez.toml").write_text(text, "utf-8")
    code, out, err = cli("vdir", "sync", phone)
    assert code == 0, err
    ana = record(crm, "ana-lopez")
    assert ana["company"] == "Acme Corp"  # both changed it: the book's stays, and the card's is reported
    assert "kept    Ana López (ana-lopez): the book's company 'Acme Corp' (the file has 'Acme Iberia')" in out
    assert ana["title"] == "CTO"  # what only the card changed is taken
    assert ana["emails"] == ["ana@acme.example", "ana.lopez@gmail.example"]
    card = (phone / "ana-lopez.vcf").read_text("utf-8")
    assert "ORG:Acme Corp" in card and "TITLE:CTO" in card and "ana.lopez@gmail.example" in card


def test_a_card_deleted_in_the_folder_is_reported_until_accepted(crm, cli, tmp_path):
    phone = tmp_path / "phone"
    assert cli("vdir", "sync", phone)[0] == 0
    (phone / "ben-schmidt.vcf").unlink()
    before = commits(crm)
    code, out, err = cli("vdir", "sync", phone)
    assert code == 0
    assert ("crmtui: ben-schmidt.vcf was deleted in " in err
            and "ben-schmidt stays in the book (remove it with --accept-deletes)" in err)
    assert (crm / "customers" / "ben-schmidt.toml").exists() and commits(crm) == before
    assert not (phone / "ben-schmidt.vcf").exists()  # not put back either
    assert "was deleted" in cli("vdir", "sync", phone)[2]  # said again next time
    code, out, err = cli("vdir", "sync", phone, "--accept-deletes")
    assert code == 0, err
    assert not (crm / "customers" / "ben-schmidt.toml").exists()
    assert commits(crm)[0] == "Sync vCards with phone: 1 removed"
    assert cli("vdir", "sync", phone)[2] == ""  # settled


def test_a_record_removed_from_the_book_removes_its_card(crm, cli, tmp_path):
    phone = tmp_path / "phone"
    assert cli("vdir", "sync", phone)[0] == 0
    (crm / "customers" / "ben-schmidt.toml").unlink()
    code, out, err = cli("vdir", "sync", phone)
    assert code == 0, err
    assert sorted(p.name for p in phone.iterdir()) == ["ana-lopez.vcf"]
    assert "1 removed in the folder" in out


def test_a_folder_exported_before_is_taken_as_it_is(crm, cli, tmp_path):
    phone = tmp_path / "phone"
    assert cli("export", "vcard", "--out", phone)[0] == 0
    before = commits(crm)
    code, out, err = cli("vdir", "sync", phone)
    assert code == 0, err
    assert "0 added, 0 updated" in out and "0 cards written" in out and commits(crm) == before


def test_dry_run_writes_nothing(crm, cli, tmp_path):
    phone = tmp_path / "phone"
    assert cli("vdir", "sync", phone)[0] == 0
    shutil.copy(FIXTURES / "greta-iphone.vcf", phone / "greta.vcf")
    before = commits(crm)
    code, out, _ = cli("vdir", "sync", phone, "--dry-run")
    assert code == 0 and "would add     Greta Someone (greta-someone) from greta.vcf" in out
    assert commits(crm) == before and not (crm / "customers" / "greta-someone.toml").exists()
    assert cli("vdir", "sync", phone)[0] == 0 and (crm / "customers" / "greta-someone.toml").exists()


def test_refuses_a_file(crm, cli, tmp_path):
    (tmp_path / "x.vcf").write_text("")
    assert "is a file" in cli("vdir", "sync", tmp_path / "x.vcf")[2]
