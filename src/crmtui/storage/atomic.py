"""Writes that are all or nothing: a temp file beside the target, fsync, rename.

Record writes go through `swap_write`, which also never overwrites a version
someone else saved while crmtui was writing (see its docstring).
"""

from __future__ import annotations

import ctypes
import errno
import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator


TEMP_MARK = "crmtui-"  # temp files are .NAME.crmtui-PID.XXXX.tmp, so a killed writer's can be told apart


def remove_stale_temp_files(folder: Path) -> None:
    """Remove temp files left by writers that were killed (their process is gone)."""
    try:
        entries = [e for e in os.scandir(folder) if e.name.startswith(".") and e.name.endswith(".tmp")
                   and f".{TEMP_MARK}" in e.name]
    except OSError:
        return
    for entry in entries:
        pid = entry.name.split(f".{TEMP_MARK}", 1)[1].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            try:
                os.unlink(entry.path)
            except OSError:
                pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def atomic_write(path: Path, data: bytes, *, exclusive: bool = False) -> None:
    """Replace `path` with `data` so readers see the old or the new file, never half.

    With exclusive=True the write fails (FileExistsError) if `path` exists,
    so two processes adding the same name cannot overwrite each other.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_beside(path, data)
    try:
        if exclusive:
            os.link(tmp, path)  # fails if path exists, atomically
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


_deferred_dirs: set[str] | None = None  # inside batched_dir_sync: the folders to fsync at its end


@contextmanager
def batched_dir_sync() -> Iterator[None]:
    """Within it, a folder written in is fsynced once, at the end, rather than after every
    rename: a change of thousands of records (an import of mail) pays one folder fsync, not
    one per file. Each file's bytes are still fsynced before it is renamed into place."""
    global _deferred_dirs
    if _deferred_dirs is not None:  # already batching
        yield
        return
    _deferred_dirs = set()
    try:
        yield
    finally:
        folders, _deferred_dirs = _deferred_dirs, None
        for folder in sorted(folders):
            _fsync_dir(Path(folder))


def _fsync_dir(folder: Path) -> None:
    if _deferred_dirs is not None:
        _deferred_dirs.add(str(folder))
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---- swapping a file in, seeing exactly what it replaced ------------------------------

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _renameat2():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.renameat2  # glibc 2.28+
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return function


_exchange_call = _renameat2()
_exchange_works = _exchange_call is not None


def exchange(a: Path, b: Path) -> bool:
    """Swap two names atomically (Linux renameat2 RENAME_EXCHANGE); False where the
    system or the file system cannot."""
    global _exchange_works
    if not _exchange_works:
        return False
    if _exchange_call(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        _exchange_works = False  # e.g. an old kernel or a network file system
        return False
    raise OSError(code, os.strerror(code), str(b))


class Changed(Exception):
    """The file is no longer what the change was made for."""


def swap_write(path: Path, build: Callable[[bytes], bytes], applied: Callable[[bytes], bool],
               merge: Callable[[bytes, bytes, bytes], bytes | None] | None = None,
               patience: float = 5.0) -> tuple[bytes, bytes]:
    """Write build(current bytes) over `path` without losing a version saved meanwhile.

    The new file is swapped in with RENAME_EXCHANGE, so the old name's inode lands
    on the temp name and crmtui reads exactly what it replaced. If that is not the
    version the change was built on, someone saved the file in the window (an editor,
    sed -i): the change is built again on their version and swapped in again. If
    their version was itself made from one of ours (`applied`: it holds the change),
    it is 3-way merged (`merge(base, ours, theirs)`) with what ours gained since, so
    neither side's lines are dropped. Returns (the version built on, what is on disk).
    Without RENAME_EXCHANGE the file is compared just before a plain rename.
    """
    base = path.read_bytes()
    expected, ours_there = base, False  # what `path` should hold now, and whether we put it there
    target: bytes | None = None  # what to swap in; None: build it on `base`

    def saved_meanwhile(theirs: bytes, ours: bytes) -> bytes | None:
        """The next target, now that `theirs` replaced `expected`: built on theirs, or
        if theirs was made from our `expected`, merged with what `ours` has beyond it."""
        nonlocal base
        base = theirs
        if ours_there and applied(theirs):
            return (merge(expected, ours, theirs) if merge else None) or theirs
        return None

    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        try:
            if target is None:
                target = base if applied(base) else build(base)
        except BaseException:
            if ours_there:  # their version is only in memory now: put it back, then fail
                swap_write(path, lambda _ours: base, lambda current: current == base)
            raise
        if target == expected:
            return base, target
        tmp = _temp_beside(path, target)
        try:
            current = path.read_bytes()
            if current != expected:  # saved while we built: again on theirs; the window is now µs wide
                target = saved_meanwhile(current, target)
                expected, ours_there = current, False
                continue
            if not exchange(tmp, path):
                os.replace(tmp, path)
                _fsync_dir(path.parent)
                return base, target
            _fsync_dir(path.parent)
            displaced = tmp.read_bytes()
        finally:
            if tmp.exists():
                os.unlink(tmp)
        if displaced == expected:
            return base, target
        placed = target  # someone saved in the µs between the check and the swap
        target = saved_meanwhile(displaced, placed)
        expected, ours_there = placed, True
    # Out of patience: leave the newest outside version; if it holds the change, that is done.
    if ours_there:
        swap_write(path, lambda _ours: base, lambda current: current == base)
    if applied(base):
        return base, base
    raise Changed(f"{path.name} keeps changing on disk")


def _temp_beside(path: Path, data: bytes) -> Path:
    """`data` in a new temp file beside `path` (fsynced, with path's permissions), to rename over it."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{TEMP_MARK}{os.getpid()}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
    except BaseException:
        os.unlink(tmp)
        raise
    return Path(tmp)
