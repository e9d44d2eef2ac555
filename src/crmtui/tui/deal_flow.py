"""Deals from the keyboard: add one ($), mark one won (w) or lost (L), the pipeline (P).

A mixin of the app, like editor_flow: the keys act on the deal chosen in the pipeline
view, else on the selected customer's open deal; with several open, a picker asks
which. Winning or losing asks first (y), then writes in the book's worker.
"""

from __future__ import annotations

from rich.text import Text

from crmtui.domain.deals import deal_title, lost_message, money_text, open_deals, won_message
from crmtui.tui.fmt import safe


class DealFlow:
    def action_pipeline(self) -> None:
        from crmtui.tui.screens.pipeline import PipelineScreen

        self.show_view(PipelineScreen())

    def _deal_customer(self):
        handle = self.current_handle()
        customer = self.reader.snapshot.customer(handle) if self.reader and handle else None
        if customer is None:
            self.notify("Select a customer first: press / and type a name.", severity="warning")
        return customer

    async def action_deal_add(self) -> None:
        from crmtui.tui.screens.deal_form import DealForm

        await self.catch_up()
        customer = self._deal_customer()
        if customer is not None:
            self.push_screen(DealForm(customer))

    async def action_deal_won(self) -> None:
        await self._close_deal("won")

    async def action_deal_lost(self) -> None:
        await self._close_deal("lost")

    async def _close_deal(self, outcome: str) -> None:
        await self.catch_up()
        chosen = getattr(self.screen, "current_deal", None)  # the pipeline view: the deal under the cursor
        picked = chosen() if callable(chosen) else None
        if picked is not None:
            handle, index = picked
            customer = self.reader.snapshot.customer(handle) if self.reader else None
            if customer is not None and index < len(customer.deals):
                self._confirm_deal(customer, index, outcome)
            return
        if callable(chosen):  # in the pipeline, on a stage's line
            self.notify("Choose a deal first (↑ ↓).", severity="warning")
            return
        customer = self._deal_customer()
        if customer is None:
            return
        found = open_deals(customer)
        if not found:
            self.notify(f"{safe(customer.name)} has no open deal; press $ to add one.", severity="warning",
                        markup=False)
            return
        if len(found) == 1:
            self._confirm_deal(customer, found[0][0], outcome)
            return
        from crmtui.tui.screens.deal_picker import DealPicker

        def picked_one(index: int | None) -> None:
            if index is not None:
                self._finish_deal(customer.handle, index, outcome)

        self.push_screen(DealPicker(customer, outcome), picked_one)

    def _confirm_deal(self, customer, index: int, outcome: str) -> None:
        from crmtui.tui.screens.confirm import ConfirmScreen

        reader = self.reader
        deal = customer.deals[index]
        currency = reader.snapshot.settings.currency
        question = Text("Mark ")
        question.append(safe(deal_title(deal)), style="bold")
        question.append(f" ({money_text(deal.amount, currency)}) {outcome} with ")
        question.append(safe(customer.name), style="bold")
        question.append("?")
        if outcome == "won":
            question.append(f"\nTier {reader.what_if_won(customer, index).phrase()}.")

        def answered(yes: bool | None) -> None:
            if yes:
                self._finish_deal(customer.handle, index, outcome)

        self.push_screen(ConfirmScreen(question, yes="Won" if outcome == "won" else "Lost"), answered)

    def _finish_deal(self, handle: str, index: int, outcome: str) -> None:
        if outcome == "won":
            def done(result) -> None:
                saved, deal, what_if = result
                currency = self.reader.snapshot.settings.currency if self.reader else ""
                lines = won_message(deal, saved.name, currency, what_if).splitlines()
                self.notify("\n".join(safe(line) for line in lines if line), title="Deal won", markup=False)

            self.write("Marking the deal won", lambda service: service.win_deal(handle, index), on_done=done)
        else:
            def done(result) -> None:
                saved, deal = result
                self.notify(safe(lost_message(deal, saved.name)), title="Deal lost", markup=False)

            self.write("Marking the deal lost", lambda service: service.lose_deal(handle, index), on_done=done)
