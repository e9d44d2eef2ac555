"""The book's git history: one commit per change, outside edits, identity, history, restore."""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from crmtui.errors import CrmError
from crmtui.service import Service, init_book
from crmtui.storage.git_repo import FALLBACK_EMAIL, IDENTITY_HINT

NOW = datetime(2026, 6, 15, 9, 0)


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def subjects(root: Path) -> list[str]:
    return git(root, "log", "--format=%s").splitlines()


@pytest.fixture
def service(book: Path) -> Service:
    svc = Service.open(book, now=lambda: NOW)
    svc.add_customer("Ana López", company="Acme Corp", emails=["ana@acme.example"])
    return svc


def test_init_makes_a_repository_with_a_first_commit(tmp_path: Path):
    root = tmp_path / "fresh"
    init_book(root)
    assert subjects(root) == ["Create the book"]
    assert git(root, "status", "--porcelain") == ""
    assert (root / "crm.toml").exists() and (root / "customers").is_dir()


def test_every_change_is_one_commit_with_a_readable_message(service: Service):
    root = service.book.root
    service.log_interaction("ana-lopez", "Call about renewal", kind="call", follow_up="14d")
    ana = service.snapshot.customer("ana-lopez")
    service.mark_done("ana-lopez", ana.open_reminders[0].index)
    assert subjects(root) == [
        "Done: Follow up: Call about renewal (Ana López)",
        "Log call with Ana López",
        "Add Ana López",
        "Create the book",
    ]
    # Each commit touches exactly the one record.
    assert git(root, "show", "--name-only", "--format=", "HEAD").split() == ["customers/ana-lopez.toml"]
    assert git(root, "status", "--porcelain") == ""


def test_without_git_identity_commits_use_a_fallback_and_say_so_once(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "empty-gitconfig"))
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(name, raising=False)
    root = tmp_path / "anon"
    told: list[str] = []
    init_book(root, told)
    assert told == [IDENTITY_HINT]
    svc = Service.open(root, now=lambda: NOW)
    svc.add_customer("Ben Schmidt")
    assert svc.notices() == []  # told once, not on every write
    assert Service.open(root).notices() == []
    assert git(root, "log", "-1", "--format=%ae") .strip() == FALLBACK_EMAIL


def test_an_outside_edit_is_committed_on_its_own_before_the_programs_change(service: Service):
    root = service.book.root
    path = root / "customers" / "ana-lopez.toml"
    path.write_text(path.read_text("utf-8").replace('stage = "prospect"', 'stage = "customer"'), "utf-8")
    service.log_interaction("ana-lopez", "Kick-off", kind="meeting")
    assert subjects(root)[:2] == ["Log meeting with Ana López", "Edit ana-lopez.toml outside crmtui"]
    assert "+kind = \"meeting\"" in git(root, "show", "HEAD")
    assert "+stage" not in git(root, "show", "HEAD") and "-stage" not in git(root, "show", "HEAD")
    assert '+stage = "customer"' in git(root, "show", "HEAD~1")


def test_a_broken_outside_edit_is_reported_and_left_uncommitted(service: Service):
    root = service.book.root
    service.add_customer("Ben Schmidt")
    broken = root / "customers" / "ben-schmidt.toml"
    broken.write_text('name = "Ben\n', "utf-8")
    service.log_interaction("ana-lopez", "Hello", kind="email")
    assert subjects(root)[0] == "Log email with Ana López"
    assert any("ben-schmidt.toml:1:" in n and "uncommitted" in n for n in service.notices())
    assert git(root, "status", "--porcelain").strip() == "M customers/ben-schmidt.toml"
    assert broken.read_text("utf-8") == 'name = "Ben\n'


