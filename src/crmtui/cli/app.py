"""The `crmtui` command: global options, the parser built from the command modules, the
run of one command (the book opened, notices printed), and a failure told as one sentence."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from pathlib import Path

from crmtui import __version__
from crmtui.cli import book, capture, deals, history, interchange, records, reminders, reports, sync, tiers
from crmtui.cli.command import Command, book_option, json_option, progress_bar
from crmtui.cli.config import default_book
from crmtui.cli.errors import debug_traceback, os_error_sentence
from crmtui.errors import CrmError

DESCRIPTION = """\
A customer-relationship manager for solo consultants, in the terminal.
Your book is a git repository with one TOML file per customer.
Run without a command to open the TUI."""

EPILOG = """\
The book is found from --book, then $CRMTUI_BOOK, then `book = "..."` in
~/.config/crmtui/config.toml, then ~/crm.
WHO is a file name (ana-lopez) or any words that clearly match one customer.
WHEN is 2026-12-01, 2026-12-01T14:30, today, tomorrow, 14d, 2w, 3m, or 3d ago."""

# Each module holds a group of commands (their arguments and bodies) in its COMMANDS.
MODULES = (book, records, reminders, tiers, reports, deals, history, sync, interchange, capture)

# The order of `crmtui --help`. A command not named here is listed after these.
HELP_ORDER = ("init", "demo", "add", "log", "show", "list", "search", "due", "done", "remind", "snooze",
              "tiers", "report", "deal", "pipeline",
              "history", "restore", "edit", "sync", "resolve", "import", "export", "duplicates", "merge", "query",
              "add-email", "vdir", "check")


def _commands() -> dict[str, Command]:
    found = [command for module in MODULES for command in module.COMMANDS]
    rank = {name: at for at, name in enumerate(HELP_ORDER)}
    found.sort(key=lambda command: rank.get(command.name, len(rank)))  # stable: modules' order after
    return {command.name: command for command in found}


COMMANDS = _commands()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crmtui", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter, parents=[book_option()])
    parser.add_argument("--version", action="version", version=f"crmtui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS.values():
        parents = [book_option(), json_option()] if command.json else [book_option()]
        p = sub.add_parser(command.name, help=command.help, description=command.description, parents=parents,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        if command.arguments:
            command.arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Errors a user can meet end as one sentence on stderr and a non-zero exit: CrmError
    (1, or 2 for an ambiguous WHO) and any OSError from the system (1: a full disk, a
    read-only folder...). With CRMTUI_DEBUG=1 the traceback is printed first. Anything
    else is a bug and keeps its traceback."""
    parser = build_parser()
    args = parser.parse_args(argv)
    collecting = gc.isenabled()
    stdout = sys.stdout
    try:
        if not _opens_tui(args):
            from crmtui.cli.render import Output

            # guarded for people: the last line of defence, see render.clean
            exact = args.command in COMMANDS and COMMANDS[args.command].exact_output
            sys.stdout = Output(stdout, guard=not (exact or getattr(args, "json", False)))
        code = run(args, parser)
        sys.stdout.flush()  # a full disk under `> file` is said here, not as a traceback at exit
        return code
    except CrmError as error:  # AmbiguousError too, with its own exit code
        from crmtui.cli.render import clean

        debug_traceback()
        print(f"crmtui: {clean(error)}", file=sys.stderr)  # names in it come from files: no escapes obeyed
        return error.exit_code
    except KeyboardInterrupt:
        print("crmtui: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), stdout.fileno())
        return 0
    except OSError as error:
        from crmtui.cli.render import clean

        debug_traceback()
        print(f"crmtui: {clean(os_error_sentence(error, getattr(args, 'book_root', None)))}", file=sys.stderr)
        return 1
    finally:
        sys.stdout = stdout
        if collecting:
            gc.enable()  # main() also runs in-process (tests, scripts)


def _opens_tui(args: argparse.Namespace) -> bool:
    """The TUI owns the terminal (and escapes what it shows by itself)."""
    return args.command is None or (args.command == "demo" and not args.no_open)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    command = COMMANDS.get(args.command)  # None: open the TUI on the book
    if command is not None and command.reads_only:
        gc.disable()
    if command is not None and not command.opens_book:
        return command.run(args)
    book_path = getattr(args, "book", None)
    from crmtui.service import Service

    try:
        service = Service.open(book_path or default_book())
    except CrmError:
        here = Path.cwd()
        if book_path is None and (here / "crm.toml").exists():
            raise CrmError(f"no book at {default_book()}, but this folder is one: "
                           "use crmtui --book . (or set CRMTUI_BOOK)") from None
        raise
    args.book_root = service.book.root  # for an error without a path: "the disk is full ... in the book at"
    if command is None:
        return book.open_tui(service.book.root)
    service.progress = progress_bar("Reading the book")  # a first run of a big book takes a while
    service.on_wait = lambda text: print(f"crmtui: {text}", file=sys.stderr, flush=True)
    from crmtui.cli.render import clean

    try:
        return command.run(service, args)
    finally:
        if command.uses_settings:
            warn_settings(service)
        for notice in service.notices():
            print(f"crmtui: {clean(notice)}", file=sys.stderr)


def warn_settings(service) -> None:
    """For a command whose output depends on crm.toml: say on stderr that it is broken."""
    from crmtui.cli.render import cell

    problem = service.book.read_settings()[1]  # cheap, and list --json may never load the snapshot
    if problem is not None:
        print(f"crmtui: {cell(problem)}; crm.toml is broken, so the default settings are used "
              "(tiers, keep-in-touch, kinds) until it is fixed; see: crmtui check", file=sys.stderr)
