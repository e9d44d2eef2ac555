"""Git history of a record (or of the whole book): commits, readable changes, coloured diffs, restore."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, ScrollableContainer
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from crmtui.service import HistoryEntry, Service
from crmtui.tui.fmt import clip, safe
from crmtui.tui.screens.view_base import ViewScreen

LIMIT = 200


def colour_diff(patch: str) -> Text:
    out = Text(no_wrap=True, overflow="ellipsis")
    for line in patch.splitlines():
        shown = safe(line)
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        elif line.startswith("@@"):
            style = "cyan"
        elif line.startswith(("diff ", "index ", "new file", "deleted file")):
            style = "dim bold"
        else:
            style = ""
        out.append(shown + "\n", style=style)
    return out


class HistoryScreen(ViewScreen):
    BINDINGS = [
        Binding("R", "restore", "Restore", id="crmtui.history.restore"),
        Binding("b", "toggle_scope", "Book/record", id="crmtui.history.scope"),
    ]

    def __init__(self, handle: str | None) -> None:
        super().__init__()
        self.handle = handle
        self.origin = handle  # the record we came from, for toggling back
        self.entries: list[HistoryEntry] = []

    def compose(self) -> ComposeResult:
        yield self.title_bar("History")
        with Horizontal(id="history-body"):
            yield OptionList(id="history-list")
            with ScrollableContainer(id="history-diff"):
                yield Static(Text("Loading…", style="dim italic"), id="diff")
        yield from self.status_and_footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(OptionList).focus()
        self.load()

    def current_handle(self) -> str | None:
        entry = self.current_entry()
        return entry.handle if entry and entry.handle else self.handle

    def current_entry(self) -> HistoryEntry | None:
        option_list = self.query_one(OptionList)
        index = option_list.highlighted
        if index is None or index >= len(self.entries):
            return None
        return self.entries[index]

    def display_name(self, handle: str | None) -> str:
        reader = self.app.reader
        customer = reader.snapshot.customer(handle) if reader and handle else None
        return safe(customer.name) if customer else (f"{handle}.toml" if handle else "the book")

    def load(self) -> None:
        self.query_one("#view-title", Static).update(Text(f"History of {self.display_name(self.handle)} · loading…"))
        self._load_history(self.handle)

    @work(thread=True, exclusive=True, group="history", exit_on_error=False)
    def _load_history(self, handle: str | None) -> None:
        worker = get_current_worker()
        try:
            with self.app.lock:
                entries = self.app.writer.history(handle, limit=LIMIT)
        except Exception as error:  # noqa: BLE001
            if not worker.is_cancelled:
                self.app.call_from_thread(self.app.notify, f"History failed: {error}", severity="error",
                                          markup=False)
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self.show_entries, entries)

    def show_entries(self, entries: list[HistoryEntry]) -> None:
        self.entries = entries
        option_list = self.query_one(OptionList)
        option_list.clear_options()
        width = max(20, option_list.size.width - 4)
        for entry in entries:
            prompt = Text()
            prompt.append(entry.commit.when.strftime("%Y-%m-%d %H:%M") + " ", style="dim")
            prompt.append(entry.commit.short, style="yellow")
            prompt.append("\n" + clip(safe(entry.commit.subject), width), style="bold")
            if self.handle is None and entry.path:
                prompt.append("\n" + clip(safe(entry.path), width), style="dim")
            if entry.phrases:
                prompt.append("\n" + clip(safe("; ".join(entry.phrases)), width * 2), style="italic")
            option_list.add_option(Option(prompt))
        count = f"the latest {LIMIT} changes" if len(entries) >= LIMIT else \
            f"{len(entries)} change{'s' if len(entries) != 1 else ''}"
        title = Text(f"History of {self.display_name(self.handle)} · {count}")
        if self.handle is not None:
            switch = " · b whole book"
        else:
            switch = " · b this record" if self.origin else ""
        title.append(" · R restore" + switch, style="dim")
        self.query_one("#view-title", Static).update(title)
        if entries:
            option_list.highlighted = 0
        else:
            self.query_one("#diff", Static).update(Text("No commits yet.", style="dim italic"))

    @on(OptionList.OptionHighlighted, "#history-list")
    def _highlighted(self) -> None:
        entry = self.current_entry()
        if entry is not None:
            self.query_one("#diff", Static).update(Text("Loading the diff…", style="dim italic"))
            self._load_patch(entry.commit.sha, entry.handle if self.handle else None)

    @work(thread=True, exclusive=True, group="patch", exit_on_error=False)
    def _load_patch(self, sha: str, handle: str | None) -> None:
        worker = get_current_worker()
        try:
            with self.app.lock:
                patch = self.app.writer.patch(sha, handle)
        except Exception as error:  # noqa: BLE001
            patch = f"(no diff: {error})"
        if not worker.is_cancelled:
            self.app.call_from_thread(self._show_patch, sha, patch)

    def _show_patch(self, sha: str, patch: str) -> None:
        entry = self.current_entry()
        if entry is None or entry.commit.sha != sha:
            return
        self.query_one("#diff", Static).update(colour_diff(patch) if patch.strip()
                                               else Text("(no textual change)", style="dim"))
        self.query_one("#history-diff").scroll_home(animate=False)

    def action_toggle_scope(self) -> None:
        if self.handle is None and self.origin is None:
            self.app.notify("Select a customer first to see its own history.")
            return
        self.handle = None if self.handle else self.origin
        self.load()

    def action_restore(self) -> None:
        from crmtui.tui.screens.confirm import ConfirmScreen

        entry = self.current_entry()
        if entry is None or not entry.handle:
            self.app.notify("Choose a commit of a customer's record to restore.", severity="warning")
            return
        handle, sha = entry.handle, entry.commit.sha
        question = Text("Restore ")
        question.append(self.display_name(handle), style="bold")
        question.append(f" to the version of {entry.commit.when:%Y-%m-%d %H:%M} ({entry.commit.short})?\n")
        question.append("This writes that version as a new commit; nothing is lost.", style="dim")

        def answered(yes: bool | None) -> None:
            if yes:
                self.app.write("Restoring", lambda service: service.restore(handle, sha),
                               on_done=self._restored)

        self.app.push_screen(ConfirmScreen(question, yes="Restore"), answered)

    def _restored(self, result) -> None:
        customer, sha = result
        self.app.notify(f"Restored {safe(customer.name)} to {sha[:8]} (a new commit).", markup=False)
        self.load()

    def book_changed(self, reader: Service) -> None:
        pass  # the list reloads itself after a restore
