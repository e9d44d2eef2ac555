"""An OSError told as one sentence: what the system refused, where, and what to do.
(Errors of the program's own are crmtui.errors.CrmError.)"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path


def debug_traceback() -> None:
    """With CRMTUI_DEBUG=1 the traceback is printed before the sentence."""
    if os.environ.get("CRMTUI_DEBUG", "") not in ("", "0"):
        import traceback

        traceback.print_exc()


def os_error_sentence(error: OSError, book: Path | None = None) -> str:
    """What the system refused, where, and what to do, in one sentence."""
    import errno

    from crmtui.cli.render import OutputError

    path = _shown_path(error.filename)
    where = f" {path}" if path else (f" in the book at {book}" if book else "")
    if isinstance(error, OutputError):
        where = " the output"
    code = error.errno
    if code in (errno.ENOSPC, errno.EDQUOT):
        full = "the disk is full" if code == errno.ENOSPC else "your disk quota is used up"
        return f"{full}: could not write{where}; free some space and run the command again"
    if code in (errno.EACCES, errno.EPERM):
        return _permission_sentence(path, where)
    if code == errno.EROFS:
        return f"{path or 'the book'} is on a read-only file system; remount it read-write or use a copy of the book"
    if code == errno.ENOTDIR and path:
        blocker = next((p for p in [path, *path.parents] if p.exists() and not p.is_dir()), None)
        if blocker is not None:
            return f"{blocker} is a file, not a folder; choose another path"
    if code == errno.ENOENT and path and path.parent.is_dir():
        return (f"the system refused to create {path} ({error.strerror.lower()}); "
                "choose a folder of your own, e.g. under your home")
    if code == errno.EIO:
        return f"input/output error{where}: the disk may be failing or was unplugged; check it, then try again"
    if code in (errno.EMFILE, errno.ENFILE):
        return "too many files are open; close some programs and run the command again"
    if code == errno.ENAMETOOLONG:
        return f"a file name is too long{where}; use a shorter path"
    reason = (error.strerror or str(error) or type(error).__name__).rstrip(".")
    return f"{reason[:1].lower()}{reason[1:]}{':' if where else ''}{where}; CRMTUI_DEBUG=1 shows where it happened"


def _shown_path(filename) -> Path | None:
    """The path to tell the user: a temporary file of an atomic save (.ana.toml.k2j4.tmp)
    stands for the file it was saving."""
    if filename is None or isinstance(filename, int):
        return None
    path = Path(os.fsdecode(filename))
    match = re.fullmatch(r"\.(.+)\.[^.]+\.tmp", path.name)
    return path.with_name(match.group(1)) if match else path


def _permission_sentence(path: Path | None, where: str) -> str:
    if path is None:
        return f"permission denied{where}; check the book's permissions (ls -l)"
    def mode(p: Path) -> int:
        try:
            return p.stat().st_mode
        except OSError:
            return 0o777

    target = path if path.exists() else path.parent
    # A file is saved by writing a new one beside it: its folder must be writable too.
    for candidate in [target, target.parent] if target == path and path.is_file() else [target]:
        if not os.access(candidate, os.W_OK) or not mode(candidate) & 0o222:
            return (f"permission denied: {candidate} is read-only; make it writable "
                    f"(chmod u+w {shlex.quote(str(candidate))}) and run the command again")
    if not os.access(target, os.R_OK) or not mode(target) & 0o444:
        return f"permission denied: {target} cannot be read; fix its permissions (chmod u+r) and try again"
    return f"permission denied on {path}; check who owns it (ls -ld {shlex.quote(str(target))})"