def test_history_tells_what_changed_in_words(service: Service):
    root = service.book.root
    service.log_interaction("ana-lopez", "Call", kind="call")
    path = root / "customers" / "ana-lopez.toml"
    text = path.read_text("utf-8").replace('stage = "prospect"', 'stage = "customer"\ntier = "gold"')
    path.write_text(text.replace('emails = ["ana@acme.example"]', 'emails = ["ana@acme.example", "ana@home.example"]'),
                    "utf-8")
    subject, problem = service.commit_edit("ana-lopez", git(root, "show", "HEAD:customers/ana-lopez.toml"))
    assert problem is None
    assert subject.startswith("Edit Ana López: stage: prospect -> customer, tier: none -> gold")
    entries = service.history("ana-lopez")
    assert [e.commit.subject for e in entries][1:] == ["Log call with Ana López", "Add Ana López"]
    assert "tier: none -> gold" in entries[0].phrases
    assert "email added: ana@home.example" in entries[0].phrases
    assert entries[1].phrases == ("+1 interaction",)
    assert entries[2].phrases == ("added",)
    feed = service.history(None)
    assert {e.handle for e in feed if e.handle} == {"ana-lopez"}
    assert "+kind = \"call\"" in service.patch(entries[1].commit.sha, "ana-lopez")


def test_only_the_tier_changed_reads_as_a_tier_change(service: Service):
    root = service.book.root
    path = root / "customers" / "ana-lopez.toml"
    before = path.read_text("utf-8")
    path.write_text(before.replace('stage = "prospect"', 'stage = "prospect"\ntier = "iron"'), "utf-8")
    service.commit_edit("ana-lopez", before)
    second = path.read_text("utf-8")
    path.write_text(second.replace('tier = "iron"', 'tier = "gold"'), "utf-8")
    subject, _ = service.commit_edit("ana-lopez", second)
    assert subject == "Tier of Ana López: iron -> gold"


def test_restore_brings_back_an_earlier_version_as_a_new_commit(service: Service):
    root = service.book.root
    first = git(root, "rev-parse", "HEAD").strip()
    original = (root / "customers" / "ana-lopez.toml").read_text("utf-8")
    service.log_interaction("ana-lopez", "Call", kind="call")
    customer, sha = service.restore("ana-lopez", first[:8])
    assert sha == first
    assert (root / "customers" / "ana-lopez.toml").read_text("utf-8") == original
    assert subjects(root)[0].startswith("Restore Ana López to the version of ")
    assert len(subjects(root)) == 4  # nothing rewritten: restore is a new commit
    with pytest.raises(CrmError, match="already as it was"):
        service.restore("ana-lopez", first)
    with pytest.raises(CrmError, match="not a commit"):
        service.restore("ana-lopez", "nope123")


def test_a_deleted_record_can_be_restored(service: Service):
    root = service.book.root
    added = git(root, "rev-parse", "HEAD").strip()
    (root / "customers" / "ana-lopez.toml").unlink()
    service.add_customer("Ben Schmidt")  # commits the deletion as an outside edit first
    assert "Delete ana-lopez.toml outside crmtui" in subjects(root)
    service.reload()
    service.restore("ana-lopez", added)
    assert service.snapshot.customer("ana-lopez").name == "Ana López"


