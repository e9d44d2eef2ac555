"""domain/report.py: the report's figures from plain data, each known by construction."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from crmtui.domain.dates import Duration, InvalidValue
from crmtui.domain.record import Deal
from crmtui.domain.report import (ABSENT, BookHistory, Period, RecordHistory, Version, build_report, choose_period,
                                  keep_in_touch_limits, version_from_data)
from crmtui.domain.settings import Settings, Thresholds

TODAY = date(2026, 6, 15)
PERIOD = Period(date(2025, 6, 16), date(2026, 6, 15))


def v(name="X", stage="customer", tier=None, keep=None, referred_by="", deals=(), tags=()) -> Version:
    return Version(name, stage, tier, keep, None, tuple(tags), referred_by, tuple(deals))


def won(amount, day, title="Deal", cost=None) -> Deal:
    return Deal(title, amount, "won", cost, day)


class Book:
    """A BookHistory written as commits: book.commit("2025-01-01T10:00", handle=Version or None)."""

    def __init__(self, began="2024-01-01T09:00"):
        self.history = BookHistory()
        self.commit(began)

    def commit(self, when: str, settings: Settings | None = None, **records) -> int:
        history = self.history
        position = len(history.times)
        history.times.append(datetime.fromisoformat(when))
        if settings is not None:
            history.settings.append((position, settings))
        for handle, version in records.items():
            record = history.records.setdefault(handle, RecordHistory(handle))
            record.versions.append((position, version))
        return position

    def talk(self, handle: str, *days: str, kind: str = "call") -> None:
        record = self.history.records[handle]
        pairs = sorted([*zip(record.days, record.kinds), *((date.fromisoformat(d), kind) for d in days)])
        record.days, record.kinds = tuple(d for d, _ in pairs), tuple(k for _, k in pairs)

    def report(self, period: Period = PERIOD, today: date = TODAY):
        return build_report(self.history, period, today)


# ---- the period ---------------------------------------------------------------------------------


def test_the_default_period_is_the_twelve_months_ending_today_against_as_many_days_before():
    period = choose_period(TODAY, None, None, date(2020, 1, 1))
    assert period == Period(date(2025, 6, 16), TODAY)
    assert period.days == 365
    assert period.previous() == Period(date(2024, 6, 16), date(2025, 6, 15))
    assert period.previous().days == 365


def test_a_period_over_a_leap_day_and_its_previous_have_the_same_length():
    period = choose_period(date(2024, 3, 10), None, None, None)
    assert period == Period(date(2023, 3, 11), date(2024, 3, 10)) and period.days == 366
    assert period.previous() == Period(date(2022, 3, 10), date(2023, 3, 10))


def test_from_alone_runs_to_today_and_to_alone_covers_the_twelve_months_ending_then():
    assert choose_period(TODAY, date(2026, 1, 1), None, None) == Period(date(2026, 1, 1), TODAY)
    assert choose_period(TODAY, None, date(2025, 12, 31), None) == Period(date(2025, 1, 1), date(2025, 12, 31))
    one_day = choose_period(TODAY, TODAY, TODAY, None)
    assert one_day.days == 1 and one_day.previous() == Period(date(2026, 6, 14), date(2026, 6, 14))


@pytest.mark.parametrize("start, end, words", [
    (date(2026, 3, 1), date(2026, 2, 1), "--from 2026-03-01 is after --to 2026-02-01"),
    (date(2023, 12, 31), None, "--from 2023-12-31 is before the book existed (its first commit is of 2024-01-01)"),
    (None, date(2023, 6, 1), "--to 2023-06-01 is before the book existed"),
    (date(2026, 7, 1), None, "--from 2026-07-01 is after today (2026-06-15)"),
    (None, date(2026, 6, 16), "--to 2026-06-16 is after today"),
])
def test_bad_periods_get_one_sentence(start, end, words):
    with pytest.raises(InvalidValue) as error:
        choose_period(TODAY, start, end, date(2024, 1, 1))
    assert words in str(error.value)
    assert "\n" not in str(error.value)


def test_a_default_start_before_the_book_is_no_error():
    assert choose_period(TODAY, None, None, date(2026, 1, 1)).start == date(2025, 6, 16)


# ---- what a version is ----------------------------------------------------------------------------


def test_version_from_data_reads_what_the_report_needs_by_the_records_rules():
    version, days, kinds = version_from_data({
        "name": "  Ana   López ", "tier": "Gold", "keep_in_touch": "30d", "referred_by": "ben.toml",
        "tags": ["fintech"],
        "deals": [{"title": "Q1", "amount": 12000, "cost": 3000, "status": "won", "date": date(2026, 1, 2)},
                  {"amount": 5, "date": "2026-02-03"}],
        "interactions": [{"at": datetime(2026, 5, 2, 10), "kind": "Email", "summary": "x"},
                         {"at": date(2026, 5, 1), "summary": "y"}],
    })
    assert version.name == "Ana López" and version.stage == "customer" and version.tier_override == "gold"
    assert version.keep_in_touch == Duration(30, "d") and version.referred_by == "ben" and version.tags == ("fintech",)
    assert [(d.title, d.amount, d.status, d.cost, d.date) for d in version.deals] == [
        ("Q1", 12000, "won", 3000, date(2026, 1, 2)), ("", 5, "open", None, date(2026, 2, 3))]
    assert days == (date(2026, 5, 1), date(2026, 5, 2)) and kinds == ("note", "email")


@pytest.mark.parametrize("data", [
    {}, {"name": ""}, {"name": 3},
    {"name": "A", "stage": "lead"}, {"name": "A", "tier": "bronze"},
    {"name": "A", "keep_in_touch": "soon"},
    {"name": "A", "deals": [{"status": "won"}]}, {"name": "A", "deals": [{"amount": "12"}]},
    {"name": "A", "deals": [{"amount": 1, "date": "next week"}]}, {"name": "A", "deals": {"amount": 1}},
    {"name": "A", "interactions": [{"kind": "call"}]}, {"name": "A", "referred_by": 7},
])
def test_a_version_that_would_not_build_a_record_is_none(data):
    assert version_from_data(data) is None


# ---- at a date -----------------------------------------------------------------------------------


def test_the_start_is_the_end_of_the_day_before_and_the_end_is_the_end_of_the_last_day():
    book = Book()
    book.commit("2025-06-15T23:59:59", a=v(deals=[won(5000, date(2025, 6, 15))]))  # in the start state
    book.commit("2025-06-16T00:00:00", b=v(deals=[won(5000, date(2025, 6, 16))]))  # not
    book.commit("2026-06-15T23:59:00", c=v(deals=[won(5000, date(2026, 6, 15))]))  # in the end state
    book.commit("2026-06-16T00:00:01", d=v())  # after the period: not in it at all
    report = book.report()
    cells = report.migration.cells
    assert cells[("iron", "iron")] == ("a",)
    assert cells[(ABSENT, "iron")] == ("b", "c")
    assert "d" not in report.names or all("d" not in h for h in cells.values())
    assert report.lifecycle.added == ("b", "c")
    assert [e.handle for e in report.lifecycle.won] == ["b", "c"]
    assert [e.handle for e in report.previous_lifecycle.won] == ["a"]


def test_interactions_count_on_their_own_day_both_ends_included():
    book = Book()
    book.commit("2024-02-01T09:00", a=v(), b=v(), c=v())
    book.talk("a", "2024-06-16", "2025-06-15")  # the previous period's first and last days
    book.talk("b", "2025-06-16")  # this period's first day
    book.talk("c", "2026-06-15", "2026-06-16")  # the last day, and the day after (not counted)
    report = book.report()
    assert report.retention.base == ("a",) and report.retention.lost == ("a",)
    assert report.retention.gained == ("b", "c")
    att = report.attention
    assert (att.total, att.previous_total) == (2, 2)
    assert len(att.weeks) == 53 and att.weeks[0] == 1 and att.weeks[52] == 1 and sum(att.weeks) == 2
    assert att.week_starts[0] == date(2025, 6, 16) and att.week_starts[-1] == date(2026, 6, 15)


def test_a_threshold_change_counts_from_its_commit_never_backwards():
    book = Book()
    book.commit("2024-02-01T09:00", a=v(deals=[won(18000, date(2025, 5, 1))]),
                b=v(deals=[won(18000, date(2025, 5, 1)), won(18000, date(2026, 5, 1))]))
    book.commit("2026-03-01T09:00", settings=Settings(thresholds=Thresholds(gold=20000)))
    book.commit("2026-05-01T09:00", a=v(deals=[won(18000, date(2025, 5, 1)), won(18000, date(2026, 5, 1))]))
    report = book.report()
    assert report.migration.cells[("gold", "iron")] == ("a", "b")  # gold under 15,000; iron under 20,000
    before = book.report(Period(date(2025, 6, 16), date(2026, 2, 28)))
    assert before.migration.cells[("gold", "gold")] == ("a", "b")  # before the change: gold still
    early = book.report(Period(date(2025, 1, 1), date(2025, 6, 1)))
    assert early.migration.cells[("iron", "gold")] == ("a", "b")  # a won deal, not yet in the window: iron


def test_the_tier_written_in_the_file_is_the_tier_in_force_at_that_date():
    book = Book()
    book.commit("2024-02-01T09:00", a=v(deals=[won(1000, date(2025, 5, 1))]))
    book.commit("2025-12-01T09:00", a=v(tier="platinum", deals=[won(1000, date(2025, 5, 1))]))
    assert book.report().migration.up == ("a",)
    assert book.report().migration.cells[("iron", "platinum")] == ("a",)


def test_a_record_deleted_then_restored_is_one_customer_absent_in_the_gap():
    book = Book()
    book.commit("2024-02-01T09:00", a=v(deals=[won(5000, date(2025, 5, 1))]))
    book.commit("2025-09-01T09:00", a=None)
    book.commit("2025-12-01T09:00", a=v(deals=[won(5000, date(2025, 5, 1)), won(5000, date(2025, 12, 1))]))
    report = book.report()
    assert report.migration.cells == {("iron", "iron"): ("a",)}
    assert report.lifecycle.added == ()
    gap = book.report(Period(date(2025, 6, 16), date(2025, 10, 1)))
    assert gap.migration.left == ("a",)
    assert gap.retention.churned[0].reason == "removed"
    after = book.report(Period(date(2025, 10, 1), date(2026, 6, 15)))
    assert after.migration.joined == ("a",) and after.lifecycle.added == ()


def test_author_dates_out_of_order_take_the_latest_commit_made_by_then():
    book = Book()
    book.commit("2025-01-01T09:00", a=v(stage="prospect"))
    book.commit("2025-03-01T09:00", a=v(stage="customer"))
    book.commit("2025-02-01T09:00", b=v())  # a rebase left this one after a later one
    history = book.history
    assert history.position_at_end_of(date(2025, 2, 15)) == 3
    assert history.position_at_end_of(date(2025, 1, 15)) == 1
    assert history.position_at_end_of(date(2023, 1, 1)) == -1


# ---- retention and churn ---------------------------------------------------------------------------


def test_three_of_ten_lost_and_the_churn_reasons():
    book = Book()
    handles = [f"c{i}" for i in range(10)]
    book.commit("2024-02-01T09:00", **{h: v(name=h.upper()) for h in handles})
    for h in handles:
        book.talk(h, "2024-09-01")
    for h in handles[:7]:
        book.talk(h, "2026-01-01")
    book.commit("2026-02-01T09:00", c0=v(name="C0", stage="former"), c1=None)
    book.commit("2026-03-01T09:00", c7=v(name="C7", keep=Duration(30, "d")))
    report = book.report()
    ret = report.retention
    assert len(ret.base) == 10 and ret.lost == ("c7", "c8", "c9") and ret.rate == 0.7
    assert len(ret.churn_base) == 10
    assert [(c.handle, c.reason) for c in ret.churned] == [("c0", "former"), ("c1", "removed"), ("c7", "silent")]
    silent = ret.churned[2]
    assert silent.last_contact == date(2024, 9, 1) and silent.limit == date(2024, 10, 16)  # 30 days and 15
    assert ret.churn_rate == 0.3


def test_silent_counts_from_when_they_were_added_without_any_interaction():
    book = Book()
    book.commit("2026-04-01T09:00", a=v(keep=Duration(30, "d")))
    book.commit("2026-05-20T09:00", b=v(keep=Duration(30, "d")))
    report = book.report(Period(date(2026, 5, 1), TODAY))
    assert [c.handle for c in report.retention.churned] == ["a"]  # b's 45 days have not run out


def test_a_won_deal_makes_a_customer_active():
    book = Book()
    book.commit("2024-02-01T09:00", a=v(deals=[won(100, date(2024, 12, 1)), won(100, date(2026, 1, 1))]))
    assert book.report().retention.retained == ("a",)


def test_keep_in_touch_limits_are_the_ideal_and_half_again():
    settings = Settings()
    assert keep_in_touch_limits(v(keep=Duration(30, "d")), TODAY, settings, None, date(2026, 1, 1)) == (
        date(2026, 1, 31), date(2026, 2, 15))
    assert keep_in_touch_limits(v(), TODAY, settings, "gold", date(2026, 1, 1)) == (date(2026, 2, 1), date(2026, 2, 16))
    assert keep_in_touch_limits(v(), TODAY, settings, None, date(2026, 1, 1)) is None
    assert keep_in_touch_limits(v(stage="former", keep=Duration(1, "w")), TODAY, settings, None, TODAY) is None


# ---- the pyramid -------------------------------------------------------------------------------


def test_two_moved_iron_to_gold_one_down_one_joined_one_left():
    book = Book()
    old = won(5000, date(2025, 3, 1))
    book.commit("2024-02-01T09:00", a=v(deals=[old]), b=v(deals=[old]), c=v(deals=[won(20000, date(2025, 3, 1))]),
                d=v(deals=[old]))
    book.commit("2026-01-15T09:00", a=v(deals=[old, won(20000, date(2026, 1, 15))]),
                b=v(deals=[old, won(16000, date(2026, 1, 15), cost=500)]), e=v())
    book.commit("2026-02-01T09:00", d=None)
    mig = book.report().migration
    assert mig.cells[("iron", "gold")] == ("a", "b")
    assert mig.cells[("gold", "iron")] == ("c",)  # its deal left the twelve months: value 0, still ranked
    assert mig.up == ("a", "b") and mig.down == ("c",) and mig.joined == ("e",) and mig.left == ("d",)
    assert mig.count("iron", "gold") == 2 and mig.count("gold", "gold") == 0


# ---- the life cycle ------------------------------------------------------------------------------


def test_prospects_added_converted_with_the_median_time():
    book = Book()
    book.commit("2025-08-01T09:00", a=v(stage="prospect"))
    book.commit("2025-09-01T09:00", b=v(stage="prospect"), c=v(stage="customer"))
    book.commit("2025-10-01T09:00", a=v(stage="customer"))
    book.commit("2026-01-01T09:00", b=v(stage="customer"))
    book.commit("2026-02-01T09:00", b=v(stage="prospect"))  # back, and customer again: counted once
    book.commit("2026-03-01T09:00", b=v(stage="customer"))
    life = book.report().lifecycle
    assert life.added == ("a", "b", "c") and life.prospects_added == ("a", "b")
    assert life.converted == (("a", 61), ("b", 122)) and life.median_days_to_convert == 91.5


def test_won_lost_cross_sell_and_the_open_pipeline():
    book = Book()
    book.commit("2024-02-01T09:00", a=v(deals=[won(1000, date(2025, 1, 1))]))
    book.commit("2025-07-01T09:00", a=v(deals=[won(1000, date(2025, 1, 1)), won(2000, date(2025, 7, 1)),
                                             Deal("Next", 9000, "open")]),
                b=v(deals=[won(3000, date(2025, 7, 1)), Deal("Gone", 500, "lost", None, date(2025, 8, 1))]))
    life = book.report().lifecycle
    assert [(e.handle, e.amount) for e in life.won] == [("a", 2000), ("b", 3000)] and life.won_value == 5000
    assert [(e.handle, e.amount) for e in life.lost] == [("b", 500)] and life.lost_value == 500
    assert life.cross_sell == ("a",)
    assert [(e.handle, e.title, e.amount) for e in life.open_deals] == [("a", "Next", 9000)] and life.open_value == 9000


def test_a_deal_without_a_date_counts_on_the_day_its_status_was_first_committed():
    book = Book()
    book.commit("2024-02-01T09:00", a=v(deals=[Deal("P", 100, "open")]))
    book.commit("2025-05-01T09:00", a=v(deals=[Deal("P", 100, "won")]))
    book.commit("2025-08-01T09:00", a=v(deals=[Deal("P", 100, "won"), Deal("Q", 50, "open")]))
    book.commit("2025-09-01T09:00", a=v(deals=[Deal("P", 100, "won"), Deal("Q", 50, "won")]))
    report = book.report()
    assert [(e.title, e.day) for e in report.lifecycle.won] == [("Q", date(2025, 9, 1))]
    assert [(e.title, e.day) for e in report.previous_lifecycle.won] == [("P", date(2025, 5, 1))]
    assert report.lifecycle.cross_sell == ("a",)


# ---- referrals ----------------------------------------------------------------------------------


def test_who_brought_whom_as_a_tree_with_the_value_they_brought():
    book = Book()
    book.commit("2024-02-01T09:00", a=v(), b=v(referred_by="a", deals=[won(4000, date(2026, 1, 1), cost=1000)]),
                c=v(referred_by="a"), d=v(referred_by="b", deals=[won(500, date(2026, 2, 1))]),
                e=v(referred_by="nobody"), f=v(referred_by="g"), g=v(referred_by="f"), h=v(referred_by="h"))
    report = book.report()
    tree = {node.handle: node for node in report.referral_tree}
    assert list(tree) == ["a", "nobody", "f"]  # roots; then the circle f <-> g, entered at f
    a = tree["a"]
    assert [kid.handle for kid in a.children] == ["b", "c"]
    assert a.children[0].value == 3000 and [k.handle for k in a.children[0].children] == ["d"]
    assert not tree["nobody"].in_book and tree["nobody"].children[0].handle == "e"
    assert [k.handle for k in tree["f"].children] == ["g"] and tree["f"].children[0].children == ()
    brought = {r.handle: (r.brought, r.value) for r in report.referrers}
    assert brought["a"] == (("b", "c"), 3000) and brought["b"] == (("d",), 500)
    assert "h" not in brought  # referring oneself is no referral
    assert report.referrers[0].handle == "a"


# ---- attention -----------------------------------------------------------------------------------


def test_attention_by_week_kind_tier_and_platinum_gold_in_touch():
    book = Book()
    gold = [won(20000, date(2026, 1, 1))]
    platinum = [won(60000, date(2026, 1, 1))]
    book.commit("2024-02-01T09:00", a=v(deals=gold), b=v(deals=gold), c=v(deals=platinum), d=v(),
                e=v(deals=gold, stage="former"))
    book.talk("a", "2026-06-01", kind="meeting")  # gold: 1 month; in touch
    book.talk("b", "2026-05-01")  # gold; due since 2026-06-01: not within
    book.talk("c", "2026-06-08", "2025-06-20", kind="email")  # platinum: 2 weeks; in touch
    book.talk("d", "2025-06-17", kind="note")
    att = book.report().attention
    assert att.total == 5 and att.by_kind == {"email": 2, "call": 1, "meeting": 1, "note": 1}
    assert att.by_tier == {"platinum": 2, "gold": 2, "unranked": 1}
    assert att.weeks[0] == 2 and att.weeks[50] == 1  # 2025-06-16..22; 2026-06-01..07
    assert [(c.handle, c.within) for c in att.cared] == [("b", False), ("c", True), ("a", True)]
    assert att.within_share == pytest.approx(2 / 3)


def test_an_empty_book_reports_zeros():
    report = Book().report()
    assert report.retention.rate is None and report.retention.churn_rate is None
    assert report.migration.cells == {} and report.lifecycle.median_days_to_convert is None
    assert report.attention.total == 0 and report.attention.within_share is None and report.customers_at_end == 0


def test_percent_never_rounds_to_all_or_none():
    from crmtui.domain.report import percent

    assert [percent(x) for x in (None, 0, 0.0004, 0.7, 0.998, 0.99999, 1)] == [
        "-", "0%", "0.1%", "70%", "99.8%", "99.9%", "100%"]
