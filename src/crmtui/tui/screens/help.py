"""Every key of crmtui, from the same tables the bindings are made of."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from crmtui.tui.keys import APP_KEYS, VIEW_KEYS, user_keymap


def _key_name(key: str) -> str:
    names = {"slash": "/", "question_mark": "?", "dollar_sign": "$"}
    return " / ".join(names.get(k.strip(), k.strip()) for k in key.split(","))


def help_table() -> Table:
    remapped = user_keymap()
    table = Table(box=None, show_header=False, padding=(0, 2, 0, 0), expand=True)
    table.add_column(style="bold cyan", no_wrap=True, width=18)
    table.add_column(ratio=1)
    table.add_row(Text("Anywhere", style="bold underline"), "")
    for binding in APP_KEYS:
        key = remapped.get(binding.id or "", binding.key)
        table.add_row(_key_name(key), Text(binding.tooltip or binding.description))
    for section, rows in VIEW_KEYS.items():
        table.add_row("", "")
        table.add_row(Text(section, style="bold underline"), "")
        for key, what in rows:
            table.add_row(key, Text(what))
    table.add_row("", "")
    table.add_row("", Text("Every binding has an id (crmtui.log, crmtui.reminders, ...); remap them in the "
                           "[keys] table of ~/.config/crmtui/config.toml.", style="dim"))
    return table


class HelpScreen(ModalScreen):
    DEFAULT_CLASSES = "dialog"
    BINDINGS = [
        Binding("escape,q,question_mark,f1", "close", "Close", id="crmtui.help.close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static(Text("crmtui keys", style="bold"))
            yield Static(help_table())

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)
