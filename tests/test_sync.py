"""crmtui sync between two machines: a bare repository on disk as the remote, two clones.

Real git everywhere: the record-aware merge runs as git's merge driver, from
`crmtui sync` and from a hand-run `git pull` alike.
"""

from __future__ import annotations

import os
import stat
import subprocess
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from crmtui.errors import CrmError
from crmtui.service import Service, init_book
from crmtui.storage.sync import ATTRIBUTES_LINE, driver_command

NOW = datetime(2026, 6, 15, 9, 0)
ME = ["-c", "user.name=Tester", "-c", "user.email=tester@example.com"]


def git(root: Path, *args: str, check: bool = True) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)}: {done.stderr}")
    return done.stdout


def read(service: Service, handle: str) -> dict:
    return tomllib.loads((service.book.root / "customers" / f"{handle}.toml").read_text("utf-8"))


def edit_file(service: Service, handle: str, old: str, new: str) -> None:
    path = service.book.root / "customers" / f"{handle}.toml"
    text = path.read_text("utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), "utf-8")


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(root).parts}


@dataclass
class Machines:
    laptop: Service
    desktop: Service
    remote: Path

    def identical(self) -> bool:
        return (git(self.laptop.book.root, "rev-parse", "HEAD") == git(self.desktop.book.root, "rev-parse", "HEAD")
                and tree(self.laptop.book.root) == tree(self.desktop.book.root))


@pytest.fixture
def machines(tmp_path: Path) -> Machines:
    remote = tmp_path / "crm.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    init_book(tmp_path / "laptop")
    git(tmp_path / "laptop", "remote", "add", "origin", str(remote))
    laptop = Service.open(tmp_path / "laptop", now=lambda: NOW)
    laptop.add_customer("Ana López", company="Acme Corp", emails=["ana@acme.example"], tags=["fintech"])
    laptop.add_customer("Ben Schmidt", company="Schmidt GmbH")
    laptop.log_interaction("ana-lopez", "First call", kind="call", at="2026-06-01T10:00")
    report = laptop.sync()
    assert report.pushed and report.summary == "2 records changed here; pushed to origin/main."
    git(tmp_path, "clone", "-q", str(remote), str(tmp_path / "desktop"))
    desktop = Service.open(tmp_path / "desktop", now=lambda: NOW)
    return Machines(laptop, desktop, remote)


def test_without_a_remote_sync_says_how_to_add_one(book: Path, run_cli):
    code, out, err = run_cli("--book", book, "sync")
    assert code == 1
    assert "no remote to sync with" in err and "remote add origin URL" in err and "Traceback" not in err


def test_opening_a_clone_sets_up_the_merge_driver(machines: Machines):
    root = machines.desktop.book.root
    assert ATTRIBUTES_LINE in (root / ".gitattributes").read_text("utf-8")  # travelled with the clone
    config = (root / ".git" / "config").read_text("utf-8")
    assert '[merge "crmtui"]' in config and driver_command() in config  # written on open
    assert git(root, "check-attr", "merge", "customers/ana-lopez.toml").strip().endswith("merge: crmtui")


def test_offline_edits_on_both_machines_are_all_kept(machines: Machines):
    laptop, desktop = machines.laptop, machines.desktop
    laptop.log_interaction("ana-lopez", "Call from the train", kind="call", at="2026-06-10T08:00", follow_up="2026-06-20")
    edit_file(laptop, "ana-lopez", 'company = "Acme Corp"', 'company = "Acme Corp"\ntitle = "CTO"  # promoted')
    desktop.log_interaction("ana-lopez", "Lunch", kind="meeting", at="2026-06-11T13:00", follow_up="2026-07-01")
    edit_file(desktop, "ana-lopez", 'stage = "prospect"', 'stage = "customer"')
    desktop.log_interaction("ben-schmidt", "Intro email", kind="email", at="2026-06-11T15:00")

    assert laptop.sync().summary == "1 record changed here; pushed to origin/main."
    report = desktop.sync()
    assert report.summary == "2 records changed here, 1 came in, 1 merged by field; pushed to origin/main."
    assert laptop.sync().summary == "2 came in."
    assert machines.identical()
    ana = read(laptop, "ana-lopez")
    assert ana["title"] == "CTO" and ana["stage"] == "customer"
    assert sorted(i["summary"] for i in ana["interactions"]) == ["Call from the train", "First call", "Lunch"]
    assert len(ana["reminders"]) == 2 and "conflicts" not in ana
    assert "title = \"CTO\"  # promoted" in (laptop.book.root / "customers/ana-lopez.toml").read_text("utf-8")
    assert laptop.sync().summary == "Already in sync with origin/main: nothing changed here or there."


