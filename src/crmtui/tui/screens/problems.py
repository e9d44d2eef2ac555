"""Files that failed to parse or validate, with line, column and why; Enter opens one in $EDITOR.

A record with a sync conflict is listed too; k keeps the record's value and x takes
the other side's, one key at a time, as `crmtui resolve` does.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from crmtui.service import Service
from crmtui.tui.fmt import safe
from crmtui.tui.screens.view_base import ViewScreen


class ProblemsScreen(ViewScreen):
    BINDINGS = [
        Binding("e", "edit", "Edit in $EDITOR", id="crmtui.problems.edit"),
        Binding("k", "resolve('ours')", "Keep this value", id="crmtui.problems.ours"),
        Binding("x", "resolve('theirs')", "Take the other", id="crmtui.problems.theirs"),
    ]

    def __init__(self, focus_path: str | None = None) -> None:
        super().__init__()
        self.wanted = focus_path
        self.paths: list[str] = []

    def compose(self) -> ComposeResult:
        yield self.title_bar("Problems")
        yield OptionList(id="problem-list")
        yield Static("", classes="hint", id="problems-hint")
        yield from self.status_and_footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(OptionList).focus()

    def book_changed(self, reader: Service) -> None:
        option_list = self.query_one(OptionList)
        keep = self.wanted or self.current_path()
        self.wanted = None
        problems = reader.problems
        self.paths = [p.path for p in problems]
        option_list.clear_options()
        for problem in problems:
            prompt = Text(safe(problem.path), style="bold")
            prompt.append(f"  line {problem.line}, column {problem.col}", style="yellow")
            prompt.append("\n  " + safe(problem.message))
            option_list.add_option(Option(prompt))
        total = len(reader.snapshot.records)
        if problems:
            # A record with a sync conflict still reads (it has a customer); the rest are broken.
            troubles = [r.trouble for r in reader.snapshot.records.values() if r.problem]
            conflicts, invalid = troubles.count("conflict"), troubles.count("invalid")
            broken = len(problems) - conflicts - invalid
            parts = [f"{broken} file{'s' if broken != 1 else ''} could not be read"] if broken else []
            if conflicts:
                parts.append(f"{conflicts} sync conflict{'s' if conflicts != 1 else ''} to resolve")
            if invalid:
                parts.append(f"{invalid} value{'s' if invalid != 1 else ''} to fix")
            self.query_one("#view-title", Static).update("Problems · " + " · ".join(parts))
            self.query_one("#problems-hint", Static).update(
                Text("Enter or e opens the file in $EDITOR; it is committed once it validates. "
                     "A broken file is never rewritten by crmtui. "
                     "A sync conflict: k keeps the record's value, x takes the other side's (one key at a time).",
                     style="dim"))
            index = self.paths.index(keep) if keep in self.paths else 0
            option_list.highlighted = index
        else:
            self.query_one("#view-title", Static).update("Problems · none")
            option_list.add_option(Option(Text(f"No problems: all {total} files are valid.", style="green"),
                                          disabled=True))
            self.query_one("#problems-hint", Static).update("")

    def focus_path(self, path: str) -> None:
        if path in self.paths:
            self.query_one(OptionList).highlighted = self.paths.index(path)

    def current_path(self) -> str | None:
        index = self.query_one(OptionList).highlighted
        if index is None or index >= len(self.paths):
            return None
        return self.paths[index]

    def current_handle(self) -> str | None:
        path = self.current_path()
        if path and path.startswith("customers/") and path.endswith(".toml"):
            return path[len("customers/"):-5]
        return None

    def action_edit(self) -> None:
        path = self.current_path()
        if path:
            self.app.edit_file(path)

    def action_resolve(self, side: str) -> None:
        handle = self.current_handle()
        record = self.app.reader.snapshot.records.get(handle) if handle and self.app.reader else None
        if record is None or record.customer is None or not record.customer.conflicts:
            self.app.notify("k and x settle a sync conflict; a broken file is fixed in the editor (e).",
                            severity="warning")
            return
        key = record.customer.conflicts[0].key
        how = "kept the record's value" if side == "ours" else "took the other side's value"
        self.app.write("Resolving the conflict", lambda service: service.resolve_conflict(handle, key, side),
                       on_done=lambda _: self.app.notify(f"{key}: {how}", title="Conflict settled", markup=False))

    @on(OptionList.OptionSelected)
    def _selected(self) -> None:
        self.action_edit()
