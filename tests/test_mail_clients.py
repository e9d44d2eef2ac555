"""The README's snippets for mutt/neomutt, aerc and alot, run as each client runs them.

Each test builds the command line the way the client does (mutt quotes the query for a
shell and runs `sh -c`; aerc replaces %s as it is and splits the words itself; alot adds
the prefix after a space and splits) and reads the output the way the client reads it
(mutt: the first line is a message, then strtok on tabs; aerc: tab-split lines whose first
field parses as an address, at most 100; alot: a regexp per line, and a non-zero exit is an
error). Messages are piped in raw, as mutt's <pipe-message>, aerc's :pipe -m and alot's
pipeto send them.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
import tomllib
from email.utils import parseaddr
from pathlib import Path

import pytest

MAIL = Path(__file__).parent / "fixtures" / "mail"
GRETA = MAIL / "INBOX" / "new" / "1780000008.M8P1.host"
SENT_TO_MANY = MAIL / "INBOX" / "cur" / "1780000010.M10P1.host:2,S"
NEWSLETTER = MAIL / "INBOX" / "cur" / "1780000006.M6P1.host:2,S"

# The snippets of the README, as a user pastes them.
MUTT_QUERY = 'crmtui query %s'  # set query_command = "crmtui query %s"
MUTT_ADD = "crmtui add-email"  # macro index,pager A "<pipe-message>crmtui add-email<enter>"
MUTT_LOG = "crmtui log --mail"  # macro index,pager L "<pipe-message>crmtui log --mail<enter>"
AERC_QUERY = 'crmtui query --format aerc "%s"'  # address-book-cmd = crmtui query --format aerc "%s"
ALOT_COMMAND = "crmtui query --format alot"  # command = crmtui query --format alot
ALOT_REGEXPS = (r"^(?P<email>[^@]+@[^\t]+)\t+(?P<name>[^\t]+)",  # alot's documented example
                r"(?P<email>.+)\t(?P<name>.+)")


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def crm(book, cli, tmp_path, monkeypatch):
    """A book the commands find through $CRMTUI_BOOK, and `crmtui` on PATH, as in a shell."""
    settings = book / "crm.toml"
    settings.write_text('me = ["me@example.com"]\n' + settings.read_text("utf-8"), "utf-8")
    assert cli("add", "Ana López", "--company", "Acme", "--email", "ana@acme.example", "--tier", "gold")[0] == 0
    assert cli("add", "Ben Schmidt", "--company", "Schmidt\tGmbH", "--email", "ben@schmidt.example",
               "--email", "b.schmidt@private.example")[0] == 0
    assert cli("add", "Siobhán O'Brien", "--email", "siobhan@obrien.example")[0] == 0
    assert cli("log", "ben-schmidt", "call", "--kind", "call", "--at", "2026-06-14")[0] == 0
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "crmtui"
    wrapper.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -m crmtui \"$@\"\n")
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("CRMTUI_BOOK", str(book))
    return book


def record(book: Path, handle: str) -> dict:
    return tomllib.loads((book / "customers" / f"{handle}.toml").read_text("utf-8"))


# ---- mutt and neomutt ---------------------------------------------------------------------

def mutt_query(query: str) -> tuple[int, str, list[tuple[str, str, str]]]:
    """mutt_expand_file_fmt: %s becomes the query in single quotes; run with sh -c; then
    the first line is shown as a message, each other line is strtok'd on TAB and newline."""
    quoted = "'" + query.replace("'", "'\\''") + "'"
    done = subprocess.run(["sh", "-c", MUTT_QUERY.replace("%s", quoted)], capture_output=True)
    lines = done.stdout.decode("utf-8").split("\n")
    message, results = lines[0], []
    for line in lines[1:]:
        fields = [f for f in re.split(r"[\t\n]", line) if f]  # strtok skips empty fields
        if fields:
            results.append((fields[0], fields[1] if len(fields) > 1 else "", fields[2] if len(fields) > 2 else ""))
    return done.returncode, message, results


def test_mutt_query_command(crm):
    code, message, results = mutt_query("schmidt")
    assert code == 0 and message == "crmtui: 2 addresses for 'schmidt'"
    assert results == [("ben@schmidt.example", "Ben Schmidt", "Schmidt GmbH · prospect"),
                       ("b.schmidt@private.example", "Ben Schmidt", "Schmidt GmbH · prospect")]  # no tab inside


def test_mutt_ranks_by_tier_then_last_contact(crm):
    code, _, results = mutt_query("e")  # everyone with an e
    names = [name for _, name, _ in results]
    # Ana is gold; Ben (contacted yesterday) before Siobhán (never): both unranked
    assert names == ["Ana López", "Ben Schmidt", "Ben Schmidt", "Siobhán O'Brien"]
    assert results[0][2] == "Acme · gold"


def test_mutt_quotes_an_apostrophe_and_no_match_exits_1(crm):
    assert mutt_query("o'brien")[2] == [("siobhan@obrien.example", "Siobhán O'Brien", "prospect")]
    code, message, results = mutt_query("zzyzx")
    assert code == 1 and results == [] and message == "crmtui: no customer matches 'zzyzx'"


def pipe(command: str, message: Path) -> subprocess.CompletedProcess:
    """mutt's <pipe-message> (pipe_decode unset): the raw message on the command's stdin, via sh -c."""
    return subprocess.run(["sh", "-c", command], input=message.read_bytes(), capture_output=True)


