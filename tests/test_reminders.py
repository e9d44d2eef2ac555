from datetime import date, datetime

import pytest

from crmtui.domain.dates import Duration
from crmtui.domain.record import Birthday, Reminder, customer_from_data
from crmtui.domain.reminders import (
    BIRTHDAY, KEEP_IN_TOUCH, REMINDER, DueItem, advance, cadence, due_items, next_birthday,
)
from crmtui.domain.settings import Settings

TODAY = date(2026, 6, 15)
SETTINGS = Settings()  # cadences: platinum 2w, gold 1m, iron 3m, lead 6m


def person(handle="bo", **data):
    data.setdefault("name", handle.title())
    return customer_from_data(handle, data)


def call(at):
    return {"at": at, "kind": "call", "summary": "chat"}


def kinds(items):
    return [(i.handle, i.kind, i.due) for i in items]


def test_explicit_reminders_within_the_horizon():
    c = person(reminders=[
        {"due": date(2026, 6, 10), "text": "overdue"},
        {"due": date(2026, 6, 20), "text": "soon"},
        {"due": date(2026, 6, 23), "text": "too far for a week"},
        {"due": date(2026, 6, 1), "text": "already done", "done": date(2026, 6, 2)},
    ])
    items = due_items([c], TODAY, SETTINGS, within=7)
    assert [(i.kind, i.text, i.reminder_index) for i in items] == [
        (REMINDER, "overdue", 0), (REMINDER, "soon", 1)]
    assert len(due_items([c], TODAY, SETTINGS)) == 3  # crm.toml's due_within: 14 days by default
    assert [i.text for i in due_items([c], TODAY, SETTINGS, within=8)] == ["overdue", "soon", "too far for a week"]


def test_reminder_without_text_gets_a_label():
    [item] = due_items([person(reminders=[{"due": TODAY}])], TODAY, SETTINGS)
    assert item.text == "(reminder)"


def test_birthday_with_a_year_says_the_age():
    [item] = due_items([person(birthday=date(1984, 6, 18))], TODAY, SETTINGS)
    assert (item.kind, item.due, item.text) == (BIRTHDAY, date(2026, 6, 18), "Birthday (42)")


def test_yearless_birthday():
    [item] = due_items([person(birthday="06-15")], TODAY, SETTINGS)
    assert (item.kind, item.due, item.text) == (BIRTHDAY, TODAY, "Birthday")


def test_birthday_already_past_this_year_is_next_year():
    assert next_birthday(Birthday(6, 14), TODAY) == date(2027, 6, 14)
    assert due_items([person(birthday="06-14")], TODAY, SETTINGS, within=30) == []
    [item] = due_items([person(birthday=date(1990, 6, 14))], TODAY, SETTINGS, within=365)
    assert (item.due, item.text) == (date(2027, 6, 14), "Birthday (37)")


def test_feb_29_on_a_non_leap_year_falls_on_feb_28():
    assert next_birthday(Birthday(2, 29, 2000), date(2027, 2, 1)) == date(2027, 2, 28)
    assert next_birthday(Birthday(2, 29), date(2028, 2, 1)) == date(2028, 2, 29)
    [item] = due_items([person(birthday=date(2000, 2, 29))], date(2027, 2, 25), SETTINGS)
    assert (item.due, item.text) == (date(2027, 2, 28), "Birthday (27)")


def test_keep_in_touch_from_the_last_interaction_and_the_record_cadence():
    c = person(keep_in_touch="30d", interactions=[call(datetime(2026, 4, 1, 10)), call(datetime(2026, 5, 1, 10))])
    [item] = due_items([c], TODAY, SETTINGS)
    assert item.kind == KEEP_IN_TOUCH
    assert item.due == date(2026, 5, 31)
    assert "every 30 days" in item.text and "last call 2026-05-01" in item.text


def test_keep_in_touch_uses_the_tier_default_from_settings():
    gold = person(tier="gold", interactions=[call(datetime(2026, 5, 10, 9))])
    assert cadence(gold, TODAY, SETTINGS) == Duration(1, "m")
    [item] = due_items([gold], TODAY, SETTINGS)
    assert item.due == date(2026, 6, 10)
    iron = person(deals=[{"amount": 10, "status": "won"}], interactions=[call(datetime(2026, 3, 20, 9))])
    assert cadence(iron, TODAY, SETTINGS) == Duration(3, "m")
    [item] = due_items([iron], TODAY, SETTINGS)
    assert item.due == date(2026, 6, 20)
    custom = Settings(cadences={**SETTINGS.cadences, "gold": Duration(1, "w")})
    [item] = due_items([gold], TODAY, custom)
    assert item.due == date(2026, 5, 17)


