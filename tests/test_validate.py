"""One validator: the same rules for emails, phones, dates, durations, tiers and stages
in the CLI, the TUI forms, `crmtui check`, imports, exports and files edited outside."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from crmtui.domain import validate
from crmtui.domain.dates import Duration
from crmtui.domain.record import Reminder, customer_from_data
from crmtui.domain.reminders import advance, next_date_sentence
from crmtui.service import Service

TODAY = date(2026, 6, 15)  # tests/conftest.py fixes the clock at 2026-06-15T09:00


def git(book: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(book), *args], capture_output=True, text=True, check=True).stdout


def subjects(book: Path) -> list[str]:
    return git(book, "log", "--format=%s").splitlines()


def one_sentence(result) -> str:
    """A user's mistake: non-zero exit, one line 'crmtui: ...' on stderr, no traceback."""
    code, _, err = result
    assert code != 0, result
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("crmtui: ")
    return lines[0]


def ok(result) -> str:
    code, out, err = result
    assert code == 0, result
    assert "Traceback" not in err
    return out


def write_record(book: Path, handle: str, text: str) -> Path:
    path = book / "customers" / f"{handle}.toml"
    path.write_text(text, "utf-8")
    return path


# ---- the rules --------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["ana@acme.example", "o'brien@mail.example.co.uk", "dev@localhost",
                                  "first.last+tag@sub.domain.example", "li.na@例え.jp", " ana@acme.example "])
def test_emails_that_pass(text):
    assert validate.email_problem(text) is None
    assert validate.email(text) == text.strip()


@pytest.mark.parametrize("text", ["bob@", "@acme.example", "bob", "bob@acme", "bob@@acme.example",
                                  "bob smith@acme.example", "bob@acme .example", "bob@acme.example.",
                                  "bob@.example", "a@b@c.example", "Bob <bob@acme.example>",
                                  "a@x.example, b@y.example"])
def test_emails_that_do_not(text):
    assert "does not look like an email address" in validate.email_problem(text)
    with pytest.raises(validate.InvalidValue):
        validate.email(text)


@pytest.mark.parametrize("text", ["+34 600 123 456", "(555) 123-4567", "030/1234567", "+1.555.010.0000",
                                  "112", "+44 20 7946 0958 x123", "555-0100 ext. 12", "555 0100 ext 12",
                                  "+1-555-555-5555;ext=55", "0049 30 1234567 #7"])
def test_phones_that_pass(text):
    assert validate.phone_problem(text) is None


@pytest.mark.parametrize("text", ["abc", "12", "+", "call reception", "555-CALL-NOW", "12 x345", "555 0100 +1",
                                  "n/a", "+34 600 123 456 (mobile)"])
def test_phones_that_do_not(text):
    assert "does not look like a phone number" in validate.phone_problem(text)


def test_lists_skip_empty_values_and_name_the_first_bad_one():
    assert validate.emails(["", " a@b.example ", "  "]) == ["a@b.example"]
    with pytest.raises(validate.InvalidValue, match="'x@' does not look"):
        validate.emails(["a@b.example", "x@", "y@"])
    assert validate.phones(["+34 600 123 456", ""]) == ["+34 600 123 456"]


def test_tiers_and_stages():
    assert validate.tier("GOLD") == "gold"
    assert validate.tier(None) is None and validate.tier("") is None
    assert validate.stage("Former") == "former"
    with pytest.raises(validate.InvalidValue, match="unknown tier 'bronze'; use one of platinum, gold, iron, lead"):
        validate.tier("bronze")
    with pytest.raises(validate.InvalidValue, match="unknown stage 'client'"):
        validate.stage("client")


def test_days_every_export_can_write():
    assert validate.day(date(9999, 12, 30)) == date(9999, 12, 30)
    with pytest.raises(validate.InvalidValue, match="9999-12-31 is after 9999-12-30"):
        validate.day(date(9999, 12, 31))


def test_a_follow_up_is_from_today_on_and_at_most_100_years_ahead():
    assert validate.future_day(TODAY, TODAY) == TODAY
    assert validate.future_day(date(2126, 6, 15), TODAY) == date(2126, 6, 15)
    with pytest.raises(validate.InvalidValue, match="the follow-up 2026-06-14 is in the past"):
        validate.future_day(date(2026, 6, 14), TODAY)
    with pytest.raises(validate.InvalidValue, match="more than 100 years ahead; choose a day up to 2126-06-15"):
        validate.future_day(date(2126, 6, 16), TODAY)
    # near the end of the calendar the limit is the last day exports can write
    with pytest.raises(validate.InvalidValue, match="after 9999-12-30"):
        validate.future_day(date(9999, 12, 31), date(9990, 1, 1))


