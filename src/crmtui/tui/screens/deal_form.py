"""Add an open deal: title, amount, optional cost and expected close, stage (the first by default)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Label, Select, Static

from crmtui.domain import validate
from crmtui.domain.dates import DateError, as_date, parse_when
from crmtui.domain.deals import money_text
from crmtui.domain.record import Customer
from crmtui.domain.settings import DEFAULT_DEAL_STAGES
from crmtui.tui.fmt import safe
from crmtui.tui.screens.form_base import FormBody, FormInput, SaveCancelForm, error_label, form_footer


def _sentence(error: Exception) -> str:
    text = str(error)
    return f"{text[:1].upper()}{text[1:]}."


def _field(placeholder: str, name: str) -> FormInput:
    # select_on_focus off: a key typed right after Tab lands before the focus event, which
    # would select it and let the next key replace it ("4500" became "500" in a terminal).
    return FormInput(placeholder=placeholder, id=name, compact=True, select_on_focus=False)


class DealForm(SaveCancelForm):
    def __init__(self, customer: Customer) -> None:
        super().__init__()
        self.customer = customer

    def compose(self) -> ComposeResult:
        reader = self.app.reader
        self.stages = list(reader.snapshot.settings.deal_stages) if reader else list(DEFAULT_DEAL_STAGES)
        self.currency = reader.snapshot.settings.currency if reader else ""
        with FormBody(id="form"):
            title = Text("New deal with ")
            title.append(safe(self.customer.name), style="bold")
            yield Static(title, classes="form-title")
            with Horizontal(classes="row"):
                yield Label("Title", classes="label")
                yield _field("what it is: Q1 audit, retainer 2027", "title")
            yield error_label("title")
            with Horizontal(classes="row"):
                yield Label(f"Amount {safe(self.currency)}"[:13], classes="label")
                yield _field("what it brings in: 12000", "amount")
            yield error_label("amount")
            with Horizontal(classes="row"):
                yield Label("Cost", classes="label")
                yield _field("optional: flights, subcontractors (value = amount - cost)", "cost")
            yield error_label("cost")
            with Horizontal(classes="row"):
                yield Label("Close", classes="label")
                yield _field("optional: expected close, 3m, 2026-12-20", "close")
            yield error_label("close")
            with Horizontal(classes="row"):
                yield Label("Stage", classes="label")
                yield Select([(s, s) for s in self.stages], value=self.stages[0], allow_blank=False, id="stage",
                             compact=True)
            yield from form_footer("Enter saves · Tab next field · Esc cancels")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#title", Input).focus()

    def action_save(self) -> None:
        if self.saving:
            return
        self.clear_errors()
        value = {name: self.query_one(f"#{name}", Input).value.strip() for name in ("title", "amount", "cost", "close")}
        stage = str(self.query_one("#stage", Select).value)
        ok = True
        if not value["title"]:
            self.set_error("title", "A deal needs a title, like Q1 audit.")
            ok = False
        if any(d.status == "open" and d.title.strip().lower() == value["title"].lower()
               for d in self.customer.deals) and value["title"]:
            self.set_error("title", "There is an open deal with this title already; give this one another.")
            ok = False
        for name, what in (("amount", "the amount"), ("cost", "the cost")):
            if name == "amount" and not value[name]:
                self.set_error(name, "Write what it brings in, like 12000.")
                ok = False
            elif value[name]:
                try:  # domain.validate: finite, 0 or more (as the CLI)
                    validate.amount(value[name], what)
                except validate.InvalidValue as error:
                    self.set_error(name, _sentence(error))
                    ok = False
        if value["close"]:
            now = self.app.now()
            try:
                close = as_date(parse_when(value["close"], now))
                validate.future_day(close, now.date(), "the expected close")
            except (DateError, validate.InvalidValue) as error:
                self.set_error("close", _sentence(error))
                ok = False
        if not ok:
            return
        self.saving = True
        self.set_error("form", None)
        handle = self.customer.handle
        self.app.write(
            "Adding the deal",
            lambda service: service.add_deal(handle, value["title"], value["amount"], cost=value["cost"] or None,
                                             close=value["close"] or None, stage=stage),
            on_done=self._saved,
            on_error=self.show_failure,
        )

    def _saved(self, result) -> None:
        customer, deal = result
        self.dismiss(customer.handle)
        self.app.notify(f"Added {safe(deal.title)} ({money_text(deal.amount, self.currency)}) for "
                        f"{safe(customer.name)}, stage {safe(deal.stage)}.", markup=False)
