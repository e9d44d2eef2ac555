"""Editing a file in $EDITOR from the TUI: suspend, edit, then validate and commit.

A mixin of the app: the flow needs the app's writer, its lock and its workers.
"""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import SuspendNotSupported

from crmtui.errors import CrmError
from crmtui.storage.book import CUSTOMERS
from crmtui.tui.messages import BookLoaded, Notices, WorkFailed, describe_error
from crmtui.tui.state import fingerprint, make_reader


class EditorFlow:
    def edit_file(self, rel: str) -> None:
        self._edit(rel)

    @work(thread=True, group="book", exit_on_error=False)
    def _edit(self, rel: str) -> None:
        path = self.root / rel
        handle = Path(rel).stem if rel.startswith(CUSTOMERS + "/") else None
        try:
            with self.lock:
                # The file about to be edited is the user's to fix now: no "left uncommitted" notice for it.
                notices = [n for n in self.writer.settle_outside_edits() if not n.startswith(f"{rel}:")]
                self._post_notices_after(notices)
                # the last committed version: after a broken edit it is what the summary compares to
                before = self.writer.git.show_file("HEAD", rel) if self.writer.git.has_commits() else None
                if before is None and path.exists() and not self.writer.git.is_repo():
                    before = path.read_text("utf-8")
            error = self.call_from_thread(self._run_editor, path)
            if error:
                self.post_message(WorkFailed(error))
                return
            with self.lock:
                subject, problem = None, None
                if handle is not None:
                    subject, problem = self.writer.commit_edit(handle, before)
                else:  # crm.toml: reload the settings; commit them when they validate
                    self.writer.reload()
                    problem = self.writer.book.read_settings()[1]
                    if problem is None:
                        self.writer.settle_outside_edits()
                        subject = f"{rel} saved"
                seen = fingerprint(self.root)
                self.writer.reload()
                self.disk_fingerprint = seen
                reader = make_reader(self.writer, self.reader)
                self.post_message(BookLoaded(reader, "edit", lambda: self._after_edit(rel, subject, problem)))
        except Exception as error:  # noqa: BLE001
            self.post_message(WorkFailed(describe_error(error, "Editing")))
        self.refresh_pending()

    def _post_notices_after(self, notices: list[str]) -> None:
        if notices:
            self.post_message(Notices(notices))

    def _run_editor(self, path: Path) -> str | None:
        """On the main thread: suspend the app and run $EDITOR on the file (no shell)."""
        import subprocess

        from crmtui.editor import run_editor

        try:
            try:
                with self.suspend():
                    run_editor(path)
            except SuspendNotSupported:  # headless (tests): run it without a terminal
                run_editor(path, stdin=subprocess.DEVNULL, capture_output=True)
        except CrmError as error:
            return str(error)
        return None

    def _after_edit(self, rel: str, subject: str | None, problem) -> None:
        from crmtui.tui.screens.problems import ProblemsScreen

        if problem is not None:
            self.notify(f"{problem.path} line {problem.line}, column {problem.col}: {problem.message}. "
                        "Not committed; press e to edit it again.", severity="error", timeout=10, markup=False)
            if not isinstance(self.screen, ProblemsScreen):
                self.show_view(ProblemsScreen(focus_path=rel))
            else:
                self.screen.focus_path(rel)
        elif subject:
            self.notify(f"Committed: {subject}", markup=False)
        else:
            self.notify("No change.")
