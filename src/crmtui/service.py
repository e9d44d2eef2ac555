"""The use cases the CLI and the TUI share, as one object over one book.

Each group lives in its own module under usecases/ (records, reminders, history,
sync; imports, merges and exports in usecases/interchange.py as plain functions);
`Service` is the book session with all of them. Every write goes through the
session's one write path: validate, lock, settle outside edits, write, commit.
"""

from __future__ import annotations

from crmtui.usecases.deals import DealUseCases
from crmtui.usecases.capture import CaptureUseCases
from crmtui.usecases.history import HistoryEntry, HistoryUseCases
from crmtui.usecases.records import RecordUseCases, _handle_source
from crmtui.usecases.reminders import ReminderUseCases
from crmtui.usecases.reports import ReportUseCases
from crmtui.usecases.search import SearchUseCases
from crmtui.usecases.session import BookSession, current_time, init_book
from crmtui.usecases.sync import SyncUseCases

__all__ = ["HistoryEntry", "Service", "current_time", "init_book", "_handle_source"]


class Service(RecordUseCases, ReminderUseCases, DealUseCases, HistoryUseCases, SyncUseCases, SearchUseCases,
              CaptureUseCases, ReportUseCases, BookSession):
    """A book open for reading and writing, with every use case."""
