"""Reminders across the book: overdue / today / this week / later; done, snooze, go to the customer."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from crmtui.domain.reminders import REMINDER, DueItem
from crmtui.service import Service
from crmtui.tui.fmt import relative, safe
from crmtui.tui.screens.view_base import ViewScreen

WITHIN = 60
BUCKETS = [("overdue", "Overdue", "bold red"), ("today", "Today", "bold yellow"),
           ("week", "This week", "bold green"), ("later", f"Later (next {WITHIN} days)", "bold")]
KIND_MARK = {"reminder": "•", "birthday": "✦", "keep-in-touch": "↻"}


def item_key(item: DueItem) -> str:
    return f"{item.handle}|{item.kind}|{item.reminder_index}"


class RemindersScreen(ViewScreen):
    BINDINGS = [
        Binding("d", "done", "Done", id="crmtui.reminders.done"),
        Binding("z", "snooze", "Snooze", id="crmtui.reminders.snooze"),
        Binding("enter", "go", "Go to", id="crmtui.reminders.go", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, DueItem] = {}

    def compose(self) -> ComposeResult:
        yield self.title_bar("Reminders")
        yield OptionList(id="reminder-list")
        yield from self.status_and_footer()

    def book_changed(self, reader: Service) -> None:
        today = reader.today()
        items = reader.due(within=WITHIN)
        option_list = self.query_one(OptionList)
        keep = self.current_key()
        before = [key for key in getattr(self, "items", {})]  # the old order, to stay in place after `d`
        self.items = {item_key(i): i for i in items}
        options: list[Option | None] = []
        line_width = max(40, self.app.size.width - 6)
        for bucket, label, style in BUCKETS:
            members = [i for i in items if i.bucket(today) == bucket]
            if not members:
                continue
            options.append(Option(Text(f"{label} ({len(members)})", style=style), disabled=True))
            for item in members:
                line = Text("  ")
                line.append(f"{item.due.isoformat()} ", style=style)
                line.append(f"{relative(item.due, today):<13}", style="dim")  # "108 days ago" + a space
                line.append(f"{KIND_MARK.get(item.kind, '•')} ")
                name = Text(safe(item.name), style="bold")
                name.truncate(22, overflow="ellipsis", pad=True)  # by cells: CJK names are wide
                line.append_text(name)
                line.append(" ")
                line.append(safe(item.text))
                line.truncate(line_width, overflow="ellipsis")
                options.append(Option(line, id=item_key(item)))
        option_list.clear_options()
        if not options:
            options.append(Option(Text(f"Nothing due in the next {WITHIN} days.", style="dim italic"), disabled=True))
        option_list.add_options(options)
        self.query_one("#view-title").update(
            f"Reminders · {len(items)} due within {WITHIN} days · d done · z snooze · Enter go to customer")
        ids = [o.id for o in options if o is not None and o.id]
        if ids:
            if keep in ids:
                target = keep
            else:  # the item is gone (done): the one that followed it takes its place
                following = before[before.index(keep) + 1:] if keep in before else []
                target = next((key for key in following if key in ids), ids[-1] if following else ids[0])
            option_list.highlighted = option_list.get_option_index(target)
        option_list.focus()

    def current_key(self) -> str | None:
        option_list = self.query_one(OptionList)
        if option_list.highlighted is None:
            return None
        return option_list.get_option_at_index(option_list.highlighted).id

    def current_item(self) -> DueItem | None:
        key = self.current_key()
        return self.items.get(key) if key else None

    def current_handle(self) -> str | None:
        item = self.current_item()
        return item.handle if item else None

    def _reminder_or_say_why(self) -> DueItem | None:
        item = self.current_item()
        if item is None:
            return None
        if item.kind != REMINDER or item.reminder_index is None:
            self.app.notify(f"A {item.kind} item is not a reminder in the file; it clears itself "
                            "(log an interaction to restart the keep-in-touch clock).", severity="warning")
            return None
        return item

    def action_done(self) -> None:
        item = self._reminder_or_say_why()
        if item is None:
            return
        self.app.write("Marking the reminder done",
                       lambda service: service.mark_done(item.handle, item.reminder_index),
                       on_done=lambda result: self._done(result))

    def _done(self, result) -> None:
        customer, reminder, next_due = result
        if next_due:
            self.app.notify(f"Done; it recurs: next due {next_due}.", markup=False)
        else:
            self.app.notify(f"Done: {safe(reminder.text)} ({safe(customer.name)}).", markup=False)

    def action_snooze(self) -> None:
        from crmtui.tui.screens.snooze import SnoozeScreen

        item = self._reminder_or_say_why()
        if item is None:
            return

        def chosen(until: str | None) -> None:
            if until:
                self.app.write("Snoozing the reminder",
                               lambda service: service.snooze(item.handle, item.reminder_index, until),
                               on_done=lambda result: self.app.notify(f"Snoozed to {result[1]}."))

        self.app.push_screen(SnoozeScreen(item.text), chosen)

    def action_go(self) -> None:
        item = self.current_item()
        if item is not None:
            self.app.jump_to(item.handle)

    @on(OptionList.OptionSelected)
    def _selected(self) -> None:
        self.action_go()
