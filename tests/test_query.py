"""The search language (domain/query.py): parsing, every filter, negation, quoting, AND, errors."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmtui.domain.query import (
    FILTERS, Context, Filter, Query, QueryError, parse, parse_partly, quote, select, view_problem,
)
from crmtui.domain.record import RecordError, customer_from_data
from crmtui.domain.reminders import next_due
from crmtui.domain.settings import Settings, settings_from_data

TODAY = date(2026, 6, 15)


def _customer(handle, **data):
    return customer_from_data(handle, data, summary=True)


# ana: Gold by the file's override (value 9,000), fintech + NYC, contacted 5 days ago, something due today.
# ben: Platinum computed (60,000), last contacted in January: his 2-week cadence ran out long ago.
# cleo: a prospect never contacted, no deal (unranked), birthday in 35 days.
# dora: former, Lead (a loss), contacted exactly 90 days ago, a lost deal too.
# eve: Gold computed (20,000), contacted today, birthday today, accents everywhere.
CUSTOMERS = [
    _customer("ana", name="Ana López", company="Acme Corp", tags=["Fintech", "NYC"], stage="customer",
              tier="gold", owner="me", birthday="06-20",
              interactions=[{"at": "2026-05-01T10:00:00", "kind": "call", "summary": "first"},
                            {"at": "2026-06-10T10:00:00", "kind": "call", "summary": "second"}],
              deals=[{"title": "Audit", "amount": 12000, "cost": 3000, "status": "won", "date": date(2026, 3, 1)},
                     {"title": "Renewal", "amount": 20000, "status": "open"}],
              reminders=[{"due": date(2026, 6, 15), "text": "Send the NDA"}]),
    _customer("ben", name="Ben Schmidt", company="Schmidt Data", tags=["fintech"], stage="customer", owner="Lea",
              interactions=[{"at": "2026-01-01T09:00:00", "kind": "email", "summary": "happy new year"}],
              deals=[{"title": "Platform", "amount": 60000, "status": "won", "date": date(2026, 2, 1)}]),
    _customer("cleo", name="Cleo Park", company="ACME  Corporation Ltd", tags=["prospect-list"], stage="prospect",
              birthday="1990-07-20"),
    _customer("dora", name="Dora Lead", company="Loss Makers", tags=["former"], stage="former",
              interactions=[{"at": "2026-03-17T18:00:00", "kind": "note", "summary": "parted ways"}],
              deals=[{"title": "Fixed price", "amount": 5000, "cost": 9000, "status": "won", "date": date(2026, 1, 10)},
                     {"title": "Second try", "amount": 3000, "status": "lost"}]),
    _customer("eve", name="Ève Müller", company="Müller & Söhne", tags=["Zürich"], stage="customer",
              birthday="06-15",
              interactions=[{"at": "2026-06-15T08:00:00", "kind": "meeting", "summary": "kick-off"}],
              deals=[{"title": "Design", "amount": 20000, "status": "won", "date": date(2026, 5, 1)}],
              reminders=[{"due": date(2026, 6, 1), "text": "done already", "done": date(2026, 6, 2)}]),
]
EVERYONE = {c.handle for c in CUSTOMERS}
BOOK = Settings(owner="Lea")


def found(text: str, book: Settings = BOOK) -> set[str]:
    return {c.handle for c in select(CUSTOMERS, parse(text), TODAY, book)}


# ---- parsing ------------------------------------------------------------------------------------

def test_words_and_filters_are_told_apart():
    query = parse("ana tier:gold  lopez -tag:former")
    assert query.text == "ana lopez"
    assert [(f.key, f.negated) for f in query.filters] == [("tier", False), ("tag", True)]
    assert str(query.filters[1]) == "-tag:former"
    assert parse("ana lopez") == Query("ana lopez", ())
    assert parse("").is_plain and parse("   ").text == ""


def test_keys_ignore_case_and_values_are_normalised():
    assert parse("Tier:GOLD").filters[0] == Filter("tier", frozenset({"gold"}))
    assert parse("tag:Zürich").filters[0].arg == frozenset({"zurich"})
    assert parse("tier:gold,platinum").filters[0].arg == frozenset({"gold", "platinum"})
    assert parse("value:>10k").filters[0].arg == (">", 10000.0)
    assert parse("value:>=1.5m").filters[0].arg == (">=", 1500000.0)
    assert parse("value:<-500").filters[0].arg == ("<", -500.0)
    assert parse("value:=9000").filters[0].arg == ("=", 9000.0)
    assert parse("value:>10_000").filters[0].arg == (">", 10000.0)


def test_quoted_values_and_phrases():
    query = parse('company:"acme corp" tag:"new york" "van der" berg')
    assert query.filters[0].arg == "acme corp"
    assert query.filters[1].arg == frozenset({"new york"})
    assert query.text == "van der berg"
    assert parse('tag:"a,b"').filters[0].arg == frozenset({"a,b"})  # quoted: taken literally
    assert parse(r'company:"say \"hi\" \\ bye"').filters[0].arg == 'say "hi" \\ bye'
    assert parse('company:"acme co').filters[0].arg == "acme co"  # still being typed: runs to the end


def test_words_with_a_colon_that_are_not_filters():
    assert parse("10:30 call").is_plain
    assert parse('"re:invoice"').text == "re:invoice"
    assert parse("--tag:x").is_plain


@pytest.mark.parametrize("text, words", [
    ("teir:gold", ["unknown filter 'teir:'", "did you mean tier:?", "filters: tier, stage, tag"]),
    ("http://x", ["unknown filter 'http:'", "put it in quotes"]),
    ("tier:", ["'tier:' needs a value", "tier:gold", "platinum, gold, iron, lead, unranked"]),
    ("tier:gld", ["unknown tier 'gld' in 'tier:gld'", "platinum, gold, iron, lead, unranked"]),
    ("stage:lead", ["unknown stage 'lead'", "prospect, customer, former"]),
    ("deal:maybe", ["unknown deal status 'maybe'", "open, won, lost"]),
    ("due:tomorrow", ["unknown due 'tomorrow'", "today", "overdue", "week"]),
    ("last:90d", ["'last:90d' needs > or <", "last:>90d", "last:<7d"]),
    ("last:>soon", ["'soon' in 'last:>soon' is not a duration", "d, w, m or y"]),
    ("last:>0d", ["'0d' in 'last:>0d' is not a duration"]),
    ("birthday:30d", ["'birthday:30d' needs < or >", "birthday:<30d"]),
    ("value:10000", ["'value:10000' needs > or <", "value:>10000"]),
    ("value:>lots", ["'lots' in 'value:>lots' is not an amount", "value:>10000"]),
    ("tag:,", ["'tag:,' needs a value"]),
    ("-company:", ["'-company:' needs a value"]),
])
def test_errors_name_the_token_and_what_is_valid(text, words):
    with pytest.raises(QueryError) as caught:
        parse(text)
    message = str(caught.value)
    for word in words:
        assert word in message
    assert "\n" not in message


def test_what_was_typed_is_quoted_on_one_line_with_nothing_a_terminal_obeys():
    with pytest.raises(QueryError) as caught:
        parse('tier:"gold\n\x1b[31m"')
    assert str(caught.value).startswith("unknown tier 'gold\\n\\x1b[31m'")


def test_parse_partly_keeps_the_valid_part():
    query, problems = parse_partly("ana tier:gold teir:x tag:")
    assert query.text == "ana" and [f.key for f in query.filters] == ["tier"]
    assert len(problems) == 2 and "teir:" in problems[0] and "'tag:'" in problems[1]


def test_queries_combine_with_and():
    both = parse("ana tier:gold") & parse("lopez -tag:former")
    assert both.text == "ana lopez" and [f.key for f in both.filters] == ["tier", "tag"]


def test_quote_makes_values_round_trip():
    assert quote("fintech") == "fintech"
    assert quote("acme corp") == '"acme corp"'
    tricky = 'say "hi", ok'
    assert parse("company:" + quote(tricky)).filters[0].arg == tricky


# ---- every filter --------------------------------------------------------------------------------

@pytest.mark.parametrize("text, handles", [
    ("tier:gold", {"ana", "eve"}),
    ("tier:platinum", {"ben"}),
    ("tier:lead", {"dora"}),
    ("tier:unranked", {"cleo"}),
    ("tier:gold,platinum", {"ana", "ben", "eve"}),
    ("stage:prospect", {"cleo"}),
    ("stage:customer,former", {"ana", "ben", "dora", "eve"}),
    ("tag:fintech", {"ana", "ben"}),
    ("tag:nyc", {"ana"}),
    ("tag:fintech tag:nyc", {"ana"}),
    ("tag:zurich", {"eve"}),
    ("tag:former", {"dora"}),
    ("tag:prospect", set()),  # a tag is matched whole
    ("company:acme", {"ana", "cleo"}),
    ('company:"acme corp"', {"ana", "cleo"}),
    ("company:muller", {"eve"}),
    ("company:Müller", {"eve"}),
    ("owner:me", {"ana", "ben"}),  # "me" is also crm.toml's owner (Lea)
    ("owner:lea", {"ben"}),
    ("last:>90d", {"ben", "cleo"}),  # dora was contacted exactly 90 days ago; cleo never
    ("last:>=90d", {"ben", "cleo", "dora"}),
    ("last:<7d", {"ana", "eve"}),
    ("last:<1d", {"eve"}),
    ("last:<=5d", {"ana", "eve"}),
    ("last:>3m", {"ben", "cleo"}),
    ("last:>1y", {"cleo"}),
    ("last:never", {"cleo"}),
    ("last:>99999999y", {"cleo"}),  # past the calendar: only never
    ("due:today", {"ana", "ben", "eve"}),  # a reminder today, a lapse, a birthday today
    ("due:overdue", {"ben"}),
    ("due:week", {"ana", "ben", "eve"}),
    ("due:month", {"ana", "ben", "eve"}),
    ("deal:open", {"ana"}),
    ("deal:won", {"ana", "ben", "dora", "eve"}),
    ("deal:lost", {"dora"}),
    ("deal:open,lost", {"ana", "dora"}),
    ("value:>10000", {"ben", "eve"}),
    ("value:>10k", {"ben", "eve"}),
    ("value:>=9000", {"ana", "ben", "eve"}),
    ("value:=9000", {"ana"}),
    ("value:<0", {"dora"}),
    ("value:<=0", {"cleo", "dora"}),
    ("birthday:<30d", {"ana", "eve"}),
    ("birthday:<=35d", {"ana", "cleo", "eve"}),
    ("birthday:<5d", {"eve"}),
    ("birthday:>30d", {"cleo"}),
    ("birthday:today", {"eve"}),
    ("birthday:<99999999y", {"ana", "cleo", "eve"}),
])
def test_each_filter(text, handles):
    assert found(text) == handles


@pytest.mark.parametrize("text", [
    "tier:gold", "stage:prospect", "tag:fintech", "company:acme", "owner:me", "last:>90d", "last:never",
    "due:today", "deal:open", "value:>10000", "birthday:<30d", "birthday:today",
])
def test_negation_is_the_complement(text):
    assert found("-" + text) == EVERYONE - found(text)


def test_filters_combine_with_and():
    assert found("-tag:former tier:gold,platinum last:>30d") == {"ben"}
    assert found("tag:fintech -tier:platinum due:today") == {"ana"}
    assert found("stage:customer -deal:open value:>0 birthday:<30d") == {"eve"}
    assert found("tier:gold tier:platinum") == set()


def test_owner_me_without_a_book_owner():
    assert found("owner:me", Settings()) == {"ana"}


def test_a_due_date_agrees_with_the_reminder_list():
    context = Context(TODAY, BOOK)
    for customer in CUSTOMERS:
        item = next_due(customer, TODAY, BOOK)
        assert context.next_due(customer) == (item.due if item else None), customer.handle


def test_context_takes_over_work_for_the_same_day_only():
    first = Context(TODAY, BOOK)
    first.standing(CUSTOMERS[0])
    same = Context(TODAY, BOOK)
    same.adopt(first)
    assert "ana" in same._standing
    other_day = Context(date(2026, 6, 16), BOOK)
    other_day.adopt(first)
    assert other_day._standing == {}


# ---- saved views in crm.toml ---------------------------------------------------------------------

def test_views_are_read_and_checked():
    book = settings_from_data({"views": {"losing-touch": " tier:gold last:>45d ", "nyc": "tag:nyc"}})
    assert book.views == {"losing-touch": "tier:gold last:>45d", "nyc": "tag:nyc"}
    assert settings_from_data({}).views == {}
    with pytest.raises(RecordError) as caught:
        settings_from_data({"views": {"good": "tag:x", "bad": "teir:gold"}})
    (issue,) = caught.value.issues
    assert issue.path == ("views", "bad") and "views.bad: unknown filter 'teir:'" in issue.message
    for value, words in ((3, "should be a query in quotes"), ("  ", "is empty")):
        with pytest.raises(RecordError) as caught:
            settings_from_data({"views": {"v": value}})
        assert words in caught.value.issues[0].message
    with pytest.raises(RecordError):
        settings_from_data({"views": "tier:gold"})
    assert view_problem("tier:gold") is None


# ---- properties ----------------------------------------------------------------------------------

PIECES = st.sampled_from([
    *(f"{k}:" for k in FILTERS), "-", '"', "\\", ",", ">", "<", ">=", "=", " ", "gold", "30d", "0d", "9" * 30,
    "k", "m", "never", "today", "x", ":", "-tag:", "teir:", "ü", "\t", "\n", "é", "\x00", "5k", "_",
])
QUERYISH = st.lists(PIECES, max_size=12).map("".join)
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.one_of(QUERYISH, st.text(max_size=40)))
def test_parse_raises_nothing_but_query_error(text):
    try:
        query = parse(text)
    except QueryError as error:
        assert str(error) and not re.search(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", str(error))
        return
    assert isinstance(query, Query)
    # whatever parses can be evaluated, and a negated filter is always the complement
    context = Context(TODAY, BOOK)
    for f in query.filters:
        yes = {c.handle for c in CUSTOMERS if context.predicate(f)(c)}
        flipped = Filter(f.key, f.arg, not f.negated)
        no = {c.handle for c in CUSTOMERS if context.predicate(flipped)(c)}
        assert yes | no == EVERYONE and not yes & no


@FAST
@given(st.one_of(QUERYISH, st.text(max_size=40)))
def test_parse_partly_never_raises(text):
    query, problems = parse_partly(text)
    assert isinstance(query, Query)
    assert bool(problems) == _fails(text)


def _fails(text):
    try:
        parse(text)
    except QueryError:
        return True
    return False


@FAST
@given(st.text(min_size=1, max_size=20).filter(lambda v: v.strip()))
def test_any_value_can_be_quoted(value):
    from crmtui.domain.query import _folded

    (f,) = parse(f"company:{quote(value)}").filters
    assert f.arg == _folded(value)
    (f,) = parse(f"-tag:{quote(value)}").filters
    assert f.negated and f.arg == frozenset({_folded(value)})
