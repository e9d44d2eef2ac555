"""One set of rules for the values a person writes: emails, phones, dates, durations, tiers, stages.

Every way a value comes in uses these rules: the CLI (through the Service) and the
TUI forms refuse a value that breaks one, with one sentence, before anything is
written; imports leave such a value out and say so; a file read from disk that
holds one (an edit in $EDITOR, sed, a sync) still loads, and customer_from_data
lists the value in the record's `issues`, which `crmtui check` reports with
file:line:col. Pure functions: no IO, `today` is an argument.

The `*_problem` functions return the sentence, or None when the value is fine; the
others return the value, tidied, or raise InvalidValue with that sentence.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Iterable

from crmtui.domain.dates import Birthday, DateError, Duration, InvalidValue, add_months, parse_birthday, parse_duration

STAGES = ("prospect", "customer", "former")
TIERS = ("platinum", "gold", "iron", "lead")

# The last day every export can write: an all-day calendar event ends the day after it.
LAST_DAY = date(9999, 12, 30)
YEARS_AHEAD = 100  # a follow-up or reminder is at most this far from today; a cadence at most this long
_DAYS = {"d": 1, "w": 7, "m": 30.436875, "y": 365.2425}

# Pragmatic, not RFC 5322: one @, something before it, a domain with a dot (or localhost), no spaces.
_LOCAL = r"[^\s@,;<>\"()\[\]]+"  # o'brien@ is fine
_LABEL = r"[^\s@,;<>\"'()\[\]/\\.]+"
EMAIL = re.compile(rf"{_LOCAL}@(?:localhost|{_LABEL}(?:\.{_LABEL})+)", re.IGNORECASE)
# Digits with + (first only), ( ) - . / and spaces, then maybe an extension: x12, ext. 12, #12, ;ext=12.
PHONE = re.compile(r"\+?[\d\s().\-/]+?(?:\s*(?:x|ext\.?|extension|#|;\s*ext=)\s*\d+)?", re.IGNORECASE)
_EXTENSION = re.compile(r"(?:x|ext\.?|extension|#|;\s*ext=)\s*\d+\s*$", re.IGNORECASE)

__all__ = ["InvalidValue", "DateError", "STAGES", "TIERS", "LAST_DAY", "YEARS_AHEAD", "email", "emails", "email_problem",
           "phone", "phones", "phone_problem", "tier", "stage", "day", "day_problem", "ahead_problem",
           "future_day", "duration", "duration_problem", "birthday", "birthday_problem", "amount", "amount_problem"]


# ---- emails and phones -------------------------------------------------------------------

def email_problem(text: str) -> str | None:
    if EMAIL.fullmatch(text.strip()):
        return None
    return f"'{text.strip()}' does not look like an email address (like ana@acme.example)"


def phone_problem(text: str) -> str | None:
    value = text.strip()
    main = _EXTENSION.sub("", value)
    if PHONE.fullmatch(value) and sum(ch.isdigit() for ch in main) >= 3:
        return None
    return (f"'{value}' does not look like a phone number (at least 3 digits, with + ( ) - . / or spaces, "
            f"maybe an extension: +34 600 123 456 x12)")


def _checked(problem, text: str) -> str:
    found = problem(text)
    if found:
        raise InvalidValue(found)
    return text.strip()


def email(text: str) -> str:
    return _checked(email_problem, text)


def phone(text: str) -> str:
    return _checked(phone_problem, text)


def emails(values: Iterable[str]) -> list[str]:
    """The non-empty ones, trimmed; InvalidValue names the first that is not an address."""
    return [email(v) for v in values if v and v.strip()]


def phones(values: Iterable[str]) -> list[str]:
    return [phone(v) for v in values if v and v.strip()]


# ---- tiers and stages ------------------------------------------------------------------------

def _choice(value: str | None, choices: tuple[str, ...], what: str) -> str | None:
    if value is None or not str(value).strip():
        return None
    lowered = str(value).strip().lower()
    if lowered not in choices:
        raise InvalidValue(f"unknown {what} '{value}'; use one of {', '.join(choices)}")
    return lowered


def tier(value: str | None) -> str | None:
    """A tier override in lower case, None for none."""
    return _choice(value, TIERS, "tier")


def stage(value: str | None) -> str | None:
    return _choice(value, STAGES, "stage")


# ---- dates and durations ----------------------------------------------------------------------

def day_problem(value: date, what: str = "the date") -> str | None:
    """A date after LAST_DAY cannot be written by every export (an ics event ends a day later)."""
    if value > LAST_DAY:
        return f"{what} {value} is after {LAST_DAY}, the last day calendars and exports can hold"
    return None


def day(value: date, what: str = "the date") -> date:
    found = day_problem(value, what)
    if found:
        raise InvalidValue(found)
    return value


def _latest(today: date) -> date:
    try:
        return min(add_months(today, 12 * YEARS_AHEAD), LAST_DAY)
    except (OverflowError, ValueError):
        return LAST_DAY


def ahead_problem(value: date, today: date, what: str = "the date") -> str | None:
    """A follow-up or reminder more than YEARS_AHEAD years from today, or past LAST_DAY."""
    latest = _latest(today)
    if value > latest:
        if latest == LAST_DAY:
            return day_problem(value, what)
        return f"{what} {value} is more than {YEARS_AHEAD} years ahead; choose a day up to {latest}"
    return None


def future_day(value: date, today: date, what: str = "the follow-up") -> date:
    """A day for a follow-up, a reminder or a snooze: from today on, at most YEARS_AHEAD years ahead."""
    if value < today:
        raise InvalidValue(f"{what} {value} is in the past; choose today or a later day")
    found = ahead_problem(value, today, what)
    if found:
        raise InvalidValue(found)
    return value


def duration_problem(value: Duration, what: str = "the cadence") -> str | None:
    if value.count * _DAYS[value.unit] > YEARS_AHEAD * 365.25:  # 100y, 1200m, 5217w or 36525d at most
        return f"{what} {value} is longer than {YEARS_AHEAD} years; write at most {YEARS_AHEAD}y"
    return None


def duration(text: str | Duration, what: str = "the cadence") -> Duration:
    """A cadence like 30d, 2w, 3m, 1y: readable, and at most YEARS_AHEAD years."""
    value = text if isinstance(text, Duration) else parse_duration(text)
    found = duration_problem(value, what)
    if found:
        raise InvalidValue(found)
    return value


def birthday_problem(value: Birthday) -> str | None:
    if value.year and date(value.year, value.month, value.day) > LAST_DAY:
        return day_problem(date(value.year, value.month, value.day), "the birthday")
    return None


def birthday(text) -> Birthday:
    """1984-03-12, or 03-12 without the year. DateError (an InvalidValue) when it is not a date."""
    value = parse_birthday(text)
    found = birthday_problem(value)
    if found:
        raise InvalidValue(found)
    return value



# ---- money ------------------------------------------------------------------------------------

def amount_problem(value: float, what: str = "the amount") -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"{what} should be a number, like 12000 or 1250.50"
    if value != value or value in (float("inf"), float("-inf")):
        return f"{what} {value} is not a number a book can hold; write an amount like 12000"
    if value < 0:
        why = " (a deal that lost money has a cost above its amount)" if what == "the amount" else ""
        return f"{what} {value:g} is negative; write 0 or more{why}"
    return None


def amount(text: str | float, what: str = "the amount") -> int | float:
    """An amount of money as written (12000, 1250.50, 12_000): finite and 0 or more.
    A whole number comes back as an int, so the file says 12000, not 12000.0."""
    if isinstance(text, str):
        written = text.strip().replace("_", "")
        try:
            value = float(written)
        except ValueError:
            hint = " (without thousands separators)" if "," in written else ""
            raise InvalidValue(f"{what} '{text.strip()}' is not a number; write it like 12000 or 1250.50{hint}") from None
    else:
        value = text
    found = amount_problem(value, what)
    if found:
        raise InvalidValue(found)
    return int(value) if float(value).is_integer() and abs(value) < 2 ** 53 else float(value)
