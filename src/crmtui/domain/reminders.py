"""The reminder list: explicit reminders, birthdays and keep-in-touch lapses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from crmtui.domain import cadence as cadence_mod
from crmtui.domain.dates import DateError, Duration
from crmtui.domain.record import Birthday, Customer, Reminder
from crmtui.domain.settings import Settings
from crmtui.domain.validate import LAST_DAY

REMINDER, BIRTHDAY, KEEP_IN_TOUCH = "reminder", "birthday", "keep-in-touch"
LOSING_TOUCH = "losing-touch"  # the section of keep-in-touch items past their maximum
SECTIONS = ("losing-touch", "overdue", "today", "week", "later")  # the order of the lists


@dataclass(slots=True)  # not frozen: lists make thousands, and frozen init is ~3x slower
class DueItem:
    handle: str
    name: str
    kind: str  # reminder | birthday | keep-in-touch
    due: date
    text: str
    reminder_index: int | None = None  # for kind == reminder: which [[reminders]] entry
    band: str | None = None  # for kind == keep-in-touch: soon, due or lapsed (domain/cadence.py)
    max_due: date | None = None  # for kind == keep-in-touch: the day the maximum interval runs out

    def bucket(self, today: date) -> str:
        """overdue / today / week / later: the sections of the reminders view."""
        if self.due < today:
            return "overdue"
        if self.due == today:
            return "today"
        if self.due <= today + timedelta(days=7):
            return "week"
        return "later"

    def section(self, today: date) -> str:
        """The bucket, except that a keep-in-touch item past its maximum is in "losing-touch"."""
        return LOSING_TOUCH if self.band == cadence_mod.LAPSED else self.bucket(today)


def next_birthday(birthday: Birthday, today: date) -> date:
    """The next date (today included) on which this birthday falls; 02-29 falls on 02-28."""
    for year in (today.year, today.year + 1):
        try:
            day = date(year, birthday.month, birthday.day)
        except ValueError:
            day = date(year, 2, 28)
        if day >= today:
            return day
    raise AssertionError("unreachable")


_UNKNOWN = cadence_mod.UNKNOWN  # one sentinel: "the caller did not compute the tier"


def cadence(customer: Customer, today: date, settings: Settings, tier=_UNKNOWN) -> Duration | None:
    """The ideal keep-in-touch interval in force: the record's own, else its tags', else its
    tier's default (domain/cadence.py rule, which also gives the maximum).

    Pass `tier` when the caller already knows it, to save computing the value again.
    """
    found = cadence_mod.rule(customer, today, settings, tier)
    return found.cadence.ideal if found else None


def _reminder_item(customer: Customer, r: Reminder) -> DueItem:
    return DueItem(customer.handle, customer.name, REMINDER, r.due, r.text or "(reminder)", r.index)


def _birthday_item(customer: Customer, today: date) -> DueItem | None:
    if not customer.birthday:
        return None
    snoozed = customer.birthday_snoozed_until
    if snoozed is not None and snoozed > today:  # snoozed, or wished already (done): not before then
        return None
    day = next_birthday(customer.birthday, today)
    born = customer.birthday.year
    age = f" ({day.year - born})" if born and born <= day.year else ""  # a year ahead (a typo): no age
    return DueItem(customer.handle, customer.name, BIRTHDAY, day, f"Birthday{age}")


def _keep_in_touch_item(customer: Customer, today: date, settings: Settings, tier) -> DueItem | None:
    if customer.last_interaction is None:
        return None
    status = cadence_mod.touch(customer, today, settings, tier)
    if status is None or status.band == cadence_mod.SNOOZED:  # snoozed: no item before that day
        return None
    return DueItem(customer.handle, customer.name, KEEP_IN_TOUCH, status.ideal_on, keep_in_touch_text(status),
                   band=status.band if status.band != cadence_mod.OK else None, max_due=status.max_on)


def keep_in_touch_text(status: cadence_mod.Touch) -> str:
    """'Keep in touch (every 1 month; last call 2026-10-07)', and when the maximum has passed
    '... ; lapsed 2026-11-22)'; with an explicit maximum, 'every 1 month, at most 6 weeks'."""
    text = f"Keep in touch ({status.rule.cadence.describe()}; last {status.last_kind} {status.last}"
    if status.band == cadence_mod.LAPSED:
        text += f"; lapsed {status.max_on}"
    return text + ")"


def customer_due(customer: Customer, today: date, settings: Settings, horizon: date,
                 tier=_UNKNOWN) -> list[DueItem]:
    items = [_reminder_item(customer, r) for r in customer.open_reminders if r.due <= horizon]
    for item in (_birthday_item(customer, today), _keep_in_touch_item(customer, today, settings, tier)):
        if item is not None and item.due <= horizon:
            items.append(item)
    return items


def within_days(settings: Settings, today: date) -> int:
    """crm.toml's due_within ("14d", "2w", "1m") as a number of days from today."""
    try:
        return (settings.due_within.after(today) - today).days
    except DateError:
        return (date.max - today).days


def due_items(customers: list[Customer], today: date, settings: Settings, within: int | None = None) -> list[DueItem]:
    """Everything due up to `within` days from today (default: crm.toml's due_within), overdue
    first, then by date."""
    if within is None:
        within = within_days(settings, today)
    horizon = today + timedelta(days=within) if within <= (date.max - today).days else date.max
    items = [item for c in customers for item in customer_due(c, today, settings, horizon)]
    items.sort(key=lambda item: (item.due, item.name.lower(), item.kind))
    return items


def advance(reminder: Reminder, today: date) -> date | None:
    """For a recurring reminder, its next due date after today; None for a one-off.

    Also None when the next date would be after validate.LAST_DAY (9999-12-30, the last
    day every export can write): a series with no next date left ends, and done closes it.
    See next_date_sentence for what to tell the user then.
    """
    if reminder.every is None:
        return None
    try:
        due = reminder.every.after(reminder.due)
        while due <= today:
            due = reminder.every.after(due)
    except DateError:  # the next date is past the calendar
        return None
    return due if due <= LAST_DAY else None


def next_date_sentence(reminder: Reminder, today: date) -> str | None:
    """Why a recurring reminder does not move forward (so done closes it), or None when it does."""
    if reminder.every is None or advance(reminder, today) is not None:
        return None
    return (f"'{reminder.text or 'reminder'}' repeats every {reminder.every.describe()}, and its next date "
            f"would be after {LAST_DAY}, the last day of the calendar: it does not repeat again")


def next_due(customer: Customer, today: date, settings: Settings, tier=_UNKNOWN) -> DueItem | None:
    """The one thing due soonest for this customer (overdue counts as soonest), if any.

    Lists call this once per customer, so it builds only the candidates it compares.
    """
    open_ones = [r for r in customer.reminders if r.done is None]
    candidates = [_reminder_item(customer, min(open_ones, key=lambda r: r.due))] if open_ones else []
    candidates += [i for i in (_birthday_item(customer, today), _keep_in_touch_item(customer, today, settings, tier))
                   if i is not None]
    return min(candidates, key=lambda item: item.due) if candidates else None
