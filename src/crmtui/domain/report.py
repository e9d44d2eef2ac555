"""What the history knows: retention, the pyramid over time, the life cycle, referrals, attention.

Pure figures over plain data. storage/history_scan.py reads the book's git history
once and hands over a BookHistory: the time of every commit on the main line, and per
record the versions that matter to a report (stage, tier written in the file,
keep-in-touch, referrer, deals) with the commit each appeared in, plus the dated
interactions of its latest version. `build_report` takes that, the period and `today`.

The rules, chosen on purpose (the README says them to users):

- A period is whole days, both ends included: --from 2025-07-01 --to 2026-06-30 covers
  every interaction, deal date and commit from 2025-07-01 00:00 to 2026-06-30 23:59:59.
  The previous period has the same number of days and ends the day before it starts.
  The default is the twelve months ending today (from the day after the same date a
  year ago), against the same number of days before.
- "As it stood at the start" is the book at the end of the day before the period (the
  end of the previous period); "at the end" is the book at the end of its last day: for
  each record, the version of the last commit made by then (its author date, as its
  author's clock showed it). Tier, stage, open deals and referrers are read there.
  A tier at a date uses the deals as they stood then, valued over the twelve months up
  to that date, with the crm.toml thresholds (and keep-in-touch defaults) as they stood
  then: a threshold change counts from the commit that made it, never backwards.
- What happened in a period (interactions, deals won or lost) is read from each record's
  latest version, by the dates written in it: an interaction logged a week late counts
  on its own day. A deal without a date counts on the day the commit that first showed
  it with that status was made.
- A record deleted and later restored is one customer throughout: absent from the book
  while deleted (so it can leave and rejoin the pyramid), added once (at its first
  commit), its activity that of its latest version. A version that does not parse, or
  whose stage, tier, deals or dates do not read, is skipped: the record stands as its
  last readable version until a readable one follows. A renamed file is a new record.
"""

from __future__ import annotations

import statistics
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from datetime import date, datetime, time, timedelta
from itertools import islice
from typing import Any, NamedTuple

from crmtui.domain.dates import DateError, Duration, InvalidValue, add_months, parse_duration
from crmtui.domain.record import DEAL_STATUSES, Deal, _as_date, _as_datetime
from crmtui.domain.reminders import cadence
from crmtui.domain.settings import Settings
from crmtui.domain.tiers import PYRAMID_ORDER, UNRANKED, computed_tier
from crmtui.domain.validate import STAGES, TIERS

try:  # cadence bands, an ideal and a maximum (see keep_in_touch_limits)
    from crmtui.domain import cadence as _bands
except ImportError:  # pragma: no cover - the bands are not in this copy: the tier default and 1.5x
    _bands = None

ABSENT = "absent"  # not in the book at that date (not yet added, or deleted)
LADDER = (*PYRAMID_ORDER, UNRANKED)  # rows and columns of the migration table, top first
RANK = {"platinum": 4, "gold": 3, "iron": 2, "lead": 1, UNRANKED: 0}
CARED_FOR = ("platinum", "gold")  # whose cadence the attention figures watch


# ---- the history, as plain data -----------------------------------------------------------


class Version(NamedTuple):
    """What a report reads from one version of a record. Its fields are named as Customer's,
    so the domain's rules for tiers and cadences (which read only these) apply to it as is."""

    name: str
    stage: str
    tier_override: str | None
    keep_in_touch: Duration | None  # the ideal interval
    keep_in_touch_max: Duration | None
    tags: tuple[str, ...]
    referred_by: str
    deals: tuple[Deal, ...]


