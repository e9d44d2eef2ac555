"""Book settings (crm.toml): currency, tier thresholds, cadences, interaction kinds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from crmtui.domain.dates import DateError, Duration, parse_duration
from crmtui.domain.cadence import Cadence, parse_cadence
from crmtui.domain.record import DEAL_STATUSES, DEFAULT_KINDS, TIERS, Issue, RecordError


DEFAULT_DEAL_STAGES = ("lead", "proposal", "negotiation")


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
    # [keep_in_touch] (domain/cadence.py): a tier's maximum, when crm.toml gives one as
    # { ideal = "1m", max = "6w" } (else the ideal and half of it); per tag, [keep_in_touch.tags]:
    # lower-case tag -> Cadence. A tag's cadence wins over the tier's; the record's over both.
    cadence_max: dict[str, Duration] = field(default_factory=dict)
    tag_cadences: dict[str, Cadence] = field(default_factory=dict)
    default_kind: str = "call"  # what `crmtui log` and the TUI's log form log when no kind is given
    due_within: Duration = Duration(14, "d")  # how far ahead `crmtui due` and the reminders view look
    kinds: tuple[str, ...] = DEFAULT_KINDS
    # Saved searches, [views] in crm.toml: name -> a query of domain/query.py, checked at load.
    views: dict[str, str] = field(default_factory=dict)
    deal_stages: tuple[str, ...] = DEFAULT_DEAL_STAGES  # [deals] stages: an open deal's stages, first to last
    # Your own addresses (`me = ["me@example.com"]`): mail import tells sent from received by them.
    me: tuple[str, ...] = ()


DEFAULT_SETTINGS_TOML = """\
# Settings for this crmtui book. Edit freely: comments survive.
currency = "EUR"
owner = ""
interaction_kinds = ["call", "email", "meeting", "message", "note", "feedback"]
# The kind `crmtui log` and the TUI's log form use when you name none.
default_kind = "call"
# How far ahead `crmtui due` (without --within) and the TUI's reminders view look: 14d, 2w, 1m.
due_within = "14d"

[tiers]
# Yearly relationship value: won deals of the trailing 12 months, amount minus cost.
# At or above platinum -> Platinum, at or above gold -> Gold, at or above iron -> Iron;
# a negative value is Lead; a customer with no won deal is unranked.
platinum = 50000
gold = 15000
iron = 0

[keep_in_touch]
# How often to get in touch, per tier, when a record sets no keep_in_touch of its own.
# "1m" is the ideal; past it a customer is due, and past the maximum (the ideal and half
# of it again, unless written as { ideal = "1m", max = "2m" }) they are losing touch.
platinum = "2w"
gold = "1m"
iron = "3m"
lead = "6m"

# Per tag, winning over the tier's (the shortest when several tags have one):
# [keep_in_touch.tags]
# fintech = "2w"
# conference = { ideal = "3m", max = "6m" }

[deals]
# The stages of an open deal, first to last; `crmtui pipeline` shows the open deals by stage.
# A new deal starts at the first. A deal whose stage is not listed here shows under its own name.
stages = ["lead", "proposal", "negotiation"]
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

    touch = _keep_in_touch(data.get("keep_in_touch", {}), base, issues)  # cadences, cadence_max, tag_cadences
    kinds = data.get("interaction_kinds", list(DEFAULT_KINDS))
    if not isinstance(kinds, list) or not kinds or not all(isinstance(k, str) and k for k in kinds):
        issues.append(Issue(("interaction_kinds",), "interaction_kinds should be a list of words"))
        kinds = list(DEFAULT_KINDS)
    touch |= _log_and_due_defaults(data, tuple(k.lower() for k in kinds), base, issues)
    stages = _deal_stages(data.get("deals", {}), issues)
    currency = data.get("currency", base.currency)
    if not isinstance(currency, str):
        issues.append(Issue(("currency",), "currency should be text, like \"EUR\""))
        currency = base.currency
    me = data.get("me", [])
    me = [me] if isinstance(me, str) else me
    if not isinstance(me, list) or not all(isinstance(m, str) and "@" in m for m in me):
        issues.append(Issue(("me",), "me should be a list of your email addresses, like [\"me@example.com\"]"))
        me = []
    views = _views(data.get("views", {}), issues)
    if issues:
        raise RecordError(issues)
    return Settings(
        currency=currency,
        owner=str(data.get("owner", "")),
        thresholds=Thresholds(**values),
        kinds=tuple(k.lower() for k in kinds),
        **touch,  # keep-in-touch cadences, default_kind, due_within
        deal_stages=stages,
        me=tuple(m.strip().lower() for m in me),
        views=views,
    )


