"""The customer pyramid: relationship value and tiers."""

from __future__ import annotations

from typing import NamedTuple

from datetime import date, timedelta

from crmtui.domain.record import Customer
from crmtui.domain.settings import Settings, Thresholds

PYRAMID_ORDER = ("platinum", "gold", "iron", "lead")
UNRANKED = "unranked"
WINDOW = timedelta(days=365)


def value(customer: Customer, today: date) -> float:
    """Won deals of the trailing 12 months, amount minus cost. Undated deals count as current."""
    start = today - WINDOW
    return sum(
        deal.margin
        for deal in customer.deals
        if deal.status == "won" and (deal.date is None or start < deal.date <= today)
    )


def computed_tier(customer: Customer, today: date, thresholds: Thresholds) -> str | None:
    """The tier the numbers give: Platinum, Gold, Iron by the thresholds, and Lead below
    Iron's threshold or when the value is negative; None with no won deal at all."""
    if not any(deal.status == "won" for deal in customer.deals):
        return None
    worth = value(customer, today)
    if worth < 0:
        return "lead"
    if worth >= thresholds.platinum:
        return "platinum"
    if worth >= thresholds.gold:
        return "gold"
    if worth >= thresholds.iron:
        return "iron"
    return "lead"


class Standing(NamedTuple):
    """Where one customer stands: the value, the computed tier, the tier in force."""

    value: float
    computed: str | None
    override: str | None

    @property
    def tier(self) -> str | None:
        return self.override or self.computed

    @property
    def disagrees(self) -> bool:
        return self.override is not None and self.override != self.computed


def standing(customer: Customer, today: date, settings: Settings) -> Standing:
    return Standing(
        value=value(customer, today),
        computed=computed_tier(customer, today, settings.thresholds),
        override=customer.tier_override,
    )


class TierRow(NamedTuple):
    tier: str
    count: int
    value: float
    handles: tuple[str, ...]


def pyramid(customers: list[Customer], today: date, settings: Settings) -> list[TierRow]:
    """One row per tier, top of the pyramid first, then the unranked prospects."""
    groups: dict[str, list[tuple[Customer, float]]] = {t: [] for t in (*PYRAMID_ORDER, UNRANKED)}
    for customer in customers:
        st = standing(customer, today, settings)
        groups[st.tier or UNRANKED].append((customer, st.value))
    rows = []
    for tier, members in groups.items():
        members.sort(key=lambda pair: (-pair[1], pair[0].name.lower()))
        rows.append(
            TierRow(tier, len(members), sum(v for _, v in members), tuple(c.handle for c, _ in members))
        )
    return rows