def test_a_removal_on_one_side_is_respected(machines: Machines):
    laptop, desktop = machines.laptop, machines.desktop
    laptop.log_interaction("ana-lopez", "Call", kind="call", at="2026-06-02T10:00", follow_up="2026-06-20")
    laptop.sync()
    desktop.sync()
    # laptop deletes the reminder by hand; desktop logs another interaction
    edit_file(laptop, "ana-lopez", '\n[[reminders]]\ndue = 2026-06-20\ntext = "Follow up: Call"\n', "")
    desktop.log_interaction("ana-lopez", "Email", kind="email", at="2026-06-03T10:00")
    laptop.sync()
    desktop.sync()
    laptop.sync()
    assert machines.identical()
    ana = read(desktop, "ana-lopez")
    assert "reminders" not in ana and [i["summary"] for i in ana["interactions"]].count("Email") == 1


def test_the_same_key_changed_on_both_sides_is_kept_explained_and_resolved(machines: Machines, run_cli):
    laptop, desktop = machines.laptop, machines.desktop
    edit_file(laptop, "ana-lopez", 'company = "Acme Corp"', 'company = "Acme Inc"')
    edit_file(desktop, "ana-lopez", 'company = "Acme Corp"', 'company = "ACME Holding"')
    laptop.sync()
    report = desktop.sync()
    assert report.conflicts == [("ana-lopez", "company")] and report.pushed
    assert "1 conflict to resolve" in report.summary
    assert "crmtui resolve ana-lopez company --ours" in report.details[0]
    root = desktop.book.root
    text = (root / "customers/ana-lopez.toml").read_text("utf-8")
    assert "<<<<<<<" not in text  # valid TOML: the record still shows, nothing dropped
    assert read(desktop, "ana-lopez")["conflicts"] == [{"key": "company", "ours": "ACME Holding", "theirs": "Acme Inc"}]

    code, out, err = run_cli("--book", root, "check")
    line = text.splitlines().index("[[conflicts]]") + 1
    assert code == 1
    assert out.startswith(f"customers/ana-lopez.toml:{line}:1: 'company' was changed differently on two machines")
    assert "crmtui resolve ana-lopez company --ours (or --theirs)" in out
    code, out, err = run_cli("--book", root, "show", "ana")
    assert code == 0 and "ACME Holding" in out

    # the conflict travels: either machine may settle it
    assert laptop.sync().summary == "1 came in, 1 conflict to resolve."
    code, out, err = run_cli("--book", laptop.book.root, "resolve", "ana", "company", "--theirs")
    assert code == 0, err
    assert out.strip() == "Resolved company of Ana López: took the other side's value"
    assert git(laptop.book.root, "log", "-1", "--format=%s").strip() == \
        "Resolve company of Ana López: took the other side's value"
    assert git(laptop.book.root, "status", "--porcelain") == ""
    laptop.reload()
    laptop.sync()
    desktop.sync()
    assert machines.identical()
    ana = read(desktop, "ana-lopez")
    assert ana["company"] == "Acme Inc" and "conflicts" not in ana
    assert run_cli("--book", root, "check")[0] == 0


def test_resolve_refuses_what_is_not_a_conflict(machines: Machines, run_cli):
    code, out, err = run_cli("--book", machines.laptop.book.root, "resolve", "ana", "company", "--ours")
    assert code == 1 and "has no sync conflict" in err
    code, out, err = run_cli("--book", machines.laptop.book.root, "resolve", "ana", "company")
    assert code == 2 and "--ours" in err  # argparse: a side is required


@pytest.mark.parametrize("deleter", ["laptop", "desktop"])
def test_a_record_deleted_on_one_side_and_edited_on_the_other_keeps_the_edit(machines: Machines, deleter: str):
    first, second = (machines.laptop, machines.desktop) if deleter == "laptop" else (machines.desktop, machines.laptop)
    (first.book.root / "customers/ana-lopez.toml").unlink()
    second.log_interaction("ana-lopez", "Renewal signed", kind="call", at="2026-06-12T10:00")
    first.sync()
    report = second.sync()
    assert report.kept and "kept customers/ana-lopez.toml" in report.kept[0] and "edited version" in report.kept[0]
    assert "1 kept (deleted on one side, edited on the other)" in report.summary
    first.sync()
    assert machines.identical()
    assert "Renewal signed" in [i["summary"] for i in read(first, "ana-lopez")["interactions"]]


