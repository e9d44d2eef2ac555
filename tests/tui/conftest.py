"""Fixtures for the TUI tests: a real book (git repository) in a temp folder, a fixed now.

The book is built once per session and copied for each test. Git runs with a
fixed identity and fixed commit dates, so commit ids (shown in the history
view) are the same on every run and the snapshots stay stable.
"""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from datetime import datetime
from pathlib import Path

import pytest

from crmtui.service import Service, init_book

NOW = datetime(2026, 6, 15, 9, 0)
HOSTILE_NAME = "[bold red]x[/] Evil"
HOSTILE_COMPANY = "[link=file:///etc/passwd]y[/]"


def _env(home: Path) -> dict[str, str]:
    return {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "CRMTUI_NOW": NOW.isoformat(),
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Test Consultant",
        "GIT_AUTHOR_EMAIL": "me@example.test",
        "GIT_COMMITTER_NAME": "Test Consultant",
        "GIT_COMMITTER_EMAIL": "me@example.test",
        "GIT_AUTHOR_DATE": "2026-06-15T09:00:00+00:00",
        "GIT_COMMITTER_DATE": "2026-06-15T09:00:00+00:00",
        "TZ": "UTC",
        "NO_COLOR": "",
    }


def _append(service: Service, handle: str, text: str) -> None:
    """Add TOML text to a record and commit it the way an editor session would be."""
    path = service.book.root / service.book.rel(handle)
    before = path.read_text("utf-8")
    path.write_text(before + textwrap.dedent(text), "utf-8")
    subject, problem = service.commit_edit(handle, before)
    assert problem is None, problem


def build_book(root: Path) -> None:
    init_book(root)
    s = Service.open(root, now=lambda: NOW)
    s.add_customer("Ana López", company="Acme Corp", title="CTO", emails=["ana@acme.example"],
                   tags=["fintech"], stage="customer", tier="gold", birthday="1984-06-17")
    s.log_interaction("ana-lopez", "First call about the audit", kind="call", at="2026-05-02T10:00")
    s.log_interaction("ana-lopez", "Sent the proposal", kind="email", at="2026-06-01T16:30",
                      follow_up="2026-06-20")
    _append(s, "ana-lopez", """
        [[deals]]
        title = "Q1 audit"
        amount = 12000
        cost = 3000
        status = "won"
        date = 2026-03-01

        [[deals]]
        title = "Renewal 2027"
        amount = 20000
        status = "open"

        [[reminders]]
        due = 2026-06-10
        text = "Send the signed NDA"
        """)
    s.add_customer("Ben Schmidt", company="Schmidt Data", emails=["ben@schmidt.example"], stage="customer")
    _append(s, "ben-schmidt", """
        [[deals]]
        title = "Data platform"
        amount = 60000
        status = "won"
        date = 2026-02-01
        """)
    s.log_interaction("ben-schmidt", "Quarterly review", kind="meeting", at="2026-06-15T08:00",
                      follow_up="2026-06-15")
    s.add_customer("Chen Jing", company="Lianhe Electronics", tags=["hardware"], stage="customer", tier="platinum")
    _append(s, "chen-jing", """
        [[deals]]
        title = "Workshop"
        amount = 4000
        status = "won"
        date = 2026-04-01
        """)
    s.log_interaction("chen-jing", "Workshop went well", kind="feedback", at="2026-04-02T12:00",
                      follow_up="2026-07-20")
    s.add_customer("Dora Lead", company="Loss Makers", stage="customer")
    _append(s, "dora-lead", """
        [[deals]]
        title = "Fixed-price mistake"
        amount = 5000
        cost = 9000
        status = "won"
        date = 2026-01-10
        """)
    hostile = s.add_customer(HOSTILE_NAME, company=HOSTILE_COMPANY, stage="prospect").handle
    s.log_interaction(hostile, "Said \x1b[31mred\x1b[0m things", kind="note", at="2026-06-14T11:00")


@pytest.fixture(scope="session")
def template_book(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("template")
    with pytest.MonkeyPatch.context() as mp:
        for key, value in _env(base / "home").items():
            mp.setenv(key, value)
        build_book(base / "book")
    return base / "book"


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    for key, value in _env(tmp_path / "home").items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.delenv("CRMTUI_BOOK", raising=False)


@pytest.fixture
def book(template_book, tmp_path) -> Path:
    root = tmp_path / "book"
    shutil.copytree(template_book, root, symlinks=True)
    return root


@pytest.fixture
def make_app(book):
    from crmtui.tui.app import create_app

    def factory(**options):
        options.setdefault("path_label", "book")
        options.setdefault("testing", True)
        options.setdefault("poll_interval", None)
        return create_app(book, now=lambda: NOW, **options)

    return factory


@pytest.fixture
def editor(tmp_path, monkeypatch):
    """Set $EDITOR to a small python script; returns a function that sets what the script does."""
    script = tmp_path / "fake_editor.py"

    def use(body: str) -> Path:
        script.write_text("import pathlib, sys\npath = pathlib.Path(sys.argv[1])\ntext = path.read_text('utf-8')\n"
                          + textwrap.dedent(body), "utf-8")
        monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
        return script

    return use


def git_log(root: Path, *args: str) -> list[str]:
    import subprocess

    out = subprocess.run(["git", "-C", str(root), "log", "--format=%s", *args], capture_output=True, text=True,
                         check=True).stdout
    return out.splitlines()


def git_status(root: Path) -> str:
    import subprocess

    return subprocess.run(["git", "-C", str(root), "status", "--porcelain"], capture_output=True, text=True,
                          check=True).stdout
