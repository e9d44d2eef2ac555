"""Keep-in-touch cadences (domain/cadence.py): ideal and maximum, the bands at each boundary,
where a cadence comes from (record > tag > tier), snoozes, the losing-touch list, and the
crm.toml settings that feed them (tiers, tags, default_kind, due_within)."""

from __future__ import annotations

import tomllib
from datetime import date, datetime, timedelta

import pytest

from crmtui.domain import cadence
from crmtui.domain.cadence import DUE, LAPSED, OK, SNOOZED, SOON, Cadence, parse_cadence, soon_days
from crmtui.domain.dates import DateError, Duration
from crmtui.domain.record import RecordError, customer_from_data
from crmtui.domain.reminders import BIRTHDAY, KEEP_IN_TOUCH, LOSING_TOUCH, due_items, within_days
from crmtui.domain.settings import DEFAULT_SETTINGS_TOML, Settings, settings_from_data

LAST = datetime(2026, 5, 1, 10)  # 30d: ideal 2026-05-31, maximum (+15 days) 2026-06-15
SETTINGS = Settings()


def person(handle="bo", last=LAST, **data):
    data.setdefault("name", handle.title())
    if last is not None:
        data.setdefault("interactions", [{"at": last, "kind": "call", "summary": "chat"}])
    return customer_from_data(handle, data)


def band(today, settings=SETTINGS, **data):
    return cadence.touch(person(**data), today, settings).band


# ---- bands -----------------------------------------------------------------------------------

@pytest.mark.parametrize("today, expected", [
    (date(2026, 5, 2), OK),
    (date(2026, 5, 24), OK),      # the day before the "due soon" window (6 days: a fifth of 30)
    (date(2026, 5, 25), SOON),    # the window opens
    (date(2026, 5, 30), SOON),    # the day before the ideal
    (date(2026, 5, 31), DUE),     # the ideal day itself
    (date(2026, 6, 15), DUE),     # the maximum day itself: not lapsed yet
    (date(2026, 6, 16), LAPSED),  # the day after the maximum
    (date(2027, 1, 1), LAPSED),
])
def test_bands_at_each_boundary_of_a_30_day_cadence(today, expected):
    assert band(today, keep_in_touch="30d") == expected


def test_the_default_maximum_is_the_ideal_and_half_of_it():
    status = cadence.touch(person(keep_in_touch="30d"), date(2026, 6, 1), SETTINGS)
    assert (status.ideal_on, status.max_on) == (date(2026, 5, 31), date(2026, 6, 15))
    monthly = cadence.touch(person(keep_in_touch="1m"), date(2026, 6, 1), SETTINGS)  # May has 31 days: +15
    assert (monthly.ideal_on, monthly.max_on) == (date(2026, 6, 1), date(2026, 6, 16))


def test_an_explicit_maximum_in_the_record():
    data = {"keep_in_touch": {"ideal": "30d", "max": "60d"}}
    assert band(date(2026, 6, 16), **data) == DUE
    assert band(date(2026, 6, 30), **data) == DUE
    assert band(date(2026, 7, 1), **data) == LAPSED
    status = cadence.touch(person(**data), date(2026, 7, 1), SETTINGS)
    assert status.rule == cadence.Rule(Cadence(Duration(30, "d"), Duration(60, "d")), "record")
    assert status.past_max(date(2026, 7, 1)) == 1
    assert "1 day past the maximum" in status.sentence(date(2026, 7, 1))


@pytest.mark.parametrize("interval, window", [(1, 1), (7, 1), (14, 3), (30, 6), (35, 7), (182, 7), (365, 7)])
def test_the_due_soon_window_is_a_week_or_a_fifth_when_shorter(interval, window):
    assert soon_days(interval) == window


def test_a_weekly_cadence_is_due_soon_only_the_day_before():
    assert band(date(2026, 5, 6), keep_in_touch="1w") == OK
    assert band(date(2026, 5, 7), keep_in_touch="1w") == SOON
    assert band(date(2026, 5, 8), keep_in_touch="1w") == DUE


def test_no_status_without_a_cadence_an_interaction_or_for_a_former_customer():
    assert cadence.touch(person(last=None, keep_in_touch="30d"), date(2026, 6, 1), SETTINGS) is None
    assert cadence.touch(person(), date(2026, 6, 1), SETTINGS) is None  # unranked, no tag, no own cadence
    assert cadence.touch(person(stage="former", keep_in_touch="1w"), date(2026, 6, 1), SETTINGS) is None
    far = person(keep_in_touch="1m", last=datetime(9999, 12, 31, 12))
    assert cadence.touch(far, date(2026, 6, 1), SETTINGS) is None  # past the calendar: no crash


# ---- where the cadence comes from ------------------------------------------------------------

TAGGED = settings_from_data(tomllib.loads("""
[keep_in_touch]
gold = { ideal = "1m", max = "2m" }

[keep_in_touch.tags]
fintech = "2w"
Conference = { ideal = "3m", max = "4m" }
"""))