@dataclass(slots=True)
class RecordHistory:
    handle: str
    # (position in BookHistory.times, the version from that commit on; None: the file was deleted),
    # oldest first; only versions that differ from the one before are kept.
    versions: list[tuple[int, Version | None]] = field(default_factory=list)
    days: tuple[date, ...] = ()  # the interactions of the latest readable version: their days, in order
    kinds: tuple[str, ...] = ()  # and their kinds

    def latest(self) -> Version | None:
        """The latest readable version (also of a record deleted since)."""
        for _, version in reversed(self.versions):
            if version is not None:
                return version
        return None

    def at(self, position: int) -> Version | None:
        """The version in force at commit `position` (None: not in the book then)."""
        found = None
        for pos, version in self.versions:
            if pos > position:
                break
            found = version
        return found

    @property
    def first(self) -> int | None:
        return self.versions[0][0] if self.versions else None


@dataclass(slots=True)
class BookHistory:
    times: list[datetime] = field(default_factory=list)  # each commit on the main line, oldest first
    records: dict[str, RecordHistory] = field(default_factory=dict)
    settings: list[tuple[int, Settings]] = field(default_factory=list)  # crm.toml versions, oldest first

    @property
    def began(self) -> date | None:
        """The day of the book's first commit."""
        return self.times[0].date() if self.times else None

    def position_at_end_of(self, day: date) -> int:
        """The last commit made by the end of `day` (-1: none). Author dates are nearly always in
        order along the main line; when a rebase left them out of order, the latest such commit."""
        if day >= date.max - timedelta(days=1):
            return len(self.times) - 1
        limit = datetime.combine(day + timedelta(days=1), time(0, 0))
        times = self.times
        position = bisect_left(times, limit) - 1
        if any(t < limit for t in islice(times, position + 1, None)):
            position = max(i for i, t in enumerate(times) if t < limit)
        return position

    def settings_at(self, position: int) -> Settings:
        found = Settings()
        for pos, settings in self.settings:
            if pos > position:
                break
            found = settings
        return found


def version_from_data(data: dict[str, Any]) -> tuple[Version, tuple[date, ...], tuple[str, ...]] | None:
    """What a report needs from one version's parsed TOML (the version, its interactions'
    days and kinds), read by the rules of domain.record; None when the version would not
    build a record (no name, an unknown stage or tier, a deal without an amount, a date or
    a cadence that does not read)."""
    try:
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            return None
        stage = _choice(data.get("stage"), STAGES) or "customer"
        tier = _choice(data.get("tier"), TIERS)
        ideal, top = _cadence(data.get("keep_in_touch"))
        referred = data.get("referred_by", "")
        tags = data.get("tags", ())
        tags = (tags,) if isinstance(tags, str) else tags
        if not isinstance(referred, str) or not isinstance(tags, (list, tuple)) or \
                not all(isinstance(t, str) for t in tags):
            return None
        deals = []
        for row in _tables(data.get("deals")):
            status = _choice(row.get("status"), DEAL_STATUSES) or "open"
            amount, cost = row.get("amount"), row.get("cost")
            if not _number(amount) or (cost is not None and not _number(cost)):
                return None
            title, when = row.get("title", ""), row.get("date")
            deal = Deal(title if isinstance(title, str) else "", amount, status, cost,
                        _as_date(when) if when is not None else None)
            close = row.get("close") if _CLOSES and status == "open" else None
            deals.append(deal._replace(close=_as_date(close)) if close is not None else deal)
        seen = []
        for row in _tables(data.get("interactions")):
            at, kind = row.get("at"), row.get("kind", "note")
            day = at.date() if type(at) is datetime else _as_datetime(at).date()
            if not isinstance(kind, str):
                return None
            seen.append((day, kind.strip().lower() or "note"))
        seen.sort(key=lambda pair: pair[0])
    except (DateError, _Unreadable, AttributeError, TypeError):
        return None
    version = Version(" ".join(name.split()), stage, tier, ideal, top, tuple(tags),
                      referred.strip().removesuffix(".toml"), tuple(deals))
    return version, tuple(day for day, _ in seen), tuple(kind for _, kind in seen)


class _Unreadable(Exception):
    pass


