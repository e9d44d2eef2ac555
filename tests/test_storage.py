"""The book on disk: tolerant reading, surgical atomic writes, the summary cache."""

from __future__ import annotations

import shutil
import string
import textwrap
import tomllib
from datetime import datetime
from pathlib import Path

import pytest
import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmtui.errors import CrmError
from crmtui.service import Service, init_book
from crmtui.storage.book import Book
from crmtui.storage.record_file import append_table, edit_record, read_record, write_new_record

FIXTURES = Path(__file__).parent / "fixtures" / "odd"
NOW = datetime(2026, 6, 15, 9, 0)


@pytest.fixture
def odd_book(tmp_path: Path) -> Path:
    root = tmp_path / "odd-book"
    init_book(root)
    for path in FIXTURES.glob("*.toml"):
        shutil.copy(path, root / "customers" / path.name)
    return root


def test_broken_files_are_reported_with_line_and_column_and_the_rest_loads(odd_book: Path):
    snapshot = Book.open(odd_book).load()
    problems = {p.path: p for p in snapshot.problems}
    assert set(problems) == {"customers/broken-syntax.toml", "customers/broken-stage.toml", "customers/latin1.toml"}
    syntax = problems["customers/broken-syntax.toml"]
    assert (syntax.line, syntax.col) == (2, 16)  # where tomllib finds the string unterminated
    assert str(syntax).startswith("customers/broken-syntax.toml:2:16: ")
    stage = problems["customers/broken-stage.toml"]
    assert (stage.line, stage.col) == (3, 1)
    assert "customr" in stage.message and "prospect" in stage.message
    assert "UTF-8" in problems["customers/latin1.toml"].message
    assert {c.handle for c in snapshot.customers} == {"windows", "commented"}


def test_unknown_keys_are_kept(odd_book: Path):
    customer = Book.open(odd_book).load().customer("commented")
    assert customer.extra == {"pronouns": "she/her", "custom": {"favourite_tea": "sencha"}}
    assert str(customer.birthday) == "03-12"


def _log(root: Path, handle: str, summary: str) -> None:
    Service.open(root, now=lambda: NOW).log_interaction(handle, summary, kind="call", follow_up="14d")


def test_logging_keeps_every_byte_the_user_wrote(odd_book: Path):
    path = odd_book / "customers" / "commented.toml"
    before = path.read_text("utf-8")
    _log(odd_book, "commented", "Renewal call")
    after = path.read_text("utf-8")
    # The new [[interactions]] goes after the last one, separated by a blank line;
    # the new reminder goes at the end. Everything else is untouched.
    head, _, tail = before.partition("[custom]")
    assert after.startswith(head)
    assert after[len(head):].startswith('[[interactions]]\nat = 2026-06-15T09:00:00\nkind = "call"\n'
                                        'summary = "Renewal call"\n\n[custom]')
    assert after.endswith('\n\n[[reminders]]\ndue = 2026-06-29\ntext = "Follow up: Renewal call"\n')
    assert tail.rstrip("\n") in after
    data = tomllib.loads(after)
    assert data["pronouns"] == "she/her" and data["custom"] == {"favourite_tea": "sencha"}


def test_bom_and_crlf_survive_an_edit(odd_book: Path):
    path = odd_book / "customers" / "windows.toml"
    before = path.read_bytes()
    _log(odd_book, "windows", "Second call")
    after = path.read_bytes()
    assert after.startswith(before)
    added = after[len(before):]
    assert b"\n" not in added.replace(b"\r\n", b"")  # every new line ends in CRLF
    assert added.startswith(b"\r\n[[interactions]]\r\n")


def test_a_broken_file_is_never_rewritten(odd_book: Path):
    path = odd_book / "customers" / "broken-stage.toml"
    before = path.read_bytes()
    with pytest.raises(CrmError, match="broken-stage.toml:3:1"):
        edit_record(odd_book, "customers/broken-stage.toml", lambda doc: doc.add("x", 1))
    assert path.read_bytes() == before


def test_an_edit_made_meanwhile_is_reapplied_not_overwritten(tmp_path: Path):
    root = tmp_path / "book"
    init_book(root)
    path = root / "customers" / "ana.toml"
    path.write_text('name = "Ana"\n', "utf-8")
    calls = []

    def mutate(doc):
        calls.append(1)
        if len(calls) == 1:  # another program saves the file while we are editing
            path.write_text('name = "Ana"\ncompany = "Written meanwhile"\n', "utf-8")
        append_table(doc, "interactions", {"at": NOW, "kind": "call", "summary": "ours"})

    edit_record(root, "customers/ana.toml", mutate)
    data = tomllib.loads(path.read_text("utf-8"))
    assert len(calls) == 2
    assert data["company"] == "Written meanwhile"
    assert data["interactions"][0]["summary"] == "ours"


