"""A property of sync: random offline edits on two machines, then sync both, and nothing is lost.

Each example copies one prepared setup (a bare remote and two clones, with
relative remote URLs so the copy is self-contained), applies random edits on
both clones — log interactions, change fields, add reminders, delete records,
replace a record by a similar new one (what git's rename detection would pair),
add the same new customer, some committed by crmtui and some left as outside
edits — then syncs laptop, desktop (maybe after leaving it as an interrupted
sync leaves it: a stale index.lock, a merge recorded but not applied, a merge
killed half way), laptop, and checks:

- both clones end identical (same commit, same files);
- every file parses;
- every interaction logged on either side is there exactly once (unless the
  side that logged it deleted the record afterwards), and so is every reminder;
- a [[conflicts]] entry exists exactly where both sides changed the same key to
  different values, and nowhere else; no git conflict marker anywhere.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import tomllib
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmtui.service import Service, init_book
from crmtui.storage import lock
from crmtui.storage.record_file import append_table, edit_record

NOW = datetime(2026, 6, 15, 9, 0)
PEOPLE = ["ana", "ben", "cara"]
FIELDS = {"company": ["Co A", "Co B", "Co C"], "title": ["CTO", "CEO"], "stage": ["customer", "former"]}
BASE = {"company": "Co0", "title": None, "stage": "prospect"}


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    """crm.git, laptop and desktop in one folder; the clones reach the remote as ../crm.git."""
    folder = tmp_path_factory.mktemp("machines")
    env_home = folder / "home"
    env_home.mkdir()
    git(folder, "init", "-q", "--bare", "-b", "main", "crm.git")
    init_book(folder / "laptop")
    git(folder / "laptop", "remote", "add", "origin", "../crm.git")
    laptop = Service.open(folder / "laptop", now=lambda: NOW)
    for name in PEOPLE:
        laptop.add_customer(name.title(), company="Co0")
        laptop.log_interaction(name, f"base {name}", at="2026-06-01T10:00")
    laptop.sync()
    git(folder, "clone", "-q", "crm.git", "desktop")
    git(folder / "desktop", "remote", "set-url", "origin", "../crm.git")
    Service.open(folder / "desktop", now=lambda: NOW)
    return folder


op = st.one_of(
    st.tuples(st.just("log"), st.sampled_from(PEOPLE), st.booleans()),
    st.tuples(st.just("field"), st.sampled_from(PEOPLE), st.sampled_from(sorted(FIELDS)), st.integers(0, 2)),
    st.tuples(st.just("remind"), st.sampled_from(PEOPLE), st.integers(1, 60)),
    st.tuples(st.just("delete"), st.sampled_from(PEOPLE)),
    st.tuples(st.just("replace"), st.sampled_from(PEOPLE)),
    st.tuples(st.just("add"), st.just("dan")),
)
INTERRUPTIONS = [None, "stale-lock", "merge-not-applied", "merge-killed"]


class Side:
    def __init__(self, name: str, root: Path):
        self.name = name
        self.service = Service.open(root, now=lambda: NOW)
        self.deleted: set[str] = set()
        self.logged: list[tuple[str, str]] = []
        self.reminded: list[tuple[str, str]] = []
        self.fields: dict[tuple[str, str], str] = {}
        self.count = 0
        self.outside = False  # whether it edited files outside crmtui (committed by sync as such)

    def apply(self, step) -> None:
        kind, who = step[0], step[1]
        if who in self.deleted:
            return
        self.count += 1
        path = self.service.book.root / "customers" / f"{who}.toml"
        self.outside |= kind not in ("log", "add") or (kind == "log" and not step[2])
        if kind == "log":
            summary = f"{self.name} {self.count}"
            if step[2]:  # through crmtui: a commit
                self.service.log_interaction(who, summary, at=f"2026-06-{self.count % 28 + 1:02d}T10:00")
            else:  # as an outside edit, committed by sync
                with open(path, "a", encoding="utf-8") as handle:
                    handle.write(f'\n[[interactions]]\nat = 2026-06-{self.count % 28 + 1:02d}T11:00:00\n'
                                 f'kind = "note"\nsummary = "{summary}"\n')
            self.logged.append((who, summary))
        elif kind == "field":
            key, value = step[2], FIELDS[step[2]][step[3] % len(FIELDS[step[2]])]
            edit_record(self.service.book.root, f"customers/{who}.toml", lambda doc: doc.__setitem__(key, value))
            self.fields[(who, key)] = value
        elif kind == "remind":
            text = f"{self.name} reminder {self.count}"
            edit_record(self.service.book.root, f"customers/{who}.toml",
                        lambda doc: append_table(doc, "reminders", {"due": datetime(2026, 7, step[2] % 28 + 1).date(),
                                                                    "text": text}))
            self.reminded.append((who, text))
        elif kind == "delete":
            path.unlink()
            self.deleted.add(who)
        elif kind == "replace":  # deleted, and a new customer whose file is nearly the same text
            text = path.read_text("utf-8")
            path.unlink()
            new = path.with_name(f"{who}-{self.name}.toml")
            new.write_text(text.replace(f'name = "{who.title()}"', f'name = "{who.title()} {self.name}"', 1), "utf-8")
            self.deleted.add(who)
        elif kind == "add":  # the same customer added on both sides makes one record with both sides' work
            summary = f"{self.name} {self.count}"
            if not path.exists():
                self.service.add_customer(who.title(), company="Co0")
            self.service.log_interaction(who, summary, at=f"2026-06-{self.count % 28 + 1:02d}T12:00")
            self.logged.append((who, summary))


def interrupt(root: Path, how: str | None, written: int) -> None:
    """Leave the book as a sync interrupted before merging the fetched branch leaves it.
    `written`: which of the merge's files (bits) it had written already."""
    if how is None:
        return
    if how == "stale-lock":
        (root / ".git/index.lock").touch()
        return
    git(root, "fetch", "-q")
    if subprocess.run(["git", "merge-base", "--is-ancestor", "origin/main", "HEAD"], cwd=root).returncode == 0:
        return
    tree = subprocess.run(["git", "merge-tree", "--write-tree", "--name-only", "--no-messages", "HEAD", "origin/main"],
                          cwd=root, capture_output=True, text=True).stdout.split()[0]  # exit 1: with conflicts
    dirty = {line[3:] for line in git(root, "status", "--porcelain", "--untracked-files=all").splitlines()}
    changed = git(root, "diff-tree", "-r", "--name-only", "--no-renames", "HEAD", tree).split()
    for bit, path in enumerate(changed):
        if written >> bit & 1 and path not in dirty:  # git never writes over a local change
            blob = subprocess.run(["git", "cat-file", "blob", f"{tree}:{path}"], cwd=root, capture_output=True)
            if blob.returncode == 0:
                (root / path).write_bytes(blob.stdout)
            else:
                (root / path).unlink(missing_ok=True)
    if how == "merge-not-applied":  # git wrote MERGE_HEAD, not the index
        git(root, "update-ref", "MERGE_HEAD", "origin/main")
    else:  # git merge was killed: its lock and ORIG_HEAD stay, and the driver's temporary files
        git(root, "update-ref", "ORIG_HEAD", "HEAD")
        (root / ".git/index.lock").touch()
        (root / ".merge_file_x1Yz2w").write_text("", "utf-8")