def test_a_conflict_in_crm_toml_is_left_to_git_with_guidance(machines: Machines, run_cli):
    laptop, desktop = machines.laptop, machines.desktop
    for service, currency in ((laptop, "USD"), (desktop, "GBP")):
        path = service.book.root / "crm.toml"
        path.write_text(path.read_text("utf-8").replace('currency = "EUR"', f'currency = "{currency}"'), "utf-8")
    laptop.sync()
    with pytest.raises(CrmError) as caught:
        desktop.sync()
    message = str(caught.value)
    assert "crm.toml (line" in message and "<<<<<<<" in message and "crmtui sync again" in message
    assert "merge --abort" in message
    root = desktop.book.root
    assert (root / ".git/MERGE_HEAD").exists()
    code, out, _ = run_cli("--book", root, "check")
    assert code == 1 and out.startswith("crm.toml:2:1: git's conflict markers")
    # still waiting until the file is settled; then sync finishes the merge and pushes
    with pytest.raises(CrmError, match="crm.toml"):
        desktop.sync()
    path = root / "crm.toml"
    lines = path.read_text("utf-8").splitlines()
    start, middle, end = (next(i for i, l in enumerate(lines) if l.startswith(m)) for m in ("<<<<<<<", "=======", ">>>>>>>"))
    path.write_text("\n".join(lines[:start] + lines[middle + 1:end] + lines[end + 1:]) + "\n", "utf-8")
    report = desktop.sync()
    assert report.pushed and not (root / ".git/MERGE_HEAD").exists()
    laptop.sync()
    assert machines.identical()
    assert 'currency = "USD"' in path.read_text("utf-8")


def test_an_unreachable_remote_keeps_local_commits(machines: Machines, tmp_path: Path, run_cli):
    laptop = machines.laptop
    git(laptop.book.root, "remote", "set-url", "origin", str(tmp_path / "gone.git"))
    laptop.log_interaction("ana-lopez", "Offline note", at="2026-06-12T10:00")
    head = git(laptop.book.root, "rev-parse", "HEAD")
    code, out, err = run_cli("--book", laptop.book.root, "sync")
    assert code == 1
    assert "cannot reach origin" in err and "your 1 commit not yet sent is kept here, sync later" in err
    assert git(laptop.book.root, "rev-parse", "HEAD") == head
    assert git(laptop.book.root, "status", "--porcelain") == ""


