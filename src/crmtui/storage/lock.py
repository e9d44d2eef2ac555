"""The book's write lock, and git's own lock when a killed git left it behind.

One writer at a time across processes: every change crmtui makes to a book runs
under an OS lock (`fcntl.flock`) on `crmtui/write.lock` in the book's git
directory. The kernel drops it when the holder exits, even on kill -9, so a
crash never leaves the book locked. The file also says who holds it, so a
process that waits too long can name the holder.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from crmtui.errors import CrmError

try:
    import fcntl
except ImportError:  # not POSIX: one process at a time is then up to the user
    fcntl = None

Say = Callable[[str], None]
WAIT = 10.0  # how long a writer waits for another before giving up
TELL_AFTER = 1.0  # when a waiting writer says why it waits
POLL = 0.02


def git_dir(root: Path) -> Path | None:
    """The book's git directory: .git, or where a worktree's .git file points."""
    dot_git = root / ".git"
    if dot_git.is_dir():
        return dot_git
    try:
        pointer = dot_git.read_text("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if pointer.startswith("gitdir:"):
        target = Path(pointer[len("gitdir:"):].strip())
        return target if target.is_absolute() else root / target
    return None


class _Held:
    """This process's hold on one book's lock: threads of one process queue on the
    RLock (the TUI's workers), and nested transactions of one thread re-enter it."""

    def __init__(self) -> None:
        self.rlock = threading.RLock()
        self.depth = 0
        self.fd: int | None = None


_held: dict[str, _Held] = {}
_held_guard = threading.Lock()


@contextmanager
def book_lock(root: Path, *, wait: float = WAIT, say: Say | None = None) -> Iterator[None]:
    """Hold the book's write lock for the block; wait up to `wait` seconds for another
    writer, telling `say` after a second, then raise a sentence naming the holder."""
    directory = git_dir(root)
    if directory is None or fcntl is None:
        yield
        return
    path = directory / "crmtui" / "write.lock"
    with _held_guard:
        held = _held.setdefault(str(path), _Held())
    deadline = time.monotonic() + wait
    if not held.rlock.acquire(timeout=max(wait, 0)):
        raise CrmError(f"another change to this book is still being written in this program; "
                       f"waited {wait:.0f} s, try again")
    try:
        if held.depth == 0:
            held.fd = _acquire(path, deadline, say)
        held.depth += 1
        try:
            yield
        finally:
            held.depth -= 1
            if held.depth == 0 and held.fd is not None:
                os.close(held.fd)  # closing the descriptor releases the flock
                held.fd = None
    finally:
        held.rlock.release()


def _acquire(path: Path, deadline: float, say: Say | None) -> int:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except PermissionError:
        raise CrmError(f"cannot write in {path.parent.parent}: the book's git folder is read-only "
                       f"(permission denied); nothing was written") from None
    except OSError as error:
        raise CrmError(f"cannot take the book's lock at {path}: {error.strerror}; nothing was written") from None
    told = False
    started = time.monotonic()
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            pass
        except OSError as error:  # a file system without locks: go on, as git itself would
            if error.errno in (getattr(os, "ENOLCK", 37), getattr(os, "EOPNOTSUPP", 95)):
                return fd
            raise
        now = time.monotonic()
        if now >= deadline:
            holder = _holder(fd)
            os.close(fd)
            raise CrmError(f"the book is busy: {holder} is changing it and did not finish within "
                           f"{deadline - started:.0f} s; nothing was written, try again")
        if not told and now - started >= TELL_AFTER and say is not None:
            say(f"waiting for {_holder(fd)} to finish changing the book…")
            told = True
        time.sleep(POLL)
    _claim(fd)
    return fd


def _claim(fd: int) -> None:
    """Write who holds the lock into the lock file, for a waiting writer to name."""
    info = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.strftime("%H:%M:%S"),
            "command": " ".join(["crmtui", *sys.argv[1:3]]) if sys.argv else "crmtui"}
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)
    except OSError:
        pass  # the lock holds without the note


def _holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return f"'{info['command']}' (process {info['pid']}, since {info['since']})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another crmtui"


# ---- git's index.lock -------------------------------------------------------------

def clear_stale_index_lock(root: Path, say: Say | None = None, wait: float = 2.0) -> None:
    """Remove `.git/index.lock` when no live git is using it; call under book_lock.

    A killed git leaves index.lock behind and every later git command that writes
    fails until someone deletes it. Under the book lock no other crmtui runs git
    writes here, so a lock that outlives a short wait and that no running git
    process has open is stale. A live git (the user's own, in a terminal) is waited
    on, then named.
    """
    directory = git_dir(root)
    if directory is None:
        return
    lock = directory / "index.lock"
    deadline = time.monotonic() + wait
    while lock.exists():
        user = _git_using(root, directory, lock)
        if user is None:
            try:
                lock.unlink()
            except FileNotFoundError:
                return
            except OSError as error:
                raise CrmError(f"a stale .git/index.lock is in the way and cannot be removed "
                               f"({error.strerror}); nothing was written") from None
            if say is not None:
                say("removed a stale .git/index.lock left behind by an interrupted git (no git was running)")
            return
        if time.monotonic() >= deadline:
            raise CrmError(f"git is busy in this book ({user} holds .git/index.lock); wait for it to "
                           f"finish, then try again; nothing was written")
        time.sleep(0.05)


def _git_using(root: Path, directory: Path, lock: Path) -> str | None:
    """A live process that holds `lock` open, or a git whose working folder is the book."""
    proc = Path("/proc")
    if not proc.is_dir():  # no /proc (macOS): only an old lock is taken for stale
        try:
            age = time.time() - lock.stat().st_mtime
        except OSError:
            return None
        return None if age > 60 else "a git started less than a minute ago"
    targets = {str(lock)}
    book = str(root.resolve())
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if not comm.startswith("git"):
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            args = []
        if b"cat-file" in args:  # GitPython's long-lived reader never takes index.lock
            continue
        try:
            cwd = os.readlink(entry / "cwd")
        except OSError:
            cwd = ""
        if cwd == book or cwd.startswith(book + os.sep):
            return f"{comm} (process {entry.name})"
        try:
            for fd in (entry / "fd").iterdir():
                if os.readlink(fd) in targets:
                    return f"{comm} (process {entry.name})"
        except OSError:
            continue
    return None
