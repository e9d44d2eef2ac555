"""Import, export, duplicates and merge through the CLI, on real books with real git,
with khard and the icalendar library reading what crmtui writes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from test_cli import as_json, git, ok, status, subjects, user_error, write_record

FIXTURES = Path(__file__).parent / "fixtures" / "interchange"
NEW_COMMANDS = [["import", "vcard"], ["import", "csv"], ["export", "vcard"], ["export", "csv"], ["export", "ics"],
                ["export", "json"], ["duplicates"], ["merge"]]


@pytest.fixture
def phone_folder(tmp_path):
    """A folder of .vcf files as phones and khard write them."""
    folder = tmp_path / "contacts"
    folder.mkdir()
    for name in ("iphone-3.0.vcf", "android-2.1.vcf", "handwritten-4.0.vcf"):
        shutil.copy(FIXTURES / name, folder / name)
    shutil.copytree(FIXTURES / "khard", folder / "khard")
    return folder


def record_fields(run_cli, book_path):
    data = json.loads(ok(run_cli("--book", book_path, "export", "json")))
    keys = ("handle", "name", "company", "title", "emails", "phones", "tags", "birthday", "notes", "links")
    return sorted(({k: c[k] for k in keys} for c in data["customers"]), key=lambda c: c["handle"])


@pytest.mark.parametrize("argv", NEW_COMMANDS, ids=" ".join)
def test_help(run_cli, argv):
    code, out, err = run_cli(*argv, "--help")
    assert code == 0 and f"usage: crmtui {' '.join(argv)}" in out and err == ""


def test_import_a_folder_of_vcards_is_one_commit_and_again_changes_nothing(cli, book, phone_folder):
    before = len(subjects(book))
    out = ok(cli("import", "vcard", phone_folder))
    assert "Imported 6 contacts from contacts: 6 added, 0 updated, 0 skipped." in out
    assert subjects(book)[0] == "Import 6 contacts from contacts: 6 added, 0 updated"
    assert len(subjects(book)) == before + 1 and status(book) == ""
    ana = as_json(cli("show", "ana-maria-lopez", "--json"))
    assert ana["emails"] == ["ana@acme.example", "ana.lopez@mail.example"] and ana["birthday"] == "03-12"
    assert ana["stage"] == "prospect" and ana["links"]["linkedin"].endswith("ana-lopez-example")
    assert as_json(cli("show", "yuki", "--json"))["company"] == "東京データ株式会社"
    assert as_json(cli("show", "anja", "--json"))["company"] == "Spree Capital Gründerfonds"

    out = ok(cli("import", "vcard", phone_folder))
    assert "0 added, 0 updated, 6 skipped (6 already up to date)" in out
    assert len(subjects(book)) == before + 1  # nothing changed, nothing committed


def test_a_broken_card_is_reported_with_its_place_and_the_rest_imported(cli, book):
    code, out, err = cli("import", "vcard", FIXTURES / "broken.vcf")
    assert code == 0 and "Traceback" not in err
    assert "3 added, 0 updated, 2 skipped (2 with errors)" in out
    assert "crmtui: broken.vcf: card 2 (line 6): the card has no name (FN, N or ORG); skipped" in err
    assert "crmtui: broken.vcf: card 3 (line 11): no END:VCARD before the next card; skipped" in err
    assert "Skipped broken.vcf: card 2 (line 6)" in git(book, "log", "-1", "--format=%b")
    assert {c["name"] for c in as_json(cli("list", "--json"))} == {"Good Person", "Bad Birthday", "Last One"}


def test_google_then_an_overlapping_linkedin_export_updates_instead_of_duplicating(cli, book):
    ok(cli("add", "Greta Lindqvist", "--company", "Nordbank AB", "--email", "greta@nordbank.example"))
    out = ok(cli("import", "csv", FIXTURES / "google.csv"))
    assert "Imported 5 contacts from google.csv: 5 added, 0 updated, 0 skipped." in out
    code, out, err = cli("import", "csv", FIXTURES / "linkedin.csv")
    assert code == 0
    # Ana by her name (no email in LinkedIn) and already up to date, Greta by email, Sanne is new
    assert ("Imported 3 contacts from linkedin.csv: 1 added, 1 updated, 3 skipped "
            "(1 already up to date, 2 with errors).") in out
    assert as_json(cli("show", "greta", "--json"))["title"] == "Head of Data"
    assert "crmtui: linkedin.csv: line 8: 9 fields where the header has 7" in err
    assert subjects(book)[0] == "Import 3 contacts from linkedin.csv: 1 added, 1 updated"
    names = sorted(c["name"] for c in as_json(cli("list", "--json")))
    assert names.count("Ana López") == 1 and "Sanne de Vries" in names
    ana = as_json(cli("show", "ana-lopez", "--json"))
    assert ana["title"] == "CTO"  # the book's value is kept ...
    assert "The book's value was kept" in out
    ok(cli("import", "csv", FIXTURES / "linkedin.csv", "--overwrite"))
    assert as_json(cli("show", "ana-lopez", "--json"))["title"] == "Chief Technology Officer"  # ... unless asked
    count = len(subjects(book))
    for name in ("google.csv", "linkedin.csv"):
        assert "0 added, 0 updated" in ok(cli("import", "csv", FIXTURES / name))
    assert "0 added, 0 updated" in ok(cli("import", "csv", FIXTURES / "linkedin.csv", "--overwrite"))
    assert len(subjects(book)) == count


def test_dry_run_previews_and_writes_nothing(cli, book):
    count = len(subjects(book))
    out = ok(cli("import", "csv", FIXTURES / "custom-semicolon.csv", "--dry-run",
                 "--map", "Full Name=name,Mail=emails,Firma=company"))
    assert "Columns read: Full Name=name, Mail=emails, Firma=company" in out
    assert "add         Henrik Sørensen            customers/henrik-sorensen.toml" in out
    # the unclosed quote on line 5 swallows line 6: reported, and the three others previewed
    assert "Would import 3 contacts: 3 added, 0 updated, 1 skipped (1 with errors)." in out
    assert len(subjects(book)) == count and status(book) == ""
    assert not list((book / "customers").glob("*.toml"))


def test_import_options_and_mistakes(cli, book, tmp_path):
    ok(cli("import", "csv", FIXTURES / "linkedin.csv", "--tag", "linkedin", "--stage", "customer"))
    greta = as_json(cli("show", "greta", "--json"))
    assert greta["tags"] == ["linkedin"] and greta["stage"] == "customer"
    assert "unknown stage" in user_error(cli("import", "csv", FIXTURES / "google.csv", "--stage", "vip"))
    assert "no file at" in user_error(cli("import", "csv", tmp_path / "nope.csv"))
    assert "holds no .vcf files" in user_error(cli("import", "vcard", tmp_path))
    (tmp_path / "odd.csv").write_text("col1,col2\nAna,x\n")
    assert "--map" in user_error(cli("import", "csv", tmp_path / "odd.csv"))
    (tmp_path / "empty.vcf").write_text("hello\n")
    assert "no contact could be read from empty.vcf" in user_error(cli("import", "vcard", tmp_path / "empty.vcf"))


def test_an_update_keeps_the_users_layout(cli, book):
    write_record(book, "ana", """
        # Ana -- met at the fintech meetup
        name    = "Ana López"   # aligned by hand
        emails  = "ana@acme.example"

        [[interactions]]
        at = 2026-01-01T09:00:00
        kind = "call"
        summary = "Hello"
        """)
    git(book, "add", "-A")
    git(book, "-c", "user.name=T", "-c", "user.email=t@x", "commit", "-qm", "hand")
    ok(cli("import", "vcard", FIXTURES / "iphone-3.0.vcf"))
    text = (book / "customers" / "ana.toml").read_text()
    assert text.startswith('# Ana -- met at the fintech meetup\nname    = "Ana López"   # aligned by hand\n')
    assert 'emails  = ["ana@acme.example", "ana.lopez@mail.example"]' in text
    assert 'summary = "Hello"' in text


def test_exported_vcards_are_read_by_khard(run_cli, cli, book, tmp_path, phone_folder):
    khard = Path(sys.executable).parent / "khard"
    if not khard.exists():
        pytest.skip("khard is not installed (pip install -e '.[test]')")
    ok(cli("import", "vcard", phone_folder))
    out = ok(cli("export", "vcard", "--out", tmp_path / "cards"))
    assert "Wrote 6 vCards to" in out
    config = tmp_path / "khard-config"
    (config / "khard").mkdir(parents=True)
    (config / "khard" / "khard.conf").write_text(
        f"[addressbooks]\n[[crm]]\npath = {tmp_path / 'cards'}\n\n"
        "[general]\ndefault_action = list\n\n[contact table]\ndisplay = formatted_name\n")
    env = {**os.environ, "XDG_CONFIG_HOME": str(config)}
    result = subprocess.run([str(khard), "list"], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    for name in ("Ana María López", "Anja Müller", "Çağla Yıldız", "Jürgen Weiß", "Yuki Satō", "Nordbank AB"):
        assert name in result.stdout
    result = subprocess.run([str(khard), "birthdays"], capture_output=True, text=True, env=env, timeout=60)
    assert "--03-12" in result.stdout or "03/12" in result.stdout

    # the round trip: the exported cards make the same records in a new book
    ok(run_cli("init", tmp_path / "other"))
    assert "6 added" in ok(run_cli("--book", tmp_path / "other", "import", "vcard", tmp_path / "cards"))
    assert record_fields(run_cli, tmp_path / "other") == record_fields(run_cli, book)

    # a record gone from the book takes its card with it on the next export; other cards stay
    (tmp_path / "cards" / "mine.vcf").write_text("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:x\r\nFN:Mine\r\nEND:VCARD\r\n")
    (book / "customers" / "anja-muller.toml").unlink()
    assert "removed 1 card" in ok(cli("export", "vcard", "--out", tmp_path / "cards"))
    assert not (tmp_path / "cards" / "anja-muller.vcf").exists() and (tmp_path / "cards" / "mine.vcf").exists()


def test_export_vcard_to_one_file_and_to_stdout(cli, book, tmp_path, phone_folder):
    ok(cli("import", "vcard", phone_folder))
    ok(cli("export", "vcard", "--out", tmp_path / "all.vcf"))
    text = (tmp_path / "all.vcf").read_bytes().decode()
    assert text.count("BEGIN:VCARD") == 6 and "\r\n" in text
    assert ok(cli("export", "vcard")).count("BEGIN:VCARD") == 6


def test_calendar_export_is_stable_and_valid(cli, book, tmp_path):
    icalendar = pytest.importorskip("icalendar")
    ok(cli("add", "Ana López", "--birthday", "1984-02-29"))
    ok(cli("add", "Ben Schmidt", "--birthday", "11-26"))
    ok(cli("log", "ana", "call", "--follow-up", "14d"))
    ok(cli("export", "ics", "--out", tmp_path / "one.ics"))
    ok(cli("done", "ben") if False else cli("log", "ben", "hello", "--follow-up", "3d"))
    ok(cli("export", "ics", "--out", tmp_path / "two.ics"))
    first = icalendar.Calendar.from_ical((tmp_path / "one.ics").read_bytes())
    second = icalendar.Calendar.from_ical((tmp_path / "two.ics").read_bytes())
    uids = lambda cal: {str(e["UID"]): e for e in cal.walk("VEVENT")}  # noqa: E731
    assert set(uids(first)) == {"birthday-ana-lopez@crmtui", "birthday-ben-schmidt@crmtui",
                                "reminder-1-ana-lopez@crmtui"}
    assert set(uids(second)) == set(uids(first)) | {"reminder-1-ben-schmidt@crmtui"}
    assert str(uids(second)["reminder-1-ana-lopez@crmtui"]["SUMMARY"]) == "Ana López: Follow up: call"
    assert str(uids(first)["reminder-1-ana-lopez@crmtui"]["DTSTART"].dt) == "2026-06-29"
    ok(cli("done", "ana"))
    third = icalendar.Calendar.from_ical(ok(cli("export", "ics")))
    assert "reminder-1-ana-lopez@crmtui" not in uids(third)


def test_json_and_csv_exports_of_the_whole_book(run_cli, cli, book, tmp_path):
    ok(cli("add", "Ana López", "--company", "Acme, Inc.", "--email", "ana@acme.example", "--tag", "a",
           "--tag", "b", "--phone", "+34 600 123 456"))
    ok(cli("log", "ana", "call about the renewal", "--kind", "call"))
    data = as_json(cli("export", "json"))
    (ana,) = data["customers"]
    assert ana["handle"] == "ana-lopez" and ana["interactions"][0]["summary"] == "call about the renewal"
    ok(cli("export", "csv", "--out", tmp_path / "book.csv"))
    text = (tmp_path / "book.csv").read_text()
    assert text.startswith("handle,name,company,title,emails,phones,tags,stage")
    assert '"Acme, Inc."' in text
    ok(run_cli("init", tmp_path / "other"))
    ok(run_cli("--book", tmp_path / "other", "import", "csv", tmp_path / "book.csv"))  # crmtui reads its own CSV
    again = as_json(run_cli("--book", tmp_path / "other", "show", "ana", "--json"))
    assert (again["company"], again["emails"], again["tags"], again["phones"]) == (
        "Acme, Inc.", ["ana@acme.example"], ["a", "b"], ["+34 600 123 456"])
    assert "is a folder" in user_error(cli("export", "json", "--out", tmp_path))


def test_duplicates_and_merge_lose_nothing_in_one_commit(cli, book):
    ok(cli("add", "Ana López", "--company", "Acme Corp", "--email", "ana@acme.example", "--stage", "customer"))
    ok(cli("add", "Ana Lopez", "--company", "ACME", "--email", "ANA@acme.example", "--phone", "+34 600 123 456",
           "--title", "CTO", "--tag", "vip"))
    ok(cli("add", "Ben Schmidt", "--referred-by", "ana-lopez-2"))
    ok(cli("log", "ana-lopez-2", "call about the audit", "--kind", "call", "--follow-up", "7d"))
    path = book / "customers" / "ana-lopez-2.toml"
    path.write_text(path.read_text() + '\n[[deals]]\ntitle = "Audit"\namount = 5000\nstatus = "won"\n')
    git(book, "add", "-A")
    git(book, "-c", "user.name=T", "-c", "user.email=t@x", "commit", "-qm", "deal")

    pairs = as_json(cli("duplicates", "--json"))
    assert pairs[0]["a"] == "ana-lopez" and pairs[0]["b"] == "ana-lopez-2" and pairs[0]["score"] >= 95
    assert "same email ana@acme.example" in pairs[0]["reasons"]
    assert "crmtui merge ana-lopez ana-lopez-2" in ok(cli("duplicates"))

    count = len(subjects(book))
    assert "Nothing was written" in ok(cli("merge", "ana-lopez", "ana-lopez-2", "--dry-run"))
    assert len(subjects(book)) == count
    out = ok(cli("merge", "ana-lopez", "ana-lopez-2"))
    assert "referrals moved: ben-schmidt" in out
    assert len(subjects(book)) == count + 1 and status(book) == ""
    assert subjects(book)[0] == "Merge ana-lopez-2 into ana-lopez (Ana López)" or \
        subjects(book)[0] == "Merge Ana Lopez (ana-lopez-2) into Ana López"
    assert not path.exists()
    ana = as_json(cli("show", "ana-lopez", "--json"))
    assert ana["emails"] == ["ana@acme.example"] and ana["phones"] == ["+34 600 123 456"]
    assert ana["title"] == "CTO" and ana["tags"] == ["vip"] and ana["stage"] == "customer"
    assert [d["title"] for d in ana["deals"]] == ["Audit"]
    assert ana["interactions"][0]["summary"] == "call about the audit"
    assert ana["reminders"][0]["text"] == "Follow up: call about the audit"
    assert "company: ACME" not in ana["notes"]  # Acme Corp and ACME are one company
    assert as_json(cli("show", "ben", "--json"))["referred_by"] == "ana-lopez"
    assert as_json(cli("duplicates", "--json")) == []
    changed = git(book, "show", "--name-status", "--format=", "HEAD").split("\n")
    assert "D\tcustomers/ana-lopez-2.toml" in changed and "M\tcustomers/ben-schmidt.toml" in changed


def test_merge_mistakes(cli, book):
    ok(cli("add", "Ana López"))
    assert "the same record" in user_error(cli("merge", "ana", "ana-lopez"))
    assert "no customer matches" in user_error(cli("merge", "ana", "zebra"))
    assert ok(cli("duplicates")).strip() == "No likely duplicates."


def test_a_failed_write_puts_everything_back_and_commits_nothing(cli, book, monkeypatch):
    from crmtui.storage import transaction

    ok(cli("add", "Ana López", "--email", "ana@acme.example"))
    before = (book / "customers" / "ana-lopez.toml").read_bytes()
    count = len(subjects(book))
    real = transaction.write_new_record
    calls = []

    def failing(root, rel, doc):  # the disk fills up on the third new file
        calls.append(rel)
        if len(calls) == 3:
            raise OSError(28, "No space left on device", str(root / rel))
        return real(root, rel, doc)

    monkeypatch.setattr(transaction, "write_new_record", failing)
    message = user_error(cli("import", "vcard", FIXTURES / "broken.vcf"))
    assert "No space left on device; nothing was imported" in message
    ok(cli("import", "vcard", FIXTURES / "iphone-3.0.vcf", "--dry-run"))
    assert len(subjects(book)) == count and status(book) == ""
    assert (book / "customers" / "ana-lopez.toml").read_bytes() == before
    assert sorted(p.name for p in (book / "customers").glob("*.toml")) == ["ana-lopez.toml"]


def test_the_progress_bar_shows_only_on_a_terminal_for_large_work(monkeypatch, capsys):
    from crmtui.cli import _progress_bar

    assert _progress_bar("Importing") is None  # stderr is captured, not a terminal
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    show = _progress_bar("Importing")
    show(50, 100)  # small work: nothing to watch
    assert capsys.readouterr().err == ""
    show(500, 1000)
    show(1000, 1000)
    show(1000, 1000)
    err = capsys.readouterr().err
    assert "\rImporting [" in err and " 500/1000" in err and err.count("1000/1000") == 1 and err.endswith("\n")
