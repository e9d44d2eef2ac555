"""Snooze a reminder: tomorrow, in a week, or a typed date. Dismisses with a WHEN or None.

The date field has the focus and takes every key: presets on digit keys made any
date with a 1 or a 7 impossible to type. `1d` and `1w` are as short.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from crmtui.domain.dates import DateError, as_date, parse_when
from crmtui.tui.fmt import safe
from crmtui.tui.screens.form_base import FormInput, FormScreen, error_label


class SnoozeScreen(FormScreen):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.reminder_text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            title = Text("Snooze: ")
            title.append(safe(self.reminder_text), style="bold")
            yield Static(title, classes="form-title")
            with Horizontal(classes="row"):
                yield Label("Until", classes="label")
                yield FormInput(placeholder="1d, 1w, 3d, 2026-07-01, then Enter", id="until", compact=True)
            yield error_label("until")
            with Horizontal(classes="buttons"):
                yield Button("Tomorrow", id="day", compact=True)
                yield Button("In a week", id="week", compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#until", Input).focus()

    @on(Button.Pressed, "#day")
    def _day(self) -> None:
        self.dismiss("1d")

    @on(Button.Pressed, "#week")
    def _week(self) -> None:
        self.dismiss("1w")

    @on(Input.Submitted, "#until")
    def _typed(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        now = self.app.now()
        try:
            due = as_date(parse_when(value, now))
        except DateError as error:
            self.set_error("until", str(error))
            return
        if due <= now.date():
            self.set_error("until", "Snooze to a day after today.")
            return
        self.dismiss(due.isoformat())

    def action_save(self) -> None:
        self.query_one("#until", Input).action_submit()