def test_mutt_pipe_message_to_add_email(crm):
    done = pipe(MUTT_ADD, GRETA)
    assert done.returncode == 0, done.stderr
    assert b"Added Greta Someone as a prospect (customers/greta-someone.toml)" in done.stdout
    greta = record(crm, "greta-someone")
    assert (greta["emails"], greta["stage"]) == (["greta@fintech.example"], "prospect")
    again = pipe(MUTT_ADD, GRETA)
    assert again.returncode == 0 and b"already in the book with that address" in again.stdout


def test_add_email_to_too_adds_the_recipients_but_never_me(crm):
    done = pipe(MUTT_ADD + " --to-too", SENT_TO_MANY)
    assert done.returncode == 0, done.stderr
    assert b"Added Greta Someone as a prospect" in done.stdout
    handles = sorted(p.stem for p in (crm / "customers").glob("*.toml"))
    assert handles == ["ana-lopez", "ben-schmidt", "greta-someone", "siobhan-o-brien"]  # no record for me


def test_add_email_adds_the_address_to_the_record_matching_by_name(crm, cli):
    assert cli("add", "Greta Someone", "--company", "Fintech")[0] == 0
    done = pipe(MUTT_ADD, GRETA)
    assert done.returncode == 0, done.stderr
    assert b"Added greta@fintech.example to Greta Someone (greta-someone), whose name it matched" in done.stdout
    assert record(crm, "greta-someone")["emails"] == ["greta@fintech.example"]


def test_mutt_pipe_message_to_log_mail(crm):
    done = pipe(MUTT_LOG, SENT_TO_MANY)
    assert done.returncode == 0, done.stderr
    assert b"Imported 2 emails for 2 customers" in done.stdout
    ana = record(crm, "ana-lopez")["interactions"]
    assert [(r["kind"], r["summary"], r["message_id"]) for r in ana] == [
        ("email", "→ Re: Renewal and the Q3 plan", "<sent-10@example.com>")]
    assert b"no new emails; 2 already in the book" in pipe(MUTT_LOG, SENT_TO_MANY).stdout
    newsletter = pipe(MUTT_LOG, NEWSLETTER)
    assert newsletter.returncode == 1
    assert newsletter.stderr == b"crmtui: nothing logged: mailing list or bulk mail (add the sender with: " \
                                b"crmtui add-email)\n"


def test_import_mail_from_stdin(crm):
    done = pipe("crmtui import mail -", GRETA)  # not a customer: nothing, and she is named
    assert done.returncode == 0 and b"greta@fintech.example" in done.stdout


# ---- aerc -----------------------------------------------------------------------------------

def aerc_complete(typed: str) -> list[tuple[str, str]]:
    """completer.go: %s replaced as typed, the words split (opt.SplitArgs), run without a shell;
    the exit status is ignored; each non-empty line split on tabs, the first field parsed as an
    address (lines that do not parse are skipped), the second the name; at most 100 lines."""
    argv = shlex.split(AERC_QUERY.replace("%s", typed))
    done = subprocess.run(argv, capture_output=True)
    lines = done.stdout.decode("utf-8").splitlines(keepends=True)
    assert len(lines) <= 100
    found = []
    for line in lines:
        if not line.strip():
            continue
        parts = line.split("\t", 2)
        _, address = parseaddr(parts[0].strip())
        assert "@" in address, f"aerc cannot parse {line!r}"
        found.append((address, parts[1].strip() if len(parts) > 1 else ""))
    return found


def test_aerc_address_book_cmd(crm):
    assert aerc_complete("ana") == [("ana@acme.example", "Ana López")]
    assert aerc_complete("b.sch") == [("b.schmidt@private.example", "Ben Schmidt")]
    assert aerc_complete("nobody-here") == []


def test_aerc_never_gets_more_than_100_lines(crm):
    from crmtui.service import Service

    service = Service.open(crm)
    for n in range(105):
        service.add_customer(f"Many Person {n}", emails=[f"many{n}@x.example"])
    assert len(aerc_complete("many")) == 100


# ---- alot -----------------------------------------------------------------------------------

def alot_lookup(prefix: str, regexp: str) -> list[tuple[str, str]]:
    """ExternalAddressbook: command + " " + prefix, split, run; a non-zero exit is an error;
    each output line matched with the regexp, its email and name groups taken."""
    argv = shlex.split(ALOT_COMMAND + " " + prefix)
    done = subprocess.run(argv, capture_output=True)
    assert done.returncode == 0, f"alot shows an error: return code {done.returncode}"
    found = []
    for line in done.stdout.decode("utf-8").splitlines():
        match = re.match(regexp, line)
        if match:
            found.append((match.group("email").strip(), match.group("name")))
    return found


@pytest.mark.parametrize("regexp", ALOT_REGEXPS)
def test_alot_shellcommand_address_book(crm, regexp):
    assert alot_lookup("ana", regexp) == [("ana@acme.example", "Ana López")]
    assert alot_lookup("schmidt", regexp) == [("ben@schmidt.example", "Ben Schmidt"),
                                              ("b.schmidt@private.example", "Ben Schmidt")]
    assert alot_lookup("nobody-here", regexp) == []  # and no error
