"""The command line: argument parsing and printing; the work is in crmtui.service.

    app.py          the `crmtui` command: global options, the parser built from the
                    command modules, running one command, errors as one sentence
    command.py      Command (what a command module declares) and helpers commands share
    config.py       the user's config file and where the book is
    errors.py       an OSError told as one sentence: what, where, what to do
    render.py       how commands print: tables, JSON, text made safe for a terminal
    book.py         init, demo, and opening the TUI
    records.py      add, log, show, list, search, edit, check
    reminders.py    due, done
    tiers.py        tiers
    history.py      history, restore
    sync.py         sync, resolve
    interchange.py  import, export, duplicates, merge

A new command goes in a module like these: its `cmd_*` body, a function adding its
arguments, and a `Command` in the module's COMMANDS; list the module in app.MODULES.
Command modules import only light modules at the top: anything heavy (the service,
tomlkit, git, textual, rapidfuzz) is imported inside the body that needs it.
"""

from crmtui.cli.app import main
from crmtui.cli.command import progress_bar as _progress_bar
from crmtui.cli.errors import os_error_sentence

__all__ = ["main", "os_error_sentence", "_progress_bar"]
