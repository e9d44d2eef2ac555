"""Reminders across the book: losing touch / overdue / today / this week / later.

Every row takes d (done), z (snooze) and l (log): done on a reminder marks it done (a
recurring one moves forward); done on a keep-in-touch or birthday row opens the log form,
prefilled, to log how you got in touch (that is what "done" means there: the clock
restarts; a birthday's row goes until next year). j jumps to the next section, f filters
the rows, and the highlighted row's whole text is in the line under the list.
"""

from __future__ import annotations

from datetime import date

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from crmtui.domain import cadence as cadence_mod
from crmtui.domain.reminders import BIRTHDAY, KEEP_IN_TOUCH, LOSING_TOUCH, REMINDER, SECTIONS, DueItem
from crmtui.domain.search import fold
from crmtui.service import Service
from crmtui.tui.fmt import relative, safe
from crmtui.tui.screens.view_base import ViewScreen

SECTION_STYLES = {LOSING_TOUCH: "bold red", "overdue": "bold red", "today": "bold yellow", "week": "bold green",
                  "later": "bold"}
KIND_MARK = {"reminder": "•", "birthday": "✦", "keep-in-touch": "↻"}
# The keep-in-touch bands (domain/cadence.py): yellow due soon, orange due, red lapsed.
BAND_STYLES = {cadence_mod.SOON: "yellow", cadence_mod.DUE: "dark_orange", cadence_mod.LAPSED: "red"}
BAND_WORDS = {cadence_mod.SOON: "due soon", cadence_mod.DUE: "due", cadence_mod.LAPSED: "lapsed"}
WIDE = 100  # from this width on, a row shows its date as well as "3 days ago"


def item_key(item: DueItem) -> str:
    return f"{item.handle}|{item.kind}|{item.reminder_index}"


def section_title(section: str, days: int) -> str:
    return {LOSING_TOUCH: "Losing touch · past the maximum, longest first", "overdue": "Overdue",
            "today": "Today", "week": "This week", "later": f"Later (next {days} days)"}[section]


def shown_day(item: DueItem, today: date) -> date:
    """The day a row shows: a losing-touch row, since when it is past the maximum."""
    return item.max_due if item.section(today) == LOSING_TOUCH and item.max_due else item.due


def row_text(item: DueItem) -> str:
    """A row's text: a keep-in-touch row (marked ↻) without the words "Keep in touch"."""
    if item.kind == KEEP_IN_TOUCH and item.text.startswith("Keep in touch (") and item.text.endswith(")"):
        return item.text[len("Keep in touch ("):-1]
    return item.text


def haystack(item: DueItem, today: date, days: int) -> str:
    words = [item.name, item.handle, item.text, item.kind.replace("-", " "), section_title(item.section(today), days),
             BAND_WORDS.get(item.band or "", "")]
    return fold(" ".join(words))


class FilterInput(Input):
    """The filter box: ↓ and ↑ move through the rows below without leaving it."""

    BINDINGS = [
        Binding("down", "move(1)", show=False),
        Binding("up", "move(-1)", show=False),
    ]

    def action_move(self, rows: int) -> None:
        self.screen.move_highlight(rows)


