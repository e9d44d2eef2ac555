"""What the views (reminders, tiers, history, problems) share: a title, Escape/q back, the status line."""

from __future__ import annotations

from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from crmtui.service import Service
from crmtui.tui.widgets.status_bar import StatusBar


class ViewScreen(Screen):
    BINDINGS = [
        Binding("escape,q", "close", "Back", id="crmtui.view.back"),
    ]

    def title_bar(self, text: str = "") -> Static:
        return Static(text, classes="view-title", id="view-title")

    def status_and_footer(self):
        yield StatusBar(id="status")
        yield Footer(compact=True)  # every key fits at 80 columns

    def on_mount(self) -> None:
        self.watch(self.app, "reader", self._reader_changed, init=False)
        self.watch(self.app, "pending", lambda _: self._show_status(), init=False)
        self._show_status()
        if self.app.reader is not None:
            self.book_changed(self.app.reader)

    def _reader_changed(self, reader: Service | None) -> None:
        self._show_status()
        if reader is not None:
            self.book_changed(reader)

    def _show_status(self) -> None:
        reader = self.app.reader
        for bar in self.query(StatusBar):
            bar.show(self.app.path_label, len(reader.snapshot.records) if reader else None,
                     len(reader.problems) if reader else 0, self.app.pending)

    def book_changed(self, reader: Service) -> None:  # overridden
        pass

    def action_close(self) -> None:
        self.app.back_to_main()
