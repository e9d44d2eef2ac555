"""Messages the workers post to the app; handlers on the main thread own the state."""

from __future__ import annotations

from typing import Callable

from textual.message import Message

from crmtui.errors import CrmError
from crmtui.service import Service


class BookLoaded(Message):
    """A fresh read-only view of the book, made in a worker after a load, a reload or a write.

    `then` runs on the main thread right after the view is installed (a form
    closing, a jump to a new record), so it always sees the new state.
    """

    def __init__(self, reader: Service, reason: str = "load", then: Callable[[], object] | None = None) -> None:
        super().__init__()
        self.reader = reader
        self.reason = reason
        self.then = then


class WorkFailed(Message):
    """A worker failed; `on_error` shows the message where it belongs (a form), else a notification."""

    def __init__(self, message: str, on_error: Callable[[str], object] | None = None) -> None:
        super().__init__()
        self.message = message
        self.on_error = on_error


class PendingChanged(Message):
    """The book's git state: files with uncommitted changes (None: unknown), and commits
    ahead of / behind the remote branch as of the last fetch (None: no remote)."""

    def __init__(self, count: int | None, ahead: int | None = None, behind: int | None = None) -> None:
        super().__init__()
        self.state = (count, ahead, behind)


class Notices(Message):
    """Things the service wants the user to know once (an outside edit left uncommitted...)."""

    def __init__(self, notices: list[str]) -> None:
        super().__init__()
        self.notices = notices


def describe_error(error: Exception, label: str) -> str:
    """What a failed worker tells the user: the sentence of a CrmError, else what broke."""
    if isinstance(error, CrmError):
        return str(error)
    return f"{label} failed: {type(error).__name__}: {error}"
