from datetime import date

import pytest

from crmtui.domain.record import customer_from_data
from crmtui.domain.settings import Settings, Thresholds
from crmtui.domain.tiers import UNRANKED, computed_tier, pyramid, standing, value

TODAY = date(2026, 6, 15)
SETTINGS = Settings()  # platinum 50000, gold 15000, iron 0


def person(handle="bo", name=None, tier=None, deals=()):
    data = {"name": name or handle.title(), "deals": [dict(d) for d in deals]}
    if tier:
        data["tier"] = tier
    return customer_from_data(handle, data)


def won(amount, when=None, cost=None):
    deal = {"amount": amount, "status": "won"}
    if when:
        deal["date"] = when
    if cost is not None:
        deal["cost"] = cost
    return deal


def test_value_is_won_deals_of_the_trailing_year_minus_cost():
    c = person(deals=[
        won(12000, date(2026, 1, 10), cost=3000),   # 9000
        won(1000, date(2025, 6, 16)),               # just inside the window
        won(5000, date(2025, 6, 15)),               # exactly a year ago: outside
        won(7000, date(2024, 3, 1)),                # long ago
        won(4000, date(2026, 7, 1)),                # in the future: not yet
    ])
    assert value(c, TODAY) == 10000


def test_undated_won_deals_count():
    assert value(person(deals=[won(2500), won(500, cost=100)]), TODAY) == 2900


def test_lost_and_open_deals_do_not_count():
    c = person(deals=[
        {"amount": 90000, "status": "lost", "date": date(2026, 5, 1)},
        {"amount": 90000, "status": "open"},
        {"amount": 90000},  # no status: open
        won(100),
    ])
    assert value(c, TODAY) == 100
    assert computed_tier(c, TODAY, SETTINGS.thresholds) == "iron"


@pytest.mark.parametrize(
    "amount, expected",
    [
        (50000, "platinum"),
        (49999, "gold"),
        (15000, "gold"),
        (14999.5, "iron"),
        (0, "iron"),
        (-1, "lead"),
    ],
)
def test_thresholds(amount, expected):
    c = person(deals=[won(amount)] if amount >= 0 else [won(1000, cost=1000 - amount)])
    assert computed_tier(c, TODAY, SETTINGS.thresholds) == expected


def test_custom_thresholds():
    thresholds = Thresholds(platinum=1000, gold=500, iron=100)
    assert computed_tier(person(deals=[won(1000)]), TODAY, thresholds) == "platinum"
    assert computed_tier(person(deals=[won(600)]), TODAY, thresholds) == "gold"
    assert computed_tier(person(deals=[won(100)]), TODAY, thresholds) == "iron"
    assert computed_tier(person(deals=[won(50)]), TODAY, thresholds) == "lead"  # below iron's threshold


def test_negative_value_is_lead():
    c = person(deals=[won(2000, cost=5000)])
    assert value(c, TODAY) == -3000
    assert computed_tier(c, TODAY, SETTINGS.thresholds) == "lead"


def test_no_won_deal_is_unranked():
    assert computed_tier(person(), TODAY, SETTINGS.thresholds) is None
    c = person(deals=[{"amount": 100000, "status": "open"}, {"amount": 5, "status": "lost"}])
    assert computed_tier(c, TODAY, SETTINGS.thresholds) is None
    st = standing(c, TODAY, SETTINGS)
    assert (st.tier, st.computed, st.override, st.disagrees) == (None, None, None, False)


def test_a_won_deal_outside_the_window_ranks_at_zero():
    c = person(deals=[won(100000, date(2020, 1, 1))])
    assert value(c, TODAY) == 0
    assert computed_tier(c, TODAY, SETTINGS.thresholds) == "iron"


def test_override_wins_and_disagrees():
    c = person(tier="platinum", deals=[won(20000)])
    st = standing(c, TODAY, SETTINGS)
    assert (st.value, st.computed, st.override, st.tier) == (20000, "gold", "platinum", "platinum")
    assert st.disagrees


def test_override_that_agrees():
    st = standing(person(tier="gold", deals=[won(20000)]), TODAY, SETTINGS)
    assert st.tier == "gold"
    assert not st.disagrees


def test_override_on_an_unranked_prospect_disagrees():
    st = standing(person(tier="iron"), TODAY, SETTINGS)
    assert (st.tier, st.computed, st.disagrees) == ("iron", None, True)


def test_pyramid_rows_and_counts():
    customers = [
        person("pat", "Pat", deals=[won(60000)]),
        person("gus", "Gus", deals=[won(20000)]),
        person("gia", "Gia", deals=[won(30000)]),
        person("ivy", "Ivy", deals=[won(10)]),
        person("leo", "Leo", deals=[won(10, cost=510)]),
        person("ovi", "Ovi", tier="gold", deals=[won(5)]),   # override puts an iron into gold
        person("pia", "Pia"),                               # prospect
        person("pax", "Pax"),
    ]
    rows = pyramid(customers, TODAY, SETTINGS)
    assert [r.tier for r in rows] == ["platinum", "gold", "iron", "lead", UNRANKED]
    by_tier = {r.tier: r for r in rows}
    assert (by_tier["platinum"].count, by_tier["platinum"].value, by_tier["platinum"].handles) == (1, 60000, ("pat",))
    # within a tier, highest value first
    assert by_tier["gold"].handles == ("gia", "gus", "ovi")
    assert (by_tier["gold"].count, by_tier["gold"].value) == (3, 50005)
    assert (by_tier["iron"].count, by_tier["iron"].value) == (1, 10)
    assert (by_tier["lead"].count, by_tier["lead"].value) == (1, -500)
    assert by_tier[UNRANKED].handles == ("pax", "pia")  # equal value: by name
    assert sum(r.count for r in rows) == len(customers)


def test_empty_pyramid():
    rows = pyramid([], TODAY, SETTINGS)
    assert [(r.tier, r.count, r.value) for r in rows] == [
        ("platinum", 0, 0), ("gold", 0, 0), ("iron", 0, 0), ("lead", 0, 0), (UNRANKED, 0, 0)]
