"""Which commits touched each file: an index so one record's history is instant.

`git log -- FILE` must walk every commit and, in a book of 10,000 files in one
folder, diff that folder's large tree for each candidate: ~0.9 s on the stress
book even with changed-path Bloom filters. This index is built once with one
pass over the history (~6.5 s there), then kept current incrementally from the
last commit it saw; a rewritten history (reset, rebase) rebuilds it. It lives in
.git/crmtui/, outside the book's history, and is rebuilt silently if missing
or corrupt.
"""

from __future__ import annotations

import pickle
from typing import Callable

from crmtui.errors import CrmError
from crmtui.storage.atomic import atomic_write
from crmtui.storage.git_repo import GitRepo

FORMAT = 1


class HistoryIndex:
    def __init__(self, git: GitRepo):
        self.git = git
        self.path = git.root / ".git" / "crmtui" / "history-index.pickle"
        self.head: str | None = None
        self.commits: dict[str, list[str]] = {}  # file path -> commit ids, newest first

    def _load(self) -> None:
        try:
            with open(self.path, "rb") as handle:
                payload = pickle.load(handle)
            if payload.get("format") == FORMAT:
                self.head, self.commits = payload["head"], payload["commits"]
                return
        except Exception:  # missing or corrupt: rebuild
            pass
        self.head, self.commits = None, {}

    def _save(self) -> None:
        payload = {"format": FORMAT, "head": self.head, "commits": self.commits}
        try:
            atomic_write(self.path, pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:
            pass  # a read-only book still answers, just without keeping the index

    def update(self, announce: Callable[[], None] | None = None) -> None:
        """Bring the index up to HEAD. `announce` is called before a full (slow) build."""
        self._load()
        head = self.git.head()
        if head is None:
            self.head, self.commits = None, {}
            return
        if head == self.head:
            return
        if self.head and self._is_ancestor(self.head, head):
            span, fresh = f"{self.head}..{head}", False
        else:
            span, fresh = head, True
            if announce:
                announce()
        newer: dict[str, list[str]] = {}
        # --diff-merges=cc: a merge lists only the files it really merged (changed from every side).
        out = self.git.run("log", span, "--no-renames", "--raw", "--no-abbrev", "--diff-merges=cc",
                           "--format=%x1e%H")
        for block in out.split("\x1e"):
            sha, _, raw = block.partition("\n")
            sha = sha.strip()
            if not sha:
                continue
            for line in raw.splitlines():
                if line.startswith(":"):
                    newer.setdefault(line.partition("\t")[2], []).append(sha)
        if fresh:
            self.commits = newer
        else:
            for path, shas in newer.items():
                self.commits[path] = shas + self.commits.get(path, [])
        self.head = head
        self._save()

    def _is_ancestor(self, old: str, new: str) -> bool:
        try:
            self.git.run("merge-base", "--is-ancestor", old, new)
            return True
        except CrmError:
            return False

    def commits_for(self, path: str) -> list[str]:
        return self.commits.get(path, [])
