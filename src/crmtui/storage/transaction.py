"""The one write path: every change crmtui makes to a book is one transaction.

    with service.transaction() as tx:     # lock, git state checked, outside edits settled
        tx.edit(rel, mutate)              # as many files as the change needs
        tx.commit("Log call with Ana")    # one commit

The files are written atomically and never over a version saved meanwhile
(record_file.edit_record). If anything fails before the commit is made, every
file goes back to what it was and the index is left as it was, so a command that
reports failure has changed nothing, and one that reports success is committed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from crmtui.errors import CrmError
from crmtui.storage.atomic import atomic_write, swap_write
from crmtui.storage.lock import git_dir
from crmtui.storage.record_file import EditResult, Mutation, edit_record, write_new_record

if TYPE_CHECKING:
    import tomlkit

    from crmtui.storage.git_repo import GitRepo


def refuse_unsafe_git_state(root: Path) -> None:
    """Refuse, in one sentence, the git states where a commit would be lost or land elsewhere."""
    if not (root / ".git").exists():
        raise CrmError(f"{root} has no .git of its own: a book is its own git repository "
                       f"(run git init there, or make a new book with crmtui init); nothing was written")
    directory = git_dir(root)
    if directory is None:
        raise CrmError(f"{root}/.git is not a git directory; nothing was written")
    if (directory / "MERGE_HEAD").exists():
        raise CrmError("a sync stopped half way (a merge is in progress); finish it with crmtui sync "
                       "(see crmtui check for what needs fixing) before changing the book; nothing was written")
    if (directory / "rebase-merge").exists() or (directory / "rebase-apply").exists():
        raise CrmError("a git rebase is in progress in this book, and a change made now would be lost by "
                       "git rebase --abort; finish it (git rebase --continue) or undo it (git rebase --abort) "
                       "first; nothing was written")
    for marker, what, verb in (("CHERRY_PICK_HEAD", "cherry-pick", "cherry-pick"),
                               ("REVERT_HEAD", "revert", "revert")):
        if (directory / marker).exists():
            raise CrmError(f"a git {what} is in progress in this book; finish it (git {verb} --continue) or "
                           f"undo it (git {verb} --abort) first; nothing was written")
    try:
        head = (directory / "HEAD").read_text("utf-8").strip()
    except OSError as error:
        raise CrmError(f"cannot read {directory}/HEAD ({error.strerror}); nothing was written") from None
    if not head.startswith("ref: "):
        raise CrmError("the book's git HEAD is detached (a commit was checked out), so a change would be "
                       "committed on no branch; go back to your branch first (git switch main); "
                       "nothing was written")


class WriteTransaction:
    """The files one change touches, what they held before, and its one commit."""

    def __init__(self, root: Path, git: "GitRepo"):
        self.root = root
        self.git = git
        self.before: dict[str, bytes | None] = {}  # by rel: what the file held before this change
        self.after: dict[str, bytes | None] = {}  # what this change left there
        self.commit_sha: str | None = None
        self.committed = False
        self._head = git.head()

    @property
    def paths(self) -> list[str]:
        return list(self.after)

    def _target(self, rel: str) -> tuple[str, Path]:
        """Where a record's bytes live: a symlinked record is written through to its target,
        which must be a file of this book for git to keep its history."""
        path = self.root / rel
        if not path.is_symlink():
            return rel, path
        target = path.resolve()
        try:
            inside = target.relative_to(self.root).as_posix()
        except ValueError:
            raise CrmError(f"{rel} is a link to {target}, outside the book, where git keeps no history of it; "
                           f"replace the link by the file to change it with crmtui; nothing was written") from None
        if not target.is_file():
            raise CrmError(f"{rel} is a link to {inside}, which is not a file; nothing was written")
        return inside, target

    def _note(self, rel: str, before: bytes | None, after: bytes | None) -> None:
        self.before.setdefault(rel, before)
        self.after[rel] = after

    def edit(self, rel: str, mutate: Mutation) -> EditResult:
        rel, path = self._target(rel)
        result = edit_record(self.root, rel, mutate, path=path)
        # The version the edit was built on counts as "before": an outside edit that
        # landed meanwhile was settled into it and is kept on rollback too.
        self._note(rel, result.base, result.written)
        return result

    def create(self, rel: str, doc: "tomlkit.TOMLDocument") -> EditResult:
        result = write_new_record(self.root, rel, doc)
        self._note(rel, None, result.written)
        return result

    def replace(self, rel: str, text: str, expected: bytes | None = None) -> None:
        """Write a whole file (restore, merge results); with `expected`, only over those bytes."""
        rel, path = self._target(rel)
        data = text.encode("utf-8")
        if not path.exists():
            if expected is not None:
                raise CrmError(f"{rel} was removed meanwhile; nothing was written")
            atomic_write(path, data, exclusive=True)
            self._note(rel, None, data)
            return
        def build(raw: bytes) -> bytes:
            if expected is not None and raw != expected:
                raise CrmError(f"{rel} changed on disk meanwhile; nothing was written, try again")
            return data

        base, _ = swap_write(path, build, lambda raw: raw == data)
        self._note(rel, base, data)

    def remove(self, rel: str) -> None:
        path = self.root / rel
        self._note(rel, path.read_bytes(), None)
        os.unlink(path)

    def commit(self, message: str, when=None) -> str | None:
        """The change's one commit; None when it changed nothing git sees."""
        if not self.after:
            return None
        try:
            self.commit_sha = self.git.commit(self.paths, message, when)
        except BaseException:
            if not self._landed(message):
                raise
            self.commit_sha = self.git.head()
        self.committed = True
        return self.commit_sha

    def _landed(self, message: str) -> bool:
        """Did the commit happen although git reported a failure (a hook failing afterwards)?"""
        try:
            head = self.git.head()
            if head is None or head == self._head:
                return False
            subject = self.git.run("log", "-1", "--format=%s", head)
        except Exception:  # noqa: BLE001 - cannot tell: treat as not committed, and roll back
            return False
        return subject == message.splitlines()[0]

    def rollback(self) -> None:
        """Put every file back as it was, if it is still as this change left it, and unstage it."""
        for rel, ours in self.after.items():
            path = self.root / rel
            try:
                current = path.read_bytes() if path.exists() else None
                if current != ours:
                    continue  # someone else wrote it since: theirs now
                old = self.before[rel]
                if old is None:
                    path.unlink(missing_ok=True)
                else:
                    atomic_write(path, old)
            except OSError:
                pass
        if self.after:
            self._unstage(self.paths)

    def _unstage(self, paths: list[str]) -> None:
        """A failed commit may leave the change staged; the next settle would commit it."""
        try:
            if self._head is not None:
                self.git.run("reset", "-q", "HEAD", "--", *paths)
            else:
                self.git.run("rm", "-r", "-q", "--cached", "--ignore-unmatch", "--", *paths)
        except CrmError:
            pass  # git could not touch the index (its lock): then it was not changed either
