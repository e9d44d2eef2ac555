"""Which open deal: the customer has several. Dismisses with the deal's index in [[deals]], or None.

Choosing is the answer: Enter on a deal marks it won (or lost); Escape changes nothing.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from crmtui.domain.deals import deal_title, open_deals
from crmtui.domain.record import Customer
from crmtui.tui.fmt import money, safe


class DealPicker(ModalScreen[int | None]):
    DEFAULT_CLASSES = "dialog"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="crmtui.deal_picker.cancel"),
    ]

    def __init__(self, customer: Customer, outcome: str) -> None:
        super().__init__()
        self.customer = customer
        self.outcome = outcome  # "won" or "lost"

    def compose(self) -> ComposeResult:
        reader = self.app.reader
        currency = reader.snapshot.settings.currency if reader else ""
        title = Text(f"Which deal did you {'win' if self.outcome == 'won' else 'lose'} with ")
        title.append(safe(self.customer.name), style="bold")
        title.append("?")
        options = []
        for index, deal in open_deals(self.customer):
            line = Text(safe(deal_title(deal)), style="bold")
            line.append(f"  {money(deal.amount, currency)}")
            if deal.stage:
                line.append(f"  {safe(deal.stage)}", style="dim")
            if deal.close:
                line.append(f"  close {deal.close}", style="dim")
            if self.outcome == "won" and reader is not None:
                line.append(f"  tier {reader.what_if_won(self.customer, index).phrase()}", style="italic")
            options.append(Option(line, id=str(index)))
        with Vertical(id="form"):
            yield Static(title, classes="form-title")
            yield OptionList(*options, id="deal-options")
            yield Static(f"Enter marks it {self.outcome} · ↑ ↓ choose · Esc cancels", classes="form-hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id))

    def action_cancel(self) -> None:
        self.dismiss(None)