def test_the_record_wins_over_tags_and_tags_over_the_tier():
    gold_fintech = dict(tier="gold", tags=["FinTech"])
    assert cadence.rule(person(**gold_fintech, keep_in_touch="10d"), date(2026, 6, 1), TAGGED).source == "record"
    found = cadence.rule(person(**gold_fintech), date(2026, 6, 1), TAGGED)
    assert found == cadence.Rule(Cadence(Duration(2, "w")), "tag:fintech")  # tags match without case
    found = cadence.rule(person(tier="gold"), date(2026, 6, 1), TAGGED)
    assert found == cadence.Rule(Cadence(Duration(1, "m"), Duration(2, "m")), "tier:gold")
    assert cadence.rule(person(tier="iron"), date(2026, 6, 1), TAGGED).cadence == Cadence(Duration(3, "m"))


def test_of_several_tags_the_shortest_ideal_wins():
    found = cadence.rule(person(tags=["conference", "fintech"]), date(2026, 6, 1), TAGGED)
    assert found.source == "tag:fintech"
    assert cadence.rule(person(tags=["conference"]), date(2026, 6, 1), TAGGED).cadence.max == Duration(4, "m")


def test_a_tag_gives_an_unranked_prospect_a_cadence():
    c = person(tags=["fintech"], stage="prospect")
    [item] = due_items([c], date(2026, 6, 1), TAGGED)
    assert (item.kind, item.due, item.band) == (KEEP_IN_TOUCH, date(2026, 5, 15), LAPSED)  # max: 05-22
    assert item.section(date(2026, 6, 1)) == LOSING_TOUCH


def test_a_tiers_maximum_from_crm_toml():
    status = cadence.touch(person(tier="gold"), date(2026, 6, 20), TAGGED)  # ideal 06-01, max 07-01
    assert (status.band, status.max_on) == (DUE, date(2026, 7, 1))


# ---- snoozes ---------------------------------------------------------------------------------

def test_a_snoozed_keep_in_touch_has_no_item_until_that_day():
    c = person(keep_in_touch="30d", keep_in_touch_snoozed_until=date(2026, 6, 20))
    assert c.keep_in_touch_snoozed_until == date(2026, 6, 20) and "keep_in_touch_snoozed_until" not in c.extra
    assert cadence.touch(c, date(2026, 6, 19), SETTINGS).band == SNOOZED
    assert due_items([c], date(2026, 6, 19), SETTINGS, within=60) == []
    assert cadence.losing_touch([c], date(2026, 6, 19), SETTINGS) == []
    [item] = due_items([c], date(2026, 6, 20), SETTINGS)  # the day comes: it is back, as late as it is
    assert (item.due, item.band) == (date(2026, 5, 31), LAPSED)
    past = person(keep_in_touch="30d", keep_in_touch_snoozed_until=date(2026, 5, 1))
    assert cadence.touch(past, date(2026, 6, 1), SETTINGS).band == DUE  # a snooze in the past is over


def test_a_snoozed_birthday_has_no_item_until_that_day():
    c = person(birthday="06-20", birthday_snoozed_until=date(2026, 6, 18))
    assert due_items([c], date(2026, 6, 17), SETTINGS) == []
    [item] = due_items([c], date(2026, 6, 18), SETTINGS)
    assert (item.kind, item.due) == (BIRTHDAY, date(2026, 6, 20))
    wished = person(birthday="06-20", birthday_snoozed_until=date(2026, 6, 21))  # done: until the day after
    assert due_items([wished], date(2026, 6, 20), SETTINGS) == []
    assert [i.due for i in due_items([wished], date(2026, 6, 21), SETTINGS, within=365)] == [date(2027, 6, 20)]


# ---- the losing-touch list and the sections --------------------------------------------------

def test_losing_touch_is_sorted_by_how_far_past_the_maximum():
    today = date(2026, 7, 1)
    near = person("near", keep_in_touch="30d", last=datetime(2026, 5, 10))  # max 06-24: 7 days past
    far = person("far", keep_in_touch="2w", last=datetime(2026, 5, 1))  # max 05-22: 40 days past
    fine = person("fine", keep_in_touch="30d", last=datetime(2026, 6, 20))
    due = person("due", keep_in_touch="30d", last=datetime(2026, 5, 25))  # past the ideal, not the maximum
    rows = cadence.losing_touch([near, fine, far, due], today, SETTINGS)
    assert [(c.handle, s.past_max(today)) for c, s in rows] == [("far", 40), ("near", 7)]
    sections = {i.handle: i.section(today) for i in due_items([near, far, fine, due], today, SETTINGS)}
    assert sections == {"near": LOSING_TOUCH, "far": LOSING_TOUCH, "due": "overdue"}


