"""Reminders and birthdays as an iCalendar (RFC 5545) feed.

Every event's UID is made from the record's handle (and the reminder's place in
the file), so a calendar that subscribes again, or imports the file again,
updates its events instead of adding copies. Open reminders are all-day events
(recurring ones repeat at their cadence); birthdays repeat every year, a 29
February one on the last day of February.

A date no calendar can hold (after 9999-12-30: an all-day event ends the day after)
leaves its event out; the export goes on and says which (`notices`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from crmtui import __version__
from crmtui.domain import validate
from crmtui.domain.record import Customer
from crmtui.interchange.vcard import fold

FREQ = {"d": "DAILY", "w": "WEEKLY", "m": "MONTHLY", "y": "YEARLY"}


def escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n"))


def _day(d: date) -> str:
    return f"{d.year:04d}{d.month:02d}{d.day:02d}"  # strftime drops the zeros of a year before 1000


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


def events(customer: Customer, today: date, stamp: str, notices: list[str] | None = None) -> list[list[str]]:
    """The customer's events; one whose date no calendar can hold is left out, with a line in `notices`."""
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
        lines = [
            "BEGIN:VEVENT",
            f"UID:{reminder_uid(customer.handle, reminder.index)}",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{_day(reminder.due)}",
            f"DTEND;VALUE=DATE:{_day(reminder.due + timedelta(days=1))}",
            f"SUMMARY:{escape(customer.name + ': ' + (reminder.text or 'reminder'))}",
            f"DESCRIPTION:{escape(f'{who}. Mark it done with: crmtui done {customer.handle}')}",
            "CATEGORIES:crmtui,reminder",
            "TRANSP:TRANSPARENT",
        ]
        if reminder.every is not None:
            lines.append(f"RRULE:FREQ={FREQ[reminder.every.unit]};INTERVAL={reminder.every.count}")
        out.append(lines + ["END:VEVENT"])
    b = customer.birthday
    if b is not None:
        leap_day = (b.month, b.day) == (2, 29)
        year = b.year or (_leap_year_at_or_before(today.year) if leap_day else today.year)
        start = date(year, b.month, b.day)
        problem = validate.day_problem(start, "its date")
        if problem:
            notices.append(_left_out(customer, "the birthday", problem))
            return out
        rule = "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1" if leap_day else "RRULE:FREQ=YEARLY"
        born = f" (born {b.year})" if b.year else ""
        out.append([
            "BEGIN:VEVENT",
            f"UID:{birthday_uid(customer.handle)}",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{_day(start)}",
            f"DTEND;VALUE=DATE:{_day(start + timedelta(days=1))}",
            rule,
            f"SUMMARY:{escape(f'Birthday: {customer.name}')}",
            f"DESCRIPTION:{escape(who + born)}",
            "CATEGORIES:crmtui,birthday",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ])
    return out


def write_calendar(customers: list[Customer], today: date, now: datetime, name: str = "crmtui",
                   notices: list[str] | None = None) -> str:
    """The feed; what had to be left out is told in `notices` (one sentence each)."""
    moment = now if now.tzinfo else now.astimezone()
    stamp = moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:-//crmtui//crmtui {__version__}//EN", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", f"X-WR-CALNAME:{escape(name)}"]
    for customer in sorted(customers, key=lambda c: c.handle):
        for event in events(customer, today, stamp, notices):
            lines += event
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