_CLOSES = "close" in Deal._fields  # an open deal's expected close (crmtui deal add --close)


def _cadence(value: Any) -> tuple[Duration | None, Duration | None]:
    """keep_in_touch: "30d", or with cadence bands { ideal = "30d", max = "45d" }."""
    if value is None:
        return None, None
    if _bands is not None:
        found = _bands.read_cadence(value)
        return found.ideal, found.max
    return parse_duration(value), None


def _choice(value: Any, choices: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value.lower() not in choices:
        raise _Unreadable
    return value.lower()


def _number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float))


def _tables(value: Any) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
        raise _Unreadable
    return value


# ---- the period -------------------------------------------------------------------------------


class Period(NamedTuple):
    start: date
    end: date  # both days included

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> "Period":
        end = self.start - timedelta(days=1)
        return Period(end - timedelta(days=self.days - 1), end)

    def holds(self, day: date | None) -> bool:
        return day is not None and self.start <= day <= self.end

    def __str__(self) -> str:
        return f"{self.start} to {self.end}"


def choose_period(today: date, start: date | None, end: date | None, began: date | None) -> Period:
    """The period a report covers, or InvalidValue with one sentence for what cannot be.

    Default: the twelve months ending today. --from alone runs to today; --to alone covers
    the twelve months ending then. A date the user gave may not lie after today nor before
    the book's first commit; a default start before the book is fine (nothing to count there).
    """
    for value, option in ((start, "--from"), (end, "--to")):
        if value is not None and value > today:
            raise InvalidValue(f"{option} {value} is after today ({today}); a report looks back "
                               f"(for three months back write: {option} '3m ago')")
        if value is not None and began is not None and value < began:
            raise InvalidValue(f"{option} {value} is before the book existed (its first commit is of {began}); "
                               f"choose a day from {began} on")
    if start is not None and end is not None and start > end:
        raise InvalidValue(f"--from {start} is after --to {end}; the period starts before it ends")
    if end is None:
        end = today
    if start is None:
        start = add_months(end, -12) + timedelta(days=1)
    return Period(start, end)


# ---- the figures ------------------------------------------------------------------------------


class DealEvent(NamedTuple):
    handle: str
    title: str
    amount: float
    margin: float
    day: date | None  # won or lost on (for an open deal: its expected close, if written)


class Churn(NamedTuple):
    handle: str
    reason: str  # former | removed | silent
    last_contact: date | None = None  # for silent: the last interaction (or when they were added)
    limit: date | None = None  # for silent: the cadence's maximum ran out after this day


class Retention(NamedTuple):
    base: tuple[str, ...]  # active in the previous period
    retained: tuple[str, ...]  # of those, active in this one
    lost: tuple[str, ...]  # of those, not active in this one
    gained: tuple[str, ...]  # active in this one, not in the previous
    churn_base: tuple[str, ...]  # customers (stage) at the start
    churned: tuple[Churn, ...]

    @property
    def rate(self) -> float | None:
        return len(self.retained) / len(self.base) if self.base else None

    @property
    def churn_rate(self) -> float | None:
        return len(self.churned) / len(self.churn_base) if self.churn_base else None


class Migration(NamedTuple):
    cells: dict[tuple[str, str], tuple[str, ...]]  # (tier at the start, at the end) -> handles; ABSENT too
    up: tuple[str, ...]
    down: tuple[str, ...]
    same: tuple[str, ...]
    joined: tuple[str, ...]  # not in the book at the start
    left: tuple[str, ...]  # not in the book at the end

    def count(self, start: str, end: str) -> int:
        return len(self.cells.get((start, end), ()))


