"""The crmtui Textual app: bindings, screen pushing, and the workers that touch disk and git.

Threads: one "writer" Service is used only inside thread workers, always under
`self.lock`, so writes, reloads and git reads never overlap (Service is not
thread-safe). After each of them the worker posts a BookLoaded message with a
read-only "reader" Service (see state.py); screens read only the reader.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from textual import on, work
from textual.app import App
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen
from textual.widgets import Input
from textual.worker import get_current_worker

from crmtui.errors import CrmError
from crmtui.service import Service, current_time
from crmtui.storage.book import CUSTOMERS, SETTINGS
from crmtui.tui.commands import CrmCommands
from crmtui.tui.deal_flow import DealFlow
from crmtui.tui.keys import APP_KEYS, checked_keymap
from crmtui.tui.editor_flow import EditorFlow
from crmtui.tui.mail_flow import MailFlow
from crmtui.tui.messages import BookLoaded, Notices, PendingChanged, WorkFailed, describe_error
from crmtui.tui.state import fingerprint, make_reader

_LETTER_ACTIONS = {binding.action for binding in APP_KEYS if binding.priority}

class CrmApp(DealFlow, EditorFlow, MailFlow, App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "crmtui"
    BINDINGS = APP_KEYS
    COMMANDS = App.COMMANDS | {CrmCommands}

    reader: reactive[Service | None] = reactive(None, always_update=True, init=False)
    pending: reactive[tuple[int | None, int | None, int | None]] = reactive((None, None, None), init=False)

    def __init__(self, root: Path, now: Callable[[], datetime] | None = None, *,
                 path_label: str | None = None, testing: bool = False, poll_interval: float | None = 1.0,
                 exit_when_ready: bool = False):
        super().__init__()
        self.now = now or current_time
        self.writer = Service.open(Path(root), now=self.now)  # raises CrmError when there is no book
        self.root = self.writer.book.root
        self.path_label = path_label or _home_short(self.root)
        self.testing = testing
        self.poll_interval = poll_interval
        self.lock = threading.Lock()
        # Writes run in workers; when a CLI command holds the book, say why the save waits.
        self.writer.on_wait = lambda text: self.call_from_thread(self.notify, text, markup=False)
        self.disk_fingerprint: tuple | None = None
        self.loaded = False
        self.exit_when_ready = exit_when_ready  # the benchmark: start, show the list, exit
        if testing:
            self.animation_level = "none"

    # ---- screens -----------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        from crmtui.tui.screens.main import MainScreen

        self.main_screen = MainScreen()
        return self.main_screen

    def on_mount(self) -> None:
        keymap, problems = checked_keymap()  # a bad or clashing remap is left out, never half applied
        if keymap:
            self.set_keymap(keymap)
        if problems:
            self.notify("\n".join(problems), title="Keys", severity="warning", timeout=20, markup=False)
        self.load_book("load")
        if self.poll_interval:
            self.set_interval(self.poll_interval, self.check_for_changes)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in _LETTER_ACTIONS:
            # A form or a dialog owns the keyboard, and a text field takes the letter as text.
            if isinstance(self.screen, ModalScreen) or isinstance(self.focused, Input):
                return False
        return True

    def _screen_action(self, name: str) -> bool:
        """A view's own key wins over the app's (the problems view's e edits the broken file)."""
        method = getattr(self.screen, f"action_{name}", None) if self.screen is not self.main_screen else None
        if callable(method):
            method()
            return True
        return False

    def action_quit_or_back(self) -> None:
        if self.screen is self.main_screen:
            self.exit()
        else:
            self.back_to_main()

    async def catch_up(self) -> None:
        """Let the widgets handle the keys already routed to them before acting on this one.

        Keys typed in one burst ("/ana", Enter, "l" from a fast typist or a paste) are
        routed by the app faster than the search box handles them; an action that reads
        the selection waits here (the app's queue waits with it) until they are done.
        """
        quiet = 0
        for _ in range(200):
            nodes = [node for node in (self.focused, self.screen) if node is not None]
            if any(node.message_queue_size for node in nodes):
                quiet = 0
            else:
                quiet += 1
                if quiet >= 3:
                    return
            await asyncio.sleep(0)

    def current_handle(self) -> str | None:
        """The customer the user is looking at: the current view's, else the main screen's selection."""
        getter = getattr(self.screen, "current_handle", None)
        handle = getter() if callable(getter) else None
        if handle is None and not isinstance(self.screen, ModalScreen):
            handle = self.main_screen.selected
        return handle

    def show_view(self, screen: Screen) -> None:
        """Open a view over the main screen; a view replaces another view."""
        if self.screen is self.main_screen:
            self.push_screen(screen)
        else:
            while len(self.screen_stack) > 2:
                self.pop_screen()
            self.switch_screen(screen)

    def back_to_main(self) -> None:
        while self.screen is not self.main_screen and len(self.screen_stack) > 1:
            self.pop_screen()

    def jump_to(self, handle: str) -> None:
        self.back_to_main()
        self.main_screen.select_handle(handle)

    # ---- actions -----------------------------------------------------------------

    def action_focus_search(self) -> None:
        self.back_to_main()
        self.main_screen.focus_search()  # at once, so the next keys land in the box

    async def action_log(self) -> None:
        from crmtui.tui.screens.log_form import LogForm

        await self.catch_up()
        handle = self.current_handle()
        customer = self.reader.snapshot.customer(handle) if self.reader and handle else None
        if customer is None:
            self.notify("Select a customer first: press / and type a name.", severity="warning")
            return
        self.push_screen(LogForm(customer))

    async def action_remind(self) -> None:
        from crmtui.tui.screens.remind_form import RemindForm

        await self.catch_up()
        handle = self.current_handle()
        customer = self.reader.snapshot.customer(handle) if self.reader and handle else None
        if customer is None:
            self.notify("Select a customer first: press / and type a name.", severity="warning")
            return
        self.push_screen(RemindForm(customer))

    def action_new_customer(self) -> None:
        from crmtui.tui.screens.new_customer import NewCustomerForm

        if self.reader is None:
            return
        self.push_screen(NewCustomerForm())

    async def action_edit(self) -> None:
        if self._screen_action("edit"):
            return
        await self.catch_up()
        handle = self.current_handle()
        if not handle:
            self.notify("Select a customer first: press / and type a name.", severity="warning")
            return
        self.edit_file(f"{CUSTOMERS}/{handle}.toml")

    def action_reminders(self) -> None:
        from crmtui.tui.screens.reminders import RemindersScreen

        self.show_view(RemindersScreen())

    def action_tiers(self) -> None:
        from crmtui.tui.screens.tiers import TiersScreen

        self.show_view(TiersScreen())

    def action_report(self) -> None:
        from crmtui.tui.screens.dashboard import DashboardScreen

        self.show_view(DashboardScreen())

    async def action_history(self) -> None:
        from crmtui.tui.screens.history import HistoryScreen

        await self.catch_up()
        self.show_view(HistoryScreen(self.current_handle()))

    def action_book_history(self) -> None:
        from crmtui.tui.screens.history import HistoryScreen

        self.show_view(HistoryScreen(None))

    def action_problems(self) -> None:
        from crmtui.tui.screens.problems import ProblemsScreen

        self.show_view(ProblemsScreen())

    def action_sync(self) -> None:
        """Commit, pull with the record-aware merge, push: in the book's worker, as every write."""
        self.notify("Syncing with the remote…", title="Sync", timeout=4)

        def done(report) -> None:
            lines = [report.summary, *report.details]
            severity = "warning" if report.details else "information"
            self.notify("\n".join(lines), title="Sync", severity=severity, timeout=12, markup=False)

        self.write("Sync", lambda service: service.sync(), on_done=done)

    def action_help(self) -> None:
        from crmtui.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    # ---- the book, from workers --------------------------------------------------

    @on(BookLoaded)
    def _install(self, message: BookLoaded) -> None:
        first = not self.loaded
        self.loaded = True
        self.reader = message.reader
        if first and self.exit_when_ready:
            self.call_after_refresh(self.exit)
        if message.then is not None:
            message.then()

    @on(WorkFailed)
    def _failed(self, message: WorkFailed) -> None:
        if message.on_error is not None:
            message.on_error(message.message)
        else:
            self.notify(message.message, severity="error", timeout=8, markup=False)

    @on(PendingChanged)
    def _pending(self, message: PendingChanged) -> None:
        self.pending = message.state

    @on(Notices)
    def _notices(self, message: Notices) -> None:
        for notice in message.notices:
            self.notify(notice, severity="warning", timeout=10, markup=False)

    def _post_notices(self) -> None:
        notices = self.writer.notices()
        if notices:
            self.post_message(Notices(notices))

    @work(thread=True, exclusive=True, group="reload", exit_on_error=False)
    def load_book(self, reason: str = "reload") -> None:
        """Read the book (cache-assisted) and hand a fresh reader to the screens."""
        worker = get_current_worker()
        try:
            with self.lock:
                if worker.is_cancelled:
                    return
                seen = fingerprint(self.root)
                self.writer.reload()
                self.disk_fingerprint = seen
                self.post_message(BookLoaded(make_reader(self.writer, self.reader), reason))
        except Exception as error:  # noqa: BLE001 - any failure is shown, the app keeps running
            self.post_message(WorkFailed(describe_error(error, "Reading the book")))
        self.refresh_pending()

    def check_for_changes(self) -> None:
        if self.disk_fingerprint is not None:
            self._poll()

    @work(thread=True, exclusive=True, group="poll", exit_on_error=False)
    def _poll(self) -> None:
        """Every second: has anything under the book changed on disk (an editor, a git pull)?"""
        if fingerprint(self.root) != self.disk_fingerprint:
            self.call_from_thread(self.load_book, "disk")

    @work(thread=True, exclusive=True, group="git-status", exit_on_error=False)
    def refresh_pending(self) -> None:
        try:
            ahead = behind = None
            with self.lock:
                pending = self.writer.git.pending(CUSTOMERS, SETTINGS) if self.writer.git.is_repo() else []
                # Against the remote branch as last fetched: no network here, sync does that.
                status, out, _ = self.writer.git.attempt("rev-list", "--left-right", "--count", "HEAD...@{upstream}")
                if status == 0 and len(out.split()) == 2:
                    ahead, behind = (int(n) for n in out.split())
            count: int | None = len([p for _, p in pending if p.endswith(".toml")])
        except Exception:  # noqa: BLE001 - the status line says "unknown"
            count = ahead = behind = None
        self.post_message(PendingChanged(count, ahead, behind))

    def write(self, label: str, change: Callable[[Service], Any], *,
              on_done: Callable[[Any], object] | None = None,
              on_error: Callable[[str], object] | None = None) -> None:
        """Run a write (validate + edit the file + commit) in the book's worker group."""
        self._write(label, change, on_done, on_error)

    @work(thread=True, group="book", exit_on_error=False)
    def _write(self, label: str, change, on_done, on_error) -> None:
        try:
            with self.lock:
                result = change(self.writer)
                self.disk_fingerprint = fingerprint(self.root)  # our own write: no reload needed
                reader = make_reader(self.writer, self.reader)
                then = (lambda: on_done(result)) if on_done else None
                self.post_message(BookLoaded(reader, "write", then))
                self._post_notices()
        except Exception as error:  # noqa: BLE001
            self.post_message(WorkFailed(describe_error(error, label), on_error))
        self.refresh_pending()


def _home_short(path: Path) -> str:
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)


def create_app(root: Path, now: Callable[[], datetime] | None = None, **options) -> CrmApp:
    """The app factory: tests pass a fixed `now`, a stable path label and testing=True."""
    return CrmApp(Path(root), now, **options)


def run_app(root: Path) -> int:
    try:
        app = create_app(root)
    except CrmError as error:
        import sys

        print(f"crmtui: {error}", file=sys.stderr)
        return 1
    result = app.run()
    return int(result or 0)
