"""Entries in customers/ that are not plain files: pipes, sockets, devices, folders, links.

Only regular files, and symlinks to regular files, are records. Everything else named
like a record is reported (path, what it is, what to do) from stat alone, never opened:
opening a FIFO blocks until a writer comes, which used to hang every command.
"""

from __future__ import annotations

import json
import os
import pickle
import socket
import threading
from datetime import datetime
from pathlib import Path

import pytest

from crmtui.errors import CrmError
from crmtui.service import Service, init_book
from crmtui.storage.book import Book
from crmtui.storage.record_file import read_record

NOW = datetime(2026, 6, 15, 9, 0)

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs and symlinks (POSIX)")


def within(seconds: float, fifos: list[Path], work):
    """Run `work()`; fail, rather than hang the suite, if it blocks on a FIFO. A blocked open
    is released by opening the FIFOs for writing, so the thread ends either way."""
    result: dict = {}

    def run():
        try:
            result["value"] = work()
        except BaseException as error:  # handed to the test below
            result["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        for fifo in fifos:
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass
        thread.join(5)
        pytest.fail(f"blocked for more than {seconds}s: a FIFO was opened for reading")
    if "error" in result:
        raise result["error"]
    return result.get("value")


@pytest.fixture
def odd_entries(tmp_path: Path):
    """A book whose customers/ holds one of every kind of entry; returns (root, fifos, outside file)."""
    root = tmp_path / "book"
    init_book(root)
    customers = root / "customers"
    (customers / "ana.toml").write_text('name = "Ana López"\n', "utf-8")
    outside = tmp_path / "elsewhere" / "shared.toml"
    outside.parent.mkdir()
    outside.write_text('name = "Shared Outside"\n', "utf-8")
    (customers / "archive").mkdir()
    (customers / "archive" / "old.toml").write_text('name = "Old Archived"\n', "utf-8")
    (customers / ".hidden.toml").write_text('name = "Behind A Dot"\n', "utf-8")
    os.mkfifo(customers / "pipe.toml")
    outside_fifo = tmp_path / "elsewhere" / "fifo"
    os.mkfifo(outside_fifo)
    (customers / "alias.toml").symlink_to("ana.toml")  # another record: listed once, as ana
    (customers / "alias-abs.toml").symlink_to(customers / "ana.toml")
    (customers / "shared.toml").symlink_to(outside)  # a file elsewhere: a record under the link's name
    (customers / "old.toml").symlink_to("archive/old.toml")  # in the book but not a record itself
    (customers / "dotted.toml").symlink_to(".hidden.toml")
    (customers / "dangling.toml").symlink_to("gone.toml")
    (customers / "loop.toml").symlink_to("loop.toml")
    (customers / "loop-a.toml").symlink_to("loop-b.toml")
    (customers / "loop-b.toml").symlink_to("loop-a.toml")
    (customers / "to-pipe.toml").symlink_to(outside_fifo)
    (customers / "to-null.toml").symlink_to(os.devnull)
    (customers / "to-folder.toml").symlink_to("archive")
    (customers / "folder.toml").mkdir()
    sock = socket.socket(socket.AF_UNIX)
    cwd = os.getcwd()
    os.chdir(customers)  # a socket's path is limited to ~100 bytes: bind by its short name
    try:
        sock.bind("sock.toml")
    finally:
        os.chdir(cwd)
    yield root, [customers / "pipe.toml", outside_fifo], outside
    sock.close()


EXPECTED_RECORDS = {"ana", "shared", "old", "dotted"}
EXPECTED_PROBLEMS = {  # file -> words its problem must hold
    "pipe": ["named pipe (FIFO)", "not read", "rm customers/pipe.toml"],
    "sock": ["socket", "rm customers/sock.toml"],
    "folder": ["folder", "rename"],
    "alias": ["customers/ana.toml", "listed once, as ana", "rm customers/alias.toml"],
    "alias-abs": ["customers/ana.toml", "listed once, as ana"],
    "dangling": ["gone.toml", "does not exist", "rm customers/dangling.toml"],
    "loop": ["loop", "rm customers/loop.toml"],
    "loop-a": ["loop"],
    "loop-b": ["loop"],
    "to-pipe": ["named pipe (FIFO)", "rm customers/to-pipe.toml"],
    "to-null": ["device file", "rm customers/to-null.toml"],
    "to-folder": ["a folder", "rm customers/to-folder.toml"],
}


def test_only_regular_files_and_links_to_them_are_records(odd_entries):
    root, fifos, _ = odd_entries
    snapshot = within(20, fifos, Book.open(root).load)
    assert set(snapshot.records) == EXPECTED_RECORDS
    assert {c.name for c in snapshot.customers} == {"Ana López", "Shared Outside", "Old Archived", "Behind A Dot"}
    assert snapshot.records["shared"].rel == "customers/shared.toml"  # under the link's name
    problems = {p.path: p for p in snapshot.problems}
    assert set(problems) == {f"customers/{name}.toml" for name in EXPECTED_PROBLEMS}
    for name, words in EXPECTED_PROBLEMS.items():
        message = problems[f"customers/{name}.toml"].message
        for word in words:
            assert word in message, (name, message)
    assert [p.path for p in snapshot.problems] == sorted(problems, key=lambda path: path.removesuffix(".toml"))


def test_check_reports_them_and_exits_non_zero_while_list_keeps_working(odd_entries, run_cli):
    root, fifos, _ = odd_entries
    code, out, err = within(20, fifos, lambda: run_cli("--book", root, "check"))
    assert code == 1
    assert "customers/pipe.toml:1:1: a named pipe (FIFO)" in out
    assert "customers/dangling.toml" in out and "customers/loop.toml" in out
    code, out, _ = within(20, fifos, lambda: run_cli("--book", root, "check", "--json"))
    report = json.loads(out)
    assert code == 1 and report["records"] == len(EXPECTED_RECORDS)
    assert {p["path"] for p in report["problems"]} == {f"customers/{n}.toml" for n in EXPECTED_PROBLEMS}
    code, out, _ = within(20, fifos, lambda: run_cli("--book", root, "list", "--json"))
    assert code == 0
    assert sorted(row["handle"] for row in json.loads(out)) == sorted(EXPECTED_RECORDS)


def test_reading_one_entry_never_opens_what_is_not_a_file(odd_entries):
    root, fifos, _ = odd_entries
    customers = root / "customers"
    for name, words in (("pipe", "named pipe"), ("to-pipe", "named pipe"), ("sock", "socket"),
                        ("to-null", "device file"), ("folder", "folder"), ("loop", "cannot read")):
        record = within(10, fifos, lambda: read_record(root, customers / f"{name}.toml"))
        assert record.customer is None and words in record.problem.message, (name, record.problem)
    assert read_record(root, customers / "shared.toml").customer.name == "Shared Outside"


def test_logging_with_a_fifo_in_the_folder_does_not_hang(odd_entries):
    root, fifos, _ = odd_entries
    for path in root.joinpath("customers").iterdir():  # keep what git never lists: pipe, socket, folders
        if path.name not in ("ana.toml", "pipe.toml", "sock.toml"):
            if path.is_dir() and not path.is_symlink():
                continue
            path.unlink()
    service = within(20, fifos, lambda: Service.open(root, now=lambda: NOW))
    within(30, fifos, lambda: service.log_interaction("ana", "Call about the pipe", kind="call"))
    assert "Call about the pipe" in (root / "customers" / "ana.toml").read_text("utf-8")
    assert [p.path for p in service.problems] == ["customers/folder.toml", "customers/pipe.toml",
                                                  "customers/sock.toml"]


def test_the_cache_holds_records_only_and_follows_entries_changing_kind(odd_entries):
    root, fifos, outside = odd_entries
    book = Book.open(root)
    first = within(20, fifos, book.load)
    cache = root / ".git" / "crmtui" / "summary-cache.pickle"
    assert set(pickle.loads(cache.read_bytes())["records"]) == EXPECTED_RECORDS
    again = within(20, fifos, book.load)  # from the cache: the same records and problems
    assert set(again.records) == EXPECTED_RECORDS and again.problems == first.problems
    customers = root / "customers"
    # A pipe replaced by a file becomes a record; a record replaced by a pipe stops being one.
    (customers / "pipe.toml").unlink()
    (customers / "pipe.toml").write_text('name = "Was A Pipe"\n', "utf-8")
    (customers / "dotted.toml").unlink()
    os.mkfifo(customers / "dotted.toml")
    fifos.append(customers / "dotted.toml")
    snapshot = within(20, fifos, book.load)
    assert snapshot.customer("pipe").name == "Was A Pipe" and "dotted" not in snapshot.records
    assert "customers/dotted.toml" in {p.path for p in snapshot.problems}
    assert set(pickle.loads(cache.read_bytes())["records"]) == EXPECTED_RECORDS - {"dotted"} | {"pipe"}
    # A linked record follows its target: the target edited, or the link pointed elsewhere.
    outside.write_text('name = "Shared Renamed"\n', "utf-8")
    assert within(20, fifos, book.load).customer("shared").name == "Shared Renamed"
    (customers / "shared.toml").unlink()
    (customers / "shared.toml").symlink_to("archive/old.toml")
    assert within(20, fifos, book.load).customer("shared").name == "Old Archived"
    # A dangling link whose file comes back (here: as a record of its own) stops dangling.
    (customers / "gone.toml").write_text('name = "Back Again"\n', "utf-8")
    snapshot = within(20, fifos, book.load)
    assert snapshot.customer("gone").name == "Back Again" and "dangling" not in snapshot.records
    assert "listed once, as gone" in next(p.message for p in snapshot.problems if p.path == "customers/dangling.toml")


def test_every_name_taken_stays_taken_for_new_records(odd_entries):
    root, fifos, _ = odd_entries
    book = Book.open(root)
    taken = {path.stem for path in book.customer_paths()}
    assert taken >= set(EXPECTED_PROBLEMS) | EXPECTED_RECORDS
    assert ".hidden" not in taken


def test_a_new_customer_never_takes_a_pipes_or_a_broken_links_name(odd_entries):
    root, fifos, _ = odd_entries
    for path in root.joinpath("customers").iterdir():  # keep only names git does not list
        if path.name not in ("ana.toml", "pipe.toml", "sock.toml", "folder.toml", "archive"):
            path.unlink()
    service = within(20, fifos, lambda: Service.open(root, now=lambda: NOW))
    assert within(30, fifos, lambda: service.add_customer("Pipe")).handle == "pipe-2"
    assert within(30, fifos, lambda: service.add_customer("Folder")).handle == "folder-2"
    assert (root / "customers" / "pipe-2.toml").is_file()


def test_real_path_leads_to_the_file_or_says_why_not(odd_entries):
    root, fifos, outside = odd_entries
    book = Book.open(root)
    customers = root / "customers"
    assert book.real_path("customers/ana.toml") == customers / "ana.toml"
    assert book.real_path("customers/shared.toml") == outside.resolve()
    assert book.real_path("customers/alias.toml") == (customers / "ana.toml").resolve()
    assert book.real_path("customers/old.toml") == (customers / "archive" / "old.toml").resolve()
    for name, words in (("dangling", "gone.toml, which does not exist"), ("loop", "leads back to itself"),
                        ("pipe", "is a named pipe (FIFO)"), ("to-pipe", "leads to a named pipe"),
                        ("folder", "is a folder"), ("to-folder", "leads to a folder"),
                        ("to-null", "device file"), ("missing", "no longer exists")):
        with pytest.raises(CrmError, match="nothing was written|no longer exists") as caught:
            within(10, fifos, lambda: book.real_path(f"customers/{name}.toml"))
        assert words in str(caught.value), (name, caught.value)


def test_problems_survive_reloading_one_record(odd_entries):
    root, fifos, _ = odd_entries
    (root / "crm.toml").write_text("currency = [\n", "utf-8")  # crm.toml broken too
    book = Book.open(root)
    snapshot = within(20, fifos, book.load)
    before = list(snapshot.problems)
    assert before[0].path == "crm.toml"
    (root / "customers" / "ana.toml").write_text('name = "Ana Reloaded"\n', "utf-8")
    book.reload_one(snapshot, "ana")
    assert snapshot.customer("ana").name == "Ana Reloaded" and snapshot.problems == before
    # reloading a name that is now a pipe moves it from the records to the problems
    (root / "customers" / "shared.toml").unlink()
    os.mkfifo(root / "customers" / "shared.toml")
    fifos.append(root / "customers" / "shared.toml")
    within(10, fifos, lambda: book.reload_one(snapshot, "shared"))
    assert "shared" not in snapshot.records
    assert "customers/shared.toml" in {p.path for p in snapshot.problems}


def test_stored_list_rows_are_reused_with_special_entries_present(odd_entries):
    root, fifos, _ = odd_entries
    book = Book.open(root)
    snapshot = within(20, fifos, book.load)
    book.save_rows("t", ("k",), snapshot, ["rows"])
    assert within(20, fifos, lambda: book.read_rows("t", ("k",))) == ["rows"]
    (root / "customers" / "ana.toml").write_text('name = "Ana Changed"\n', "utf-8")
    assert book.read_rows("t", ("k",)) is None
