"""Sync after things went wrong: a failed or killed sync, git states left half way,
and merges git's rename detection would get wrong. Nothing either machine logged
may be lost, on either machine.

Real git everywhere: a bare remote and two clones (copied from one prepared set,
with relative remote URLs), real `crmtui sync` processes where one is killed.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from datetime import datetime
from pathlib import Path

import pytest

from crmtui.errors import CrmError
from crmtui.service import Service, init_book
from crmtui.storage import lock

NOW = datetime(2026, 6, 15, 9, 0)
ME = ["-c", "user.name=Tester", "-c", "user.email=tester@example.com"]


def git(root: Path, *args: str, check: bool = True) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)}: {done.stderr}")
    return done.stdout


def summaries(root: Path) -> dict[str, list[str]]:
    """handle -> the summaries of its interactions, sorted."""
    out = {}
    for path in sorted((root / "customers").glob("*.toml")):
        data = tomllib.loads(path.read_text("utf-8"))
        out[path.stem] = sorted(i["summary"] for i in data.get("interactions", []))
    return out


def records(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "customers").glob("*.toml"))}


def assert_identical(laptop: Path, desktop: Path) -> None:
    assert git(laptop, "rev-parse", "HEAD") == git(desktop, "rev-parse", "HEAD")
    assert git(laptop, "status", "--porcelain", "--", "customers", "crm.toml") == ""
    assert git(desktop, "status", "--porcelain", "--", "customers", "crm.toml") == ""
    assert records(laptop) == records(desktop)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    """crm.git, laptop and desktop in one folder; Ana, Ben and Old Prospect on both."""
    folder = tmp_path_factory.mktemp("machines")
    git(folder, "init", "-q", "--bare", "-b", "main", "crm.git")
    init_book(folder / "laptop")
    git(folder / "laptop", "remote", "add", "origin", "../crm.git")
    laptop = Service.open(folder / "laptop", now=lambda: NOW)
    laptop.add_customer("Ana López", company="Acme Corp", emails=["ana@acme.example"])
    laptop.add_customer("Ben Schmidt", company="Schmidt GmbH")
    laptop.add_customer("Old Prospect", company="Prospect Ltd", emails=["p@prospect.example"],
                        tags=["fintech", "meetup"], notes="Met at the fintech meetup; wants a demo in spring.")
    laptop.log_interaction("ana-lopez", "First call", kind="call", at="2026-06-01T10:00")
    laptop.log_interaction("old-prospect", "Met at the meetup", kind="meeting", at="2026-06-01T18:00")
    laptop.sync()
    git(folder, "clone", "-q", "crm.git", "desktop")
    git(folder / "desktop", "remote", "set-url", "origin", "../crm.git")
    Service.open(folder / "desktop", now=lambda: NOW)  # sets up the merge driver's local config
    return folder


@pytest.fixture
def machines(prepared: Path, tmp_path: Path) -> tuple[Service, Service]:
    folder = tmp_path / "m"
    shutil.copytree(prepared, folder, symlinks=True)
    return Service.open(folder / "laptop", now=lambda: NOW), Service.open(folder / "desktop", now=lambda: NOW)


@pytest.fixture
def quick_stale_lock(monkeypatch):
    """A stale index.lock is removed after a 2 s wait for a git that might still hold it;
    these tests leave it behind on purpose, so the wait is cut short."""
    monkeypatch.setattr(lock.clear_stale_index_lock, "__defaults__", (None, 0.05))


def crmtui(*args: str) -> list[str]:
    return [sys.executable, "-m", "crmtui", *args]


def both_logged(laptop: Service, desktop: Service) -> dict[str, list[str]]:
    """Diverging work on both machines; returns what must be there after syncing."""
    laptop.log_interaction("ana-lopez", "Laptop call", kind="call", at="2026-06-10T08:00")
    laptop.log_interaction("ben-schmidt", "Laptop email", kind="email", at="2026-06-10T09:00")
    laptop.add_customer("Dora Evans")  # a file only one side changed: git writes it without the driver
    laptop.log_interaction("dora-evans", "Laptop intro", at="2026-06-10T10:00")
    desktop.log_interaction("ana-lopez", "Desktop lunch", kind="meeting", at="2026-06-11T13:00")
    desktop.log_interaction("old-prospect", "Desktop demo", kind="meeting", at="2026-06-11T15:00")
    return {"ana-lopez": ["Desktop lunch", "First call", "Laptop call"], "ben-schmidt": ["Laptop email"],
            "dora-evans": ["Laptop intro"], "old-prospect": ["Desktop demo", "Met at the meetup"]}


# ---- a sync that failed or was interrupted ----------------------------------------

def test_a_merge_git_recorded_but_never_applied_is_redone_not_committed(machines, quick_stale_lock, run_cli):
    """The issue's repro: git merge meets a stale index.lock, writes MERGE_HEAD but not the
    index; committing that state would make a merge of this side's files only."""
    laptop, desktop = machines
    expected = both_logged(laptop, desktop)
    assert laptop.sync().pushed
    root = desktop.book.root
    git(root, "fetch", "-q")
    (root / ".git/index.lock").touch()
    done = subprocess.run(["git", *ME, "merge", "--no-edit", "origin/main"], cwd=root, capture_output=True, text=True)
    assert done.returncode != 0
    if not (root / ".git/MERGE_HEAD").exists():  # git stops there only when its index needed a refresh
        git(root, "update-ref", "MERGE_HEAD", "origin/main")
    assert git(root, "diff", "--cached", "--name-only", "HEAD") == ""  # the index never got the merge
    # the lock is still there: sync removes it (no git is running) and redoes the merge
    code, out, err = run_cli("--book", root, "sync")
    assert code == 0, err
    assert "pushed to origin/main" in out and "stale .git/index.lock" in out and "done again" in out
    assert not (root / ".git/MERGE_HEAD").exists() and not (root / ".git/index.lock").exists()
    assert run_cli("--book", laptop.book.root, "sync")[0] == 0
    assert_identical(laptop.book.root, root)
    assert summaries(root) == expected
    assert "outside crmtui" not in git(root, "log", "--format=%s")


