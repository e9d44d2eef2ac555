"""Reminders: what is due, mark one done (a recurring one moves forward), snooze."""

from __future__ import annotations

from datetime import date

from crmtui.domain import reminders as reminders_mod
from crmtui.domain import validate
from crmtui.domain.dates import as_date
from crmtui.domain.record import Customer, Reminder
from crmtui.domain.search import SearchEntry, SearchIndex, clear_winner
from crmtui.errors import AmbiguousError, CrmError
from crmtui.storage.record_file import table_at


class ReminderUseCases:
    def due(self, within: int = 7):
        return reminders_mod.due_items(self.customers, self.today(), self.snapshot.settings, within)

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
