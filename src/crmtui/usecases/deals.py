"""Deals: add an open one, win it, lose it; the pipeline of open deals by stage."""

from __future__ import annotations

from datetime import date

from crmtui.domain import deals as deals_mod
from crmtui.domain import validate
from crmtui.domain.dates import as_date
from crmtui.domain.deals import Pipeline, WhatIf, deal_title, money_text, open_deals
from crmtui.domain.record import Customer, Deal
from crmtui.domain.search import SearchEntry, SearchIndex, clear_winner
from crmtui.errors import AmbiguousError, CrmError
from crmtui.storage.record_file import AppendEntries, table_at


class DealUseCases:
    def pipeline(self) -> Pipeline:
        return deals_mod.pipeline(self.customers, self.today(), self.snapshot.settings)

    def what_if_won(self, customer: Customer, index: int) -> WhatIf:
        return deals_mod.what_if_won(customer, index, self.today(), self.snapshot.settings)

    def find_deal(self, customer: Customer, text: str | None = None) -> tuple[int, Deal]:
        """An open deal of the customer: the only one, or the one `text` clearly names."""
        found = open_deals(customer)
        if not found:
            raise CrmError(f"{customer.name} has no open deal (add one: crmtui deal add {customer.handle} "
                           f"TITLE AMOUNT)")
        if not text or not text.strip():
            if len(found) == 1:
                return found[0]
            raise AmbiguousError(f"{customer.name} has {len(found)} open deals; name one: "
                                 f"{self._listing(found)}")
        index = SearchIndex([SearchEntry(str(i), d.title) for i, d in found])
        hits = index.search(text)
        winner = clear_winner(hits) or (hits[0] if len(hits) == 1 else None)
        if winner is None:
            raise AmbiguousError(f"'{text.strip()}' does not name one open deal of {customer.name}: "
                                 f"{self._listing(found)}")
        return next((i, d) for i, d in found if str(i) == winner.handle)

    def _listing(self, found: list[tuple[int, Deal]]) -> str:
        currency = self.snapshot.settings.currency
        return "; ".join(f"{deal_title(d)} ({money_text(d.amount, currency)})" for _, d in found)

    def add_deal(self, handle: str, title: str, amount, *, cost=None, close: str | date | None = None,
                 stage: str | None = None) -> tuple[Customer, Deal]:
        """A new open deal, at the first configured stage unless told."""
        title = " ".join(str(title).split())
        if not title:
            raise CrmError("a deal needs a title, like \"Q1 audit\"")
        settings = self.snapshot.settings
        stages = settings.deal_stages
        try:
            amount = validate.amount(amount, "the amount")
            cost = validate.amount(cost, "the cost") if cost is not None and str(cost).strip() else None
        except validate.InvalidValue as error:
            raise CrmError(str(error)) from None
        stage = " ".join(str(stage).split()).lower() if stage and str(stage).strip() else stages[0]
        if stage not in stages:
            raise CrmError(f"unknown stage '{stage}'; use one of {', '.join(stages)} "
                           f"(or add it to stages in crm.toml's [deals])")
        when = None
        if close is not None and str(close).strip():
            now = self.now()
            when = as_date(self._when(close, now))
            try:  # from today on, at most 100 years ahead, a day every export can write
                validate.future_day(when, now.date(), "the expected close")
            except validate.InvalidValue as error:
                raise CrmError(str(error)) from None
        customer = self.snapshot.customer(handle)
        same = next((d for _, d in open_deals(customer) if d.title.strip().lower() == title.lower()), None) \
            if customer is not None else None
        if same is not None:
            raise CrmError(f"{customer.name} already has an open deal '{same.title}'; give the new one another title")
        entry = {"title": title, "amount": amount}
        if cost is not None:
            entry["cost"] = cost
        entry["status"] = "open"
        entry["stage"] = stage
        if when is not None:
            entry["close"] = when
        deal = Deal(title, amount, "open", cost, None, stage, when)
        saved = self._write(handle, AppendEntries(("deals", entry)),
                            lambda c: deals_mod.added_message(deal, c.name, settings.currency))
        return saved, deal

    def win_deal(self, handle: str, index: int, on: str | date | None = None) -> tuple[Customer, Deal, WhatIf]:
        """Mark [[deals]] number `index` won on `on` (default today); the tier moves with it."""
        deal = self._open_deal(handle, index)
        now = self.now()
        day = now.date() if on is None or not str(on).strip() else as_date(self._when(on, now))
        if day > now.date():
            raise CrmError(f"the won date {day} is in the future; a deal is won today or earlier")
        try:
            validate.day(day, "the won date")
        except validate.InvalidValue as error:
            raise CrmError(str(error)) from None
        settings = self.snapshot.settings
        told: list[WhatIf] = []

        def mutate(doc):
            table = _same_deal(table_at(doc, "deals", index), deal)
            table["status"] = "won"
            table["date"] = day

        def message(c: Customer) -> str:
            # before: the record as saved with this deal still open, so an outside edit settled
            # in the same write counts on both sides
            before = deals_mod.with_deal(c, index, deal) if index < len(c.deals) else c
            told.append(deals_mod.what_if_won(before, index, now.date(), settings, on=day))
            return deals_mod.won_message(deal, c.name, settings.currency, told[0])

        saved = self._write(handle, mutate, message)
        return saved, deal._replace(status="won", date=day), told[0]

    def lose_deal(self, handle: str, index: int) -> tuple[Customer, Deal]:
        """Mark [[deals]] number `index` lost, today."""
        deal = self._open_deal(handle, index)
        today = self.today()

        def mutate(doc):
            table = _same_deal(table_at(doc, "deals", index), deal)
            table["status"] = "lost"
            table["date"] = today

        saved = self._write(handle, mutate, lambda c: deals_mod.lost_message(deal, c.name))
        return saved, deal._replace(status="lost", date=today)

    def _open_deal(self, handle: str, index: int) -> Deal:
        customer = self.snapshot.customer(handle)
        if customer is None or not 0 <= index < len(customer.deals):
            raise CrmError("that deal is not there any more; reload")
        deal = customer.deals[index]
        if deal.status != "open":
            raise CrmError(f"the deal '{deal_title(deal)}' is {deal.status} already, not open")
        return deal


def _same_deal(table, deal: Deal):
    """The [[deals]] entry found by position, if it is still the open deal the user chose;
    the file may have changed on disk since it was read."""
    status = str(table.get("status", "open")).lower()
    if str(table.get("title", "")) != deal.title or status != "open":
        raise CrmError(f"the deal '{deal_title(deal)}' changed on disk since it was read; reload and try again")
    return table
