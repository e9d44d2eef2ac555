"""The CLI of reminders on real books: remind, snooze (a reminder, a keep-in-touch item, a
birthday), due with its losing-touch list, and crm.toml's default_kind and due_within."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

# today is 2026-06-15 (CRMTUI_NOW in conftest)


def git(book: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(book), *args], check=True, capture_output=True, text=True).stdout


def subjects(book: Path) -> list[str]:
    return git(book, "log", "--format=%s").splitlines()


def ok(result) -> str:
    code, out, err = result
    assert code == 0, result
    assert "Traceback" not in err
    return out


def refused(result, code: int | None = None) -> str:
    exit_code, _, err = result
    assert exit_code != 0 and (code is None or exit_code == code), result
    assert "Traceback" not in err and len(err.splitlines()) == 1 and err.startswith("crmtui: "), err
    return err.strip()


def as_json(result):
    return json.loads(ok(result))


def record(book: Path, handle: str) -> str:
    return (book / "customers" / f"{handle}.toml").read_text("utf-8")


def set_setting(book: Path, old: str, new: str) -> None:
    path = book / "crm.toml"
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")


@pytest.fixture
def people(cli, book):
    """Ana: 30d cadence, last call 2026-05-01 (ideal 05-31, maximum 06-15: due); a birthday on 06-20.
    Ben: 2w cadence, last call 2026-05-01 (maximum 05-22: losing touch). Greta: nothing to be reminded of."""
    ok(cli("add", "Ana López", "--company", "Acme", "--birthday", "1984-06-20", "--keep-in-touch", "30d",
           "--stage", "customer"))
    ok(cli("add", "Ben Schmidt", "--keep-in-touch", "2w", "--tag", "fintech"))
    ok(cli("add", "Greta Lindqvist"))
    ok(cli("log", "ana", "first call", "--at", "2026-05-01T10:00"))
    ok(cli("log", "ben", "intro call", "--at", "2026-05-01T11:00"))
    return book


# ---- remind ----------------------------------------------------------------------------------

def test_remind_adds_a_reminder_and_commits(cli, people):
    out = ok(cli("remind", "ana", "2w", "Send", "the", "renewal", "proposal"))
    assert out.strip() == "Reminder for Ana López on 2026-06-29: Send the renewal proposal"
    assert subjects(people)[0] == "Remind: Send the renewal proposal (Ana López) on 2026-06-29"
    assert '[[reminders]]\ndue = 2026-06-29\ntext = "Send the renewal proposal"\n' in record(people, "ana-lopez")
    items = as_json(cli("due", "--json"))
    assert ("reminder", "2026-06-29", "Send the renewal proposal") in [(i["kind"], i["due"], i["text"]) for i in items]
    assert git(people, "status", "--porcelain") == ""


def test_remind_every_repeats_and_done_moves_it_forward(cli, people):
    out = ok(cli("remind", "greta", "2026-07-01", "Monthly invoice", "--every", "1m"))
    assert out.strip() == "Reminder for Greta Lindqvist on 2026-07-01: Monthly invoice; repeats every 1 month"
    assert "Repeats every 1 month." in git(people, "log", "-1", "--format=%b")
    assert 'every = "1m"' in record(people, "greta-lindqvist")
    assert "next due 2026-08-01" in ok(cli("done", "greta", "invoice"))


@pytest.mark.parametrize("args, words", [
    (["ana", "yesterday", "x"], "in the past"),
    (["ana", "soon", "x"], "not a date"),
    (["ana", "2w", " "], "text is empty"),
    (["ana", "2w", "x", "--every", "often"], "not a duration"),
    (["ana", "2w", "x", "--every", "200y"], "longer than 100 years"),
    (["ana", "200y", "x"], "years"),
    (["nobody-at-all", "2w", "x"], ""),
])
def test_remind_refuses_with_one_sentence(cli, people, args, words):
    before = subjects(people)
    assert words in refused(cli("remind", *args))
    assert subjects(people) == before


def test_remind_and_snooze_are_listed_after_done(run_cli):
    out = ok(run_cli("--help"))
    order = [out.index(f"    {name} ") for name in ("due", "done", "remind", "snooze")]
    assert order == sorted(order)
    assert "crmtui remind ana 2w" in ok(run_cli("remind", "--help"))
    assert "keep_in_touch_snoozed_until" in ok(run_cli("snooze", "--help"))


# ---- snooze ----------------------------------------------------------------------------------

def test_snooze_a_reminder_by_its_words_or_the_earliest(cli, people):
    ok(cli("remind", "ana", "2026-06-16", "Call about the budget"))
    ok(cli("remind", "ana", "2026-06-18", "Send the slides"))
    out = ok(cli("snooze", "ana", "1w", "slides"))
    assert out.strip() == "Snoozed: Send the slides (Ana López) to 2026-06-22"
    assert subjects(people)[0] == "Snooze: Send the slides (Ana López) to 2026-06-22"
    # without words: the earliest of the open reminders and the keep-in-touch item (05-31)
    out = ok(cli("snooze", "ana", "3d"))
    assert out.strip() == "Snoozed: Keep in touch (Ana López) to 2026-06-18"
    out = ok(cli("snooze", "ana", "3d"))
    assert out.strip() == "Snoozed: Call about the budget (Ana López) to 2026-06-18"


def test_snoozing_keep_in_touch_writes_a_plain_key_and_logging_ends_it(cli, people):
    out = ok(cli("snooze", "ben", "2026-06-20", "keep", "in", "touch"))
    assert out.strip() == "Snoozed: Keep in touch (Ben Schmidt) to 2026-06-20"
    text = record(people, "ben-schmidt")
    assert "keep_in_touch_snoozed_until = 2026-06-20\n" in text
    assert subjects(people)[0] == "Snooze: Keep in touch (Ben Schmidt) to 2026-06-20"
    assert [i["handle"] for i in as_json(cli("due", "--json", "--within", "60"))] == ["ana-lopez", "ana-lopez"]
    assert as_json(cli("due", "--losing-touch", "--json")) == []
    assert "snooze" not in json.dumps(as_json(cli("show", "ben", "--json"))["extra"])  # a known key, not an extra
    ok(cli("log", "ben", "called him back"))  # getting in touch ends the snooze
    assert "keep_in_touch_snoozed_until" not in record(people, "ben-schmidt")
    assert git(people, "status", "--porcelain") == ""


def test_snoozing_a_birthday_up_to_the_day(cli, people):
    out = ok(cli("snooze", "ana", "2026-06-19", "birthday"))
    assert out.strip() == "Snoozed: Birthday (Ana López) to 2026-06-19"
    assert "birthday_snoozed_until = 2026-06-19" in record(people, "ana-lopez")
    assert "birthday" not in [i["kind"] for i in as_json(cli("due", "--json"))]
    assert "up to the day itself (2026-06-20)" in refused(cli("snooze", "ana", "2026-06-21", "birthday"))


def test_snooze_refuses_with_one_sentence(cli, people):
    assert "nothing to snooze" in refused(cli("snooze", "greta", "1w"))
    ok(cli("add", "Dora New", "--keep-in-touch", "1m"))
    assert "clock has not started" in refused(cli("snooze", "dora", "1w"))
    assert "after today" in refused(cli("snooze", "ana", "today"))
    assert "not a date" in refused(cli("snooze", "ana", "whenever"))
    ok(cli("remind", "ana", "1w", "Send the slides"))
    ok(cli("remind", "ana", "2w", "Send the contract"))
    err = refused(cli("snooze", "ana", "1w", "send"), code=2)  # ambiguous: the candidates are listed
    assert "Send the slides" in err and "Send the contract" in err and "Keep in touch" in err


# ---- due -------------------------------------------------------------------------------------

def test_due_has_a_losing_touch_section_first(cli, people):
    out = ok(cli("due"))
    assert out.index("Losing touch (1)") < out.index("Overdue (1)")
    losing = out[out.index("Losing touch"):out.index("Overdue")]
    assert "Ben Schmidt" in losing and "2026-05-22" in losing and "Ana" not in losing
    items = {i["handle"]: i for i in as_json(cli("due", "--json")) if i["kind"] == "keep-in-touch"}
    assert (items["ben-schmidt"]["band"], items["ben-schmidt"]["max"]) == ("lapsed", "2026-05-22")
    assert (items["ana-lopez"]["band"], items["ana-lopez"]["max"]) == ("due", "2026-06-15")
    assert items["ben-schmidt"]["bucket"] == "overdue"  # the bucket stays the day's; band tells the rest


def test_due_losing_touch_lists_the_longest_past_the_maximum_first(cli, people):
    ok(cli("add", "Chen Jing", "--keep-in-touch", "1w"))
    ok(cli("log", "chen", "met", "--at", "2026-06-01T09:00"))  # ideal 06-08, maximum 06-11: 4 days past
    rows = as_json(cli("due", "--losing-touch", "--json"))
    assert [(r["handle"], r["days_past_max"], r["source"]) for r in rows] == [
        ("ben-schmidt", 24, "record"), ("chen-jing", 4, "record")]
    assert rows[0] | {"company": ""} == {
        "handle": "ben-schmidt", "name": "Ben Schmidt", "company": "", "last": "2026-05-01", "last_kind": "call",
        "ideal": "2w", "max": None, "source": "record", "ideal_due": "2026-05-15", "max_due": "2026-05-22",
        "days_past_max": 24}
    out = ok(cli("due", "--losing-touch"))
    assert out.index("Ben Schmidt") < out.index("Chen Jing") and "24 days past max" in out


def test_an_empty_losing_touch_list(cli, book):
    assert ok(cli("due", "--losing-touch")).strip() == "Nobody is past their maximum keep-in-touch interval."
    assert as_json(cli("due", "--losing-touch", "--json")) == []


def test_a_record_maximum_and_a_tag_cadence_from_crm_toml(cli, people):
    path = people / "customers" / "ana-lopez.toml"
    path.write_text(path.read_text("utf-8").replace('keep_in_touch = "30d"',
                                                    'keep_in_touch = { ideal = "30d", max = "60d" }'), "utf-8")
    ok(cli("check"))
    ok(cli("add", "Greta Two", "--tag", "FinTech"))
    ok(cli("log", "greta two", "hello", "--at", "2026-06-01T09:00"))
    set_setting(people, 'lead = "6m"\n', 'lead = "6m"\n\n[keep_in_touch.tags]\nfintech = "1w"\n')
    items = {i["handle"]: i for i in as_json(cli("due", "--json")) if i["kind"] == "keep-in-touch"}
    assert (items["ana-lopez"]["band"], items["ana-lopez"]["max"]) == ("due", "2026-06-30")
    assert (items["greta-two"]["due"], items["greta-two"]["band"]) == ("2026-06-08", "lapsed")  # max 06-11
    assert "every 1 week" in items["greta-two"]["text"]


# ---- one set of defaults in crm.toml ---------------------------------------------------------

def test_log_uses_crm_toml_default_kind(cli, people):
    assert ok(cli("log", "greta", "hello")).strip() == "Logged call with Greta Lindqvist"
    set_setting(people, 'default_kind = "call"', 'default_kind = "email"')
    assert ok(cli("log", "greta", "wrote to her")).strip() == "Logged email with Greta Lindqvist"
    assert subjects(people)[0] == "Log email with Greta Lindqvist"
    assert ok(cli("log", "greta", "met", "--kind", "meeting")).strip() == "Logged meeting with Greta Lindqvist"


def test_due_uses_crm_toml_due_within(cli, people):
    ok(cli("remind", "greta", "2026-06-25", "Ten days out"))
    assert "Ten days out" in ok(cli("due"))  # 14 days by default
    set_setting(people, 'due_within = "14d"', 'due_within = "1w"')
    assert "Ten days out" not in ok(cli("due"))
    assert "Ten days out" in ok(cli("due", "--within", "10"))  # --within wins
    set_setting(people, 'due_within = "1w"', 'due_within = 30')
    assert "Ten days out" in ok(cli("due"))


def test_a_broken_default_is_said_and_the_defaults_used(cli, people):
    set_setting(people, 'due_within = "14d"', 'due_within = "soon"')
    code, out, err = cli("due")
    assert code == 0 and "due_within" in err and "crm.toml is broken" in err
    assert "Overdue" in out
    assert "due_within should be" in cli("check")[1] + cli("check")[2]
