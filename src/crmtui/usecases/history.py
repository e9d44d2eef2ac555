"""History: a record's commits in words, the book's feed, a diff, and restore."""

from __future__ import annotations

from typing import Callable, NamedTuple

from crmtui.domain.changes import describe_change
from crmtui.domain.record import Customer
from crmtui.domain.slug import HANDLE
from crmtui.errors import CrmError
from crmtui.storage.book import CUSTOMERS
from crmtui.storage.git_repo import Commit
from crmtui.storage.record_file import check_text
from crmtui.storage.toml_text import BOM, decode, parse_fast


class HistoryEntry(NamedTuple):
    commit: Commit
    handle: str | None  # the record it concerns (None for other files)
    path: str
    phrases: tuple[str, ...]


class HistoryUseCases:

    def history(self, handle: str | None = None, limit: int = 50,
                announce: Callable[[], None] | None = None) -> list[HistoryEntry]:
        """A record's commits (through the history index), or the book's feed.

        `announce` is called before the index's one-off first build, which takes
        seconds on a very large book, so a UI can say why it waits.
        """
        rel = self.book.rel(handle) if handle else None
        if rel:
            from crmtui.storage.history_index import HistoryIndex

            index = HistoryIndex(self.git)
            index.update(announce)
            commits = self.git.commits(index.commits_for(rel)[:limit], rel)
        else:
            commits = self.git.log(None, limit=limit)
        entries = []
        for commit in commits:
            for change in commit.changes:
                if rel and change.path != rel:
                    continue
                entries.append(HistoryEntry(commit, _handle_of(change.path), change.path,
                                            tuple(self._phrases(change))))
            if not commit.changes:
                entries.append(HistoryEntry(commit, None, "", ()))
        return entries

    def _phrases(self, change) -> list[str]:
        if not change.path.endswith(".toml"):
            return []
        try:
            old = parse_fast(self.git.blob(change.old_blob).removeprefix(BOM)) if change.old_blob else None
            new = parse_fast(self.git.blob(change.new_blob).removeprefix(BOM)) if change.new_blob else None
        except Exception:
            return ["changed (a version did not parse)"]
        return describe_change(old, new)

    def patch(self, sha: str, handle: str | None = None) -> str:
        return self.git.patch(sha, self.book.rel(handle) if handle else None)

    def restore(self, handle: str, rev: str) -> tuple[Customer, str]:
        sha = self.git.resolve(rev)
        rel = self.book.rel(handle)
        text = self.git.show_file(sha, rel)
        if text is None:
            raise CrmError(f"{rel} did not exist at {rev}; see: crmtui history {handle}")
        _, customer, problem = check_text(rel, handle, decode(text.encode("utf-8")))
        if problem:
            raise CrmError(f"the version at {rev} does not validate ({problem}); not restored")
        with self.transaction() as tx:
            if self.git.pending(rel):  # an outside edit that does not validate: never overwrite it
                raise CrmError(f"{rel} has uncommitted changes that do not validate; fix them with crmtui edit "
                               f"{handle}, or discard them with: git checkout -- {rel}; nothing was restored")
            current = self.book.root / rel
            now = current.read_bytes() if current.exists() else None
            if now == text.encode("utf-8"):
                raise CrmError(f"{customer.name} is already as it was at {rev}")
            when = self.git.commit_time(sha).strftime("%Y-%m-%d %H:%M")
            tx.replace(rel, text, expected=now)
            tx.commit(f"Restore {customer.name} to the version of {when} ({sha[:8]})")
        self._refresh(handle)
        return customer, sha


def _handle_of(path: str) -> str | None:
    if path.startswith(CUSTOMERS + "/") and path.endswith(".toml"):
        stem = path[len(CUSTOMERS) + 1 : -5]
        return stem if HANDLE.match(stem) or "/" not in stem else None
    return None