class LifeCycle(NamedTuple):
    added: tuple[str, ...]
    prospects_added: tuple[str, ...]
    converted: tuple[tuple[str, int], ...]  # (handle, days from prospect to customer)
    won: tuple[DealEvent, ...]
    lost: tuple[DealEvent, ...]
    cross_sell: tuple[str, ...]  # won a deal in the period, with an earlier won deal
    open_deals: tuple[DealEvent, ...]  # open at the end of the period

    @property
    def median_days_to_convert(self) -> float | None:
        return statistics.median(days for _, days in self.converted) if self.converted else None

    @property
    def won_value(self) -> float:
        return sum(d.amount for d in self.won)

    @property
    def lost_value(self) -> float:
        return sum(d.amount for d in self.lost)

    @property
    def open_value(self) -> float:
        return sum(d.amount for d in self.open_deals)


class ReferralNode(NamedTuple):
    handle: str
    in_book: bool  # False: referred_by names a file that is not in the book at the end
    value: float  # won in the period (amount minus cost)
    children: tuple["ReferralNode", ...]


class Referrer(NamedTuple):
    handle: str
    brought: tuple[str, ...]
    value: float  # won in the period by the customers they brought (amount minus cost)


class Cared(NamedTuple):
    """A Platinum or Gold customer at the end, and whether their last contact is within the cadence."""

    handle: str
    tier: str
    last_contact: date | None
    within: bool


class Attention(NamedTuple):
    week_starts: tuple[date, ...]
    weeks: tuple[int, ...]  # interactions per week of the period (the last week may be shorter)
    total: int
    previous_total: int
    by_kind: dict[str, int]
    by_tier: dict[str, int]  # by the tier at the end of the period
    cared: tuple[Cared, ...]

    @property
    def within_share(self) -> float | None:
        return sum(c.within for c in self.cared) / len(self.cared) if self.cared else None


@dataclass(frozen=True)
class Report:
    today: date
    period: Period
    previous: Period
    began: date | None
    currency: str
    names: dict[str, str]  # every handle the figures name -> the name in its latest version
    retention: Retention
    migration: Migration
    lifecycle: LifeCycle
    previous_lifecycle: LifeCycle
    referral_tree: tuple[ReferralNode, ...]
    referrers: tuple[Referrer, ...]
    attention: Attention
    customers_at_end: int

    def name(self, handle: str) -> str:
        return self.names.get(handle) or handle

    @cached_property
    def shared_names(self) -> frozenset[str]:
        """Names that several records carry: shown with the file name to tell them apart."""
        counts = Counter(self.names.values())
        return frozenset(name for name, count in counts.items() if count > 1)


def percent(share: float | None) -> str:
    """70%, 99.8%; never 100% for less than all, nor 0% for more than none."""
    if share is None:
        return "-"
    text = f"{share * 100:.1f}".removesuffix(".0")
    if text == "100" and share < 1:
        return "99.9%"
    if text == "0" and share > 0:
        return "0.1%"
    return text + "%"


# ---- building them ----------------------------------------------------------------------------


