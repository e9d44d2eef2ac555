"""The reminder list: explicit reminders, birthdays and keep-in-touch lapses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from crmtui.domain.dates import DateError, Duration, as_date
from crmtui.domain.record import Birthday, Customer, Reminder
from crmtui.domain.settings import Settings
from crmtui.domain.tiers import standing
from crmtui.domain.validate import LAST_DAY

REMINDER, BIRTHDAY, KEEP_IN_TOUCH = "reminder", "birthday", "keep-in-touch"


@dataclass(slots=True)  # not frozen: lists make thousands, and frozen init is ~3x slower
class DueItem:
    handle: str
    name: str
    kind: str  # reminder | birthday | keep-in-touch
    due: date
    text: str
    reminder_index: int | None = None  # for kind == reminder: which [[reminders]] entry

    def bucket(self, today: date) -> str:
        """overdue / today / week / later: the sections of the reminders view."""
        if self.due < today:
            return "overdue"
        if self.due == today:
            return "today"
        if self.due <= today + timedelta(days=7):
            return "week"
        return "later"


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


_UNKNOWN = object()


def cadence(customer: Customer, today: date, settings: Settings, tier=_UNKNOWN) -> Duration | None:
    """The keep-in-touch cadence in force: the record's own, else its tier's default.

    Pass `tier` when the caller already knows it, to save computing the value again.
    """
    if customer.stage == "former":
        return None
    if customer.keep_in_touch:
        return customer.keep_in_touch
    if tier is _UNKNOWN:
        tier = standing(customer, today, settings).tier
    return settings.cadences.get(tier) if tier else None


def _reminder_item(customer: Customer, r: Reminder) -> DueItem:
    return DueItem(customer.handle, customer.name, REMINDER, r.due, r.text or "(reminder)", r.index)


def _birthday_item(customer: Customer, today: date) -> DueItem | None:
    if not customer.birthday:
        return None
    day = next_birthday(customer.birthday, today)
    born = customer.birthday.year
    age = f" ({day.year - born})" if born and born <= day.year else ""  # a year ahead (a typo): no age
    return DueItem(customer.handle, customer.name, BIRTHDAY, day, f"Birthday{age}")


def _keep_in_touch_item(customer: Customer, today: date, settings: Settings, tier) -> DueItem | None:
    every = cadence(customer, today, settings, tier)
    last = customer.last_interaction
    if not (every and last):
        return None
    try:
        due = every.after(as_date(last.at))
    except DateError:  # a last interaction near year 9999: the lapse is past the calendar
        return None
    return DueItem(customer.handle, customer.name, KEEP_IN_TOUCH, due,
                   f"Keep in touch (every {every.describe()}; last {last.kind} {as_date(last.at)})")


def customer_due(customer: Customer, today: date, settings: Settings, horizon: date,
                 tier=_UNKNOWN) -> list[DueItem]:
    items = [_reminder_item(customer, r) for r in customer.open_reminders if r.due <= horizon]
    for item in (_birthday_item(customer, today), _keep_in_touch_item(customer, today, settings, tier)):
        if item is not None and item.due <= horizon:
            items.append(item)
    return items


def due_items(customers: list[Customer], today: date, settings: Settings, within: int = 7) -> list[DueItem]:
    """Everything due up to `within` days from today, overdue first, then by date."""
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
