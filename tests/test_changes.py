import copy
import tomllib

import pytest

from crmtui.domain.changes import describe_change, edit_subject

BASE = tomllib.loads('''
name = "Ana López"
company = "Acme Corp"
emails = ["ana@acme.example"]
tags = ["fintech"]
tier = "iron"
notes = "Met at the fintech meetup."

[[deals]]
title = "Q1 audit"
amount = 12000
status = "open"

[[reminders]]
due = 2026-12-01
text = "Send renewal proposal"

[[interactions]]
at = 2026-11-20T14:30:00
kind = "call"
summary = "Discussed the Q1 renewal"
''')


def changed(**updates):
    new = copy.deepcopy(BASE)
    for key, value in updates.items():
        if value is None:
            new.pop(key, None)
        else:
            new[key] = value
    return new


def test_added_and_deleted():
    assert describe_change(None, BASE) == ["added"]
    assert describe_change(BASE, None) == ["deleted"]
    assert describe_change(None, None) == []


def test_no_change():
    assert describe_change(BASE, copy.deepcopy(BASE)) == []


def test_tier_change():
    assert describe_change(BASE, changed(tier="gold")) == ["tier: iron -> gold"]
    assert describe_change(BASE, changed(tier=None)) == ["tier: iron -> none"]


def test_one_more_interaction():
    new = copy.deepcopy(BASE)
    new["interactions"].append({"at": "2026-12-01T10:00:00", "kind": "email", "summary": "Sent it"})
    assert describe_change(BASE, new) == ["+1 interaction"]


def test_two_interactions_removed():
    old = copy.deepcopy(BASE)
    old["interactions"] *= 3
    old["interactions"][1] = dict(old["interactions"][1], summary="other")
    assert describe_change(old, BASE) == ["-2 interactions"]


def test_email_added_and_removed():
    assert describe_change(BASE, changed(emails=["ana@acme.example", "ana@home.example"])) == [
        "email added: ana@home.example"]
    assert describe_change(BASE, changed(emails=["ana@new.example"])) == [
        "email added: ana@new.example", "email removed: ana@acme.example"]
    assert describe_change(BASE, changed(emails=None)) == ["email removed: ana@acme.example"]


def test_tag_added():
    assert describe_change(BASE, changed(tags=["fintech", "vip"])) == ["tag added: vip"]


def test_reminder_done():
    new = copy.deepcopy(BASE)
    new["reminders"][0]["done"] = "2026-12-02"
    assert describe_change(BASE, new) == ["reminder done: Send renewal proposal"]


def test_reminder_moved():
    new = copy.deepcopy(BASE)
    new["reminders"][0]["due"] = "2027-03-01"
    assert describe_change(BASE, new) == ["reminder moved to 2027-03-01: Send renewal proposal"]


def test_deal_won():
    new = copy.deepcopy(BASE)
    new["deals"][0]["status"] = "won"
    assert describe_change(BASE, new) == ["deal won: Q1 audit"]


def test_deal_amount_changed():
    new = copy.deepcopy(BASE)
    new["deals"][0]["amount"] = 13000
    assert describe_change(BASE, new) == ["1 deal changed"]


def test_notes_changed():
    assert describe_change(BASE, changed(notes="New notes.")) == ["notes changed"]


def test_links():
    old = changed(links={"site": "https://a.example", "x": "https://x.example"})
    new = changed(links={"site": "https://b.example", "linkedin": "https://l.example"})
    assert sorted(describe_change(old, new)) == ["link added: linkedin", "link changed: site", "link removed: x"]


def test_unknown_key_changed():
    assert describe_change(changed(score=1), changed(score=2)) == ["score changed"]
    assert describe_change(BASE, changed(favourite="teal")) == ["favourite changed"]


def test_several_changes_at_once():
    phrases = describe_change(BASE, changed(company="Acme Inc", tier="gold", notes="x"))
    assert phrases == ["company: Acme Corp -> Acme Inc", "tier: iron -> gold", "notes changed"]


@pytest.mark.parametrize(
    "phrases, subject",
    [
        (["tier: iron -> gold"], "Tier of Ana López: iron -> gold"),
        ([], "Edit Ana López"),
        (["notes changed"], "Edit Ana López: notes changed"),
        (["tier: iron -> gold", "notes changed"], "Edit Ana López: tier: iron -> gold, notes changed"),
        (["a", "b", "c", "d", "e"], "Edit Ana López: a, b, c, and 2 more"),
    ],
)
def test_edit_subject(phrases, subject):
    assert edit_subject("Ana López", phrases) == subject


def test_edit_subject_outside():
    assert edit_subject("Ana López", ["notes changed"], outside="ana-lopez.toml") == "Edit ana-lopez.toml outside crmtui"


def test_edit_subject_from_a_real_change():
    assert edit_subject("Ana López", describe_change(BASE, changed(tier="gold"))) == "Tier of Ana López: iron -> gold"
