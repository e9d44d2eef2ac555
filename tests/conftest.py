"""Shared fixtures: an isolated home and config, a fixed clock, a fresh book, the CLI in-process."""

from __future__ import annotations

import pytest

from crmtui.cli import main
from crmtui.service import init_book

FIXED_NOW = "2026-06-15T09:00:00"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """No test sees the real home, config, book or editor; the clock is fixed."""
    home = tmp_path / "home"
    config = tmp_path / "config"
    home.mkdir()
    config.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    monkeypatch.setenv("CRMTUI_NOW", FIXED_NOW)
    for name in ("CRMTUI_BOOK", "EDITOR", "VISUAL"):
        monkeypatch.delenv(name, raising=False)
    # git must see only the test's repositories and config (e.g. when run from a git hook)
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL",
                 "GIT_AUTHOR_DATE", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "GIT_COMMITTER_DATE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    return tmp_path


@pytest.fixture
def book(tmp_path):
    """A fresh, committed, empty book at tmp_path/book."""
    path = tmp_path / "book"
    init_book(path)
    return path


@pytest.fixture
def run_cli(capsys):
    """Run `crmtui ARGV...` in-process; return (exit_code, stdout, stderr)."""

    def run(*argv):
        capsys.readouterr()  # drop anything printed before
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exit:  # argparse: --help, usage errors
            code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def cli(run_cli, book):
    """run_cli with --book pointing at the fresh book."""

    def run(*argv):
        return run_cli("--book", book, *argv)

    return run
