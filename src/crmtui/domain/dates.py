"""Durations ("30d", "2w", "3m", "1y") and the WHEN forms the CLI accepts."""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

UNITS = {"d": "day", "w": "week", "m": "month", "y": "year"}
_DURATION = re.compile(r"^\s*(\d+)\s*([dwmy])\s*$", re.IGNORECASE)


class InvalidValue(ValueError):
    """A value that breaks a rule of the book (see domain.validate); the message is one sentence."""


class DateError(InvalidValue):
    """A date, time or duration the user wrote that we cannot read."""


class Duration(NamedTuple):
    count: int
    unit: str  # one of d, w, m, y

    def __str__(self) -> str:
        return f"{self.count}{self.unit}"

    def describe(self) -> str:
        word = UNITS[self.unit]
        return f"{self.count} {word}" + ("" if self.count == 1 else "s")

    def after(self, start: date) -> date:
        """The date this duration after `start` (months clamp to the month's end)."""
        return _shift(start, self, 1)


class Birthday(NamedTuple):
    month: int
    day: int
    year: int | None = None

    def __str__(self) -> str:
        if self.year:
            return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
        return f"{self.month:02d}-{self.day:02d}"


def parse_birthday(value) -> Birthday:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return Birthday(value.month, value.day, value.year)
    text = str(value).strip()
    match = re.fullmatch(r"(?:(\d{4})-|--)?(\d{1,2})-(\d{1,2})", text)
    if match:
        year = int(match.group(1)) if match.group(1) else None
        month, day = int(match.group(2)), int(match.group(3))
        try:
            date(year or 2000, month, day)  # 2000 is a leap year: 02-29 is fine
        except ValueError:
            pass
        else:
            return Birthday(month, day, year)
    raise DateError(f"birthday '{text}' is not a date; write 1984-03-12, or \"03-12\" when the year is unknown")


def parse_duration(text: str) -> Duration:
    match = _DURATION.match(str(text))
    if not match or int(match.group(1)) == 0:
        raise DateError(f"'{text}' is not a duration; write a number and d, w, m or y, like 14d or 3m")
    return Duration(int(match.group(1)), match.group(2).lower())


def add_months(start: date, months: int) -> date:
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


_AGO = re.compile(r"^\s*(?:-\s*(\d+\s*[dwmy])|(\d+\s*[dwmy])\s+ago)\s*$", re.IGNORECASE)
_NAMED = {"today": 0, "tomorrow": 1, "yesterday": -1}


def parse_when(text: str, now: datetime) -> date | datetime:
    """Read a WHEN: an ISO date or date-time, today/tomorrow/yesterday, 14d, 2w, 3m
    (that long from now), or -3d / "3d ago" (that long before now).

    A bare date comes back as a `date`, anything with a time as a `datetime`.
    """
    raw = str(text).strip()
    lowered = raw.lower()
    today = now.date()
    if lowered in _NAMED:
        return today + timedelta(days=_NAMED[lowered])
    if lowered == "now":
        return now.replace(microsecond=0)
    ago = _AGO.match(lowered)
    if ago:
        duration = parse_duration(ago.group(1) or ago.group(2))
        return _before(today, duration)
    if _DURATION.match(lowered):
        return parse_duration(lowered).after(today)
    try:
        if len(raw) == 10:
            return date.fromisoformat(raw)
        return datetime.fromisoformat(raw.replace(" ", "T", 1)).replace(tzinfo=None)
    except ValueError:
        pass
    raise DateError(
        f"'{text}' is not a date; use 2026-12-01, 2026-12-01T14:30, today, tomorrow, 14d, 2w, 3m or 3d ago"
    )


def _before(today: date, duration: Duration) -> date:
    return _shift(today, duration, -1)


def _shift(start: date, duration: Duration, sign: int) -> date:
    """`start` moved by `duration` forward (sign 1) or back (-1); DateError past year 1 or 9999."""
    try:
        if duration.unit == "d":
            return start + sign * timedelta(days=duration.count)
        if duration.unit == "w":
            return start + sign * timedelta(weeks=duration.count)
        months = duration.count if duration.unit == "m" else 12 * duration.count
        return add_months(start, sign * months)
    except (OverflowError, ValueError):
        raise DateError(f"{duration} {'after' if sign > 0 else 'before'} {start} is beyond the calendar") from None


def as_datetime(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time(0, 0))


def as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def relative_days(when: date, today: date) -> str:
    """'today', 'tomorrow', 'in 5 days', '3 days ago' — for lists of reminders."""
    days = (when - today).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days == -1:
        return "yesterday"
    if days > 0:
        return f"in {days} days"
    return f"{-days} days ago"
