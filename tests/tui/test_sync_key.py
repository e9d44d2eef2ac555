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
