"""Reminders: what is due, add one, mark one done (a recurring one moves forward), snooze a
reminder, a keep-in-touch item or a birthday; who we are losing touch with."""

from __future__ import annotations

from datetime import date, timedelta

from crmtui.domain import cadence as cadence_mod
from crmtui.domain import reminders as reminders_mod
from crmtui.domain import validate
from crmtui.domain.dates import as_date
from crmtui.domain.record import Customer, Reminder
from crmtui.domain.search import SearchEntry, SearchIndex, clear_winner
from crmtui.errors import AmbiguousError, CrmError
from crmtui.storage.record_file import AppendEntries, table_at

SNOOZE_KEYS = {reminders_mod.KEEP_IN_TOUCH: "keep_in_touch_snoozed_until",
               reminders_mod.BIRTHDAY: "birthday_snoozed_until"}


class ReminderUseCases:
    def due(self, within: int | None = None):
        """What is due within `within` days (default: crm.toml's due_within)."""
        return reminders_mod.due_items(self.customers, self.today(), self.snapshot.settings, within)

    def due_within(self) -> int:
        """crm.toml's due_within in days from today: how far `due` looks by default."""
        return reminders_mod.within_days(self.snapshot.settings, self.today())

    def touch(self, customer: Customer) -> cadence_mod.Touch | None:
        """Where this customer stands with their keep-in-touch cadence (domain/cadence.py)."""
        return cadence_mod.touch(customer, self.today(), self.snapshot.settings)

    def losing_touch(self) -> list[tuple[Customer, cadence_mod.Touch]]:
        """Customers past their maximum interval, the longest past it first."""
        return cadence_mod.losing_touch(self.customers, self.today(), self.snapshot.settings)

    def remind(self, handle: str, when: str | date, text: str, every: str | None = None) -> tuple[Customer, Reminder]:
        """A new [[reminders]] entry, committed "Remind: TEXT (NAME) on DATE"."""
        text = " ".join(text.split())
        if not text:
            raise CrmError("say what to be reminded of: the text is empty")
        today = self.today()
        due = as_date(self._when(when, self.now()))
        try:
            due = validate.future_day(due, today, "the reminder")
            repeat = validate.duration(every, "the repeat interval") if every else None
        except validate.InvalidValue as error:
            raise CrmError(str(error)) from None
        entry = {"due": due, "text": text} | ({"every": str(repeat)} if repeat else {})

        def message(c: Customer) -> str:
            subject = f"Remind: {text} ({c.name}) on {due}"
            return subject + (f"\n\nRepeats every {repeat.describe()}." if repeat else "")

        saved = self._write(handle, AppendEntries(("reminders", entry)), message)
        return saved, max(saved.reminders, key=lambda r: r.index)

    def snooze_target(self, customer: Customer, text: str | None = None) -> tuple[str, Reminder | None]:
        """What `snooze WHO [TEXT]` means: (REMINDER, the reminder), (KEEP_IN_TOUCH, None) or
        (BIRTHDAY, None). TEXT is words of a reminder, or "keep in touch", or "birthday";
        without it, the earliest of the open reminders and the keep-in-touch item."""
        today = self.today()
        status = self.touch(customer)
        candidates: list[tuple[date, str, Reminder | None, str]] = [
            (r.due, reminders_mod.REMINDER, r, r.text) for r in customer.open_reminders]
        if status is not None:
            day = status.snoozed_until if status.band == cadence_mod.SNOOZED else status.ideal_on
            candidates.append((day, reminders_mod.KEEP_IN_TOUCH, None, "Keep in touch"))
        if text and customer.birthday:
            day = reminders_mod.next_birthday(customer.birthday, today)
            candidates.append((day, reminders_mod.BIRTHDAY, None, "Birthday"))
        if not candidates:
            if cadence_mod.rule(customer, today, self.snapshot.settings) is not None:
                raise CrmError(f"{customer.name} has no open reminder, and the keep-in-touch clock has not started "
                               f"(it starts at the first logged interaction: crmtui log {customer.handle} SUMMARY)")
            raise CrmError(f"{customer.name} has nothing to snooze: no open reminder and no keep-in-touch cadence "
                           f"(add a reminder with: crmtui remind {customer.handle} WHEN TEXT)")
        if not text:
            _, kind, reminder, _ = min(candidates, key=lambda c: (c[0], c[1] != reminders_mod.REMINDER))
            return kind, reminder
        index = SearchIndex([SearchEntry(str(i), label) for i, (_, _, _, label) in enumerate(candidates)])
        hits = index.search(text)
        winner = clear_winner(hits) or (hits[0] if len(hits) == 1 else None)
        if winner is None:
            listing = "; ".join(f"{due} {label}" for due, _, _, label in candidates)
            raise AmbiguousError(f"'{text}' does not name one thing to snooze of {customer.name}: {listing}")
        _, kind, reminder, _ = candidates[int(winner.handle)]
        return kind, reminder

    def snooze_item(self, handle: str, kind: str, index: int | None, until: str | date) -> tuple[Customer, date]:
        """Snooze a reminder (its due date moves), a keep-in-touch item or a birthday (no item
        before that day: keep_in_touch_snoozed_until / birthday_snoozed_until in the record)."""
        if kind == reminders_mod.REMINDER:
            return self.snooze(handle, index, until)
        customer = self.snapshot.customer(handle)
        if customer is None or kind not in SNOOZE_KEYS:
            raise CrmError("that item is not there any more; reload")
        new_due = self._snooze_day(until)
        today = self.today()
        if kind == reminders_mod.KEEP_IN_TOUCH:
            if cadence_mod.rule(customer, today, self.snapshot.settings) is None:
                raise CrmError(f"{customer.name} has no keep-in-touch cadence to snooze")
            label = "Keep in touch"
        else:
            if customer.birthday is None:
                raise CrmError(f"{customer.name} has no birthday in the file")
            day = reminders_mod.next_birthday(customer.birthday, today)
            if new_due > day:
                raise CrmError(f"a birthday snoozes up to the day itself ({day}); when you have sent your "
                               "wishes, mark it done in the reminders view (d), or log them")
            label = "Birthday"
        key = SNOOZE_KEYS[kind]

        def mutate(doc):
            doc[key] = new_due

        saved = self._write(handle, mutate, lambda c: f"Snooze: {label} ({c.name}) to {new_due}")
        return saved, new_due

    def log_touch(self, handle: str, kind_of_item: str, summary: str, kind: str | None = None,
                  at: str | None = None, follow_up: str | None = None) -> Customer:
        """"Done" on a keep-in-touch or birthday item: log how you got in touch (the clock restarts);
        for a birthday, this year's item goes too (birthday_snoozed_until = the day after it)."""
        also = None
        if kind_of_item == reminders_mod.BIRTHDAY:
            customer = self.snapshot.customer(handle)
            if customer is not None and customer.birthday is not None:
                after = reminders_mod.next_birthday(customer.birthday, self.today()) + timedelta(days=1)

                def also(doc):
                    doc["birthday_snoozed_until"] = after
        return self.log_interaction(handle, summary, kind=kind, at=at, follow_up=follow_up, also=also)

    def _snooze_day(self, until: str | date) -> date:
        new_due = as_date(self._when(until, self.now()))
        if new_due <= self.today():
            raise CrmError("snooze to a day after today")
        try:
            return validate.future_day(new_due, self.today(), "the snooze date")
        except validate.InvalidValue as error:
            raise CrmError(str(error)) from None

    def find_reminder(self, customer: Customer, text: str | None = None) -> Reminder:
        open_ones = customer.open_reminders
        if not open_ones:
            raise CrmError(f"{customer.name} has no open reminder (keep-in-touch restarts when you log "
                           f"an interaction: crmtui log {customer.handle} SUMMARY)")
        if not text:
            return open_ones[0]
        index = SearchIndex([SearchEntry(str(r.index), r.text) for r in open_ones])
        hits = index.search(text)
        winner = clear_winner(hits) or (hits[0] if len(hits) == 1 else None)
        if winner is None:
            listing = "; ".join(f"{r.due} {r.text}" for r in open_ones)
            raise AmbiguousError(f"'{text}' does not name one reminder of {customer.name}: {listing}")
        return next(r for r in open_ones if str(r.index) == winner.handle)

    def mark_done(self, handle: str, index: int) -> tuple[Customer, Reminder, date | None]:
        """Mark [[reminders]] number `index` done; a recurring one moves forward instead."""
        customer = self.snapshot.customer(handle)
        reminder = next((r for r in customer.reminders if r.index == index), None) if customer else None
        if reminder is None or reminder.done is not None:
            raise CrmError("that reminder is not open any more; reload")
        today = self.today()
        next_due = reminders_mod.advance(reminder, today)

        def mutate(doc):
            table = _same_reminder(table_at(doc, "reminders", index), reminder)
            if next_due is not None:
                table["due"] = next_due
            else:
                table["done"] = today

        def message(c: Customer) -> str:
            subject = f"Done: {reminder.text or 'reminder'} ({c.name})"
            return subject + (f"\n\nRecurring: next due {next_due}." if next_due else "")

        return self._write(handle, mutate, message), reminder, next_due

    def snooze(self, handle: str, index: int, until: str | date) -> tuple[Customer, date]:
        customer = self.snapshot.customer(handle)
        reminder = next((r for r in customer.reminders if r.index == index), None) if customer else None
        if reminder is None:
            raise CrmError("that reminder is not there any more; reload")
        new_due = as_date(self._when(until, self.now()))
        if new_due <= self.today():
            raise CrmError("snooze to a day after today")
        try:
            validate.future_day(new_due, self.today(), "the snooze date")
        except validate.InvalidValue as error:
            raise CrmError(str(error)) from None

        def mutate(doc):
            _same_reminder(table_at(doc, "reminders", index), reminder)["due"] = new_due

        saved = self._write(handle, mutate,
                            lambda c: f"Snooze: {reminder.text or 'reminder'} ({c.name}) to {new_due}")
        return saved, new_due


def _same_reminder(table, reminder: Reminder):
    """The [[reminders]] entry found by position, if it is still the one the user chose;
    the file may have changed on disk since it was read."""
    if str(table.get("text", "")) != reminder.text or str(table.get("due", "")) != str(reminder.due):
        raise CrmError(f"the reminder '{reminder.text}' changed on disk since it was read; reload and try again")
    return table
