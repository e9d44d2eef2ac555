"""M on a customer: a message to them in the user's mailer, then the log form to log it."""

from __future__ import annotations

import shlex
import sys

from helpers import settle
from textual.widgets import Input, Select

from conftest import git_log, git_status
from crmtui.tui.screens.log_form import LogForm


def fake_mailer(tmp_path, monkeypatch, template: str = "%s"):
    """$CRMTUI_MAILER: a script that writes the arguments it got to a file."""
    out = tmp_path / "mailer-args.txt"
    script = tmp_path / "mailer.py"
    script.write_text(f"import sys, pathlib\npathlib.Path({str(out)!r}).write_text(' '.join(sys.argv[1:]))\n")
    monkeypatch.setenv("CRMTUI_MAILER", f"{shlex.quote(sys.executable)} {shlex.quote(str(script))} {template}")
    return out


async def test_mail_key_runs_the_mailer_then_offers_to_log_the_email(make_app, book, tmp_path, monkeypatch):
    out = fake_mailer(tmp_path, monkeypatch, "--to %u")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        before = len(git_log(book))
        await pilot.press("slash", *"ana", "enter", "M")
        await settle(app, pilot)
        assert out.read_text() == "--to mailto:ana@acme.example"
        form = app.screen
        assert isinstance(form, LogForm)
        assert form.query_one("#kind", Select).value == "email"
        assert form.query_one("#summary", Input).value == "→ Wrote to Ana López"
        await pilot.press("enter")
        await settle(app, pilot)
        assert not isinstance(app.screen, LogForm)
        assert git_log(book)[0] == "Log email with Ana López" and len(git_log(book)) == before + 1
        assert git_status(book) == ""
        assert 'summary = "→ Wrote to Ana López"' in (book / "customers" / "ana-lopez.toml").read_text("utf-8")


async def test_escape_logs_nothing(make_app, book, tmp_path, monkeypatch):
    fake_mailer(tmp_path, monkeypatch)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        before = git_log(book)
        await pilot.press("slash", *"ana", "enter", "M")
        await settle(app, pilot)
        assert isinstance(app.screen, LogForm)
        await pilot.press("escape")
        await settle(app, pilot)
        assert git_log(book) == before


async def test_without_a_mailer_the_address_is_shown(make_app, book, monkeypatch, tmp_path):
    monkeypatch.delenv("CRMTUI_MAILER", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # no xdg-open
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *"ana", "enter", "M")
        await settle(app, pilot)
        assert not isinstance(app.screen, LogForm)
        messages = [n.message for n in app._notifications]
        assert any("Write to ana@acme.example" in m and "CRMTUI_MAILER" in m for m in messages)


async def test_a_failing_mailer_is_told_and_nothing_is_offered(make_app, book, monkeypatch):
    monkeypatch.setenv("CRMTUI_MAILER", "false")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *"ana", "enter", "M")
        await settle(app, pilot)
        assert not isinstance(app.screen, LogForm)
        assert any("exited with status 1" in n.message for n in app._notifications)