def keep_in_touch_limits(version: Version, day: date, settings: Settings, tier: str | None,
                         last: date) -> tuple[date, date] | None:
    """(ideal, maximum) day of the keep-in-touch cadence in force for `version` on `day`, its
    clock restarted on `last`: contact is due on the first, touch is lost after the second.
    None without a cadence (a former customer, no tier) or past the calendar.

    The one place where the report meets the cadence rules: domain/cadence.py's bands when
    they are there (the record's own cadence, its tags', its tier's, each with an ideal and
    a maximum); without them the tier default, with a maximum of 1.5x the interval.
    """
    try:
        if _bands is not None:
            found = _bands.rule(version, day, settings, tier)
            if found is None:
                return None
            touch = _bands.touch_for(found, last, "", day)
            return touch.ideal_on, touch.max_on
        every = cadence(version, day, settings, tier)
        if every is None:
            return None
        ideal = every.after(last)
        return ideal, ideal + timedelta(days=(ideal - last).days // 2)
    except (DateError, OverflowError):
        return None


class _Seen:
    """One record worked out once for a report, whatever the period."""

    __slots__ = ("handle", "history", "latest", "deals", "days", "kinds", "added", "first_stage",
                 "conversions", "wins", "losses")

    def __init__(self, handle: str, history: RecordHistory, times: list[datetime]):
        self.handle = handle
        self.history = history
        self.latest = history.latest()
        self.deals = _dated_deals(history, self.latest, times)
        self.days, self.kinds = history.days, history.kinds
        first = history.first
        self.added = times[first].date() if first is not None and first < len(times) else None
        self.first_stage = history.versions[0][1].stage if history.versions else None
        # (day, days it took) of every move from prospect to customer
        self.conversions: list[tuple[date, int]] = []
        since = before = None
        for pos, version in history.versions if len(history.versions) > 1 else ():
            if version is None or pos >= len(times):
                continue
            if version.stage == "prospect" and (before is None or before.stage != "prospect"):
                since = pos
            elif version.stage == "customer" and before is not None and before.stage == "prospect":
                day = times[pos].date()
                self.conversions.append((day, (day - times[since].date()).days if since is not None else 0))
            before = version
        won = sorted((day or date.min, i) for i, (deal, day) in enumerate(self.deals) if deal.status == "won")
        # (event, True when an earlier deal was won already)
        self.wins = [(self._event(i), rank > 0) for rank, (_, i) in enumerate(won)]
        self.losses = [self._event(i) for i, (deal, _) in enumerate(self.deals) if deal.status == "lost"]

    def _event(self, index: int) -> DealEvent:
        deal, day = self.deals[index]
        return DealEvent(self.handle, deal.title, deal.amount, deal.margin, day)

    def active(self, period: Period) -> bool:
        start, end = period
        days = self.days
        i = bisect_right(days, end)
        if i and days[i - 1] >= start:
            return True
        return any(event.day is not None and start <= event.day <= end for event, _ in self.wins)

    def last_contact(self, by: date) -> date | None:
        i = bisect_right(self.days, by)
        return self.days[i - 1] if i else None

    def won_margin(self, period: Period) -> float:
        return sum(event.margin for event, _ in self.wins if period.holds(event.day))


def _dated_deals(history: RecordHistory, latest: Version | None, times: list[datetime]
                 ) -> tuple[tuple[Deal, date | None], ...]:
    """The latest version's deals with the day each counts on: its own date, else the day of the
    commit that first showed it with its status (a deal is known by its title and which of
    the deals with that title it is)."""
    if latest is None:
        return ()
    if all(deal.date is not None or deal.status == "open" for deal in latest.deals):
        return tuple((deal, deal.date) for deal in latest.deals)
    first: dict[tuple[str, int, str], int] = {}
    for pos, version in history.versions:
        if version is None:
            continue
        for key, deal in zip(_deal_keys(version.deals), version.deals):
            first.setdefault((*key, deal.status), pos)
    out = []
    for key, deal in zip(_deal_keys(latest.deals), latest.deals):
        day = deal.date
        if day is None and deal.status != "open":
            pos = first.get((*key, deal.status))
            day = times[pos].date() if pos is not None and 0 <= pos < len(times) else None
        out.append((deal, day))
    return tuple(out)


def _deal_keys(deals: tuple[Deal, ...]) -> list[tuple[str, int]]:
    count: Counter = Counter()
    keys = []
    for deal in deals:
        keys.append((deal.title, count[deal.title]))
        count[deal.title] += 1
    return keys


def _tier(version: Version | None, day: date, settings: Settings) -> str:
    """The tier in force on `day` (the one written in the file, else the computed one),
    UNRANKED, or ABSENT when the record was not in the book."""
    if version is None:
        return ABSENT
    return version.tier_override or computed_tier(version, day, settings.thresholds) or UNRANKED


def _lifecycle(seens: list[_Seen], period: Period, versions: dict[str, Version | None]) -> LifeCycle:
    added, prospects, converted, won, lost, cross = [], [], [], [], [], []
    start, end = period
    for seen in seens:
        if seen.added is not None and start <= seen.added <= end:
            added.append(seen.handle)
            if seen.first_stage == "prospect":
                prospects.append(seen.handle)
        if seen.conversions:
            converted += [(seen.handle, took) for day, took in seen.conversions if start <= day <= end][:1]
        again = False
        for event, before in seen.wins:
            if event.day is not None and start <= event.day <= end:
                won.append(event)
                again = again or before
        if again:
            cross.append(seen.handle)
        if seen.losses:
            lost += [event for event in seen.losses if event.day is not None and start <= event.day <= end]
    open_deals = []
    for handle, version in versions.items():
        if version is not None:
            open_deals += [DealEvent(handle, d.title, d.amount, d.margin, getattr(d, "close", None))
                           for d in version.deals if d.status == "open"]
    by_day = lambda e: (e.day or date.min, e.handle)  # noqa: E731
    return LifeCycle(tuple(added), tuple(prospects), tuple(converted), tuple(sorted(won, key=by_day)),
                     tuple(sorted(lost, key=by_day)), tuple(cross),
                     tuple(sorted(open_deals, key=lambda e: (-e.amount, e.handle))))


def _referrals(at_end: dict[str, Version | None], value: dict[str, float]
               ) -> tuple[tuple[ReferralNode, ...], tuple[Referrer, ...]]:
    parent = {h: v.referred_by for h, v in at_end.items() if v is not None and v.referred_by and v.referred_by != h}
    children: dict[str, list[str]] = {}
    for child, referrer in sorted(parent.items()):
        children.setdefault(referrer, []).append(child)
    present = {h for h, v in at_end.items() if v is not None}

    def build(handle: str, trail: frozenset) -> ReferralNode:
        kids = tuple(build(c, trail | {c}) for c in children.get(handle, ()) if c not in trail)
        return ReferralNode(handle, handle in present, value.get(handle, 0.0), kids)

    placed: set[str] = set()

    def mark(node: ReferralNode) -> None:
        placed.add(node.handle)
        for kid in node.children:
            mark(kid)

    tree = []
    # Roots: referrers nobody referred (also one named in a file but not in the book); then
    # referrals that go round in a circle, from where the circle is first met.
    for root in [h for h in sorted(children) if h not in parent] + sorted(children):
        if root not in placed:
            node = build(root, frozenset({root}))
            tree.append(node)
            mark(node)
    referrers = [Referrer(h, tuple(kids), sum(value.get(k, 0.0) for k in kids)) for h, kids in children.items()]
    referrers.sort(key=lambda r: (-r.value, -len(r.brought), r.handle))
    return tuple(tree), tuple(referrers)


def build_report(history: BookHistory, period: Period, today: date) -> Report:
    """Every figure of the report for `period` (see the module's docstring for the rules)."""
    previous = period.previous()
    times = history.times
    start_day = period.start - timedelta(days=1)  # the book as it stood when the period began
    start_pos, end_pos = history.position_at_end_of(start_day), history.position_at_end_of(period.end)
    start_settings, end_settings = history.settings_at(start_pos), history.settings_at(end_pos)

    seens = [_Seen(handle, record, times) for handle, record in sorted(history.records.items())]
    at_start = {s.handle: s.history.at(start_pos) for s in seens}
    at_end = {s.handle: s.history.at(end_pos) for s in seens}
    tier_start = {h: _tier(v, start_day, start_settings) for h, v in at_start.items()}
    tier_end = {h: _tier(v, period.end, end_settings) for h, v in at_end.items()}

    # Retention: who was active before and still is; churn among the customers at the start.
    base, retained, lost, gained = [], [], [], []
    churn_base, churned = [], []
    for seen in seens:
        handle = seen.handle
        before, now = seen.active(previous), seen.active(period)
        if before:
            base.append(handle)
            (retained if now else lost).append(handle)
        elif now:
            gained.append(handle)
        start, end = at_start[handle], at_end[handle]
        if start is None or start.stage != "customer":
            continue
        churn_base.append(handle)
        if end is None:
            churned.append(Churn(handle, "removed"))
        elif end.stage == "former":
            churned.append(Churn(handle, "former"))
        else:
            last = seen.last_contact(period.end) or seen.added
            tier = tier_end[handle]
            limits = keep_in_touch_limits(end, period.end, end_settings, None if tier == UNRANKED else tier, last)
            if limits and period.end > limits[1]:
                churned.append(Churn(handle, "silent", last, limits[1]))
    retention = Retention(tuple(base), tuple(retained), tuple(lost), tuple(gained), tuple(churn_base),
                          tuple(churned))

    # The pyramid at the start and at the end.
    cells: dict[tuple[str, str], list[str]] = {}
    up, down, same, joined, left = [], [], [], [], []
    for seen in seens:
        handle = seen.handle
        a, b = tier_start[handle], tier_end[handle]
        if a == ABSENT and b == ABSENT:
            continue
        cells.setdefault((a, b), []).append(handle)
        if a == ABSENT:
            joined.append(handle)
        elif b == ABSENT:
            left.append(handle)
        elif RANK[b] > RANK[a]:
            up.append(handle)
        elif RANK[b] < RANK[a]:
            down.append(handle)
        else:
            same.append(handle)
    migration = Migration({k: tuple(v) for k, v in cells.items()}, tuple(up), tuple(down), tuple(same),
                          tuple(joined), tuple(left))

    lifecycle = _lifecycle(seens, period, at_end)
    previous_lifecycle = _lifecycle(seens, previous, at_start)

    won_value = {s.handle: worth for s in seens if (worth := s.won_margin(period))}
    tree, referrers = _referrals(at_end, won_value)

    # Attention: interactions per week, by kind and by the tier at the end; Platinum and Gold in touch.
    weeks = [0] * ((period.days + 6) // 7)
    by_kind: Counter = Counter()
    by_tier: Counter = Counter()
    total = previous_total = 0
    for seen in seens:
        days = seen.days
        if not days:
            continue
        low, high = bisect_left(days, period.start), bisect_right(days, period.end)
        previous_total += low - bisect_left(days, previous.start, 0, low)
        if high > low:
            total += high - low
            by_kind.update(seen.kinds[low:high])
            by_tier[tier_end[seen.handle]] += high - low
            start = period.start
            for day in days[low:high]:
                weeks[(day - start).days // 7] += 1
    cared = []
    for seen in seens:
        tier, version = tier_end[seen.handle], at_end[seen.handle]
        if tier not in CARED_FOR or version.stage == "former":
            continue
        last = seen.last_contact(period.end)
        if last is None:
            if keep_in_touch_limits(version, period.end, end_settings, tier, period.end) is None:
                continue  # no cadence at all
            cared.append(Cared(seen.handle, tier, None, False))
            continue
        limits = keep_in_touch_limits(version, period.end, end_settings, tier, last)
        if limits is not None:
            cared.append(Cared(seen.handle, tier, last, period.end <= limits[0]))
    cared.sort(key=lambda c: (c.within, -RANK[c.tier], c.last_contact or date.min, c.handle))
    attention = Attention(tuple(period.start + timedelta(days=7 * i) for i in range(len(weeks))), tuple(weeks),
                          total, previous_total, dict(sorted(by_kind.items(), key=lambda kv: (-kv[1], kv[0]))),
                          {t: by_tier[t] for t in (*LADDER, ABSENT) if by_tier[t]}, tuple(cared))

    names = {s.handle: s.latest.name for s in seens if s.latest is not None}
    return Report(today, period, previous, history.began, end_settings.currency, names, retention, migration,
                  lifecycle, previous_lifecycle, tree, referrers, attention,
                  sum(1 for v in at_end.values() if v is not None))
