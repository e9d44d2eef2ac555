"""The sync key: the same sync as `crmtui sync`, in a worker, then the screen refreshes."""

from __future__ import annotations

import subprocess
from pathlib import Path

from crmtui.service import Service

from conftest import NOW
from helpers import list_names, settle


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


async def test_sync_key_brings_in_the_other_machines_changes_and_pushes_ours(make_app, book: Path, tmp_path: Path):
    remote = tmp_path / "crm.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(book, "remote", "add", "origin", str(remote))
    git(book, "push", "-q", "-u", "origin", "main")
    other = tmp_path / "desktop"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    desktop = Service.open(other, now=lambda: NOW)
    desktop.add_customer("Zoë Martin", company="Atelier Martin")
    desktop.sync()

    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        assert "Zoë Martin" not in list_names(app)
        app.writer.log_interaction("ana-lopez", "Call from the laptop", kind="call")
        await pilot.press("s")
        await settle(app, pilot, rounds=5)
        assert "Zoë Martin" in list_names(app)
        messages = [n.message for n in app._notifications]
        assert any("came in" in m and "pushed to origin/main" in m for m in messages), messages
    assert git(remote, "log", "-1", "--format=%s", "main").strip() != ""
    assert "Log call with Ana López" in git(remote, "log", "--format=%s", "main")


async def test_sync_key_without_a_remote_explains_and_keeps_running(make_app):
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        await pilot.press("s")
        await settle(app, pilot)
        messages = [n.message for n in app._notifications]
        assert any("no remote to sync with" in m for m in messages), messages
        assert app.is_running


async def test_a_sync_conflict_is_settled_key_by_key_from_the_problems_view(make_app, book: Path):
    path = book / "customers" / "ana-lopez.toml"
    text = path.read_text("utf-8")
    assert 'company = "Acme Corp"' in text
    path.write_text(text + '\n[[conflicts]]\nkey = "company"\nours = "Acme Corp"\ntheirs = "ACME Holding"\n'
                    '\n[[conflicts]]\nkey = "title"\nours = "CTO"\ntheirs = "Chief Technology Officer"\n', "utf-8")
    git(book, "commit", "-qam", "a sync left two conflicts")
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        await pilot.press("p")
        await settle(app, pilot)
        app.screen.focus_path("customers/ana-lopez.toml")
        await pilot.press("x")  # company: take the other side's
        await settle(app, pilot)
        after = path.read_text("utf-8")
        assert 'company = "ACME Holding"' in after and 'key = "company"' not in after
        assert 'key = "title"' in after  # one key at a time
        await pilot.press("k")  # title: keep the record's
        await settle(app, pilot)
        after = path.read_text("utf-8")
        assert "[[conflicts]]" not in after and 'title = "CTO"' in after
        assert not app.reader.problems
    subjects = git(book, "log", "-2", "--format=%s").splitlines()
    assert all("Ana López" in s for s in subjects), subjects