def test_an_unapplied_merge_of_settings_only_is_not_committed_as_this_sides(machines, quick_stale_lock):
    """No record changed there, only crm.toml, on both sides: still not a merge to commit as it stands."""
    laptop, desktop = machines
    for service, currency in ((laptop, "USD"), (desktop, "GBP")):
        path = service.book.root / "crm.toml"
        path.write_text(path.read_text("utf-8").replace('currency = "EUR"', f'currency = "{currency}"'), "utf-8")
    laptop.sync()
    desktop.settle_outside_edits()
    root = desktop.book.root
    git(root, "fetch", "-q")
    git(root, "update-ref", "MERGE_HEAD", "origin/main")  # what git merge leaves when it cannot write the index
    with pytest.raises(CrmError, match=r"crm.toml \(line"):  # the conflict, shown, not committed away
        desktop.sync()
    assert "<<<<<<<" in (root / "crm.toml").read_text("utf-8")


def test_a_merge_that_wrote_some_files_before_it_was_killed_is_undone_and_redone(machines):
    """kill -9 in the middle of git merge: some files are the merge's result, the index is
    still HEAD's. They are put back and merged again, not committed as outside edits."""
    laptop, desktop = machines
    expected = both_logged(laptop, desktop)
    laptop.sync()
    root = desktop.book.root
    git(root, "fetch", "-q")
    theirs = git(root, "rev-parse", "origin/main").strip()
    merged_tree = git(root, "merge-tree", "--write-tree", "HEAD", "origin/main").split()[0]
    for path in ("customers/ben-schmidt.toml", "customers/ana-lopez.toml"):  # ben: theirs only; ana: both sides
        (root / path).write_text(git(root, "cat-file", "blob", f"{merged_tree}:{path}"), "utf-8")
    git(root, "update-ref", "MERGE_HEAD", theirs)
    report = desktop.sync()
    assert report.pushed and any("done again" in line for line in report.details)
    laptop.sync()
    assert_identical(laptop.book.root, root)
    assert summaries(root) == expected
    assert "outside crmtui" not in git(root, "log", "--format=%s")