def test_durations_are_at_most_100_years():
    for text in ("100y", "1200m", "5217w", "36525d", "30d"):
        assert validate.duration(text) == Duration(int(text[:-1]), text[-1])
    for text in ("101y", "1201m", "5218w", "36526d", "99999d"):
        with pytest.raises(validate.InvalidValue, match="longer than 100 years"):
            validate.duration(text)
    with pytest.raises(validate.DateError, match="'monthly' is not a duration"):  # DateError is an InvalidValue
        validate.duration("monthly")


def test_birthdays():
    assert str(validate.birthday("03-12")) == "03-12"
    assert str(validate.birthday("9999-12-30")) == "9999-12-30"
    with pytest.raises(validate.InvalidValue, match="the birthday 9999-12-31 is after 9999-12-30"):
        validate.birthday("9999-12-31")
    with pytest.raises(validate.DateError):
        validate.birthday("13-45")


def test_a_record_keeps_values_that_break_a_rule_and_lists_them():
    data = {"name": "Eve", "emails": ["eve@", "eve@ok.example"], "phones": "abc", "birthday": date(9999, 12, 31),
            "keep_in_touch": "200y",
            "deals": [{"title": "x", "amount": 1, "status": "won", "date": date(9999, 12, 31)}],
            "reminders": [{"due": date(2026, 7, 1), "text": "fine"},
                          {"due": date(9999, 12, 31), "text": "far", "every": "999y", "done": date(9999, 12, 31)}]}
    customer = customer_from_data("eve", data)
    assert customer.emails == ["eve@", "eve@ok.example"] and customer.phones == ["abc"]  # kept as written
    assert [issue.path for issue in customer.issues] == [
        ("emails",), ("phones",), ("birthday",), ("keep_in_touch",), ("deals", 0, "date"),
        ("reminders", 1, "due"), ("reminders", 1, "done"), ("reminders", 1, "every")]
    assert customer.summary().issues == customer.issues
    assert customer_from_data("ana", {"name": "Ana", "emails": ["ana@acme.example"]}).issues == ()


def test_a_recurring_reminder_past_the_calendar_ends():
    last = Reminder(0, date(9999, 12, 1), "monthly", every=Duration(1, "m"))
    assert advance(last, TODAY) is None  # 9999-12-31 cannot be written: the series has no next date
    assert "does not repeat again" in next_date_sentence(last, TODAY)
    huge = Reminder(0, date(2026, 6, 1), "huge", every=Duration(10 ** 20, "d"))
    assert advance(huge, TODAY) is None
    fine = Reminder(0, date(2026, 6, 1), "fine", every=Duration(1, "m"))
    assert advance(fine, TODAY) == date(2026, 7, 1) and next_date_sentence(fine, TODAY) is None


# ---- the CLI, through the Service --------------------------------------------------------------

@pytest.mark.parametrize("args, words", [
    (["--email", "bob@"], "'bob@' does not look like an email address"),
    (["--email", "bob@acme.example", "--email", "bob smith@acme.example"], "'bob smith@acme.example'"),
    (["--phone", "abc"], "'abc' does not look like a phone number"),
    (["--phone", "12"], "does not look like a phone number"),
    (["--birthday", "9999-12-31"], "the birthday 9999-12-31 is after 9999-12-30"),
    (["--keep-in-touch", "99999d"], "the keep-in-touch cadence 99999d is longer than 100 years"),
    (["--tier", "bronze"], "unknown tier 'bronze'"),
])
def test_add_refuses_what_the_form_refuses(cli, book, args, words):
    assert words in one_sentence(cli("add", "Bob", *args))
    assert not (book / "customers" / "bob.toml").exists()
    assert subjects(book) == ["Create the book"]


def test_add_takes_good_values_and_check_agrees(cli, book):
    ok(cli("add", "Bob", "--email", "bob@acme.example", "--phone", "+44 20 7946 0958 x123",
           "--tier", "GOLD", "--stage", "Former", "--keep-in-touch", "100y"))
    text = (book / "customers" / "bob.toml").read_text("utf-8")
    assert 'emails = ["bob@acme.example"]' in text and 'tier = "gold"' in text and 'stage = "former"' in text
    assert "valid" in ok(cli("check"))  # exit 0: nothing to report


@pytest.mark.parametrize("when, words", [
    ("9999-12-31", "the follow-up 9999-12-31 is more than 100 years ahead"),
    ("99999d", "is more than 100 years ahead; choose a day up to 2126-06-15"),
    ("2126-06-16", "more than 100 years ahead"),
    ("2026-06-14", "the follow-up 2026-06-14 is in the past"),
])
def test_log_refuses_a_follow_up_no_export_can_write(cli, book, when, words):
    ok(cli("add", "Ana"))
    before = (book / "customers" / "ana.toml").read_bytes()
    assert words in one_sentence(cli("log", "ana", "x", "--follow-up", when))
    assert (book / "customers" / "ana.toml").read_bytes() == before
    assert subjects(book)[0] == "Add Ana"