def test_refused_credentials_are_reported_as_such(machines: Machines, tmp_path: Path, monkeypatch):
    laptop = machines.laptop
    fake_ssh = tmp_path / "ssh-refusing"
    fake_ssh.write_text("#!/bin/sh\necho 'git@example.invalid: Permission denied (publickey).' >&2\nexit 255\n")
    fake_ssh.chmod(fake_ssh.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("GIT_SSH_COMMAND", str(fake_ssh))
    git(laptop.book.root, "remote", "set-url", "origin", "git@example.invalid:me/crm.git")
    with pytest.raises(CrmError) as caught:
        laptop.sync()
    message = str(caught.value)
    assert message.startswith("origin (git@example.invalid:me/crm.git) refused the credentials")
    assert "Permission denied (publickey)" in message and "Check your SSH key" in message


def test_a_push_rejected_because_the_remote_moved_is_merged_and_retried(machines: Machines, tmp_path: Path):
    laptop = machines.laptop
    third = tmp_path / "partner"
    git(tmp_path, "clone", "-q", str(machines.remote), str(third))
    # The remote moves between laptop's fetch and its push: a pre-push hook pushes the partner's work once.
    hook = laptop.book.root / ".git/hooks/pre-push"
    hook.write_text(f"""#!/bin/sh
[ -e "{tmp_path}/moved" ] && exit 0
touch "{tmp_path}/moved"
cd "{third}" || exit 1
printf '\\n[[interactions]]\\nat = 2026-06-13T09:00:00\\nkind = "note"\\nsummary = "Partner note"\\n' >> customers/ben-schmidt.toml
git -c user.name=P -c user.email=p@example.com commit -qam "Partner note" && git push -q origin main
""")
    hook.chmod(0o755)
    laptop.log_interaction("ben-schmidt", "My note", at="2026-06-13T10:00")
    report = laptop.sync()
    assert report.pushed and report.retried
    assert "the remote had moved: merged and retried" in report.summary
    summaries = [i["summary"] for i in read(laptop, "ben-schmidt")["interactions"]]
    assert sorted(summaries) == ["My note", "Partner note"]
    assert git(laptop.book.root, "rev-parse", "HEAD") == git(machines.remote, "rev-parse", "main")


def test_a_merge_already_in_progress_is_finished_by_sync(machines: Machines):
    laptop, desktop = machines.laptop, machines.desktop
    (laptop.book.root / "customers/ben-schmidt.toml").unlink()
    laptop.sync()
    desktop.log_interaction("ben-schmidt", "Still interested", at="2026-06-12T10:00")
    root = desktop.book.root
    done = subprocess.run(["git", *ME, "pull", "--no-rebase", "-q"], cwd=root, capture_output=True, text=True)
    assert done.returncode != 0 and (root / ".git/MERGE_HEAD").exists()  # git's modify/delete conflict
    report = desktop.sync()
    assert report.pushed and report.kept and not (root / ".git/MERGE_HEAD").exists()
    laptop.sync()
    assert machines.identical()
    assert read(laptop, "ben-schmidt")["interactions"][-1]["summary"] == "Still interested"


def test_broken_files_are_named_and_not_committed(machines: Machines):
    laptop, desktop = machines.laptop, machines.desktop
    broken = laptop.book.root / "customers/ben-schmidt.toml"
    broken.write_text(broken.read_text("utf-8") + "\nphones = [\n", "utf-8")
    before = broken.read_bytes()
    edit_file(laptop, "ana-lopez", 'company = "Acme Corp"', 'company = "Acme Corporation"')
    report = laptop.sync()
    assert report.pushed and report.sent == ["ana-lopez"]
    assert any(line.startswith("not synced: customers/ben-schmidt.toml:") and "left uncommitted" in line
               for line in report.details)
    assert broken.read_bytes() == before
    assert git(laptop.book.root, "status", "--porcelain").strip() == "M customers/ben-schmidt.toml"
    desktop.sync()
    assert read(desktop, "ana-lopez")["company"] == "Acme Corporation"
    assert "phones" not in read(desktop, "ben-schmidt")


def test_plain_git_pull_uses_the_same_merge(machines: Machines):
    laptop, desktop = machines.laptop, machines.desktop
    laptop.log_interaction("ana-lopez", "Laptop call", kind="call", at="2026-06-12T10:00")
    edit_file(laptop, "ana-lopez", 'stage = "prospect"', 'stage = "customer"')
    laptop.sync()
    desktop.log_interaction("ana-lopez", "Desktop email", kind="email", at="2026-06-12T11:00")
    edit_file(desktop, "ana-lopez", 'tags = ["fintech"]', 'tags = ["fintech", "vip"]')
    root = desktop.book.root
    git(root, *ME, "commit", "-qam", "by hand")
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIRTUAL_ENV")}
    env["PATH"] = "/usr/bin:/bin"  # a plain shell: no venv on PATH, the driver line names its Python
    done = subprocess.run(["git", *ME, "pull", "--no-rebase", "--no-edit", "-q"], cwd=root, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    ana = read(desktop, "ana-lopez")
    assert sorted(i["summary"] for i in ana["interactions"]) == ["Desktop email", "First call", "Laptop call"]
    assert ana["stage"] == "customer" and ana["tags"] == ["fintech", "vip"] and "conflicts" not in ana


def test_a_book_made_before_sync_existed_is_set_up_on_its_first_write(book: Path):
    git(book, "rm", "-q", ".gitattributes")
    git(book, *ME, "commit", "-qm", "an older book")
    git(book, "config", "--unset", "merge.crmtui.driver")
    service = Service.open(book)
    assert driver_command() in (book / ".git/config").read_text("utf-8")  # local config: on open
    assert not (book / ".gitattributes").exists()  # reading commands commit nothing
    service.add_customer("Ana López")
    assert ATTRIBUTES_LINE in (book / ".gitattributes").read_text("utf-8")
    assert git(book, "log", "-2", "--format=%s").split("\n")[:2] == ["Add Ana López", "Set up the record-aware merge"]
    assert git(book, "status", "--porcelain") == ""
    Service.open(book).add_customer("Ben Schmidt")  # already right: nothing more
    assert git(book, "log", "-2", "--format=%s").split("\n")[:2] == ["Add Ben Schmidt", "Add Ana López"]
