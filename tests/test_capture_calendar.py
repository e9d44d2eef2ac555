"""crmtui import calendar: a khal-style folder and an exported .ics in tests/fixtures/calendar."""

from __future__ import annotations

import subprocess
import time
import tomllib
from datetime import datetime
from pathlib import Path

import pytest

from crmtui.interchange import calendar_in

CAL = Path(__file__).parent / "fixtures" / "calendar"


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def crm(book, cli):
    settings = book / "crm.toml"
    settings.write_text('me = ["me@example.com"]\n' + settings.read_text("utf-8"), "utf-8")
    assert cli("add", "Ana López", "--company", "Acme", "--email", "ana@acme.example")[0] == 0
    assert cli("add", "Ben Schmidt", "--email", "ben@schmidt.example")[0] == 0
    return book


def meetings(book: Path, handle: str) -> list[tuple[datetime, str]]:
    data = tomllib.loads((book / "customers" / f"{handle}.toml").read_text("utf-8"))
    return [(r["at"], r["summary"]) for r in data.get("interactions", []) if r["kind"] == "meeting"]


def head(book: Path) -> str:
    return subprocess.run(["git", "-C", str(book), "rev-parse", "HEAD"], capture_output=True, text=True).stdout


def test_a_khal_folder_logs_meetings_with_customers(crm, cli):
    code, out, err = cli("import", "calendar", CAL / "khal")
    assert code == 0, err
    assert meetings(crm, "ana-lopez") == [
        (datetime(2026, 6, 1, 8, 0), "Renewal call with Ana"),  # 10:00 Europe/Madrid, in local time (UTC)
        (datetime(2026, 6, 10, 13, 30), "Lunch with Ana (floating time)"),  # floating: taken as local time
    ]
    # weekly on Mondays from 2026-05-04 (Berlin), 05-18 excluded, 05-25 moved to Tuesday 15:00, up to now
    assert meetings(crm, "ben-schmidt") == [
        (datetime(2026, 5, 4, 7, 0), "Weekly sync with Ben"),
        (datetime(2026, 5, 11, 7, 0), "Weekly sync with Ben"),
        (datetime(2026, 5, 26, 13, 0), "Weekly sync with Ben (moved to Tuesday)"),
        (datetime(2026, 6, 1, 7, 0), "Weekly sync with Ben"),
        (datetime(2026, 6, 8, 7, 0), "Weekly sync with Ben"),
        (datetime(2026, 6, 15, 7, 0), "Weekly sync with Ben"),  # today, before 09:00: it happened
    ]  # and not the workshop he declined
    assert ("unknown-tz.ics: event 'Call in a zone no one knows': time zone 'Mars/Olympus_Mons' is not defined "
            "in the file and not known; skipped") in err
    assert "Imported 8 meetings for 2 customers" in out
    for reason in ("1 cancelled", "1 private", "1 not yet happened", "2 no one but you"):
        assert reason in out
    assert "greta@fintech.example" in out  # a candidate
    log = subprocess.run(["git", "-C", str(crm), "log", "-1", "--format=%B"], capture_output=True, text=True).stdout
    assert log.startswith("Import 8 meetings from khal: 2 customers")
    assert "Ben Schmidt (ben-schmidt): +6 meetings" in log


def test_import_again_adds_nothing(crm, cli):
    assert cli("import", "calendar", CAL / "khal")[0] == 0
    before = head(crm)
    code, out, _ = cli("import", "calendar", CAL / "khal")
    assert code == 0 and "Imported no new meetings; 8 already in the book" in out
    assert head(crm) == before


def test_one_exported_file_with_its_own_time_zone_and_an_all_day_event(crm, cli):
    code, out, err = cli("import", "calendar", CAL / "work.ics")
    assert code == 0, err
    assert meetings(crm, "ana-lopez") == [(datetime(2026, 6, 2, 9, 0), "Workshop at the office")]  # 12:00 +03
    assert meetings(crm, "ben-schmidt") == [(datetime(2026, 6, 2, 9, 0), "Workshop at the office"),
                                            (datetime(2026, 6, 3, 0, 0), "All-day offsite with Ben")]


def test_since_and_dry_run(crm, cli):
    before = head(crm)
    code, out, _ = cli("import", "calendar", "--since", "2026-06-01", "--dry-run", CAL / "khal")
    assert code == 0 and "nothing was written" in out and "Would import 5 meetings for 2 customers" in out
    assert head(crm) == before and meetings(crm, "ben-schmidt") == []
    assert cli("import", "calendar", "--since", "2026-06-01", CAL / "khal")[0] == 0
    assert [at.day for at, _ in meetings(crm, "ben-schmidt")] == [1, 8, 15]


def test_interactions_restart_the_clock_and_read_in_history(crm, cli):
    assert cli("import", "calendar", CAL / "khal")[0] == 0
    code, out, _ = cli("history", "ben-schmidt")
    assert "+6 meetings" in out
    code, out, _ = cli("show", "ben-schmidt")
    assert "2026-06-15 07:00  meeting" in out


def test_a_broken_file_is_named_and_the_rest_imported(crm, cli, tmp_path):
    folder = tmp_path / "cal"
    folder.mkdir()
    (folder / "good.ics").write_bytes((CAL / "khal" / "call-with-ana.ics").read_bytes())
    (folder / "bad.ics").write_text("BEGIN:VCALENDAR\nthis is not a calendar\n")
    code, out, err = cli("import", "calendar", folder)
    assert code == 0
    assert "crmtui: bad.ics: not an iCalendar file icalendar can read" in err
    assert meetings(crm, "ana-lopez") == [(datetime(2026, 6, 1, 8, 0), "Renewal call with Ana")]


def test_an_endless_rule_is_expanded_within_a_bound():
    text = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:every-minute\r\n"
            b"DTSTART:20260101T000000\r\nRRULE:FREQ=MINUTELY\r\nSUMMARY:Too often\r\n"
            b"ATTENDEE:mailto:ana@acme.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    events, skips = calendar_in.read_calendar(text, "x.ics", datetime(2026, 1, 1), datetime(2026, 6, 15, 9))
    assert len(events) == calendar_in.MAX_OCCURRENCES
    assert [s.reason for s in skips] == [f"repeats more than {calendar_in.MAX_OCCURRENCES} times in the window; "
                                         f"only the first {calendar_in.MAX_OCCURRENCES} were read "
                                         f"(narrow it with --since)"]


def test_refuses_what_is_not_a_calendar(crm, cli, tmp_path):
    (tmp_path / "empty").mkdir()
    assert cli("import", "calendar", tmp_path / "empty")[2] == f"crmtui: {tmp_path / 'empty'} holds no .ics files\n"
