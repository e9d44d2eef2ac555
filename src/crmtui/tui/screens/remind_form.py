"""Add a reminder to a customer: what, when, and how often it repeats (optional).

The same rules as `crmtui remind WHO WHEN TEXT [--every 3m]` (domain.validate): a day
from today on, at most 100 years ahead; a repeat like 1w, 1m, 3m, 1y.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Label, Static

from crmtui.domain import validate
from crmtui.domain.dates import DateError, as_date, parse_when
from crmtui.domain.record import Customer
from crmtui.tui.fmt import safe
from crmtui.tui.screens.form_base import FormBody, FormInput, SaveCancelForm, error_label, form_footer


def _sentence(error: Exception) -> str:
    text = str(error)
    return f"{text[:1].upper()}{text[1:]}" + ("" if text.endswith(".") else ".")


class RemindForm(SaveCancelForm):
    def __init__(self, customer: Customer) -> None:
        super().__init__()
        self.customer = customer

    def compose(self) -> ComposeResult:
        with FormBody(id="form"):
            title = Text("Remind me about ")
            title.append(safe(self.customer.name), style="bold")
            yield Static(title, classes="form-title")
            with Horizontal(classes="row"):
                yield Label("What", classes="label")
                yield FormInput(placeholder="send the renewal proposal", id="text", compact=True)
            yield error_label("text")
            with Horizontal(classes="row"):
                yield Label("When", classes="label")
                yield FormInput(placeholder="tomorrow, 3d, 2w, 3m, 2026-07-01", id="when", compact=True)
            yield error_label("when")
            with Horizontal(classes="row"):
                yield Label("Repeat", classes="label")
                yield FormInput(placeholder="optional: every 1w, 1m, 3m, 1y", id="every", compact=True)
            yield error_label("every")
            yield from form_footer("Enter saves · Tab next field · Esc cancels")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#text", Input).focus()

    def action_save(self) -> None:
        if self.saving:
            return
        self.clear_errors()
        text = " ".join(self.query_one("#text", Input).value.split())
        when = self.query_one("#when", Input).value.strip()
        every = self.query_one("#every", Input).value.strip().removeprefix("every").strip()
        ok = True
        if not text:
            self.set_error("text", "Say what to be reminded of.")
            ok = False
        now = self.app.now()
        if not when:
            self.set_error("when", "Say when: tomorrow, 3d, 2w or a date.")
            ok = False
        else:
            try:
                validate.future_day(as_date(parse_when(when, now)), now.date(), "the reminder")
            except (DateError, validate.InvalidValue) as error:
                self.set_error("when", _sentence(error))
                ok = False
        if every:
            try:
                validate.duration(every, "the repeat interval")
            except (DateError, validate.InvalidValue) as error:
                self.set_error("every", _sentence(error))
                ok = False
        if not ok:
            return
        self.saving = True
        handle = self.customer.handle
        self.app.write(
            "Adding the reminder",
            lambda service: service.remind(handle, when, text, every=every or None),
            on_done=self._saved,
            on_error=self.show_failure,
        )

    def _saved(self, result) -> None:
        customer, reminder = result
        self.dismiss(customer.handle)
        repeat = f", every {reminder.every.describe()}" if reminder.every else ""
        self.app.notify(f"Reminder for {safe(customer.name)} on {reminder.due}{repeat}.", markup=False)
