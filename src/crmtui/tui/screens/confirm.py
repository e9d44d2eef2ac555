"""A yes/no question in a modal; dismisses with True or False."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmScreen(ModalScreen[bool]):
    DEFAULT_CLASSES = "dialog"
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="crmtui.confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="crmtui.confirm.no"),
    ]

    def __init__(self, question, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.question = question  # a Rich Text: safe to carry user text
        self.yes, self.no = yes, no

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Static(self.question, classes="form-hint", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(f"{self.no} (n)", id="no", compact=True)
                yield Button(f"{self.yes} (y)", id="yes", variant="warning", compact=True)

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")
