"""The reminder list: explicit reminders, birthdays and keep-in-touch lapses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from crmtui.domain.dates import DateError, Duration, as_date
from crmtui.domain.record import Birthday, Customer, Reminder
from crmtui.domain.settings import Settings
from crmtui.domain.tiers import standing

REMINDER, BIRTHDAY, KEEP_IN_TOUCH = "reminder", "birthday", "keep-in-touch"


@dataclass(frozen=True)
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


def cadence(customer: Customer, today: date, settings: Settings) -> Duration | None:
    """The keep-in-touch cadence in force: the record's own, else its tier's default."""
    if customer.stage == "former":
        return None
    if customer.keep_in_touch:
        return customer.keep_in_touch
    tier = standing(customer, today, settings).tier
    return settings.cadences.get(tier) if tier else None


def customer_due(customer: Customer, today: date, settings: Settings, horizon: date) -> list[DueItem]:
    items = [
        DueItem(customer.handle, customer.name, REMINDER, r.due, r.text or "(reminder)", r.index)
        for r in customer.open_reminders
        if r.due <= horizon
    ]
    if customer.birthday:
        day = next_birthday(customer.birthday, today)
        if day <= horizon:
            age = f" ({day.year - customer.birthday.year})" if customer.birthday.year else ""
            items.append(DueItem(customer.handle, customer.name, BIRTHDAY, day, f"Birthday{age}"))
    every = cadence(customer, today, settings)
    last = customer.last_interaction
    if every and last:
        try:
            due = every.after(as_date(last.at))
        except DateError:  # a last interaction near year 9999: the lapse is past the calendar
            due = None
        if due is not None and due <= horizon:
            items.append(
                DueItem(customer.handle, customer.name, KEEP_IN_TOUCH, due,
                        f"Keep in touch (every {every.describe()}; last {last.kind} {as_date(last.at)})")
            )
    return items


def due_items(customers: list[Customer], today: date, settings: Settings, within: int = 7) -> list[DueItem]:
    """Everything due up to `within` days from today, overdue first, then by date."""
    horizon = today + timedelta(days=within) if within <= (date.max - today).days else date.max
    items = [item for c in customers for item in customer_due(c, today, settings, horizon)]
    items.sort(key=lambda item: (item.due, item.name.lower(), item.kind))
    return items


def advance(reminder: Reminder, today: date) -> date | None:
    """For a recurring reminder, its next due date after today; None for a one-off."""
    if reminder.every is None:
        return None
    due = reminder.every.after(reminder.due)
    while due <= today:
        due = reminder.every.after(due)
    return due