def test_keep_in_touch_items_carry_their_band_and_maximum():
    [item] = due_items([person(keep_in_touch="30d")], date(2026, 5, 26), SETTINGS)
    assert (item.band, item.max_due, item.due) == (SOON, date(2026, 6, 15), date(2026, 5, 31))
    [item] = due_items([person(keep_in_touch="30d")], date(2026, 6, 16), SETTINGS)
    assert item.band == LAPSED and item.text.endswith("; lapsed 2026-06-15)")
    assert "every 30 days" in item.text and "last call 2026-05-01" in item.text


# ---- reading cadences ------------------------------------------------------------------------

def test_parse_cadence_forms():
    assert parse_cadence("30d") == Cadence(Duration(30, "d"))
    assert parse_cadence({"ideal": "1m", "max": "6w"}) == Cadence(Duration(1, "m"), Duration(6, "w"))
    assert parse_cadence({"ideal": "1m"}) == Cadence(Duration(1, "m"))
    for bad in ({"max": "2m"}, {"ideal": "1m", "maximum": "2m"}, {"ideal": "2m", "max": "1m"}, "often", 30, True):
        with pytest.raises(DateError):
            parse_cadence(bad)
    assert str(Cadence(Duration(1, "m"), Duration(6, "w"))) == "1m (max 6w)"


def test_a_record_with_a_maximum_shorter_than_the_ideal_loads_and_says_so():
    c = person(keep_in_touch={"ideal": "30d", "max": "1w"})
    assert c.keep_in_touch_max == Duration(1, "w")
    assert [i.path for i in c.issues] == [("keep_in_touch", "max")]
    status = cadence.touch(c, date(2026, 6, 1), SETTINGS)
    assert status.max_on == status.ideal_on  # never before the ideal
    with pytest.raises(RecordError):
        person(keep_in_touch={"ideal": "30d", "mx": "45d"})


# ---- crm.toml --------------------------------------------------------------------------------

def test_the_default_settings_text_gives_the_defaults():
    settings = settings_from_data(tomllib.loads(DEFAULT_SETTINGS_TOML))
    assert (settings.default_kind, settings.due_within) == ("call", Duration(14, "d"))
    assert settings.tag_cadences == {} and settings.cadence_max == {}
    assert within_days(settings, date(2026, 6, 15)) == 14
    # the commented example table, uncommented, is valid
    text = DEFAULT_SETTINGS_TOML.replace("# [keep_in_touch.tags]", "[keep_in_touch.tags]")
    text = text.replace('# fintech = "2w"', 'fintech = "2w"').replace("# conference =", "conference =")
    settings = settings_from_data(tomllib.loads(text))
    assert settings.tag_cadences == {"fintech": Cadence(Duration(2, "w")),
                                     "conference": Cadence(Duration(3, "m"), Duration(6, "m"))}


def test_default_kind_and_due_within():
    settings = settings_from_data({"default_kind": "Email", "due_within": "2w"})
    assert (settings.default_kind, within_days(settings, date(2026, 6, 15))) == ("email", 14)
    assert within_days(settings_from_data({"due_within": 30}), date(2026, 6, 15)) == 30
    assert within_days(settings_from_data({"due_within": 0}), date(2026, 6, 15)) == 0
    assert within_days(settings_from_data({"due_within": "1m"}), date(2026, 6, 15)) == 30
    # a book whose kinds leave out call defaults to its first kind
    assert settings_from_data({"interaction_kinds": ["visit", "mail"]}).default_kind == "visit"


@pytest.mark.parametrize("data, path", [
    ({"default_kind": "fax"}, ("default_kind",)),
    ({"default_kind": 3}, ("default_kind",)),
    ({"due_within": "soon"}, ("due_within",)),
    ({"due_within": -1}, ("due_within",)),
    ({"due_within": "200y"}, ("due_within",)),
    ({"keep_in_touch": {"gold": {"ideal": "2m", "max": "1m"}}}, ("keep_in_touch", "gold")),
    ({"keep_in_touch": {"fintech": "2w"}}, ("keep_in_touch", "fintech")),  # a tag in the tiers' table
    ({"keep_in_touch": {"tags": {"fintech": "often"}}}, ("keep_in_touch", "tags", "fintech")),
    ({"keep_in_touch": {"tags": "fintech"}}, ("keep_in_touch", "tags")),
    ({"keep_in_touch": "2w"}, ("keep_in_touch",)),
])
def test_bad_settings_are_refused_with_their_key(data, path):
    with pytest.raises(RecordError) as error:
        settings_from_data(data)
    assert [i.path for i in error.value.issues] == [path]
    assert str(error.value)  # one sentence per issue


def test_tags_do_not_mean_tiers():
    with pytest.raises(RecordError) as error:
        settings_from_data({"keep_in_touch": {"fintech": "2w"}})
    assert "[keep_in_touch.tags]" in str(error.value)


def test_within_days_beyond_the_calendar():
    settings = settings_from_data({"due_within": "100y"})
    assert within_days(settings, date(9990, 1, 1)) == (date.max - date(9990, 1, 1)).days
    assert timedelta(days=within_days(settings, date(2026, 1, 1))) > timedelta(days=36000)