def test_new_records_never_overwrite_an_existing_file(tmp_path: Path):
    root = tmp_path / "book"
    init_book(root)
    (root / "customers" / "ana.toml").write_text('name = "Someone else"\n', "utf-8")
    doc = tomlkit.document()
    doc["name"] = "Ana"
    with pytest.raises(CrmError, match="already exists"):
        write_new_record(root, "customers/ana.toml", doc)
    assert "Someone else" in (root / "customers" / "ana.toml").read_text("utf-8")


def test_no_temp_files_are_left_behind(odd_book: Path):
    _log(odd_book, "commented", "x")
    leftovers = [p.name for p in (odd_book / "customers").iterdir() if p.name.startswith(".") and p.name != ".gitkeep"]
    assert leftovers == []


def test_cache_is_used_refreshed_and_rebuilt_when_corrupt(odd_book: Path):
    book = Book.open(odd_book)
    first = book.load()
    cache = odd_book / ".git" / "crmtui" / "summary-cache.pickle"
    assert cache.exists()
    # A changed file is re-read even though the cache has it.
    path = odd_book / "customers" / "commented.toml"
    path.write_text(path.read_text("utf-8").replace("Ana López", "Ana Changed"), "utf-8")
    assert book.load().customer("commented").name == "Ana Changed"
    # A corrupt cache is silently rebuilt.
    cache.write_bytes(b"not a pickle")
    again = book.load()
    assert {c.handle for c in again.customers} == {c.handle for c in first.customers}
    assert len(again.problems) == len(first.problems)
    # A deleted file disappears.
    (odd_book / "customers" / "windows.toml").unlink()
    assert book.load().customer("windows") is None


def test_cache_stays_out_of_the_books_history(odd_book: Path):
    Book.open(odd_book).load()
    service = Service.open(odd_book, now=lambda: NOW)
    assert all(".pickle" not in path for _, path in service.git.pending())


# ---- properties -------------------------------------------------------------------

names = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30).filter(
    lambda s: s.strip())
words = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)
emails = st.from_regex(r"[a-z0-9.]{1,10}@[a-z]{1,8}\.example", fullmatch=True)
tags = st.text(string.ascii_lowercase + "-", min_size=1, max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=names, company=words, title=words, mails=st.lists(emails, max_size=3),
       tag_list=st.lists(tags, max_size=4), notes=words)
def test_write_then_read_gives_the_same_record(tmp_path_factory, name, company, title, mails, tag_list, notes):
    root = tmp_path_factory.mktemp("prop")
    (root / "customers").mkdir()
    doc = tomlkit.document()
    doc["name"] = name
    doc["company"] = company
    doc["title"] = title
    doc["emails"] = mails
    doc["tags"] = tag_list
    doc["notes"] = notes
    write_new_record(root, "customers/x.toml", doc)
    customer = read_record(root, root / "customers" / "x.toml").customer
    assert customer is not None
    assert (customer.name, customer.company, customer.title, customer.emails, customer.tags, customer.notes) == (
        name.strip(), company, title, mails, tag_list, notes)


comment = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\n\r"), max_size=15)
spacing = st.sampled_from(["=", " = ", "  =  ", "\t=\t"])


@settings(max_examples=40, deadline=None)
@given(pad=spacing, top=comment, side=comment, blank_lines=st.integers(0, 3), crlf=st.booleans(),
       existing=st.integers(0, 3), summary=words.filter(lambda s: s.strip()))
def test_an_edit_changes_only_the_bytes_it_must(tmp_path_factory, pad, top, side, blank_lines, crlf, existing, summary):
    lines = [f"# {top}", f'name{pad}"Prop Person"   # {side}', f"tags{pad}[ 'a',  \"b\" ]"]
    lines += [""] * blank_lines
    for i in range(existing):
        lines += ["", "[[interactions]]", f"at{pad}2026-01-0{i + 1}T10:00:00", f'summary{pad}"old {i}"  # {side}']
    eol = "\r\n" if crlf else "\n"
    original = eol.join(lines) + eol
    root = tmp_path_factory.mktemp("edit")
    (root / "customers").mkdir()
    path = root / "customers" / "p.toml"
    path.write_bytes(original.encode("utf-8"))
    edit_record(root, "customers/p.toml",
                lambda doc: append_table(doc, "interactions", {"at": NOW, "kind": "call", "summary": summary}))
    result = path.read_bytes().decode("utf-8")
    assert result.startswith(original)  # nothing the user wrote moved or changed
    added = result[len(original):]
    assert added.lstrip("\r\n").startswith("[[interactions]]")
    if crlf:
        assert "\n" not in added.replace("\r\n", "")
    data = tomllib.loads(result)
    assert [i["summary"] for i in data["interactions"]] == [f"old {i}" for i in range(existing)] + [summary]


# ---- rows kept for `list --json` ------------------------------------------------------

def _list(run_cli, root: Path, *extra) -> list[dict]:
    import json

    code, out, err = run_cli("--book", root, "list", "--json", *extra)
    assert code == 0, err
    return json.loads(out)


