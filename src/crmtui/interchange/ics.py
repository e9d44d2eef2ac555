"""Reminders and birthdays as an iCalendar (RFC 5545) feed, written with `icalendar`.

Every event's UID is made from the record's handle (and the reminder's place in
the file), so a calendar that subscribes again, or imports the file again,
updates its events instead of adding copies. Open reminders are all-day events
(recurring ones repeat at their cadence); birthdays repeat every year, a 29
February one on the last day of February.

A date no calendar can hold (after 9999-12-30: an all-day event ends the day after)
leaves its event out; the export goes on and says which (`notices`).

The `icalendar` library writes the content lines, folding and recurrence rules. It
is imported inside `write_calendar` (about 70 ms), so commands that never write a
calendar do not pay for it. TEXT values keep crmtui's own escaping (`escape`):
icalendar's reads a backslash and N in the text as a line break (its documented
way to write one), which would turn a reminder about `C:\\Notes` into two lines.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from crmtui import __version__
from crmtui.domain import validate
from crmtui.domain.record import Customer

FREQ = {"d": "DAILY", "w": "WEEKLY", "m": "MONTHLY", "y": "YEARLY"}


def escape(text: str) -> str:
    """RFC 5545 3.3.11 TEXT escaping; any line end becomes \\n."""
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n"))


def _leap_year_at_or_before(year: int) -> int:
    while not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
        year -= 1
    return year


def reminder_uid(handle: str, index: int) -> str:
    return f"reminder-{index + 1}-{handle}@crmtui"


def birthday_uid(handle: str) -> str:
    return f"birthday-{handle}@crmtui"


def _left_out(customer: Customer, what: str, problem: str) -> str:
    """One sentence for `notices`; text from the file is printed, so no control characters in it."""
    shown = "".join(ch for ch in what if ch.isprintable())
    return f"customers/{customer.handle}.toml: {shown} is not in the calendar, because {problem}; see crmtui check"


def events(customer: Customer, today: date, notices: list[str] | None = None) -> list[dict]:
    """The customer's events as plain data (`uid`, `start`, `summary`, `description`,
    `category`, `rrule`); one whose date no calendar can hold is left out, with a line in `notices`."""
    out = []
    notices = notices if notices is not None else []
    who = customer.name + (f" ({customer.company})" if customer.company else "")
    for reminder in customer.reminders:
        if reminder.done is not None:
            continue
        problem = validate.day_problem(reminder.due, "its due date")
        if problem:
            notices.append(_left_out(customer, f"the reminder '{reminder.text or 'reminder'}'", problem))
            continue
        every = reminder.every
        out.append({
            "uid": reminder_uid(customer.handle, reminder.index),
            "start": reminder.due,
            "summary": f"{customer.name}: {reminder.text or 'reminder'}",
            "description": f"{who}. Mark it done with: crmtui done {customer.handle}",
            "category": "reminder",
            "rrule": {"FREQ": FREQ[every.unit], "INTERVAL": every.count} if every is not None else None,
        })
    b = customer.birthday
    if b is not None:
        leap_day = (b.month, b.day) == (2, 29)
        year = b.year or (_leap_year_at_or_before(today.year) if leap_day else today.year)
        start = date(year, b.month, b.day)
        problem = validate.day_problem(start, "its date")
        if problem:
            notices.append(_left_out(customer, "the birthday", problem))
            return out
        out.append({
            "uid": birthday_uid(customer.handle),
            "start": start,
            "summary": f"Birthday: {customer.name}",
            "description": who + (f" (born {b.year})" if b.year else ""),
            "category": "birthday",
            "rrule": {"FREQ": "YEARLY", "BYMONTH": 2, "BYMONTHDAY": -1} if leap_day else {"FREQ": "YEARLY"},
        })
    return out


def write_calendar(customers: list[Customer], today: date, now: datetime, name: str = "crmtui",
                   notices: list[str] | None = None) -> str:
    """The feed; what had to be left out is told in `notices` (one sentence each).
    DTSTAMP is `now` (a naive `now` is local time) in UTC."""
    import icalendar

    class Text(icalendar.vText):
        def to_ical(self) -> bytes:
            return escape(self).encode(self.encoding)

    moment = now if now.tzinfo else now.astimezone()
    stamp = moment.astimezone(timezone.utc).replace(microsecond=0)
    cal = icalendar.Calendar()
    cal.add("VERSION", "2.0")
    cal.add("PRODID", f"-//crmtui//crmtui {__version__}//EN")
    cal.add("CALSCALE", "GREGORIAN")
    cal.add("METHOD", "PUBLISH")
    cal.add("X-WR-CALNAME", Text(name))
    for customer in sorted(customers, key=lambda c: c.handle):
        for found in events(customer, today, notices):
            event = icalendar.Event()
            event.add("UID", found["uid"])
            event.add("DTSTAMP", stamp)
            event.add("DTSTART", found["start"])
            event.add("DTEND", found["start"] + timedelta(days=1))
            if found["rrule"]:
                event.add("RRULE", found["rrule"])
            event.add("SUMMARY", Text(found["summary"]))
            event.add("DESCRIPTION", Text(found["description"]))
            event.add("CATEGORIES", ["crmtui", found["category"]])
            event.add("TRANSP", "TRANSPARENT")
            cal.add_component(event)
    return cal.to_ical().decode("utf-8")