def test_author_variables_alone_still_get_a_committer(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "empty-gitconfig"))
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Author Only")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "author@example.com")
    for name in ("GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(name, raising=False)
    root = tmp_path / "authored"
    init_book(root)
    assert git(root, "log", "-1", "--format=%an <%ae>").strip() == "Author Only <author@example.com>"


def test_restore_never_overwrites_a_broken_uncommitted_edit(service: Service):
    root = service.book.root
    first = git(root, "rev-parse", "HEAD").strip()
    service.log_interaction("ana-lopez", "Call", kind="call")
    path = root / "customers" / "ana-lopez.toml"
    path.write_text('name = "Ana\n', "utf-8")
    with pytest.raises(CrmError, match="uncommitted changes that do not validate"):
        service.restore("ana-lopez", first)
    assert path.read_text("utf-8") == 'name = "Ana\n'


def test_logging_in_the_future_is_refused(service: Service):
    with pytest.raises(CrmError, match="in the future"):
        service.log_interaction("ana-lopez", "Call", kind="call", at="2w")
    service.log_interaction("ana-lopez", "Call", kind="call", at="2w ago")
    assert service.snapshot.customer("ana-lopez").interactions[-1].at == datetime(2026, 6, 1, 9, 0)


def test_a_query_that_points_at_a_broken_file_is_refused_not_redirected(service: Service):
    root = service.book.root
    service.add_customer("Emre Doğan", company="Anatolia Cloud Labs")
    (root / "customers" / "ana-lopez.toml").write_text('name = "Ana López\n', "utf-8")
    service.reload()
    for who in ("ana", "lopez"):
        with pytest.raises(CrmError, match="ana-lopez.toml, which cannot be read"):
            service.resolve(who)
    assert service.resolve("emre").handle == "emre-dogan"


def test_history_reads_files_saved_with_a_bom(service: Service):
    root = service.book.root
    path = root / "customers" / "bom.toml"
    path.write_bytes(b'\xef\xbb\xbfname = "Bom Person"\r\n')
    service.settle_outside_edits()
    service.reload()
    service.log_interaction("bom", "Call", kind="call")
    assert [e.phrases for e in service.history("bom")] == [("+1 interaction",), ("added",)]
    assert subjects(root)[1] == "Add bom.toml outside crmtui"


def test_fixing_a_broken_file_is_summarised_against_the_last_good_version(service: Service):
    root = service.book.root
    path = root / "customers" / "ana-lopez.toml"
    good = path.read_text("utf-8")
    path.write_text(good.replace('name = "Ana López"', 'name = "Ana López'), "utf-8")
    broken = path.read_text("utf-8")
    path.write_text(good.replace('company = "Acme Corp"', 'company = "Acme Group"'), "utf-8")
    assert service.commit_edit("ana-lopez", broken) == ("Edit Ana López: company: Acme Corp -> Acme Group", None)
    path.write_text(path.read_text("utf-8"), "utf-8")  # saved without a change
    assert service.commit_edit("ana-lopez", path.read_text("utf-8")) == (None, None)


def test_names_without_latin_letters_get_a_file_name_from_the_email(service: Service):
    assert service.add_customer("李娜", emails=["li.na@example.com"]).handle == "li-na"
    assert service.add_customer("王伟").handle == "customer"


def test_no_write_while_a_merge_is_unfinished(service: Service):
    root = service.book.root
    path = root / "customers" / "ana-lopez.toml"
    before = path.read_bytes()
    (root / ".git" / "MERGE_HEAD").write_text(git(root, "rev-parse", "HEAD"))
    with pytest.raises(CrmError, match="a merge is in progress"):
        service.log_interaction("ana-lopez", "Call", kind="call")
    assert path.read_bytes() == before  # refused before touching the file
    (root / ".git" / "MERGE_HEAD").unlink()
    service.log_interaction("ana-lopez", "Call", kind="call")


def test_done_refuses_when_the_reminder_moved_on_disk(service: Service):
    root = service.book.root
    service.log_interaction("ana-lopez", "Send contract", kind="call", follow_up="3d")
    service.log_interaction("ana-lopez", "Call about renewal", kind="call", follow_up="7d")
    first = next(r for r in service.snapshot.customer("ana-lopez").reminders if "Send contract" in r.text)
    path = root / "customers" / "ana-lopez.toml"  # someone deletes the first reminder meanwhile
    text = path.read_text("utf-8")
    start = text.index("[[reminders]]")
    end = text.index("[[", start + 2)
    path.write_text(text[:start] + text[end:], "utf-8")
    with pytest.raises(CrmError, match="changed on disk"):
        service.mark_done("ana-lopez", first.index)
    assert "done =" not in path.read_text("utf-8")


def test_history_of_a_file_with_a_non_ascii_name(service: Service):
    root = service.book.root
    (root / "customers" / "josé.toml").write_text('name = "José"\n', "utf-8")
    service.settle_outside_edits()
    service.reload()
    service.log_interaction("josé", "Call", kind="call")
    assert [e.phrases for e in service.history("josé")] == [("+1 interaction",), ("added",)]
    assert "customers/josé.toml" in {e.path for e in service.history(None)}


def test_edit_of_a_file_that_is_not_utf8_reports_it(service: Service):
    path = service.book.root / "customers" / "ana-lopez.toml"
    path.write_bytes('name = "Ana L\xf3pez"\n'.encode("latin-1"))
    subject, problem = service.commit_edit("ana-lopez", None)
    assert subject is None and "not UTF-8" in problem.message