def test_a_merge_settled_by_hand_is_committed_as_it_is(machines):
    """Only an unapplied merge is redone: one whose conflict the user settled with git add stays theirs."""
    laptop, desktop = machines
    for service, currency in ((laptop, "USD"), (desktop, "GBP")):
        path = service.book.root / "crm.toml"
        path.write_text(path.read_text("utf-8").replace('currency = "EUR"', f'currency = "{currency}"'), "utf-8")
    expected = both_logged(laptop, desktop)
    laptop.sync()
    root = desktop.book.root
    with pytest.raises(CrmError, match="crm.toml"):
        desktop.sync()
    git(root, "checkout", "--ours", "crm.toml")  # the user keeps this side's settings: HEAD's version
    git(root, "add", "crm.toml")
    report = desktop.sync()
    assert report.pushed and not any("done again" in line for line in report.details)
    laptop.sync()
    assert_identical(laptop.book.root, root)
    assert summaries(root) == expected and 'currency = "GBP"' in (root / "crm.toml").read_text("utf-8")


def test_a_git_still_holding_the_index_is_named_and_nothing_changes(machines, quick_stale_lock, run_cli):
    laptop, desktop = machines
    root = desktop.book.root
    desktop.log_interaction("ana-lopez", "Desktop lunch", at="2026-06-11T13:00")
    (root / ".git/index.lock").touch()
    holder = subprocess.Popen(["git", "hash-object", "--stdin"], cwd=root, stdin=subprocess.PIPE,
                              stdout=subprocess.DEVNULL)  # a live git in the book, waiting
    try:
        head = git(root, "rev-parse", "HEAD")
        code, out, err = run_cli("--book", root, "sync")
    finally:
        holder.communicate(b"")
    assert code == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "git is busy in this book" in err and "index.lock" in err
    assert git(root, "rev-parse", "HEAD") == head and (root / ".git/index.lock").exists()