@pytest.fixture
def quick_stale_lock(monkeypatch):
    """A stale index.lock is removed after a 2 s wait for a git that might still use it; cut short here."""
    monkeypatch.setattr(lock.clear_stale_index_lock, "__defaults__", (None, 0.02))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(laptop_ops=st.lists(op, max_size=5), desktop_ops=st.lists(op, max_size=5),
       interruption=st.sampled_from(INTERRUPTIONS), written=st.integers(0, 63))
def test_random_offline_edits_on_two_machines_sync_to_the_same_book_losing_nothing(prepared, quick_stale_lock,
                                                                                     laptop_ops, desktop_ops,
                                                                                     interruption, written):
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "m"
        shutil.copytree(prepared, folder, symlinks=True)
        laptop, desktop = Side("laptop", folder / "laptop"), Side("desktop", folder / "desktop")
        for step in laptop_ops:
            laptop.apply(step)
        for step in desktop_ops:
            desktop.apply(step)
        laptop.service.sync()
        sent = git(folder / "laptop", "rev-parse", "HEAD").strip()
        interrupt(folder / "desktop", interruption, written)
        desktop.service.sync()
        made_here = git(folder / "desktop", "log", "--format=%s", f"{sent}..HEAD")
        laptop.service.sync()

        roots = [folder / "laptop", folder / "desktop"]
        assert git(roots[0], "rev-parse", "HEAD") == git(roots[1], "rev-parse", "HEAD")
        assert git(roots[0], "status", "--porcelain") == "" == git(roots[1], "status", "--porcelain")
        assert not (roots[1] / ".git/MERGE_HEAD").exists() and not list(roots[1].glob(".merge_file_*"))
        if not desktop.outside:  # what a half merge had written is merged again, not committed as an edit
            assert "outside crmtui" not in made_here
        files = {p.name: p.read_text("utf-8") for p in sorted((roots[0] / "customers").glob("*.toml"))}
        assert files == {p.name: p.read_text("utf-8") for p in sorted((roots[1] / "customers").glob("*.toml"))}

        records = {}
        for name, text in files.items():
            assert "<<<<<<<" not in text and ">>>>>>>" not in text
            records[name.removesuffix(".toml")] = tomllib.loads(text)  # every file parses

        summaries = [(who, i["summary"]) for who, data in records.items() for i in data.get("interactions", [])]
        for side in (laptop, desktop):
            for who, summary in side.logged:
                if who not in side.deleted:
                    assert summaries.count((who, summary)) == 1, (who, summary)
            for who, text in side.reminded:
                if who not in side.deleted:
                    found = [r for r in records[who].get("reminders", []) if r["text"] == text]
                    assert len(found) == 1, (who, text)
        assert len(summaries) == len(set(summaries))  # nothing doubled

        for who, data in records.items():
            expected = set()
            if who not in laptop.deleted and who not in desktop.deleted:
                for key in FIELDS:
                    mine, theirs = laptop.fields.get((who, key)), desktop.fields.get((who, key))
                    if mine not in (None, BASE[key]) and theirs not in (None, BASE[key]) and mine != theirs:
                        expected.add(key)
            assert {c["key"] for c in data.get("conflicts", [])} == expected, who
