"""What a command module declares (a Command for each of its subcommands), and the few
helpers its commands share. Light on purpose: every command module imports it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


class Command:
    """One `crmtui NAME`: its help, its arguments and the body that runs it.

    run(service, args) -> exit code, with the book open as a crmtui.service.Service;
    run(args) when opens_book is False (a command that makes a book, or runs without one).
    arguments(parser) adds the command's own arguments; --book (and --json when json=True)
    come first, as on every command.
    """

    def __init__(self, name: str, help: str, run, arguments=None, *, description: str | None = None,
                 json: bool = False, reads_only: bool = False, uses_settings: bool = False,
                 opens_book: bool = True, exact_output: bool = False):
        self.name = name
        self.help = help  # the line in `crmtui --help`
        self.run = run
        self.arguments = arguments
        self.description = description or help  # the text atop `crmtui NAME --help`
        self.json = json  # takes --json: print JSON for scripts
        # A short command that only reads: reference counting frees what it makes, and the
        # cycle collector's passes over a big book's objects cost ~4% of `list --json`.
        self.reads_only = reads_only
        # Its output depends on crm.toml (tiers, values, cadences, kinds): it goes on with the
        # default settings when that is broken, and says so on stderr.
        self.uses_settings = uses_settings
        self.opens_book = opens_book
        # It writes exact bytes for other programs (an export): stdout is not guarded for people.
        self.exact_output = exact_output


def book_option() -> argparse.ArgumentParser:
    """The parent parser of --book: taken before the command's name or after it."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--book", type=Path, default=argparse.SUPPRESS, metavar="PATH",
                        help="the book folder (default: $CRMTUI_BOOK, the config file, or ~/crm)")
    return common


def json_option() -> argparse.ArgumentParser:
    listing = argparse.ArgumentParser(add_help=False)
    listing.add_argument("--json", action="store_true", help="print JSON for scripts")
    return listing


def emit_json(value) -> int:
    from crmtui.cli.render import to_json

    print(to_json(value))
    return 0


def record_handle(service, who: str) -> str:
    """WHO as a record's handle; a file name is taken as it is, so a broken file can be named too."""
    handle = who.removesuffix(".toml").rsplit("/", 1)[-1]
    if handle in service.snapshot.records:  # broken files can be edited too
        return handle
    return service.resolve(who).handle


def progress_bar(label: str, at_least: int = 500):
    """A one-line bar on stderr for long work (`show(done, total)`), when stderr is a terminal;
    None otherwise. Totals under `at_least` show nothing: they finish before anyone waits."""
    if not sys.stderr.isatty():
        return None
    finished = []

    def show(done: int, total: int) -> None:
        if finished or total < at_least:
            return
        width = 30
        filled = min(width, int(width * done / max(total, 1)))
        end = "\n" if done >= total else ""
        if end:
            finished.append(True)
        sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}{end}")
        sys.stderr.flush()

    return show


def warn_problems(service) -> None:
    """On stderr, after a listing: how many files could not be read or need fixing."""
    from crmtui.storage.book import SETTINGS

    problems = [p for p in service.problems if p.path != SETTINGS]  # crm.toml: app.warn_settings
    if problems:
        troubles = [r.trouble for r in service.snapshot.records.values() if r.problem]
        count = len(problems) - troubles.count("conflict") - troubles.count("invalid")
        if count > 0:
            print(f"crmtui: {count} file{'s' if count > 1 else ''} could not be read; see: crmtui check", file=sys.stderr)
        for kind, what in (("conflict", "a sync conflict to resolve"), ("invalid", "a value to fix")):
            n = troubles.count(kind)
            if n:
                print(f"crmtui: {n} record{'s' if n > 1 else ''} ha{'ve' if n > 1 else 's'} {what}; "
                      f"see: crmtui check", file=sys.stderr)