def test_sync_killed_at_random_points_then_the_next_sync_loses_nothing(prepared, tmp_path, quick_stale_lock):
    """kill -9 of a `crmtui sync` process (and the git it runs) at random moments."""
    chance = random.Random(1234)
    diverged = tmp_path / "diverged"
    shutil.copytree(prepared, diverged, symlinks=True)
    expected = both_logged(Service.open(diverged / "laptop", now=lambda: NOW),
                           Service.open(diverged / "desktop", now=lambda: NOW))
    Service.open(diverged / "laptop", now=lambda: NOW).sync()
    with open(diverged / "desktop/customers/ben-schmidt.toml", "a", encoding="utf-8") as handle:  # an outside edit
        handle.write('\n[[interactions]]\nat = 2026-06-12T10:00:00\nkind = "note"\nsummary = "Desktop by hand"\n')
    expected["ben-schmidt"] = sorted(expected["ben-schmidt"] + ["Desktop by hand"])

    def run_sync(folder: Path, kill_after: float | None) -> float:
        shutil.copytree(diverged, folder, symlinks=True)
        started = time.monotonic()
        process = subprocess.Popen(crmtui("--book", str(folder / "desktop"), "sync"), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            process.wait(kill_after)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # crmtui, its git and the merge driver alike
            process.wait()
        return time.monotonic() - started

    length = run_sync(tmp_path / "timing", None)  # how long a whole sync takes on this machine
    for trial in range(4):
        folder = tmp_path / f"trial{trial}"
        run_sync(folder, length * chance.uniform(0.3, 0.95))
        laptop = Service.open(folder / "laptop", now=lambda: NOW)
        desktop = Service.open(folder / "desktop", now=lambda: NOW)
        desktop.sync()
        laptop.sync()
        assert_identical(folder / "laptop", folder / "desktop")
        assert summaries(folder / "desktop") == expected, trial
        assert "outside crmtui" not in git(folder / "desktop", "log", "-3", "--format=%s").replace(
            "Edit ben-schmidt.toml outside crmtui", "")  # only the real outside edit is one


def test_a_rebase_in_progress_is_refused_in_one_sentence(machines, run_cli):
    laptop, desktop = machines
    for service, currency in ((laptop, "USD"), (desktop, "GBP")):  # settings: git's line merge conflicts
        path = service.book.root / "crm.toml"
        path.write_text(path.read_text("utf-8").replace('currency = "EUR"', f'currency = "{currency}"'), "utf-8")
        git(service.book.root, *ME, "commit", "-qam", currency)
    laptop.sync()
    root = desktop.book.root
    git(root, "fetch", "-q")
    done = subprocess.run(["git", *ME, "rebase", "origin/main"], cwd=root, capture_output=True, text=True)
    assert done.returncode != 0 and (root / ".git/rebase-merge").exists()
    code, out, err = run_cli("--book", root, "sync")
    assert code == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "rebase is in progress" in err and "git rebase --abort" in err
    assert (root / ".git/rebase-merge").exists()  # left for the user to finish or undo


# ---- merges git's rename detection would get wrong ---------------------------------

def replace_with_similar(service: Service, old: str, new_name: str) -> str:
    """Delete a record and add a new customer whose file is nearly the same text."""
    root = service.book.root
    text = (root / f"customers/{old}.toml").read_text("utf-8")
    (root / f"customers/{old}.toml").unlink()
    handle = new_name.lower().replace(" ", "-")
    first = text.splitlines()[0]
    (root / f"customers/{handle}.toml").write_text(text.replace(first, f'name = "{new_name}"', 1), "utf-8")
    return handle


@pytest.mark.parametrize("first", ["replacer", "editor"])
def test_a_record_deleted_beside_a_similar_new_one_keeps_the_other_sides_edit(machines, first):
    laptop, desktop = machines
    new = replace_with_similar(laptop, "old-prospect", "New Prospect")
    desktop.log_interaction("old-prospect", "Call with Old Prospect", kind="call", at="2026-06-12T10:00")
    order = [laptop, desktop, laptop] if first == "replacer" else [desktop, laptop, desktop]
    reports = [service.sync() for service in order]
    assert any(r.kept for r in reports)  # said: deleted on one side, edited on the other
    assert_identical(laptop.book.root, desktop.book.root)
    found = summaries(laptop.book.root)
    assert found["old-prospect"] == ["Call with Old Prospect", "Met at the meetup"]
    assert found[new] == ["Met at the meetup"]


def test_plain_git_pull_does_not_detect_renames_either(machines):
    laptop, desktop = machines
    config = (desktop.book.root / ".git/config").read_text("utf-8")
    assert "renames = false" in config and "directoryRenames = false" in config
    new = replace_with_similar(laptop, "old-prospect", "New Prospect")
    laptop.sync()
    desktop.log_interaction("old-prospect", "Call with Old Prospect", kind="call", at="2026-06-12T10:00")
    root = desktop.book.root
    done = subprocess.run(["git", *ME, "pull", "--no-rebase", "--no-edit", "-q"], cwd=root,
                          capture_output=True, text=True)
    assert done.returncode != 0  # git's modify/delete conflict, not a silent move into new-prospect
    assert "Call with Old Prospect" not in (root / f"customers/{new}.toml").read_text("utf-8")
    report = desktop.sync()  # finishes it: the edited record stays
    assert report.pushed and report.kept
    assert "Call with Old Prospect" in summaries(root)["old-prospect"]


def test_the_same_customer_added_on_both_machines_is_one_record_with_both_sides(machines):
    laptop, desktop = machines
    for service, summary, when in ((laptop, "Laptop intro", "2026-06-12T10:00"),
                                   (desktop, "Desktop intro", "2026-06-12T11:00")):
        service.add_customer("Cara Díaz", company="Díaz SL", tags=["referral"])
        service.log_interaction("cara-diaz", summary, at=when)
    laptop.sync()
    desktop.sync()
    laptop.sync()
    assert_identical(laptop.book.root, desktop.book.root)
    assert summaries(laptop.book.root)["cara-diaz"] == ["Desktop intro", "Laptop intro"]
    assert "conflicts" not in tomllib.loads((laptop.book.root / "customers/cara-diaz.toml").read_text("utf-8"))