def test_list_rows_are_reused_and_follow_every_change(run_cli, monkeypatch, tmp_path: Path):
    root = tmp_path / "rows-book"
    init_book(root)
    service = Service.open(root, now=lambda: NOW)
    service.add_customer("Ana López", company="Acme", tags=["Fintech"], stage="customer")
    service.add_customer("Ben Schmidt")
    service.log_interaction("ana-lopez", "Call", kind="call", follow_up="2026-06-20")
    first = _list(run_cli, root)
    assert (root / ".git" / "crmtui" / "rows-list-json.pickle").exists()
    assert _list(run_cli, root) == first  # from the stored rows
    # A file changed by hand: its row is computed again.
    path = root / "customers" / "ben-schmidt.toml"
    path.write_text(path.read_text("utf-8").replace('name = "Ben Schmidt"', 'name = "Ben Schmidt-Weber"'), "utf-8")
    assert [c["name"] for c in _list(run_cli, root)] == ["Ana López", "Ben Schmidt-Weber"]
    # Another day: value (won deals of the trailing 12 months) is computed for that day.
    ana = root / "customers" / "ana-lopez.toml"
    ana.write_text(ana.read_text("utf-8")
                   + '\n[[deals]]\ntitle = "Audit"\namount = 20000\nstatus = "won"\ndate = 2025-06-20\n', "utf-8")
    assert (_list(run_cli, root)[0]["value"], _list(run_cli, root)[0]["tier"]) == (20000, "gold")
    monkeypatch.setenv("CRMTUI_NOW", "2026-06-25T09:00:00")
    assert (_list(run_cli, root)[0]["value"], _list(run_cli, root)[0]["tier"]) == (0, "iron")
    monkeypatch.setenv("CRMTUI_NOW", "2026-06-15T09:00:00")
    assert _list(run_cli, root)[0]["tier"] == "gold"
    # crm.toml changed: tiers follow the new thresholds.
    settings = root / "crm.toml"
    settings.write_text(settings.read_text("utf-8").replace("platinum = 50000", "platinum = 18000"), "utf-8")
    assert _list(run_cli, root)[0]["tier"] == "platinum"
    # Filters work on stored rows; a broken file drops out and comes back.
    assert [c["handle"] for c in _list(run_cli, root, "--tag", "fintech")] == ["ana-lopez"]
    assert [c["handle"] for c in _list(run_cli, root, "--tier", "unranked")] == ["ben-schmidt"]
    good = path.read_text("utf-8")
    path.write_text('name = "Ben\n', "utf-8")
    assert [c["handle"] for c in _list(run_cli, root)] == ["ana-lopez"]
    path.write_text(good, "utf-8")
    assert len(_list(run_cli, root)) == 2


def test_a_worktree_keeps_crmtuis_state_in_its_git_directory(tmp_path: Path):
    import subprocess

    root = tmp_path / "main-book"
    init_book(root)
    Service.open(root, now=lambda: NOW).add_customer("Ana López")
    other = tmp_path / "worktree"
    subprocess.run(["git", "worktree", "add", "-q", str(other)], cwd=root, check=True, capture_output=True)
    assert (other / ".git").is_file()
    Book.open(other).load()
    assert not list(other.glob("*.pickle")) and not list(other.glob(".*.pickle"))  # nothing in the working tree
    assert list((root / ".git" / "worktrees").rglob("summary-cache.pickle"))


def test_two_processes_loading_at_once_never_fail_or_corrupt_the_cache(tmp_path: Path):
    import subprocess
    import sys

    root = tmp_path / "busy-book"
    init_book(root)
    for i in range(60):
        (root / "customers" / f"person-{i}.toml").write_text(f'name = "Person {i}"\n', "utf-8")
    code = textwrap.dedent("""
        import os, sys
        from pathlib import Path
        from crmtui.storage.book import Book
        root = Path(sys.argv[1])
        for round in range(15):
            # saved as editors save: a new file renamed over the old, never half written
            target = root / "customers" / f"person-{round % 60}.toml"
            tmp = target.with_name(f".{target.name}.{sys.argv[2]}.tmp")
            tmp.write_text(f'name = "P {sys.argv[2]} {round}"\\n')
            os.replace(tmp, target)
            snapshot = Book.open(root).load()
            assert len(snapshot.records) == 60 and not snapshot.problems, snapshot.problems
        """)
    runs = [subprocess.Popen([sys.executable, "-c", code, str(root), str(n)], stderr=subprocess.PIPE, text=True)
            for n in (1, 2)]
    for run in runs:
        assert run.wait() == 0, run.stderr.read()
    snapshot = Book.open(root).load()  # the cache left behind is whole and current
    assert len(snapshot.records) == 60 and not snapshot.problems
    cached = Book.open(root)._read_cache()
    assert len(cached) == 60
