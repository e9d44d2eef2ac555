"""The search box: typing filters the list; arrows move through the results; Escape clears."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


class SearchBox(Input):
    BINDINGS = [
        Binding("down", "move(1)", "Next", show=False, id="crmtui.search.down"),
        Binding("up", "move(-1)", "Previous", show=False, id="crmtui.search.up"),
        Binding("pagedown", "move(10)", "Page down", show=False),
        Binding("pageup", "move(-10)", "Page up", show=False),
        Binding("escape", "clear", "Clear", show=False, id="crmtui.search.clear"),
    ]

    class Move(Message):
        """Move the list's cursor while the focus stays in the search box."""

        def __init__(self, rows: int) -> None:
            super().__init__()
            self.rows = rows

    class Cleared(Message):
        pass

    def action_move(self, rows: int) -> None:
        self.post_message(self.Move(rows))

    def action_clear(self) -> None:
        self.value = ""
        self.post_message(self.Cleared())
