"""Deals: the open ones by stage (the pipeline), and what winning one would do to a tier.

Cross-sell and upsell show as open deals. A deal is won or lost once; its value then
counts (won) or not (lost) in the customer's relationship value (domain.tiers). Pure
functions: `today` is an argument, nothing here reads files.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import NamedTuple

from crmtui.domain.record import Customer, Deal
from crmtui.domain.search import sort_key
from crmtui.domain.settings import Settings
from crmtui.domain.tiers import UNRANKED, computed_tier, value

ARROW = "→"


def open_deals(customer: Customer) -> list[tuple[int, Deal]]:
    """The open deals with their position in the file's [[deals]] (how a write finds one again)."""
    return [(index, deal) for index, deal in enumerate(customer.deals) if deal.status == "open"]


def deal_title(deal: Deal) -> str:
    return deal.title.strip() or "(untitled deal)"


def money_text(amount: float, currency: str) -> str:
    """12,000 EUR; 1,250.50 EUR when there are cents."""
    sign = "-" if amount < 0 else ""
    number = f"{abs(amount):,.0f}" if float(amount).is_integer() else f"{abs(amount):,.2f}"
    return f"{sign}{number} {currency}".rstrip()


def stage_of(deal: Deal, stages: tuple[str, ...]) -> str:
    """The stage an open deal is shown under: its own, or the first stage when it names none."""
    return deal.stage or (stages[0] if stages else "")


# ---- what winning would do ------------------------------------------------------------------

class WhatIf(NamedTuple):
    """A customer's computed tier and value now, and after winning one deal."""

    before: str | None  # computed tier; None: unranked (no won deal)
    after: str | None
    value_before: float
    value_after: float
    override: str | None = None  # a tier set in the file stays in force either way

    @property
    def changes(self) -> bool:
        return self.before != self.after

    def phrase(self) -> str:
        """'gold → platinum', 'unranked → iron', or 'stays gold'."""
        before, after = self.before or UNRANKED, self.after or UNRANKED
        return f"{before} {ARROW} {after}" if self.changes else f"stays {after}"


def won(deal: Deal, on: date) -> Deal:
    return deal._replace(status="won", date=on)


def lost(deal: Deal, on: date) -> Deal:
    return deal._replace(status="lost", date=on)


def with_deal(customer: Customer, index: int, deal: Deal) -> Customer:
    """The customer with [[deals]] number `index` replaced (a copy; the original is untouched)."""
    deals = list(customer.deals)
    deals[index] = deal
    return replace(customer, deals=deals)


def what_if_won(customer: Customer, index: int, today: date, settings: Settings, on: date | None = None) -> WhatIf:
    """The computed tier now and once deal number `index` is won on `on` (default today)."""
    after = with_deal(customer, index, won(customer.deals[index], on or today))
    thresholds = settings.thresholds
    return WhatIf(computed_tier(customer, today, thresholds), computed_tier(after, today, thresholds),
                  value(customer, today), value(after, today), customer.tier_override)


# ---- commit messages --------------------------------------------------------------------------

def added_message(deal: Deal, name: str, currency: str) -> str:
    return f"Add deal {deal_title(deal)} ({money_text(deal.amount, currency)}) for {name}"


def won_message(deal: Deal, name: str, currency: str, what_if: WhatIf) -> str:
    """'Won Q1 audit (12,000 EUR) with Ana López; tier iron → gold'."""
    text = f"Won {deal_title(deal)} ({money_text(deal.amount, currency)}) with {name}; tier {what_if.phrase()}"
    if what_if.override and what_if.override != what_if.after:
        text += f"\n\nThe file sets the tier to {what_if.override}, which stays in force."
    return text


def lost_message(deal: Deal, name: str) -> str:
    return f"Lost {deal_title(deal)} with {name}"


# ---- the pipeline ----------------------------------------------------------------------------

class PipelineDeal(NamedTuple):
    handle: str
    name: str
    company: str
    index: int  # position in the file's [[deals]]
    deal: Deal
    stage: str  # the stage it is shown under
    overdue: bool  # its expected close is before today
    what_if: WhatIf


class StageRow(NamedTuple):
    stage: str
    configured: bool  # named in crm.toml's [deals] stages (else written on a deal only)
    deals: tuple[PipelineDeal, ...]
    total: float  # the amounts of its deals

    @property
    def count(self) -> int:
        return len(self.deals)


class Pipeline(NamedTuple):
    stages: tuple[StageRow, ...]

    @property
    def count(self) -> int:
        return sum(row.count for row in self.stages)

    @property
    def total(self) -> float:
        return sum(row.total for row in self.stages)

    @property
    def overdue(self) -> int:
        return sum(d.overdue for row in self.stages for d in row.deals)

    def deals(self) -> list[PipelineDeal]:
        return [d for row in self.stages for d in row.deals]


def pipeline(customers: list[Customer], today: date, settings: Settings) -> Pipeline:
    """Open deals by stage: the configured stages in their order (empty ones too), then any
    other stage written on a deal, by name. In a stage: the soonest expected close first
    (deals without one last), then by customer and title."""
    stages = settings.deal_stages
    groups: dict[str, list[PipelineDeal]] = {stage: [] for stage in stages}
    for customer in customers:
        for index, deal in open_deals(customer):
            stage = stage_of(deal, stages)
            groups.setdefault(stage, []).append(PipelineDeal(
                customer.handle, customer.name, customer.company, index, deal, stage,
                deal.close is not None and deal.close < today,
                what_if_won(customer, index, today, settings)))
    order = list(stages) + sorted(s for s in groups if s not in stages)
    rows = []
    for stage in order:
        members = sorted(groups[stage], key=lambda d: (d.deal.close is None, d.deal.close or date.min,
                                                        sort_key(d.name), sort_key(d.deal.title)))
        rows.append(StageRow(stage, stage in stages, tuple(members), sum(d.deal.amount for d in members)))
    return Pipeline(tuple(rows))
