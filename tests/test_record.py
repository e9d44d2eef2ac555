import tomllib
from datetime import date, datetime

import pytest

from crmtui.domain.dates import Duration
from crmtui.domain.record import Birthday, Deal, RecordError, customer_from_data, parse_birthday

EXAMPLE = '''
name = "Ana López"
company = "Acme Corp"
title = "CTO"
emails = ["ana@acme.example"]
phones = ["+34 600 123 456"]
tags = ["fintech", "referral"]
stage = "customer"
tier = "gold"
owner = "me"
birthday = 1984-03-12
keep_in_touch = "30d"
referred_by = "ben-schmidt"
notes = """Free text."""
favourite_color = "teal"

[links]
linkedin = "https://www.linkedin.com/in/example"

[[deals]]
title = "Q1 audit"
amount = 12000
cost = 3000
status = "won"
date = 2026-10-01

[[reminders]]
due = 2026-12-01
text = "Send renewal proposal"
every = "3m"
done = 2026-12-02

[[interactions]]
at = 2026-11-20T14:30:00
kind = "call"
summary = "Discussed the Q1 renewal"
'''


def issues_of(data):
    with pytest.raises(RecordError) as caught:
        customer_from_data("x", data)
    return caught.value.issues


def paths_of(data):
    return [issue.path for issue in issues_of(data)]


def test_full_example():
    c = customer_from_data("ana-lopez", tomllib.loads(EXAMPLE))
    assert c.handle == "ana-lopez"
    assert c.name == "Ana López"
    assert (c.company, c.title, c.owner) == ("Acme Corp", "CTO", "me")
    assert c.emails == ["ana@acme.example"]
    assert c.phones == ["+34 600 123 456"]
    assert c.tags == ["fintech", "referral"]
    assert c.stage == "customer"
    assert c.tier_override == "gold"
    assert c.birthday == Birthday(3, 12, 1984)
    assert str(c.birthday) == "1984-03-12"
    assert c.keep_in_touch == Duration(30, "d")
    assert c.referred_by == "ben-schmidt"
    assert c.notes == "Free text."
    assert c.links == {"linkedin": "https://www.linkedin.com/in/example"}
    assert c.deals == [Deal("Q1 audit", 12000, "won", 3000, date(2026, 10, 1))]
    assert c.deals[0].margin == 9000
    [reminder] = c.reminders
    assert (reminder.index, reminder.due, reminder.text) == (0, date(2026, 12, 1), "Send renewal proposal")
    assert reminder.every == Duration(3, "m")
    assert reminder.done == date(2026, 12, 2)
    assert c.open_reminders == []
    [interaction] = c.interactions
    assert interaction.at == datetime(2026, 11, 20, 14, 30)
    assert (interaction.kind, interaction.summary) == ("call", "Discussed the Q1 renewal")
    assert c.last_interaction == interaction
    assert c.extra == {"favourite_color": "teal"}


def test_only_name_is_required():
    c = customer_from_data("bo", {"name": "  Bo  "})
    assert c.name == "Bo"
    assert c.stage == "customer"
    assert c.tier_override is None
    assert c.emails == c.deals == c.reminders == c.interactions == []
    assert c.extra == {}


def test_unknown_keys_are_kept_as_they_are():
    data = {"name": "Bo", "x_score": 7, "custom": {"a": [1, 2]}, "flags": ["vip"]}
    assert customer_from_data("bo", data).extra == {"x_score": 7, "custom": {"a": [1, 2]}, "flags": ["vip"]}


def test_stage_and_tier_are_case_insensitive():
    c = customer_from_data("bo", {"name": "Bo", "stage": "Former", "tier": "PLATINUM"})
    assert (c.stage, c.tier_override) == ("former", "platinum")


def test_a_lone_string_is_a_one_item_list():
    assert customer_from_data("bo", {"name": "Bo", "emails": "bo@x.example"}).emails == ["bo@x.example"]


