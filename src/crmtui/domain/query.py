"""The search language: plain words ranked fuzzily, and filters, all combined with AND.

    ana tag:fintech tag:nyc -stage:former last:>90d company:"acme corp"

Plain words go to the fuzzy ranking of domain/search.py as they are. A filter is
`key:value`; `-key:value` negates it; a value in double quotes may hold spaces (`\\"`
and `\\\\` inside the quotes stand for a quote and a backslash; a quote left open runs
to the end, so a query being typed always parses). For tier, stage, tag, owner and deal
a comma means "any of": `tier:gold,platinum` (a quoted value is taken literally).

| filter | matches a customer who |
|---|---|
| tier:gold | is in that tier (the tier in force: the file's override, else the computed one); `unranked` too |
| stage:prospect | is at that lifecycle stage |
| tag:fintech | carries the tag (case and accents ignored); several tag: filters all must hold |
| company:acme | whose company contains the text |
| owner:me | has that owner; `me` is also the book's own owner (crm.toml `owner`) |
| last:>90d | was last contacted more than 90 days ago, or never; last:<7d within 7 days; last:never |
| due:today | has something due today or overdue (a reminder, a birthday, a keep-in-touch lapse); due:overdue, due:week, due:month |
| deal:open | has a deal with that status (open, won, lost) |
| value:>10000 | whose relationship value (won deals of the trailing 12 months, domain/tiers.py) compares so; 10k, 1.5m |
| birthday:<30d | whose next birthday is within the next 30 days; birthday:today |

Comparisons take >, >=, < and <=; durations are 30d, 6w, 3m, 1y. `parse` is pure
syntax and raises QueryError (one sentence naming the token and what would be valid);
`Context` evaluates a parsed query for one `today` and the book's settings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from difflib import get_close_matches
from typing import TYPE_CHECKING, Any, Callable, NamedTuple

from crmtui.domain.dates import DateError, Duration, InvalidValue, add_months, as_date, parse_duration
from crmtui.domain.record import DEAL_STATUSES, STAGES, TIERS, Customer
from crmtui.domain.search import fold

if TYPE_CHECKING:  # settings imports this module to check [views]
    from crmtui.domain.settings import Settings
    from crmtui.domain.tiers import Standing

FILTERS = ("tier", "stage", "tag", "company", "owner", "last", "due", "deal", "value", "birthday")
TIER_VALUES = (*TIERS, "unranked")
DUE_VALUES = ("overdue", "today", "week", "month")
OPERATORS = (">=", "<=", ">", "<")  # longest first
EXAMPLES = {
    "tier": "tier:gold", "stage": "stage:prospect", "tag": "tag:fintech", "company": 'company:"acme corp"',
    "owner": "owner:me", "last": "last:>90d", "due": "due:today", "deal": "deal:open", "value": "value:>10000",
    "birthday": "birthday:<30d",
}
_KEY = re.compile(r"(-?)([A-Za-z]+):")
_NUMBER = re.compile(r"(\d[\d_]*(?:\.\d+)?|\.\d+)([km]?)", re.IGNORECASE)


class QueryError(InvalidValue):
    """A query that does not parse; the message is one sentence naming the token and what would be valid."""


@dataclass(frozen=True)
class Filter:
    """One filter: `arg` is its value made ready to test (hashable, so results can be kept)."""

    key: str
    arg: Any
    negated: bool = False
    token: str = field(default="", compare=False)  # as written, for messages

    def __str__(self) -> str:
        return self.token or f"{'-' if self.negated else ''}{self.key}:{self.arg}"


class Query(NamedTuple):
    text: str  # the plain words, for the fuzzy ranking ("" for none)
    filters: tuple[Filter, ...] = ()

    @property
    def is_plain(self) -> bool:
        return not self.filters

    def __and__(self, other: "Query") -> "Query":
        return Query(" ".join(t for t in (self.text, other.text) if t), self.filters + other.filters)


# ---- reading the text --------------------------------------------------------------------------

class _Token(NamedTuple):
    raw: str  # as written, quotes included
    text: str  # with the quotes taken away
    quoted: bool  # some of it was in quotes
    key_end: int  # in `text`: where the value starts after "key:", 0 for a plain word


def _tokens(text: str) -> list[_Token]:
    """Split on whitespace outside double quotes; a quote left open runs to the end."""
    found: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start, out, quoted, key_end = i, [], False, 0
        while i < n and not text[i].isspace():
            if text[i] == '"':
                quoted = True
                i += 1
                while i < n and text[i] != '"':
                    if text[i] == "\\" and i + 1 < n and text[i + 1] in '"\\':
                        i += 1
                    out.append(text[i])
                    i += 1
                i += 1  # the closing quote (or past the end)
                continue
            out.append(text[i])
            i += 1
            if not quoted and not key_end and out[-1] == ":":
                key_end = len(out)
        word = "".join(out)
        if key_end and not _KEY.fullmatch(word[:key_end]):
            key_end = 0  # "10:30", "a-b:": a plain word
        found.append(_Token(text[start:i], word, quoted, key_end))
    return found


def quote(value: str) -> str:
    """A value as a query writes it: in quotes when it holds a space, a quote, or a comma."""
    if value and not re.search(r'[\s"\\,]', value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse(text: str) -> Query:
    """The query in `text`; QueryError names the first token that is not valid."""
    query, problems = parse_partly(text)
    if problems:
        raise QueryError(problems[0])
    return query


def parse_partly(text: str) -> tuple[Query, list[str]]:
    """The query in `text` without the tokens that are not valid, and a sentence for each of
    those (the TUI shows what the rest finds while the user fixes a filter)."""
    words: list[str] = []
    filters: list[Filter] = []
    problems: list[str] = []
    for token in _tokens(str(text)):
        if not token.key_end:
            words.append(token.text)
            continue
        try:
            filters.append(_filter(token))
        except QueryError as error:
            problems.append(_one_line(str(error)))
    return Query(" ".join(words), tuple(filters)), problems


_UNSEEN = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _one_line(message: str) -> str:
    """A sentence that quotes what was typed, with a newline or a control character in it
    shown as an escape (\\n, \\x1b): one line, and nothing a terminal would obey."""
    def shown(match: re.Match) -> str:
        char = match.group()
        code = ord(char)
        return {"\n": "\\n", "\t": "\\t"}.get(char, f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")

    return _UNSEEN.sub(shown, message)


def _filter(token: _Token) -> Filter:
    head = token.text[:token.key_end]
    negated, key = head.startswith("-"), head.lstrip("-")[:-1].lower()
    value = token.text[token.key_end:].strip()
    literal = token.quoted and token.raw.find('"') >= len(head)
    if key not in FILTERS:
        raise QueryError(_unknown_key(key, head))
    if not value:
        raise QueryError(f"'{token.raw}' needs a value, like {EXAMPLES[key]}{_choices_hint(key)}")
    return Filter(key, _READERS[key](value, literal, token.raw), negated, token.raw)


def _unknown_key(key: str, head: str) -> str:
    close = get_close_matches(key, FILTERS, n=1, cutoff=0.6)
    if close:
        return f"unknown filter '{head.lstrip('-')}' (did you mean {close[0]}:?) — filters: {', '.join(FILTERS)}"
    return (f"unknown filter '{head.lstrip('-')}' — filters: {', '.join(FILTERS)}; "
            f"to search for a word with a colon, put it in quotes")


def _choices_hint(key: str) -> str:
    choices = {"tier": TIER_VALUES, "stage": STAGES, "deal": DEAL_STATUSES, "due": DUE_VALUES}.get(key)
    return f" ({', '.join(choices)})" if choices else ""


def _alternatives(value: str, literal: bool) -> tuple[str, ...]:
    parts = (value,) if literal else tuple(p.strip() for p in value.split(","))
    return tuple(p for p in parts if p)


def _choice(what: str, plural: str, choices: tuple[str, ...]) -> Callable[[str, bool, str], frozenset[str]]:
    def read(value: str, literal: bool, raw: str) -> frozenset[str]:
        picked = _alternatives(value.lower(), literal)
        for item in picked:
            if item not in choices:
                raise QueryError(f"unknown {what} '{item}' in '{raw}' — {plural}: {', '.join(choices)}")
        if not picked:
            raise QueryError(f"'{raw}' needs a value, like {what}:{choices[0]}")
        return frozenset(picked)

    return read


def _folded_set(value: str, literal: bool, raw: str) -> frozenset[str]:
    picked = frozenset(_folded(p) for p in _alternatives(value, literal))
    if not picked:
        raise QueryError(f"'{raw}' needs a value between the commas")
    return picked


def _folded_text(value: str, literal: bool, raw: str) -> str:
    return _folded(value)


def _split_operator(value: str) -> tuple[str | None, str]:
    for op in OPERATORS:
        if value.startswith(op):
            return op, value[len(op):].strip()
    return None, value


def _duration(text: str, raw: str, example: str) -> Duration:
    try:
        return parse_duration(text)
    except DateError:
        raise QueryError(f"'{text}' in '{raw}' is not a duration; write a number and d, w, m or y, "
                         f"like {example}") from None


def _read_last(value: str, literal: bool, raw: str) -> tuple[str, Duration | None]:
    if value.lower() == "never":
        return ("never", None)
    op, rest = _split_operator(value)
    if op is None:
        raise QueryError(f"'{raw}' needs > or < before the time: last:>90d is more than 90 days ago "
                         f"(or never), last:<7d within the last 7 days; or last:never")
    return (op, _duration(rest, raw, "last:>90d"))


def _read_birthday(value: str, literal: bool, raw: str) -> tuple[str, Duration | None]:
    if value.lower() == "today":
        return ("today", None)
    op, rest = _split_operator(value)
    if op is None:
        raise QueryError(f"'{raw}' needs < or > before the time: birthday:<30d is within the next 30 days; "
                         f"or birthday:today")
    return (op, _duration(rest, raw, "birthday:<30d"))


def _read_due(value: str, literal: bool, raw: str) -> str:
    lowered = value.lower()
    if lowered not in DUE_VALUES:
        raise QueryError(f"unknown due '{value}' in '{raw}' — due: today (today or overdue), overdue, "
                         f"week (within 7 days), month (within a month)")
    return lowered


def _read_value(value: str, literal: bool, raw: str) -> tuple[str, float]:
    op, rest = _split_operator(value)
    if op is None and rest.startswith("="):
        op, rest = "=", rest[1:].strip()
    if op is None:
        raise QueryError(f"'{raw}' needs > or < before the amount, like value:>10000, value:<0 or value:>=5k")
    sign = -1 if rest.startswith("-") else 1
    number = _NUMBER.fullmatch(rest[1:] if sign < 0 else rest)
    if not number:
        raise QueryError(f"'{rest}' in '{raw}' is not an amount; write value:>10000, value:<0 or value:>=5k")
    scale = {"": 1, "k": 1_000, "m": 1_000_000}[number.group(2).lower()]
    return (op, sign * float(number.group(1).replace("_", "")) * scale)


_READERS: dict[str, Callable[[str, bool, str], Any]] = {
    "tier": _choice("tier", "tiers", TIER_VALUES),
    "stage": _choice("stage", "stages", STAGES),
    "deal": _choice("deal status", "deal statuses", DEAL_STATUSES),
    "tag": _folded_set,
    "owner": _folded_set,
    "company": _folded_text,
    "last": _read_last,
    "due": _read_due,
    "value": _read_value,
    "birthday": _read_birthday,
}


# ---- evaluating --------------------------------------------------------------------------------

def _compare(op: str, left: float, right: float) -> bool:
    if op == ">":
        return left > right
    if op == ">=":
        return left >= right
    if op == "<":
        return left < right
    if op == "<=":
        return left <= right
    return left == right


def _shifted(today: date, duration: Duration, sign: int) -> date:
    """`today` moved by `duration` forward (sign 1) or back (-1); past the calendar, its last or first day."""
    try:
        if duration.unit in "dw":
            return today + sign * timedelta(days=duration.count * (7 if duration.unit == "w" else 1))
        return add_months(today, sign * duration.count * (12 if duration.unit == "y" else 1))
    except (OverflowError, ValueError):
        return date.max if sign > 0 else date.min


class Context:
    """Evaluates parsed filters for one day and one book's settings.

    What a filter needs that costs something (a customer's standing, what is due next)
    is computed once per customer and kept: a Context can live as long as the book's
    snapshot (usecases/search.py keeps one), so `tier:gold` then `due:today` work out
    each customer's standing once."""

    # cheap tests first: AND stops at the first that fails
    COST = {"stage": 0, "tag": 0, "deal": 0, "owner": 0, "company": 1, "last": 1, "birthday": 2,
            "tier": 3, "value": 3, "due": 4}

    def __init__(self, today: date, settings: "Settings"):
        self.today = today
        self.settings = settings
        self.me = _folded(settings.owner) if settings.owner else ""
        self._standing: dict[str, tuple[Customer, "Standing"]] = {}
        self._next: dict[str, tuple[Customer, date | None]] = {}
        self._predicates: dict[Filter, Callable[[Customer], bool]] = {}

    def adopt(self, other: "Context") -> None:
        """Take what `other` worked out per customer, when it was for the same day and settings
        (a customer whose record changed since is worked out again: the memo checks identity)."""
        if other is not self and other.today == self.today and other.settings == self.settings:
            self._standing.update(other._standing)
            self._next.update(other._next)

    def standing(self, customer: Customer) -> "Standing":
        kept = self._standing.get(customer.handle)
        if kept is None or kept[0] is not customer:
            from crmtui.domain.tiers import standing

            kept = (customer, standing(customer, self.today, self.settings))
            self._standing[customer.handle] = kept
        return kept[1]

    def next_due(self, customer: Customer) -> date | None:
        """The date of the soonest thing due (overdue counts as soonest): reminders.next_due's,
        so `due:` always agrees with the reminder list and the lists' Next column."""
        kept = self._next.get(customer.handle)
        if kept is None or kept[0] is not customer:
            from crmtui.domain.reminders import next_due

            item = next_due(customer, self.today, self.settings, customer.tier_override or self.standing(customer).tier)
            kept = (customer, item.due if item else None)
            self._next[customer.handle] = kept
        return kept[1]

    def matches(self, customer: Customer, query: "Query | tuple[Filter, ...]") -> bool:
        """Whether the customer passes every filter (plain words are the ranking's business)."""
        filters = query.filters if isinstance(query, Query) else query
        return all(self.predicate(f)(customer) for f in self.ordered(filters))

    def ordered(self, filters: tuple[Filter, ...]) -> list[Filter]:
        return sorted(filters, key=lambda f: self.COST[f.key])

    def predicate(self, f: Filter) -> Callable[[Customer], bool]:
        """customer -> whether it passes `f` (negation included)."""
        found = self._predicates.get(f)
        if found is None:
            test = getattr(self, f"_by_{f.key}")(f.arg)
            found = (lambda c: not test(c)) if f.negated else test
            self._predicates[f] = found
        return found

    # one builder per filter: arg -> (customer -> bool)
    def _by_tier(self, tiers: frozenset[str]):
        standing = self.standing
        return lambda c: (c.tier_override or standing(c).tier or "unranked") in tiers

    def _by_stage(self, stages: frozenset[str]):
        return lambda c: c.stage in stages

    def _by_tag(self, tags: frozenset[str]):
        return lambda c: any(_folded(t) in tags for t in c.tags)

    def _by_company(self, text: str):
        return lambda c: text in _folded(c.company)

    def _by_owner(self, owners: frozenset[str]):
        if "me" in owners and self.me:
            owners = owners | {self.me}
        return lambda c: bool(c.owner) and _folded(c.owner) in owners

    def _by_deal(self, statuses: frozenset[str]):
        return lambda c: any(d.status in statuses for d in c.deals)

    def _by_last(self, arg: tuple[str, Duration | None]):
        op, duration = arg
        if op == "never":
            return lambda c: not c.interactions
        cutoff = _shifted(self.today, duration, -1)
        # "more than 90 days ago" is before the cutoff day; "within 7 days" after it
        before = {">": date.__lt__, ">=": date.__le__, "<": date.__gt__, "<=": date.__ge__}[op]
        never = op in (">", ">=")  # never contacted: longer ago than any time

        def test(c: Customer) -> bool:
            if not c.interactions:
                return never
            return before(as_date(c.interactions[-1].at), cutoff)

        return test

    def _by_birthday(self, arg: tuple[str, Duration | None]):
        from crmtui.domain.reminders import next_birthday

        op, duration = arg
        today = self.today
        if op == "today":
            return lambda c: c.birthday is not None and next_birthday(c.birthday, today) == today
        horizon = _shifted(today, duration, 1)
        compare = {">": date.__gt__, ">=": date.__ge__, "<": date.__lt__, "<=": date.__le__}[op]
        return lambda c: c.birthday is not None and compare(next_birthday(c.birthday, today), horizon)

    def _by_value(self, arg: tuple[str, float]):
        op, amount = arg
        standing = self.standing
        return lambda c: _compare(op, standing(c).value, amount)

    def _by_due(self, when: str):
        horizon = {"overdue": self.today - timedelta(days=1), "today": self.today,
                   "week": self.today + timedelta(days=7),
                   "month": _shifted(self.today, Duration(1, "m"), 1)}[when]
        next_due = self.next_due

        def test(c: Customer) -> bool:
            due = next_due(c)
            return due is not None and due <= horizon

        return test


def _folded(text: str) -> str:
    """fold(), with runs of spaces as one; cheap for ASCII text."""
    return " ".join((text.lower() if text.isascii() else fold(text)).split())


def select(customers: list[Customer], query: Query, today: date, settings: "Settings") -> list[Customer]:
    """The customers (in the order given) that pass every filter of `query`."""
    context = Context(today, settings)
    tests = [context.predicate(f) for f in context.ordered(query.filters)]
    return [c for c in customers if all(test(c) for test in tests)]


def view_problem(query: Any) -> str | None:
    """Why a saved view's query (crm.toml [views]) cannot be used, or None."""
    if not isinstance(query, str):
        return 'should be a query in quotes, like "tier:gold last:>45d"'
    if not query.strip():
        return 'is empty; write a query, like "tier:gold last:>45d"'
    try:
        parse(query)
    except QueryError as error:
        return str(error)
    return None
