"""Book settings (crm.toml): currency, tier thresholds, cadences, interaction kinds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from crmtui.domain.dates import DateError, Duration, parse_duration
from crmtui.domain.record import DEFAULT_KINDS, TIERS, Issue, RecordError


class Thresholds(NamedTuple):
    platinum: float = 50000
    gold: float = 15000
    iron: float = 0


@dataclass(frozen=True)
class Settings:
    currency: str = "EUR"
    owner: str = ""
    thresholds: Thresholds = Thresholds()
    cadences: dict[str, Duration] = field(
        default_factory=lambda: {
            "platinum": Duration(2, "w"),
            "gold": Duration(1, "m"),
            "iron": Duration(3, "m"),
            "lead": Duration(6, "m"),
        }
    )
    kinds: tuple[str, ...] = DEFAULT_KINDS


DEFAULT_SETTINGS_TOML = """\
# Settings for this crmtui book. Edit freely: comments survive.
currency = "EUR"
owner = ""
interaction_kinds = ["call", "email", "meeting", "message", "note", "feedback"]

[tiers]
# Yearly relationship value: won deals of the trailing 12 months, amount minus cost.
# At or above platinum -> Platinum, at or above gold -> Gold, at or above iron -> Iron;
# a negative value is Lead; a customer with no won deal is unranked.
platinum = 50000
gold = 15000
iron = 0

[keep_in_touch]
# How often to get in touch, per tier, when a record sets no keep_in_touch of its own.
platinum = "2w"
gold = "1m"
iron = "3m"
lead = "6m"
"""


def settings_from_data(data: dict[str, Any]) -> Settings:
    """Read crm.toml's data; raise RecordError listing every issue."""
    issues: list[Issue] = []
    base = Settings()
    tiers = data.get("tiers", {})
    values = {}
    for key in ("platinum", "gold", "iron"):
        value = tiers.get(key, getattr(base.thresholds, key)) if isinstance(tiers, dict) else None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            issues.append(Issue(("tiers", key), f"tiers.{key} should be a number"))
            value = getattr(base.thresholds, key)
        values[key] = value
    if not values["platinum"] >= values["gold"] >= values["iron"]:
        issues.append(Issue(("tiers",), "tier thresholds should satisfy platinum >= gold >= iron"))

    cadences = dict(base.cadences)
    raw = data.get("keep_in_touch", {})
    if isinstance(raw, dict):
        for tier, value in raw.items():
            if tier not in TIERS:
                issues.append(Issue(("keep_in_touch", tier), f"keep_in_touch.{tier}: not a tier ({', '.join(TIERS)})"))
                continue
            try:
                cadences[tier] = parse_duration(value)
            except DateError as error:
                issues.append(Issue(("keep_in_touch", tier), f"keep_in_touch.{tier}: {error}"))
    kinds = data.get("interaction_kinds", list(DEFAULT_KINDS))
    if not isinstance(kinds, list) or not kinds or not all(isinstance(k, str) and k for k in kinds):
        issues.append(Issue(("interaction_kinds",), "interaction_kinds should be a list of words"))
        kinds = list(DEFAULT_KINDS)
    currency = data.get("currency", base.currency)
    if not isinstance(currency, str):
        issues.append(Issue(("currency",), "currency should be text, like \"EUR\""))
        currency = base.currency
    if issues:
        raise RecordError(issues)
    return Settings(
        currency=currency,
        owner=str(data.get("owner", "")),
        thresholds=Thresholds(**values),
        cadences=cadences,
        kinds=tuple(k.lower() for k in kinds),
    )