@pytest.mark.parametrize(
    "data, path",
    [
        ({}, ("name",)),
        ({"name": "   "}, ("name",)),
        ({"name": 42}, ("name",)),
        ({"name": "Bo", "stage": "client"}, ("stage",)),
        ({"name": "Bo", "tier": "bronze"}, ("tier",)),
        ({"name": "Bo", "deals": [{"title": "x", "status": "won"}]}, ("deals", 0, "amount")),
        ({"name": "Bo", "deals": [{"amount": 1}, {"amount": 2, "status": "maybe"}]}, ("deals", 1, "status")),
        ({"name": "Bo", "deals": [{"amount": "100"}]}, ("deals", 0, "amount")),
        ({"name": "Bo", "deals": [{"amount": True}]}, ("deals", 0, "amount")),
        ({"name": "Bo", "deals": [{"amount": 1, "date": "soon"}]}, ("deals", 0, "date")),
        ({"name": "Bo", "deals": {"amount": 1}}, ("deals",)),
        ({"name": "Bo", "reminders": [{"text": "call back"}]}, ("reminders", 0, "due")),
        ({"name": "Bo", "reminders": [{"due": date(2026, 1, 1), "every": "often"}]}, ("reminders", 0, "every")),
        ({"name": "Bo", "interactions": [{"kind": "call"}]}, ("interactions", 0, "at")),
        ({"name": "Bo", "keep_in_touch": "monthly"}, ("keep_in_touch",)),
        ({"name": "Bo", "keep_in_touch": "0d"}, ("keep_in_touch",)),
        ({"name": "Bo", "birthday": "13-45"}, ("birthday",)),
        ({"name": "Bo", "birthday": "02-30"}, ("birthday",)),
        ({"name": "Bo", "emails": ["a@b.example", 3]}, ("emails",)),
        ({"name": "Bo", "emails": 5}, ("emails",)),
        ({"name": "Bo", "tags": [["nested"]]}, ("tags",)),
        ({"name": "Bo", "links": {"site": 1}}, ("links",)),
        ({"name": "Bo", "company": ["Acme"]}, ("company",)),
    ],
)
def test_each_issue_has_its_key_path(data, path):
    issues = issues_of(data)
    assert [i.path for i in issues] == [path]
    assert issues[0].message


def test_every_issue_is_reported_at_once():
    data = {"name": "Bo", "stage": "client", "tier": "bronze", "birthday": "13-45",
            "deals": [{"status": "won"}], "reminders": [{"text": "x"}]}
    assert set(paths_of(data)) == {("stage",), ("tier",), ("birthday",), ("deals", 0, "amount"),
                                   ("reminders", 0, "due")}


@pytest.mark.parametrize(
    "value, expected",
    [
        ("03-12", Birthday(3, 12)),
        ("--03-12", Birthday(3, 12)),
        ("3-7", Birthday(3, 7)),
        ("1984-03-12", Birthday(3, 12, 1984)),
        (date(1984, 3, 12), Birthday(3, 12, 1984)),
        ("02-29", Birthday(2, 29)),
    ],
)
def test_birthdays(value, expected):
    assert parse_birthday(value) == expected


def test_yearless_birthday_in_a_record():
    for text in ("03-12", "--03-12"):
        c = customer_from_data("bo", {"name": "Bo", "birthday": text})
        assert c.birthday == Birthday(3, 12, None)
        assert str(c.birthday) == "03-12"


def test_interactions_are_sorted_oldest_first():
    data = tomllib.loads('''
name = "Bo"
[[interactions]]
at = 2026-05-02T10:00:00
summary = "second"
[[interactions]]
at = 2026-01-01
summary = "first"
[[interactions]]
at = 2026-06-01T08:00:00
kind = "email"
summary = "third"
''')
    c = customer_from_data("bo", data)
    assert [i.summary for i in c.interactions] == ["first", "second", "third"]
    assert c.interactions[0].at == datetime(2026, 1, 1)
    assert c.interactions[0].kind == "note"  # the default kind
    assert c.last_interaction.summary == "third"


def test_open_reminders_sorted_by_due_and_keep_their_index():
    c = customer_from_data("bo", {"name": "Bo", "reminders": [
        {"due": date(2026, 9, 1), "text": "late"},
        {"due": date(2026, 7, 1), "text": "done", "done": date(2026, 7, 2)},
        {"due": date(2026, 6, 1), "text": "early"},
    ]})
    assert [(r.index, r.text) for r in c.open_reminders] == [(2, "early"), (0, "late")]