def _keep_in_touch(raw: Any, base: Settings, issues: list[Issue]) -> dict[str, Any]:
    """[keep_in_touch]: tier = "1m" or { ideal = "1m", max = "2m" }; [keep_in_touch.tags]: tag = the same."""
    cadences, maxes, tags = dict(base.cadences), {}, {}
    if not isinstance(raw, dict):
        issues.append(Issue(("keep_in_touch",), 'keep_in_touch should be a table: [keep_in_touch], then gold = "1m"'))
        raw = {}
    for tier, value in raw.items():
        if tier == "tags":
            continue
        if tier not in TIERS:
            issues.append(Issue(("keep_in_touch", tier), f"keep_in_touch.{tier}: not a tier ({', '.join(TIERS)}); "
                                "a cadence per tag goes under [keep_in_touch.tags]"))
            continue
        try:
            found = parse_cadence(value)
        except DateError as error:
            issues.append(Issue(("keep_in_touch", tier), f"keep_in_touch.{tier}: {error}"))
            continue
        cadences[tier] = found.ideal
        if found.max is not None:
            maxes[tier] = found.max
    per_tag = raw.get("tags", {})
    if not isinstance(per_tag, dict):
        issues.append(Issue(("keep_in_touch", "tags"), "keep_in_touch.tags should be a table: "
                            '[keep_in_touch.tags], then lines like fintech = "2w"'))
        per_tag = {}
    for tag, value in per_tag.items():
        try:
            tags[str(tag).strip().lower()] = parse_cadence(value)
        except DateError as error:
            issues.append(Issue(("keep_in_touch", "tags", tag), f"keep_in_touch.tags.{tag}: {error}"))
    return {"cadences": cadences, "cadence_max": maxes, "tag_cadences": tags}


def _log_and_due_defaults(data: dict[str, Any], kinds: tuple[str, ...], base: Settings,
                          issues: list[Issue]) -> dict[str, Any]:
    """default_kind (one of interaction_kinds) and due_within ("14d", "2w", or a number of days)."""
    kind = data.get("default_kind", base.default_kind)
    if not isinstance(kind, str) or kind.strip().lower() not in kinds:
        if "default_kind" in data:
            issues.append(Issue(("default_kind",), f"default_kind should be one of interaction_kinds "
                                f"({', '.join(kinds)})"))
        kind = base.default_kind if base.default_kind in kinds else kinds[0]
    within = data.get("due_within", base.due_within)
    if isinstance(within, int) and not isinstance(within, bool) and 0 <= within <= 36600:
        within = Duration(within, "d")
    elif not isinstance(within, Duration):
        try:
            within = parse_duration(within) if isinstance(within, str) else None
        except DateError:
            within = None
        if within is None or within.count * {"d": 1, "w": 7, "m": 31, "y": 366}[within.unit] > 36600:
            issues.append(Issue(("due_within",), "due_within should be a number of days or a duration like "
                                "\"14d\", \"2w\" or \"1m\" (at most 100 years)"))
            within = base.due_within
    return {"default_kind": kind.strip().lower(), "due_within": within}


def _views(raw: Any, issues: list[Issue]) -> dict[str, str]:
    """[views]: name = "query"; a query that does not parse is an issue at its line."""
    from crmtui.domain.query import view_problem  # here: query imports record, and tiers imports this module

    if not isinstance(raw, dict):
        issues.append(Issue(("views",), 'views should be a table: [views], then lines like '
                                        'losing-touch = "tier:gold last:>45d"'))
        return {}
    views = {}
    for name, query in raw.items():
        problem = view_problem(query)
        if problem:
            issues.append(Issue(("views", name), f"views.{name}: {problem}"))
            continue
        views[name] = query.strip()
    return views


def _deal_stages(deals: Any, issues: list[Issue]) -> tuple[str, ...]:
    """[deals] stages: distinct words, none of them a deal's status (open, won, lost)."""
    example = 'like ["lead", "proposal", "negotiation"]'
    if not isinstance(deals, dict):
        issues.append(Issue(("deals",), f"deals should be a table: [deals] with stages = [...], {example}"))
        return DEFAULT_DEAL_STAGES
    stages = deals.get("stages", list(DEFAULT_DEAL_STAGES))
    if not isinstance(stages, list) or not stages or not all(isinstance(s, str) and s.strip() for s in stages):
        issues.append(Issue(("deals", "stages"), f"deals.stages should be a list of words, {example}"))
        return DEFAULT_DEAL_STAGES
    words = [" ".join(s.split()).lower() for s in stages]
    statuses = [w for w in words if w in DEAL_STATUSES]
    if statuses:
        issues.append(Issue(("deals", "stages"), f"deals.stages: '{statuses[0]}' is a deal's status "
                            f"({', '.join(DEAL_STATUSES)}), not a stage; list the stages before a deal is won or lost"))
        return DEFAULT_DEAL_STAGES
    if len(set(words)) != len(words):
        twice = next(w for w in words if words.count(w) > 1)
        issues.append(Issue(("deals", "stages"), f"deals.stages names the stage '{twice}' twice"))
        return DEFAULT_DEAL_STAGES
    return tuple(words)