def test_log_takes_a_follow_up_100_years_ahead(cli, book):
    ok(cli("add", "Ana"))
    assert "follow up on 2126-06-15" in ok(cli("log", "ana", "x", "--follow-up", "100y"))


def test_the_service_refuses_with_a_crm_error(book):
    from crmtui.errors import CrmError

    service = Service.open(book)
    with pytest.raises(CrmError, match="does not look like a phone number"):
        service.add_customer("Bob", phones=["abc"])
    customer = service.add_customer("Bob", phones=["(555) 123-4567"])
    with pytest.raises(CrmError, match="more than 100 years ahead"):
        service.log_interaction(customer.handle, "x", follow_up=date(9999, 12, 31))


# ---- files: check, loading, writing, $EDITOR -----------------------------------------------------

BAD = '''name = "Eve"
company = "Acme"
emails = ["eve@"]
phones = ["+34 600 123 456", "abc"]
'''


def test_check_reports_a_bad_value_in_a_file_and_the_record_still_loads(cli, book):
    write_record(book, "eve", BAD)
    code, out, err = cli("check")
    assert code == 1
    assert out.splitlines() == ["customers/eve.toml:3:1: 'emails': 'eve@' does not look like an email address "
                                "(like ana@acme.example) (and 1 more)"]
    report = json.loads(cli("check", "--json")[1])
    assert report["problems"][0]["line"] == 3 and report["problems"][0]["col"] == 1
    shown = json.loads(ok(cli("show", "eve", "--json")))  # it loads and shows
    assert shown["emails"] == ["eve@"] and shown["phones"] == ["+34 600 123 456", "abc"]
    assert "eve" in [c["handle"] for c in json.loads(ok(cli("list", "--json")))]


def test_the_first_problem_points_at_its_line(cli, book):
    write_record(book, "eve", 'name = "Eve"\nemails = ["eve@ok.example"]\nphones = ["abc"]\n')
    assert cli("check")[1].startswith("customers/eve.toml:3:1: 'phones': 'abc' does not look like a phone number")
    write_record(book, "fay", 'name = "Fay"\n\n[[reminders]]\ndue = 2026-07-01\ntext = "a"\n\n'
                              '[[reminders]]\ntext = "b"\ndue = 9999-12-31\n')
    assert "customers/fay.toml:9:1: 'due': the due date 9999-12-31 is after 9999-12-30" in cli("check")[1]


def test_a_record_with_a_bad_value_can_still_be_written_to(cli, book):
    write_record(book, "eve", BAD)
    ok(cli("log", "eve", "called her", "--follow-up", "14d"))
    text = (book / "customers" / "eve.toml").read_text("utf-8")
    assert text.startswith(BAD) and 'summary = "called her"' in text  # her values are kept as written
    assert subjects(book)[:2] == ["Log call with Eve", "Add eve.toml outside crmtui"]
    assert cli("check")[0] == 1  # and still reported


def test_an_editor_session_with_a_bad_email_is_committed_and_reported(cli, book, tmp_path, monkeypatch):
    ok(cli("add", "Ana", "--email", "ana@acme.example"))
    script = tmp_path / "editor.py"
    script.write_text("import pathlib, sys\np = pathlib.Path(sys.argv[1])\n"
                      "p.write_text(p.read_text().replace('ana@acme.example', 'ana@acme'))\n", "utf-8")
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    assert "Committed" in ok(cli("edit", "ana"))
    code, out, _ = cli("check")
    assert code == 1 and out.startswith("customers/ana.toml:2:1: 'emails': 'ana@acme' does not look like an email")


# ---- exports never crash on a value already in a file -----------------------------------------

FAR = '''name = "Far"
birthday = 9999-12-31

[[deals]]
title = "x"
amount = 10
status = "won"
date = 9999-12-31

[[reminders]]
due = 9999-12-31
text = "too far"

[[reminders]]
due = 9999-12-30
text = "last day"

[[reminders]]
due = 0099-01-01
text = "old"
'''


def test_exports_leave_out_what_no_calendar_can_hold_and_say_so(cli, book, tmp_path):
    write_record(book, "far", FAR)
    code, out, err = cli("export", "ics")
    assert code == 0 and "Traceback" not in err
    assert out.count("BEGIN:VEVENT") == 2
    assert "DTSTART;VALUE=DATE:99991230" in out and "DTEND;VALUE=DATE:99991231" in out
    assert "DTSTART;VALUE=DATE:00990101" in out  # the year keeps its zeros
    assert "too far" not in out and "Birthday" not in out
    assert ("crmtui: customers/far.toml: the reminder 'too far' is not in the calendar, because its due date "
            "9999-12-31 is after 9999-12-30") in err
    assert "customers/far.toml: the birthday is not in the calendar" in err
    for kind in ("vcard", "csv", "json"):
        code, out, err = cli("export", kind, "--out", tmp_path / f"far.{kind}")
        assert code == 0 and "Traceback" not in err, (kind, err)
    assert "BDAY:9999-12-31" in (tmp_path / "far.vcard").read_text("utf-8")  # text, written as it is
    assert json.loads((tmp_path / "far.json").read_text("utf-8"))["customers"][0]["birthday"] == "9999-12-31"


