"""Commands that make a book or open one in the TUI: init, demo (and `crmtui` alone)."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from crmtui.cli.command import Command
from crmtui.errors import CrmError


def open_tui(root: Path) -> int:
    """The TUI owns the terminal from here; Textual is imported only now."""
    try:
        from crmtui.tui.app import run_app
    except ImportError:
        print(f"The book is at {root}. The TUI is not built yet; try: crmtui --book {shlex.quote(str(root))} due")
        return 0
    return run_app(root)


def init_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", nargs="?", type=Path, help="where (default: the book location)")


def cmd_init(args) -> int:
    from crmtui.cli.config import default_book
    from crmtui.cli.errors import os_error_sentence
    from crmtui.service import init_book

    path = args.path or getattr(args, "book", None) or default_book()
    notices: list[str] = []
    try:
        book = init_book(path, notices)
    except OSError as error:
        raise CrmError(f"cannot create a book at {path}: {os_error_sentence(error)}") from None
    print(f"Created a book at {book.root}")
    for notice in notices:
        print(f"crmtui: {notice}", file=sys.stderr)
    print(f"Add your first customer: crmtui --book {shlex.quote(str(book.root))} add \"Ana López\" --company Acme")
    return 0


def demo_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", nargs="?", type=Path, help="where (default: a new folder under the temp dir)")
    p.add_argument("--no-open", action="store_true", help="only build it and say where it is")


def cmd_demo(args) -> int:
    from crmtui.demo import build_demo

    root = build_demo(args.path)
    quoted = shlex.quote(str(root))
    print(f"Built a demo book at {root}")
    if args.no_open:
        print(f"Try: crmtui --book {quoted} due   ·   crmtui --book {quoted} history   ·   crmtui --book {quoted}")
        return 0
    return open_tui(root)


COMMANDS = (
    Command("init", "create a book: folder, settings, git repository, first commit", cmd_init, init_args,
            opens_book=False),
    Command("demo", "build a demo book with a realistic history, then open it", cmd_demo, demo_args,
            opens_book=False),
)
