"""Every key of the app, with an id so a user can remap it.

Remap in ~/.config/crmtui/config.toml (or $XDG_CONFIG_HOME/crmtui/config.toml):

    [keys]
    "crmtui.log" = "ctrl+l"
    "crmtui.reminders" = "R"

The help screen and the command palette read these same tables.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from textual.binding import Binding

# Letter keys are priority bindings: the app acts on them as the key arrives, so keys
# typed in one burst ("/ana", or "l" then the summary) reach the widget the previous key
# focused. The app turns them off while a text field has focus (you type the letter) or
# a form or dialog is open (see CrmApp.check_action).
APP_KEYS: list[Binding] = [
    Binding("slash", "focus_search", "Search", id="crmtui.search", priority=True,
            tooltip="Search customers (from anywhere)"),
    Binding("l", "log", "Log", id="crmtui.log", priority=True, tooltip="Log an interaction with the selected customer"),
    Binding("n", "new_customer", "New", id="crmtui.new", priority=True, tooltip="Add a new customer"),
    Binding("e", "edit", "Edit", id="crmtui.edit", priority=True, tooltip="Edit the selected customer in $EDITOR"),
    Binding("r", "reminders", "Due", id="crmtui.reminders", priority=True,
            tooltip="Reminders: overdue, today, this week, later"),
    Binding("t", "tiers", "Tiers", id="crmtui.tiers", priority=True, tooltip="The customer pyramid"),
    Binding("h", "history", "History", id="crmtui.history", priority=True,
            tooltip="Git history of the selected customer"),
    Binding("H", "book_history", "Book log", id="crmtui.book_history", show=False, priority=True,
            tooltip="Git history of the whole book"),
    # Help before Problems and Sync: at 80 columns the footer ends after Problems.
    Binding("question_mark,f1", "help", "Help", id="crmtui.help", key_display="?", tooltip="All the keys"),
    Binding("p", "problems", "Problems", id="crmtui.problems", priority=True,
            tooltip="Files that failed to parse or validate"),
    Binding("s", "sync", "Sync", id="crmtui.sync", priority=True, tooltip="Sync with other machines: commit, pull, push"),
    Binding("q", "quit_or_back", "Quit", id="crmtui.quit", show=False, priority=True,
            tooltip="Quit crmtui (in a view: back to the main screen)"),
]

# Keys that only work in one view, for the help screen (the views bind them themselves).
VIEW_KEYS: dict[str, list[tuple[str, str]]] = {
    "Main screen": [
        ("/", "focus the search box; type to filter, best match first"),
        ("↑ ↓  Enter", "move through the results; Enter selects and moves to the list"),
        ("Escape", "clear the search"),
    ],
    "Log form": [
        ("Tab / shift+Tab", "next / previous field"),
        ("ctrl+n", "next interaction kind (call is the default)"),
        ("Enter / ctrl+s", "save (writes the file and commits)"),
        ("Escape", "cancel"),
    ],
    "Reminders": [
        ("d", "mark the reminder done"),
        ("z", "snooze: type 1d, 1w or a date, then Enter"),
        ("Enter", "go to the customer"),
    ],
    "Tiers": [
        ("↑ ↓", "choose a tier"),
        ("Tab", "move to the list of the tier's customers"),
        ("Enter", "go to the customer"),
    ],
    "History": [
        ("↑ ↓", "choose a commit; its diff shows on the right"),
        ("R", "restore the record to the chosen version (asks first)"),
        ("b", "switch between the record's history and the whole book's"),
    ],
    "Problems": [
        ("Enter / e", "open the broken file in $EDITOR"),
    ],
    "Everywhere": [
        ("ctrl+p", "command palette: jump to any customer, run any action"),
        ("Escape / q", "close a view or a form"),
        ("ctrl+q", "quit"),
    ],
}


def user_keymap() -> dict[str, str]:
    """The [keys] table of the user's config file, if any (ids -> keys)."""
    home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    config = Path(home) / "crmtui" / "config.toml"
    try:
        data = tomllib.loads(config.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
    keys = data.get("keys")
    if not isinstance(keys, dict):
        return {}
    return {str(k): str(v) for k, v in keys.items() if isinstance(v, str)}