def _run(book: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, GIT_AUTHOR_NAME="T", GIT_AUTHOR_EMAIL="t@example.test", GIT_COMMITTER_NAME="T",
               GIT_COMMITTER_EMAIL="t@example.test")
    return subprocess.run([sys.executable, "-m", "crmtui", "--book", str(book), *args], capture_output=True,
                          text=True, env=env)


def test_the_reported_commands_as_a_user_runs_them(book):
    assert _run(book, "add", "Bob", "--email", "bob@").returncode == 1
    assert _run(book, "add", "Ana").returncode == 0
    result = _run(book, "log", "ana", "x", "--follow-up", "9999-12-31")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    write_record(book, "far", FAR)
    result = _run(book, "export", "ics")
    assert result.returncode == 0 and "Traceback" not in result.stderr and "END:VCALENDAR" in result.stdout


def test_done_on_a_recurring_reminder_past_year_9999_closes_it(cli, book):
    write_record(book, "zoe", 'name = "Zoe"\n\n[[reminders]]\ndue = 9999-12-01\ntext = "monthly"\nevery = "1m"\n')
    result = _run(book, "done", "zoe")
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert result.stdout.strip() == "Done: monthly (Zoe)"
    text = (book / "customers" / "zoe.toml").read_text("utf-8")
    assert "due = 9999-12-01" in text and "done = 2026-06-15" in text
    assert ok(cli("due", "--within", "9999999")).count("monthly") == 0


# ---- imports ----------------------------------------------------------------------------------

def test_imports_leave_out_bad_emails_and_phones_and_say_so(cli, book, tmp_path):
    card = tmp_path / "gus.vcf"
    card.write_bytes(b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Gus Grey\r\nEMAIL:gus@\r\nEMAIL:gus@grey.example\r\n"
                     b"TEL:call reception\r\nTEL:tel:+1-555-555-5555;ext=55\r\nEND:VCARD\r\n")
    code, out, err = cli("import", "vcard", card)
    assert code == 0, err
    assert "card 1 (line 1): 'gus@' does not look like an email address (like ana@acme.example); " \
           "imported without it" in err
    assert "'call reception' does not look like a phone number" in err
    text = (book / "customers" / "gus-grey.toml").read_text("utf-8")
    assert 'emails = ["gus@grey.example"]' in text and 'phones = ["+1-555-555-5555;ext=55"]' in text
    rows = tmp_path / "people.csv"
    rows.write_text("Name,Email,Phone\nHal,hal@,12\n", "utf-8")
    code, out, err = cli("import", "csv", rows)
    assert code == 0 and "line 2: 'hal@' does not look like an email address" in err
    assert "emails" not in (book / "customers" / "hal.toml").read_text("utf-8")
    assert "valid" in ok(cli("check"))  # exit 0: nothing to report


# ---- the TUI form ------------------------------------------------------------------------------

async def test_the_new_customer_form_uses_the_same_rules(book):
    from crmtui.tui.app import create_app
    from crmtui.tui.screens.new_customer import NewCustomerForm

    from datetime import datetime

    app = create_app(book, now=lambda: datetime(2026, 6, 15, 9, 0), path_label="book", testing=True,
                     poll_interval=None)
    async with app.run_test(size=(100, 32)) as pilot:
        for _ in range(3):
            await app.workers.wait_for_complete()
            await pilot.pause()
        await pilot.press("n")
        form = app.screen
        assert isinstance(form, NewCustomerForm)
        form.query_one("#name").value = "Bob"
        form.query_one("#email").value = "bob@acme.example, bob@"
        form.query_one("#phone").value = "+34 600 123 456 x12, abc"
        form.query_one("#keep_in_touch").value = "99999d"
        form.query_one("#birthday").value = "9999-12-31"
        await pilot.press("ctrl+s")
        await pilot.pause()

        def error(field):
            return str(form.query_one(f"#{field}-error").render())

        assert error("email") == "'bob@' does not look like an email address (like ana@acme.example)."
        assert error("phone").startswith("'abc' does not look like a phone number")
        assert error("keep_in_touch").startswith("The keep-in-touch cadence 99999d is longer than 100 years")
        assert error("birthday").startswith("The birthday 9999-12-31 is after 9999-12-30")
        assert isinstance(app.screen, NewCustomerForm)
        assert not (book / "customers" / "bob.toml").exists()