def test_no_keep_in_touch_for_former_customers():
    c = person(stage="former", keep_in_touch="1w", tier="platinum", interactions=[call(datetime(2026, 1, 1))])
    assert cadence(c, TODAY, SETTINGS) is None
    assert due_items([c], TODAY, SETTINGS) == []


def test_no_keep_in_touch_without_interactions_or_cadence():
    assert due_items([person(keep_in_touch="1w")], TODAY, SETTINGS) == []
    unranked = person(interactions=[call(datetime(2025, 1, 1))])
    assert cadence(unranked, TODAY, SETTINGS) is None
    assert due_items([unranked], TODAY, SETTINGS) == []


def test_keep_in_touch_not_yet_due():
    c = person(keep_in_touch="30d", interactions=[call(datetime(2026, 6, 1))])
    assert due_items([c], TODAY, SETTINGS) == []
    assert [i.due for i in due_items([c], TODAY, SETTINGS, within=16)] == [date(2026, 7, 1)]


def test_ordering_overdue_first_then_by_date_then_name():
    ann = person("ann", name="Ann", reminders=[{"due": date(2026, 6, 20), "text": "a"}])
    zed = person("zed", name="Zed", reminders=[{"due": date(2026, 6, 1), "text": "z"}], birthday="06-15")
    bob = person("bob", name="Bob", reminders=[{"due": date(2026, 6, 20), "text": "b"}, {"due": TODAY, "text": "t"}])
    items = due_items([ann, zed, bob], TODAY, SETTINGS)
    assert kinds(items) == [
        ("zed", REMINDER, date(2026, 6, 1)),
        ("bob", REMINDER, TODAY),
        ("zed", BIRTHDAY, TODAY),
        ("ann", REMINDER, date(2026, 6, 20)),
        ("bob", REMINDER, date(2026, 6, 20)),
    ]


def test_within_zero_is_overdue_and_today_only():
    c = person(reminders=[{"due": date(2026, 6, 1)}, {"due": TODAY}, {"due": date(2026, 6, 16)}])
    assert [i.due for i in due_items([c], TODAY, SETTINGS, within=0)] == [date(2026, 6, 1), TODAY]
    assert len(due_items([c], TODAY, SETTINGS, within=1)) == 3


def test_advance_a_recurring_reminder_past_today():
    monthly = Reminder(0, date(2026, 1, 15), "invoice", every=Duration(1, "m"))
    assert advance(monthly, TODAY) == date(2026, 7, 15)  # Jun 15 is today: not past it yet
    weekly = Reminder(0, date(2026, 6, 15), "standup", every=Duration(1, "w"))
    assert advance(weekly, TODAY) == date(2026, 6, 22)
    future = Reminder(0, date(2026, 9, 1), "q", every=Duration(3, "m"))
    assert advance(future, TODAY) == date(2026, 12, 1)  # moves one step even when not yet due
    assert advance(Reminder(0, date(2026, 6, 1), "once"), TODAY) is None


@pytest.mark.parametrize(
    "due, bucket",
    [
        (date(2026, 6, 14), "overdue"),
        (date(2025, 1, 1), "overdue"),
        (TODAY, "today"),
        (date(2026, 6, 16), "week"),
        (date(2026, 6, 22), "week"),
        (date(2026, 6, 23), "later"),
    ],
)
def test_bucket(due, bucket):
    assert DueItem("bo", "Bo", REMINDER, due, "x").bucket(TODAY) == bucket


def test_a_far_future_interaction_does_not_break_the_list():
    odd = person("odd", keep_in_touch="1m", interactions=[call(datetime(9999, 12, 31, 12))])
    fine = person("fine", reminders=[{"due": TODAY, "text": "call"}])
    assert kinds(due_items([odd, fine], TODAY, SETTINGS, within=10**8)) == [("fine", REMINDER, TODAY)]


def test_within_beyond_the_calendar():
    c = person(reminders=[{"due": date(9999, 12, 31), "text": "far"}])
    assert [i.text for i in due_items([c], TODAY, SETTINGS, within=10**9)] == ["far"]