class RemindersScreen(ViewScreen):
    AUTO_FOCUS = "#reminder-list"  # the keys act on the rows; f (or /) goes to the filter
    DEFAULT_CSS = """
    #reminder-filter {
        height: 1;
        margin: 0 1;
        background: $boost;
    }
    #reminder-filter:focus {
        background: $primary 20%;
    }
    #reminder-detail {
        height: auto;
        max-height: 4;
        padding: 0 1;
        background: $panel;
    }
    """
    BINDINGS = [
        Binding("d", "done", "Done", id="crmtui.reminders.done"),
        Binding("z", "snooze", "Snooze", id="crmtui.reminders.snooze"),
        Binding("j", "next_section", "Next", id="crmtui.reminders.next", tooltip="The next section"),
        # priority: acted on as the key arrives, so "flapsed" typed in one burst all lands in the box
        Binding("f", "filter", "Filter", id="crmtui.reminders.filter", priority=True),
        Binding("enter", "go", "Go to", id="crmtui.reminders.go", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, DueItem] = {}  # the rows shown (filtered), by key
        self.all_items: list[DueItem] = []
        self.today: date | None = None
        self.days = 14
        self._order: list[str] = []

    def compose(self) -> ComposeResult:
        yield self.title_bar("Reminders")
        yield FilterInput(placeholder="f to filter: a name, words of the text, lapsed, birthday…", id="reminder-filter",
                          compact=True, select_on_focus=False)
        yield OptionList(id="reminder-list")
        yield Static("", id="reminder-detail")
        yield from self.status_and_footer()

    def on_mount(self) -> None:
        if getattr(self.app, "testing", False):
            self.query_one(FilterInput).cursor_blink = False
        super().on_mount()

    def on_resize(self) -> None:
        self.show_rows()  # rows are clipped to the list's width

    # ---- the rows -----------------------------------------------------------------

    def book_changed(self, reader: Service) -> None:
        self.today = reader.today()
        self.days = reader.due_within()
        self.all_items = reader.due(within=self.days)
        self.show_rows()

    def show_rows(self) -> None:
        today = self.today
        if today is None:
            return
        option_list = self.query_one(OptionList)
        keep = self.current_key()
        before = self._order  # the old order, to stay in place after `d`
        words = fold(self.query_one(FilterInput).value).split()
        items = [i for i in self.all_items if all(w in haystack(i, today, self.days) for w in words)]
        self.items = {item_key(i): i for i in items}
        options: list[Option] = []
        width = self.app.size.width
        # the list's width inside its border and padding, less a scrollbar's (it may come with the
        # rows) and a cell to spare: a row longer than that would wrap onto a second line
        inner = option_list.content_region.width + option_list.scrollbar_size_vertical
        line_width = max(40, inner - 4 if inner > 0 else width - 10)
        name_width = 22 if width >= WIDE else 18
        for section in SECTIONS:
            members = [i for i in items if i.section(today) == section]
            if not members:
                continue
            if section == LOSING_TOUCH:
                members.sort(key=lambda i: (i.max_due or i.due, i.name.lower()))
            style = SECTION_STYLES[section]
            options.append(Option(Text(f"{section_title(section, self.days)} ({len(members)})", style=style),
                                  disabled=True))
            for item in members:
                day = shown_day(item, today)
                band = BAND_STYLES.get(item.band or "", "")
                line = Text("  ")
                if width >= WIDE:
                    line.append(f"{day.isoformat()} ", style=style)
                line.append(f"{relative(day, today):<13}", style=style if width < WIDE else "dim")
                line.append(f"{KIND_MARK.get(item.kind, '•')} ", style=band)
                name = Text(safe(item.name), style="bold")
                name.truncate(name_width, overflow="ellipsis", pad=True)  # by cells: CJK names are wide
                line.append_text(name)
                line.append(" ")
                line.append(safe(row_text(item)), style=band)
                line.truncate(line_width, overflow="ellipsis")
                line.no_wrap, line.overflow = True, "ellipsis"  # one row, one line: the detail below has it all
                options.append(Option(line, id=item_key(item)))
        option_list.clear_options()
        if not options:
            empty = (f"Nothing matches '{safe(' '.join(words))}'; Escape clears the filter." if words
                     else f"Nothing due in the next {self.days} days.")
            options.append(Option(Text(empty, style="dim italic"), disabled=True))
        option_list.add_options(options)
        self._order = [o.id for o in options if o.id]
        shown = f"{len(items)} of {len(self.all_items)} match" if words else f"{len(items)} due"
        self.query_one("#view-title").update(
            f"Reminders · {shown} within {self.days} days · j next section · f filter")
        if self._order:
            if keep in self._order:
                target = keep
            else:  # the item is gone (done): the one that followed it takes its place
                following = before[before.index(keep) + 1:] if keep in before else []
                target = next((key for key in following if key in self._order),
                              self._order[-1] if following else self._order[0])
            option_list.highlighted = option_list.get_option_index(target)
        if not isinstance(self.focused, FilterInput):
            option_list.focus()
        self.show_detail()

    def show_detail(self) -> None:
        """The highlighted row in full, wrapped: its whole text, what it is, and what d does."""
        detail = self.query_one("#reminder-detail", Static)
        item, today = self.current_item(), self.today
        if item is None or today is None:
            detail.update(Text("No row chosen." if self.all_items else "", style="dim"))
            return
        text = Text()
        text.append(safe(item.name), style="bold")
        text.append(" · ")
        text.append(safe(item.text), style=BAND_STYLES.get(item.band or "", ""))
        facts = [f"{'on' if item.kind == BIRTHDAY else 'due'} {item.due} ({relative(item.due, today)})"]
        if item.kind == KEEP_IN_TOUCH:
            band = item.band
            if band == cadence_mod.LAPSED and item.max_due:
                late = (today - item.max_due).days
                facts = [f"due {item.due}", f"{late} day{'s' if late != 1 else ''} past the maximum"]
            elif band == cadence_mod.DUE and item.max_due:
                facts.append(f"the maximum is {item.max_due}")
            elif band == cadence_mod.SOON:
                facts.append("due soon")
            facts.append("d logs how you got in touch")
        elif item.kind == BIRTHDAY:
            facts.append("d logs your wishes; the row goes until next year")
        else:
            facts.append("d marks it done")
        text.append("\n" + " · ".join(facts), style="dim")
        detail.update(text)

    def current_key(self) -> str | None:
        option_list = self.query_one(OptionList)
        if option_list.highlighted is None or option_list.highlighted >= option_list.option_count:
            return None
        return option_list.get_option_at_index(option_list.highlighted).id

    def current_item(self) -> DueItem | None:
        key = self.current_key()
        return self.items.get(key) if key else None

    def current_handle(self) -> str | None:
        item = self.current_item()
        return item.handle if item else None

    @on(OptionList.OptionHighlighted)
    def _highlighted(self) -> None:
        self.show_detail()

    # ---- moving and filtering -----------------------------------------------------

    def move_highlight(self, rows: int) -> None:
        option_list = self.query_one(OptionList)
        (option_list.action_cursor_down if rows > 0 else option_list.action_cursor_up)()

    def action_next_section(self) -> None:
        """The first row of the next section (after the last one: the first section again)."""
        option_list = self.query_one(OptionList)
        count = option_list.option_count
        if not self._order:
            return
        start = option_list.highlighted if option_list.highlighted is not None else -1
        headers = [i for i in range(count) if option_list.get_option_at_index(i).disabled]
        later = [h for h in headers if h > start]
        header = later[0] if later else (headers[0] if headers else -1)
        row = next((i for i in range(header + 1, count) if not option_list.get_option_at_index(i).disabled), None)
        if row is not None:
            option_list.highlighted = row
            option_list.scroll_to_highlight(top=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "filter":  # in the box, f is a letter
            return not isinstance(self.focused, FilterInput)
        return True

    def action_filter(self) -> None:
        """f: type in the filter box to narrow the rows (/ stays the search of the main screen)."""
        self.set_focus(self.query_one(FilterInput))  # at once: the letters typed next go to the box

    @on(Input.Changed, "#reminder-filter")
    def _filter_changed(self) -> None:
        self.show_rows()

    @on(Input.Submitted, "#reminder-filter")
    def _filter_submitted(self) -> None:
        self.query_one(OptionList).focus()

    def action_close(self) -> None:
        """Escape: first out of the filter (clearing it), then back to the main screen."""
        box = self.query_one(FilterInput)
        if box.value or self.focused is box:
            box.value = ""
            self.query_one(OptionList).focus()
            return
        super().action_close()

    # ---- d, z, Enter --------------------------------------------------------------

    def action_done(self) -> None:
        item = self.current_item()
        if item is None:
            return
        if item.kind == REMINDER and item.reminder_index is not None:
            self.app.write("Marking the reminder done",
                           lambda service: service.mark_done(item.handle, item.reminder_index),
                           on_done=lambda result: self._done(result))
            return
        self._log_touch(item)

    def _log_touch(self, item: DueItem) -> None:
        """Done on a keep-in-touch or birthday row: the log form, prefilled; Enter logs it."""
        from crmtui.tui.screens.log_form import LogForm

        reader = self.app.reader
        customer = reader.snapshot.customer(item.handle) if reader else None
        if customer is None:
            return
        kinds = reader.snapshot.settings.kinds
        if item.kind == BIRTHDAY:
            summary, kind, title = "Birthday wishes", "message" if "message" in kinds else None, \
                "Done: log your birthday wishes to "
        else:
            summary, kind, title = "Got in touch", None, "Done: log how you got in touch with "
        handle, what = item.handle, item.kind

        def save(service, _handle, summary, kind, at, follow_up):
            return service.log_touch(handle, what, summary, kind=kind, at=at, follow_up=follow_up)

        self.app.push_screen(LogForm(customer, summary=summary, kind=kind, title=title, save=save))

    def _done(self, result) -> None:
        customer, reminder, next_due = result
        if next_due:
            self.app.notify(f"Done; it recurs: next due {next_due}.", markup=False)
        else:
            self.app.notify(f"Done: {safe(reminder.text)} ({safe(customer.name)}).", markup=False)

    def action_snooze(self) -> None:
        from crmtui.tui.screens.snooze import SnoozeScreen

        item = self.current_item()
        if item is None:
            return

        def chosen(until: str | None) -> None:
            if until:
                self.app.write("Snoozing",
                               lambda service: service.snooze_item(item.handle, item.kind, item.reminder_index, until),
                               on_done=lambda result: self.app.notify(f"Snoozed to {result[1]}."))

        label = {REMINDER: item.text, KEEP_IN_TOUCH: f"keep in touch with {item.name}"}.get(
            item.kind, f"{item.text} of {item.name}")
        self.app.push_screen(SnoozeScreen(label), chosen)

    def action_go(self) -> None:
        item = self.current_item()
        if item is not None:
            self.app.jump_to(item.handle)

    @on(OptionList.OptionSelected)
    def _selected(self) -> None:
        self.action_go()
