"""What the UI reads, made in a worker: a read-only Service over a frozen copy of the book.

The app keeps one "writer" Service, used only inside workers that hold the
book lock. After every load, reload or write, a worker copies the writer's
snapshot into a new read-only Service (the "reader") and warms its search
index; the main thread swaps readers and never sees a snapshot that a worker
is changing.
"""

from __future__ import annotations

import os
from pathlib import Path

from crmtui.service import Service
from crmtui.storage.book import CUSTOMERS, SETTINGS, Book, Snapshot


class FrozenBook(Book):
    """A Book whose load() returns a snapshot taken earlier (it never touches the disk)."""

    def __init__(self, root: Path, snapshot: Snapshot):
        super().__init__(root)
        self._frozen = snapshot

    def load(self, progress=None) -> Snapshot:
        return self._frozen

    def reload_one(self, snapshot: Snapshot, handle: str) -> None:
        raise RuntimeError("the reader is read-only")


def make_reader(writer: Service, previous: Service | None = None) -> Service:
    """A read-only copy of the writer's current state, safe to hand to the main thread.

    Its search index is built here, in the worker, or taken from `previous` (the reader
    it replaces) when no name, company, email, tag or phone changed."""
    snap = writer.snapshot
    copy = Snapshot(snap.settings, dict(snap.records), list(snap.problems))
    reader = Service(FrozenBook(writer.book.root, copy), now=writer.now)
    reader.build_index(previous)
    reader.keep_search_work(previous)  # the filters' per-customer work (tiers, what is due) of unchanged records
    return reader


def fingerprint(root: Path) -> tuple:
    """A cheap picture of the book on disk: (name, mtime_ns, size, inode) of crm.toml and customers/*.toml."""
    items = []
    try:
        st = os.stat(root / SETTINGS)
        items.append((SETTINGS, st.st_mtime_ns, st.st_size, st.st_ino))
    except OSError:
        items.append((SETTINGS, None))
    try:
        with os.scandir(root / CUSTOMERS) as entries:
            for entry in entries:
                if entry.name.endswith(".toml"):
                    try:
                        st = entry.stat()
                    except OSError:
                        continue
                    items.append((entry.name, st.st_mtime_ns, st.st_size, st.st_ino))
    except OSError:
        pass
    items.sort(key=lambda item: item[0])
    return tuple(items)
