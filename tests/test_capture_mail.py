"""crmtui import mail: real Maildirs, an mbox and .eml files in tests/fixtures/mail, a real book."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import time
import tomllib
from datetime import datetime
from pathlib import Path

import pytest

from crmtui.interchange import mail
from crmtui.service import Service

MAIL = Path(__file__).parent / "fixtures" / "mail"
ALL = [MAIL / "INBOX", MAIL / "Sent", MAIL / "archive.mbox", MAIL / "eml"]


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    """Message dates become local time: the tests' local time is UTC."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def crm(book, cli):
    """The book with me = ["me@example.com"], Ana (Acme) and Ben as customers."""
    settings = book / "crm.toml"
    settings.write_text('me = ["me@example.com"]\n' + settings.read_text("utf-8"), "utf-8")
    subprocess.run(["git", "-C", str(book), "commit", "-qam", "me"], check=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t", "PATH": "/usr/bin:/bin", "HOME": str(book.parent / "home")})
    assert cli("add", "Ana López", "--company", "Acme", "--email", "ana@acme.example",
               "--keep-in-touch", "30d")[0] == 0
    assert cli("add", "Ben Schmidt", "--email", "ben@schmidt.example")[0] == 0
    return book


def rows(book: Path, handle: str) -> list[dict]:
    return tomllib.loads((book / "customers" / f"{handle}.toml").read_text("utf-8")).get("interactions", [])


def head(book: Path) -> str:
    return subprocess.run(["git", "-C", str(book), "rev-parse", "HEAD"], capture_output=True, text=True).stdout


# ---- the parsing, pure --------------------------------------------------------------------

def parse(name: str) -> mail.Message | mail.Skip:
    path = MAIL / name
    return mail.parse_message(mail.header_block(path.read_bytes()), name)


def test_encoded_words_in_utf8_and_latin1_and_folded_headers_decode():
    ana = parse("INBOX/cur/1780000001.M1P1.host:2,S")
    assert ana.subject == "Renovación del contrato"
    assert (ana.sender, ana.sender_name) == ("ana@acme.example", "Ana López")  # lower-cased address
    assert ana.at == datetime(2026, 6, 2, 8, 15)  # +0200 to local (UTC)
    ben = parse("INBOX/cur/1780000002.M2P1.host:2,S")
    assert ben.subject == "Grüße aus München and the Q3 plan"  # ISO-8859-1, folded over three lines
    assert ben.message_id == "<folded-2@schmidt.example>"  # folded onto its own line


def test_raw_8bit_subject_bytes_do_not_crash():
    message = parse("INBOX/cur/1780000005.M5P1.host:2,S")
    assert message.subject == "Café con leña (raw 8-bit Latin-1)"
    raw_utf8 = b"From: a@b.example\nDate: Mon, 1 Jun 2026 10:00:00 +0000\nSubject: caf\xc3\xa9\n\n"
    assert mail.parse_message(raw_utf8, "x").subject == "café"


def test_bad_messages_are_skipped_with_their_reason():
    assert str(parse("INBOX/cur/1780000003.M3P1.host:2,S")).endswith("no Date header; skipped")
    broken = parse("INBOX/cur/1780000004.M4P1.host:2,S")
    assert isinstance(broken, mail.Skip) and "broken header at line 3" in broken.reason
    no_from = mail.parse_message(b"Subject: x\nDate: Mon, 1 Jun 2026 10:00:00 +0000\n\n", "y")
    assert no_from.reason == "no From address"
    bad_date = mail.parse_message(b"From: a@b.example\nDate: the day after\n\n", "z")
    assert "a Date it cannot read" in bad_date.reason


def test_a_message_without_message_id_gets_a_stable_one():
    one, two = parse("Sent/cur/1780000012.M12P1.host:2,S"), parse("Sent/cur/1780000012.M12P1.host:2,S")
    assert one.message_id == two.message_id and one.message_id.endswith("@crmtui.invalid>")


def test_noreply_addresses():
    assert all(mail.is_noreply(a) for a in ("noreply@x.example", "no-reply@x.example", "do-not-reply@x.example",
                                            "MAILER-DAEMON@x.example", "postmaster@x.example"))
    assert not mail.is_noreply("ana@acme.example")


# ---- the import ---------------------------------------------------------------------------

def test_import_logs_each_message_once_per_customer_with_its_direction(crm, cli):
    code, out, err = cli("import", "mail", *ALL)
    assert code == 0, err
    ana = [(r["summary"], r["message_id"]) for r in rows(crm, "ana-lopez")]
    assert ana == [("← Kick-off", "<kickoff@acme.example>"),
                   ("← Renovación del contrato", "<renewal-1@acme.example>"),
                   ("← Café con leña (raw 8-bit Latin-1)", "<eightbit-5@acme.example>"),
                   ("→ Re: Renewal and the Q3 plan", "<sent-10@example.com>"),  # in INBOX and in Sent: once
                   ("← Thanks!", "<thanks@acme.example>")]
    assert all(r["kind"] == "email" for r in rows(crm, "ana-lopez"))
    assert rows(crm, "ana-lopez")[1]["at"] == datetime(2026, 6, 2, 8, 15)
    ben = [r["summary"] for r in rows(crm, "ben-schmidt")]
    assert ben == ["→ Proposal", "← Grüße aus München and the Q3 plan", "→ Re: Renewal and the Q3 plan",
                   "→ Invoice for May"]  # not the out-of-office (Precedence: bulk)
    # skipped, each with its place named
    assert "INBOX/cur/1780000003.M3P1.host:2,S: no Date header; skipped" in err
    assert "INBOX/cur/1780000004.M4P1.host:2,S: a broken header at line 3" in err
    assert "archive.mbox: message 3 (byte 439): truncated" in err
    assert "Imported 9 emails for 2 customers" in out
    assert "2 mailing list or bulk mail" in out and "1 from a noreply or system address" in out
    assert "1 between your own addresses" in out and "3 unreadable" in out
    # the most frequent unknown correspondent, counted once per message
    assert "      2  greta@fintech.example  Greta Someone" in out
    # one commit, with a count per customer, and the history phrase
    log = subprocess.run(["git", "-C", str(crm), "log", "-1", "--format=%B"], capture_output=True, text=True).stdout
    assert log.startswith("Import 9 emails from INBOX, Sent, archive.mbox and 1 more: 2 customers")
    assert "Ana López (ana-lopez): +5 emails" in log and "Ben Schmidt (ben-schmidt): +4 emails" in log
    code, out, _ = cli("history", "ana-lopez", "--json")
    assert json.loads(out)[0]["changes"] == ["+5 emails"]


def test_import_again_adds_nothing_and_commits_nothing(crm, cli):
    assert cli("import", "mail", *ALL)[0] == 0
    before, files = head(crm), {p.name: p.read_bytes() for p in (crm / "customers").glob("*.toml")}
    code, out, _ = cli("import", "mail", MAIL / "Sent", MAIL / "INBOX", MAIL / "eml", MAIL / "archive.mbox")
    assert code == 0 and "Imported no new emails; 9 already in the book; 3 read twice" in out
    assert "Committed" not in out
    assert head(crm) == before
    assert files == {p.name: p.read_bytes() for p in (crm / "customers").glob("*.toml")}


def test_dry_run_writes_nothing_and_names_candidates(crm, cli):
    before = head(crm)
    ana = (crm / "customers" / "ana-lopez.toml").read_bytes()
    code, out, _ = cli("import", "mail", "--dry-run", *ALL)
    assert code == 0
    assert out.startswith("Dry run of INBOX, Sent, archive.mbox and 1 more: nothing was written.")
    assert "Would import 9 emails for 2 customers" in out and "greta@fintech.example" in out
    assert head(crm) == before and (crm / "customers" / "ana-lopez.toml").read_bytes() == ana


def test_imported_mail_restarts_the_keep_in_touch_clock(crm, cli):
    # Ana's cadence is 30 days; logged 40 days before "now" (2026-06-15), she is due
    assert cli("log", "ana-lopez", "old call", "--kind", "call", "--at", "2026-05-06")[0] == 0
    due = lambda: {d["handle"] for d in json.loads(cli("due", "--json")[1])}  # noqa: E731
    assert "ana-lopez" in due()
    assert cli("import", "mail", MAIL / "eml")[0] == 0  # her "Thanks!" of 2026-06-10
    assert "ana-lopez" not in due()
    code, out, _ = cli("show", "ana-lopez")
    assert "← Thanks!" in out


def test_since_leaves_older_mail_out(crm, cli):
    code, out, _ = cli("import", "mail", "--since", "2026-06-05", *ALL)
    assert code == 0
    assert [r["summary"] for r in rows(crm, "ben-schmidt")] == ["→ Re: Renewal and the Q3 plan", "→ Invoice for May"]
    assert "older than --since" in out
    assert cli("import", "mail", "--since", "tomorrow", MAIL / "eml")[2].startswith("crmtui: --since tomorrow is in")
    assert cli("import", "mail", "--since", "3m", MAIL / "eml")[0] == 0  # three months back


def test_one_message_on_stdin(crm, run_cli, monkeypatch):
    data = (MAIL / "INBOX" / "cur" / "1780000001.M1P1.host:2,S").read_bytes()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    code, out, err = run_cli("--book", crm, "import", "mail", "-")
    assert code == 0, err
    assert [r["summary"] for r in rows(crm, "ana-lopez")] == ["← Renovación del contrato"]


def test_me_defaults_to_gits_user_email(book, cli):
    subprocess.run(["git", "-C", str(book), "config", "user.email", "me@example.com"], check=True)
    assert cli("add", "Ben Schmidt", "--email", "ben@schmidt.example")[0] == 0
    assert cli("import", "mail", MAIL / "Sent")[0] == 0
    assert [r["summary"] for r in rows(book, "ben-schmidt")] == ["→ Re: Renewal and the Q3 plan",
                                                                 "→ Invoice for May"]


def test_a_failed_import_leaves_the_book_as_it_was(crm, cli, monkeypatch):
    from crmtui.storage import transaction

    before = head(crm)
    files = {p.name: p.read_bytes() for p in (crm / "customers").glob("*.toml")}
    real = transaction.WriteTransaction.edit

    def edit(self, rel, mutate):
        if rel.endswith("ben-schmidt.toml"):
            raise OSError(28, "No space left on device", rel)
        return real(self, rel, mutate)

    monkeypatch.setattr(transaction.WriteTransaction, "edit", edit)
    code, _, err = cli("import", "mail", *ALL)
    assert code == 1 and "nothing was imported" in err
    assert head(crm) == before
    assert files == {p.name: p.read_bytes() for p in (crm / "customers").glob("*.toml")}
    assert subprocess.run(["git", "-C", str(crm), "status", "--porcelain"], capture_output=True,
                          text=True).stdout == ""


def many(crm: Path) -> Path:
    """12 customers (more than the threaded writer's threshold), 3 messages each."""
    service = Service.open(crm)
    for n in range(12):
        service.add_customer(f"Person {n}", emails=[f"p{n}@many.example"])
    folder = crm.parent / "many" / "cur"
    folder.mkdir(parents=True)
    (crm.parent / "many" / "new").mkdir()
    for n in range(12):
        for m in range(3):
            (folder / f"{n}.{m}:2,S").write_bytes(
                f"From: p{n}@many.example\nTo: me@example.com\nSubject: note {m}\n"
                f"Date: Mon, {m + 1} Jun 2026 10:00:00 +0000\nMessage-ID: <{n}.{m}@many.example>\n\n".encode())
    return crm.parent / "many"


def test_a_failure_among_many_writes_leaves_the_book_as_it_was(crm, cli, monkeypatch):
    from crmtui.storage import transaction

    folder = many(crm)
    before = head(crm)
    files = {p.name: p.read_bytes() for p in (crm / "customers").glob("*.toml")}
    real = transaction.WriteTransaction.edit

    def edit(self, rel, mutate):
        if rel.endswith("person-7.toml"):
            raise OSError(28, "No space left on device", rel)
        return real(self, rel, mutate)

    monkeypatch.setattr(transaction.WriteTransaction, "edit", edit)
    code, _, err = cli("import", "mail", folder)
    assert code == 1 and "No space left on device; nothing was imported" in err
    assert head(crm) == before
    assert files == {p.name: p.read_bytes() for p in (crm / "customers").glob("*.toml")}
    assert subprocess.run(["git", "-C", str(crm), "status", "--porcelain"], capture_output=True,
                          text=True).stdout == ""


def test_many_records_are_edited_in_one_commit(crm, cli):
    """More customers than the threaded writer's threshold: every file written, one commit."""
    many(crm)
    commits = int(subprocess.run(["git", "-C", str(crm), "rev-list", "--count", "HEAD"], capture_output=True,
                                 text=True).stdout)
    code, out, _ = cli("import", "mail", crm.parent / "many")
    assert code == 0 and "Imported 36 emails for 12 customers" in out
    assert int(subprocess.run(["git", "-C", str(crm), "rev-list", "--count", "HEAD"], capture_output=True,
                              text=True).stdout) == commits + 1
    assert all(len(rows(crm, f"person-{n}")) == 3 for n in range(12))


def test_a_folder_of_maildirs_is_searched(crm, cli, tmp_path):
    mailroot = tmp_path / "Mail" / "work"
    shutil.copytree(MAIL / "INBOX", mailroot / "INBOX")
    shutil.copytree(MAIL / "Sent", mailroot / "Sent")
    code, out, _ = cli("import", "mail", tmp_path / "Mail")
    assert code == 0 and "Imported 6 emails for 2 customers" in out


def test_refuses_a_path_with_no_mail(crm, cli, tmp_path):
    (tmp_path / "empty").mkdir()
    assert cli("import", "mail", tmp_path / "empty")[2] == (f"crmtui: {tmp_path / 'empty'} holds no mail: no "
                                                            "Maildir (cur/, new/), no .eml files, no .mbox files\n")
    assert cli("import", "mail", tmp_path / "nothing")[2] == f"crmtui: no file or folder at {tmp_path / 'nothing'}\n"


def test_me_in_crm_toml_is_checked():
    from crmtui.domain.record import RecordError
    from crmtui.domain.settings import settings_from_data

    assert settings_from_data({"me": "Me@Example.com"}).me == ("me@example.com",)
    assert settings_from_data({"me": ["a@x.example", "b@y.example"]}).me == ("a@x.example", "b@y.example")
    with pytest.raises(RecordError, match="me should be a list of your email addresses"):
        settings_from_data({"me": ["not an address"]})
