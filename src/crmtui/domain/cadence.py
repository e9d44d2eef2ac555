"""Keep-in-touch cadences: an ideal and a maximum interval, and where a customer stands.

A cadence is written `keep_in_touch = "30d"` (ideal 30 days; the maximum is the ideal
plus half of it, 45 days) or `keep_in_touch = { ideal = "30d", max = "60d" }`. The same
two forms work in crm.toml, per tier under [keep_in_touch] and per tag under
[keep_in_touch.tags]. Which one is in force: the record's own, else its tags' (the
shortest ideal when several tags have one), else its tier's; a former customer has none.

The clock runs from the last logged interaction. The bands:

    ok        before the "due soon" window
    soon      the last 7 days before the ideal date, or the last fifth of the interval when
              that is shorter (a weekly cadence is "soon" one day ahead, not all week)
    due       from the ideal date up to and including the maximum date
    lapsed    after the maximum date: the customer is on the "losing touch" list
    snoozed   `keep_in_touch_snoozed_until` in the record is after today: no item until then

Pure functions: `today` is an argument; no files, no UI.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from crmtui.domain.dates import DateError, Duration, as_date, parse_duration

if TYPE_CHECKING:
    from crmtui.domain.record import Customer
    from crmtui.domain.settings import Settings

OK, SOON, DUE, LAPSED, SNOOZED = "ok", "soon", "due", "lapsed", "snoozed"
BANDS = (OK, SOON, DUE, LAPSED, SNOOZED)
SOON_DAYS = 7  # at most; a fifth of the interval when that is shorter
SOON_SHARE = 0.2
GRACE_SHARE = 0.5  # the default maximum: the ideal interval and half of it again
_DAYS = {"d": 1, "w": 7, "m": 30.436875, "y": 365.2425}


class Cadence(NamedTuple):
    """A keep-in-touch rule: the ideal interval and the maximum (None: ideal plus half)."""

    ideal: Duration
    max: Duration | None = None

    def __str__(self) -> str:
        return str(self.ideal) if self.max is None else f"{self.ideal} (max {self.max})"

    def describe(self) -> str:
        """'every 1 month' or 'every 1 month, at most 6 weeks'."""
        text = f"every {self.ideal.describe()}"
        return text if self.max is None else f"{text}, at most {self.max.describe()}"


class Rule(NamedTuple):
    """The cadence in force for one customer, and where it comes from."""

    cadence: Cadence
    source: str  # "record", "tag:fintech" or "tier:gold"


class Touch(NamedTuple):
    """Where a customer stands with their cadence on a given day."""

    band: str
    rule: Rule
    last: date  # the last interaction's day
    last_kind: str
    soon_on: date  # the first day of the "due soon" window
    ideal_on: date
    max_on: date
    snoozed_until: date | None = None

    def past_max(self, today: date) -> int:
        """Days after the maximum date (negative: days left before it)."""
        return (today - self.max_on).days

    def sentence(self, today: date) -> str:
        """One line for a person: where this customer stands, and since when."""
        days = (today - self.last).days
        ago = {0: "today", 1: "yesterday"}.get(days, f"{days} days ago")
        since = f"last {self.last_kind} {ago}"
        if self.band == SNOOZED:
            return f"snoozed until {self.snoozed_until} ({since})"
        if self.band == LAPSED:
            late = self.past_max(today)
            return f"lapsed: {late} day{'s' if late != 1 else ''} past the maximum ({since})"
        if self.band == DUE:
            left = -self.past_max(today)
            return (f"due since {self.ideal_on}; the maximum is {'today' if left == 0 else self.max_on} ({since})")
        if self.band == SOON:
            return f"due soon: on {self.ideal_on} ({since})"
        return f"in touch: next on {self.ideal_on} ({since})"


def approx_days(duration: Duration) -> float:
    return duration.count * _DAYS[duration.unit]


def parse_cadence(value: Any) -> Cadence:
    """"30d" or { ideal = "30d", max = "45d" } (max optional); DateError when it is neither,
    or when the maximum is shorter than the ideal (see max_problem)."""
    found = read_cadence(value)
    problem = max_problem(found)
    if problem:
        raise DateError(problem)
    return found


def max_problem(cadence: Cadence) -> str | None:
    if cadence.max is not None and approx_days(cadence.max) < approx_days(cadence.ideal):
        return f"the maximum {cadence.max} is shorter than the ideal {cadence.ideal}; write a max at least as long"
    return None


def read_cadence(value: Any) -> Cadence:
    """parse_cadence without the rule that the maximum is at least the ideal: a record
    keeps such a value as written and lists it in its issues (domain.record.value_issues)."""
    if isinstance(value, dict):
        unknown = [str(k) for k in value if k not in ("ideal", "max")]
        if unknown:
            raise DateError(f"a cadence table takes ideal and max, not {', '.join(unknown)}; "
                            "write { ideal = \"30d\", max = \"45d\" }")
        if "ideal" not in value:
            raise DateError("a cadence table needs an ideal, like { ideal = \"30d\", max = \"45d\" }")
        ideal = parse_duration(value["ideal"])
        top = parse_duration(value["max"]) if "max" in value else None
        return Cadence(ideal, top)
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return Cadence(parse_duration(str(value)))
    raise DateError(f"{value!r} is not a cadence; write \"30d\", or {{ ideal = \"30d\", max = \"45d\" }}")


UNKNOWN = object()  # tier=UNKNOWN: the caller did not compute it


def _standing():
    """domain.tiers.standing, imported on first use (tiers imports settings, which imports this)."""
    global _STANDING
    if _STANDING is None:
        from crmtui.domain.tiers import standing

        _STANDING = standing
    return _STANDING


_STANDING = None


def rule(customer: "Customer", today: date, settings: "Settings", tier=UNKNOWN) -> Rule | None:
    """The cadence in force: the record's own, else its tags', else its tier's; None for a
    former customer or when none applies. Pass `tier` when the caller already knows it."""
    if customer.stage == "former":
        return None
    if customer.keep_in_touch:
        return Rule(Cadence(customer.keep_in_touch, getattr(customer, "keep_in_touch_max", None)), "record")
    tagged = getattr(settings, "tag_cadences", None)
    if tagged and customer.tags:
        found = [(approx_days(tagged[t.lower()].ideal), t.lower()) for t in customer.tags if t.lower() in tagged]
        if found:
            tag = min(found)[1]
            return Rule(tagged[tag], f"tag:{tag}")
    if tier is UNKNOWN:
        tier = _standing()(customer, today, settings).tier
    if not tier:
        return None
    return _tier_rules(settings).get(tier)


_TIER_RULES: tuple = (None, {})  # (the settings, their rule per tier): lists ask once per customer


def _tier_rules(settings: "Settings") -> dict[str, Rule]:
    global _TIER_RULES
    if _TIER_RULES[0] is not settings:
        maxes = getattr(settings, "cadence_max", {})
        _TIER_RULES = (settings, {tier: Rule(Cadence(ideal, maxes.get(tier)), f"tier:{tier}")
                                  for tier, ideal in settings.cadences.items()})
    return _TIER_RULES[1]


def soon_days(interval: int) -> int:
    """How many days before the ideal date the "due soon" window opens."""
    return max(1, min(SOON_DAYS, round(interval * SOON_SHARE)))


def touch_for(found: Rule, last: date, last_kind: str, today: date, snoozed_until: date | None = None) -> Touch:
    """The band of a customer last in touch on `last`, under `found`. DateError past the calendar."""
    cadence = found.cadence
    ideal = cadence.ideal
    ideal_on = last + timedelta(days=ideal.count) if ideal.unit == "d" else ideal.after(last)
    interval = (ideal_on - last).days
    if cadence.max is not None:
        max_on = max(ideal_on, cadence.max.after(last))
    else:
        max_on = ideal_on + timedelta(days=int(interval * GRACE_SHARE))
    soon_on = ideal_on - timedelta(days=max(1, min(SOON_DAYS, round(interval * SOON_SHARE))))
    if snoozed_until is not None and snoozed_until > today:
        band = SNOOZED
    elif today > max_on:
        band = LAPSED
    elif today >= ideal_on:
        band = DUE
    elif today >= soon_on:
        band = SOON
    else:
        band = OK
    return Touch(band, found, last, last_kind, soon_on, ideal_on, max_on,
                 snoozed_until if band == SNOOZED else None)


def touch(customer: "Customer", today: date, settings: "Settings", tier=UNKNOWN) -> Touch | None:
    """Where this customer stands today; None without a cadence or a logged interaction."""
    last = customer.last_interaction
    if last is None:
        return None
    found = rule(customer, today, settings, tier)
    if found is None:
        return None
    try:
        return touch_for(found, as_date(last.at), last.kind, today,
                         getattr(customer, "keep_in_touch_snoozed_until", None))
    except (DateError, OverflowError):  # a last interaction near year 9999: past the calendar
        return None


def losing_touch(customers: list["Customer"], today: date, settings: "Settings") -> list[tuple["Customer", Touch]]:
    """Customers past their maximum interval, the longest past it first (then by name)."""
    found = []
    for customer in customers:
        status = touch(customer, today, settings)
        if status is not None and status.band == LAPSED:
            found.append((customer, status))
    found.sort(key=lambda pair: (pair[1].max_on, pair[0].name.lower()))
    return found
