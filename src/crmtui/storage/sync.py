"""Sync a book with its git remote: commit, fetch, merge with the record-aware driver, push.

Git is the distributed engine; this module only drives it and explains what
happened in plain words. All of it runs under the book's write lock. The steps:

1. What an interrupted git left is repaired: a stale index.lock is removed; a
   merge left in progress (by an earlier sync or a hand-run `git pull`) is
   finished when its files are settled, or explained when they are not, and
   undone to be done again when git never applied it to the index (committing
   that would keep this side only); files a killed merge had written are put back.
2. Valid edits made outside crmtui are committed (broken files are named and
   left uncommitted, as everywhere else).
3. `git fetch` from the branch's upstream (or `origin`, or the only remote).
4. `git merge` of the remote branch, without rename detection (a deleted record
   and a similar new one are two customers). customers/*.toml merge key by key
   through the driver in storage/merge.py; a record deleted on one side and
   edited on the other keeps the edited version; other files (crm.toml) are left
   to git, with guidance when git cannot merge them.
5. `git push`; when the remote moved meanwhile, fetch and merge again and retry once.

Nothing is lost in any failure: local commits stay, a merge in progress stays
until settled, and no file the user broke is committed or overwritten.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from crmtui.errors import CrmError
from crmtui.storage.book import CUSTOMERS, GITATTRIBUTES, SETTINGS
from crmtui.storage.atomic import atomic_write
from crmtui.storage.git_repo import GitRepo

DRIVER = "crmtui"
ATTRIBUTES_LINE = f"{CUSTOMERS}/*.toml merge={DRIVER}"
ATTRIBUTES_TEXT = (
    "# How git merges this book (written by crmtui): customer records key by key,\n"
    "# so edits made on two machines are both kept. See crmtui's README, \"Several machines\".\n"
    f"{ATTRIBUTES_LINE}\n"
)
SETUP_SUBJECT = "Set up the record-aware merge"
NETWORK_TIMEOUT = 300  # seconds: a remote that hangs longer is reported as unreachable
MARKERS = ("<<<<<<< ", ">>>>>>> ")


# ---- the merge driver's setup ----------------------------------------------------

def driver_command() -> str:
    """What git runs to merge a record: this Python, so plain `git pull` in any shell works too."""
    # -P: git runs the driver in the book's folder, and a pushed crmtui/ folder there must not be imported.
    return f"{shlex.quote(sys.executable)} -P -m crmtui.storage.merge %O %A %B %P"


# git's rename detection would pair a deleted record with a similar new one and move
# the other machine's edits into the wrong customer: merges of a book never detect renames.
# git's default strategy (ort) ignores these settings before git 2.50; "recursive" heeds
# them (and from 2.50 names ort, which then heeds them too), so plain git pull/merge use it.
NO_RENAMES = (("merge.renames", "false"), ("merge.directoryRenames", "false"), ("pull.twohead", "recursive"))
MERGE_ARGS = ("-s", "recursive", "-X", "no-renames")


def _config_values(text: str) -> dict[str, str]:
    """`section.key` (lower case, subsection as written) -> value, from a git config file's text."""
    values, section = {}, ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("[") and "]" in line:
            name = line[1:line.index("]")]
            head, _, sub = name.partition(" ")
            section = head.lower() + (f".{sub.strip().strip(chr(34))}" if sub else "")
        elif "=" in line and not line.startswith(("#", ";")):
            key, _, value = line.partition("=")
            values[f"{section}.{key.strip().lower()}"] = value.strip()
    return values


def _config_ready(git_dir: Path) -> bool:
    try:
        text = (git_dir / "config").read_text("utf-8", errors="replace")
    except OSError:
        return False
    values = _config_values(text)
    return (f'[merge "{DRIVER}"]' in text and f"\tdriver = {driver_command()}\n" in text
            and all(values.get(key.lower()) == value for key, value in NO_RENAMES))


def attributes_ready(root: Path) -> bool:
    try:
        lines = (root / GITATTRIBUTES).read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return False
    return ATTRIBUTES_LINE in (line.strip() for line in lines)


def write_attributes(root: Path) -> None:
    """Create .gitattributes, or add the driver line to the user's own one."""
    path = root / GITATTRIBUTES
    try:
        existing = path.read_text("utf-8")
    except FileNotFoundError:
        existing = ""
    if existing and not existing.endswith("\n"):
        existing += "\n"
    atomic_write(path, (existing + ("\n" if existing else "") + ATTRIBUTES_TEXT).encode("utf-8"))


def configure_driver(root: Path) -> bool:
    """Point the repository's local config at the driver and turn rename detection off for
    merges, so a plain `git pull` merges as sync does (config does not travel with a clone).

    Cheap when it is already right: one read of .git/config, no git process.
    Returns True when it had to write.
    """
    git_dir = root / ".git"
    if git_dir.is_dir() and _config_ready(git_dir):
        return False
    if not git_dir.exists():
        return False
    for key, value in ((f"merge.{DRIVER}.name", "crmtui: merge customer records key by key"),
                       (f"merge.{DRIVER}.driver", driver_command()), *NO_RENAMES):
        subprocess.run(["git", "config", "--local", key, value], cwd=root, capture_output=True, check=False)
    return True


def ensure_merge_driver(root: Path, git: GitRepo | None = None) -> None:
    """Make the book merge records key by key: the local config, and .gitattributes committed.

    Called whenever a book is opened; spawns git only when something is missing.
    """
    if not (root / ".git").exists():
        return
    try:
        configure_driver(root)
        if attributes_ready(root):
            return
        git = git or GitRepo(root)
        users_own_edit = bool(git.pending(GITATTRIBUTES))  # theirs to commit, not ours
        write_attributes(root)
        if git.has_commits() and not _merge_in_progress(root) and not users_own_edit:
            git.commit([GITATTRIBUTES], SETUP_SUBJECT)
    except (OSError, CrmError):
        pass  # a read-only book still opens; sync says what is wrong when it matters


# ---- the report ----------------------------------------------------------------

def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _handle(path: str) -> str:
    return Path(path).stem if path.startswith(CUSTOMERS + "/") else path


@dataclass
class SyncReport:
    """What a sync did, in words a person reads (`summary`, then `details`)."""

    remote: str = ""
    branch: str = ""
    committed: list[str] = field(default_factory=list)  # commits made now from outside edits
    sent: list[str] = field(default_factory=list)  # records changed here since the last sync
    came_in: list[str] = field(default_factory=list)  # records the merge changed here
    merged: list[str] = field(default_factory=list)  # records merged key by key (both sides changed them)
    conflicts: list[tuple[str, str]] = field(default_factory=list)  # (handle, key) to decide, in the whole book
    kept: list[str] = field(default_factory=list)  # deleted on one side, edited on the other
    settings_came_in: bool = False
    settings_sent: bool = False
    not_committed: list[str] = field(default_factory=list)  # broken files named, left as they are
    pushed: bool = False
    retried: bool = False
    notes: list[str] = field(default_factory=list)  # what sync repaired on the way (a stale lock, a merge redone)

    @property
    def target(self) -> str:
        return f"{self.remote}/{self.branch}"

    @property
    def summary(self) -> str:
        parts = []
        if self.sent:
            parts.append(f"{_plural(len(self.sent), 'record')} changed here")
        if self.settings_sent:
            parts.append("settings changed here")
        if self.came_in:
            parts.append(f"{len(self.came_in)} came in")
        if self.settings_came_in:
            parts.append("settings came in")
        if self.merged:
            parts.append(f"{len(self.merged)} merged by field")
        if self.kept:
            parts.append(f"{len(self.kept)} kept (deleted on one side, edited on the other)")
        if not parts:
            text = f"Already in sync with {self.target}: nothing changed here or there"
            if self.conflicts:
                text = f"Already in sync with {self.target}; {_plural(len(self.conflicts), 'conflict')} still to resolve"
        else:
            if self.conflicts:
                parts.append(f"{_plural(len(self.conflicts), 'conflict')} to resolve")
            text = ", ".join(parts)
            text = text[0].upper() + text[1:]
        if self.pushed:
            text += f"; pushed to {self.target}" + (" (the remote had moved: merged and retried)" if self.retried else "")
        return text + "."

    @property
    def details(self) -> list[str]:
        lines = []
        for handle, key in self.conflicts:
            # Said so that it is true on both machines: "ours" is what the record shows, wherever it is read.
            lines.append(f"{handle}: '{key}' was changed differently on two machines; the record shows one value "
                         f"and keeps the other beside it (crmtui check shows both). Choose: crmtui resolve "
                         f"{handle} {key} --ours (keep what the record shows) or --theirs (take the other)")
        lines += self.kept
        lines += self.not_committed
        lines += self.notes
        return lines


# ---- the choreography ------------------------------------------------------------

def sync(service, interactive: bool = False, say=None) -> SyncReport:
    """Commit, fetch, merge, push. Raises CrmError with a clear sentence when it cannot.

    `service` is a crmtui.service.Service. With interactive=False (the TUI) git
    never waits for a password prompt: it fails and says so. The whole sync holds
    the book's write lock; `say` hears what it waits for or repairs (by default
    those lines go to the report's details).
    """
    from crmtui.storage.lock import book_lock

    git: GitRepo = service.git
    root: Path = service.book.root
    if not git.is_repo():
        raise CrmError(f"{root} is not a git repository, so it cannot sync; run git init there first")
    report = SyncReport()
    say = say or report.notes.append
    with book_lock(root, say=getattr(service, "on_wait", None) or say):  # the TUI shows the wait as it happens
        _sync_locked(service, report, interactive, say)
    # every conflict in the book: made by this merge, come in from the other machine, or still open
    report.conflicts = [(c.handle, k.key) for c in service.customers for k in c.conflicts]
    return report


def _sync_locked(service, report: SyncReport, interactive: bool, say) -> None:
    from crmtui.storage.lock import clear_stale_index_lock

    git: GitRepo = service.git
    root: Path = service.book.root
    try:
        killed = (root / ".git" / "index.lock").exists()
        clear_stale_index_lock(root, say)  # left by a git or crmtui that was killed
        _refuse_other_operations(root)  # before anything commits: a rebase would carry it off
        ensure_merge_driver(root, git)
        redo = _finish_merge(service, report, started_by="an earlier sync or git pull")
        if killed and not redo:
            _put_back_killed_merge(git, root, report)
        report.not_committed = [f"not synced: {n}" for n in service.settle_outside_edits()]
        if not git.has_commits():
            raise CrmError("the book has no commits yet; add a customer first, then sync")
        remote, branch, tracked = _target(git, root)
        report.remote, report.branch = remote, branch
        env = _network_env(git, interactive)
        remote_ref = f"refs/remotes/{remote}/{branch}"
        _fetch(git, remote, env, root)
        ahead = _paths_ahead(git, remote_ref)
        report.sent, report.settings_sent = _records(ahead), SETTINGS in ahead
        theirs = _rev(git, remote_ref)
        if redo and (theirs is None or git.attempt("merge-base", "--is-ancestor", redo, theirs)[0] != 0):
            _integrate(service, redo, report, say, label=f"{redo[:12]} (again: its first merge was interrupted)")
        _integrate(service, remote_ref, report, say)
        if _ahead(git, remote_ref):
            if not _push(git, remote, branch, env, root, set_upstream=not tracked):
                report.retried = True
                _fetch(git, remote, env, root)
                _integrate(service, remote_ref, report, say)
                if not _push(git, remote, branch, env, root, set_upstream=not tracked):
                    raise CrmError(f"{remote} keeps changing while crmtui pushes; everything is committed and "
                                   f"merged here, nothing is lost: run crmtui sync again in a moment")
            report.pushed = True
    except CrmError as error:
        if (root / ".git" / "index.lock").exists() and "index.lock" not in str(error):
            raise _index_busy(root) from None  # git's own words ("remove the file manually") say less
        raise
    finally:
        service.reload()


def _index_busy(root: Path) -> CrmError:
    lock = shlex.quote(str(root / ".git" / "index.lock"))
    return CrmError(f"another git program is using the book right now ({lock} exists); wait for it to finish and "
                    f"run crmtui sync again (if no git is running, delete that file first); nothing is lost")


def _merge_in_progress(root: Path) -> bool:
    return (root / ".git" / "MERGE_HEAD").exists()


def _refuse_other_operations(root: Path) -> None:
    git_dir = root / ".git"
    for marker, what, verb in (("rebase-merge", "a rebase", "rebase"), ("rebase-apply", "a rebase", "rebase"),
                               ("CHERRY_PICK_HEAD", "a cherry-pick", "cherry-pick"),
                               ("REVERT_HEAD", "a revert", "revert")):
        if (git_dir / marker).exists():
            raise CrmError(f"{what} is in progress in the book (started outside crmtui); finish it with "
                           f"git {verb} --continue or undo it with git {verb} --abort, then sync again")


def _target(git: GitRepo, root: Path) -> tuple[str, str, bool]:
    """(remote, branch, whether the branch already tracks it)."""
    branch = git.attempt("symbolic-ref", "--short", "-q", "HEAD")[1].strip()
    if not branch:
        raise CrmError("the book is not on a branch (a detached HEAD); go back with: git checkout main")
    remote = git.attempt("config", "--get", f"branch.{branch}.remote")[1].strip()
    merge = git.attempt("config", "--get", f"branch.{branch}.merge")[1].strip()
    if remote and remote != "." and merge.startswith("refs/heads/"):
        return remote, merge.removeprefix("refs/heads/"), True
    remotes = git.attempt("remote")[1].split()
    quoted = shlex.quote(str(root))
    if not remotes:
        raise CrmError(f"this book has no remote to sync with. Add one, e.g. a bare repository on a server or "
                       f"a USB disk (git init --bare /path/crm.git), with: git -C {quoted} remote add origin URL "
                       f"— then run crmtui sync again")
    if "origin" in remotes:
        return "origin", branch, False
    if len(remotes) == 1:
        return remotes[0], branch, False
    raise CrmError(f"this book has several remotes ({', '.join(remotes)}) and none is set for {branch}; "
                   f"choose one with: git -C {quoted} push -u REMOTE {branch}")


def _network_env(git: GitRepo, interactive: bool) -> dict[str, str]:
    env = {}
    if not interactive:
        env["GIT_TERMINAL_PROMPT"] = "0"  # never wait for a password nobody can type
        if not os.environ.get("GIT_SSH_COMMAND") and not git.attempt("config", "--get", "core.sshCommand")[1].strip():
            env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes -o ConnectTimeout=20"
    return env


_AUTH = ("authentication failed", "permission denied", "could not read username", "could not read password",
         "terminal prompts disabled", "access denied", "403", "401 unauthorized", "invalid username or password",
         "host key verification failed")
_UNREACHABLE = ("could not resolve host", "connection refused", "connection timed out", "timed out",
                "network is unreachable", "no route to host", "does not appear to be a git repository",
                "unable to access", "could not read from remote repository", "no such file or directory",
                "repository not found", "not found", "unable to connect", "connection reset", "connection closed")


def _network_error(git: GitRepo, remote: str, stderr: str, action: str, root: Path) -> CrmError:
    url = git.attempt("remote", "get-url", remote)[1].strip() or remote
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    reason = next((line for line in lines if not line.lower().startswith(("hint:", "fatal: could not read from"))),
                  lines[-1] if lines else "no answer")
    reason = reason.removeprefix("fatal: ").removeprefix("error: ").removeprefix("remote: ")
    lowered = stderr.lower()
    ahead = git.attempt("rev-list", "--count", "HEAD", "--not", "--remotes")[1].strip() or "0"
    kept = ("your commits are kept here" if ahead == "0" else
            f"your {_plural(int(ahead), 'commit')} not yet sent {'is' if ahead == '1' else 'are'} kept here")
    if any(word in lowered for word in _AUTH):
        return CrmError(f"{remote} ({url}) refused the credentials: {reason}. Check your SSH key or token "
                        f"(try: git -C {shlex.quote(str(root))} {action} {remote}); {kept}")
    if any(word in lowered for word in _UNREACHABLE) or not lines:
        return CrmError(f"cannot reach {remote} ({url}): {reason}; {kept}, sync later")
    return CrmError(f"git {action} {remote} failed: {reason}; {kept}")


def _fetch(git: GitRepo, remote: str, env: dict[str, str], root: Path) -> None:
    try:
        status, _, err = git.attempt("fetch", "--quiet", remote, env=env, timeout=NETWORK_TIMEOUT)
    except Exception as error:  # a timeout kills git
        raise CrmError(f"cannot reach {remote}: {error}; your commits are kept here, sync later") from None
    if status != 0:
        raise _network_error(git, remote, err, "fetch", root)


def _push(git: GitRepo, remote: str, branch: str, env: dict[str, str], root: Path, set_upstream: bool) -> bool:
    """Push; False when the remote moved meanwhile (the caller integrates and retries)."""
    args = ["push", "--quiet", "--porcelain"] + (["-u"] if set_upstream else []) + [remote, f"HEAD:refs/heads/{branch}"]
    try:
        status, out, err = git.attempt(*args, env=env, timeout=NETWORK_TIMEOUT)
    except Exception as error:
        raise CrmError(f"cannot reach {remote}: {error}; your commits are kept here, sync later") from None
    if status == 0:
        return True
    both = (out + "\n" + err).lower()
    if "[rejected]" in both or "fetch first" in both or "non-fast-forward" in both or \
            "failed to update ref" in both or "cannot lock ref" in both or "stale info" in both:
        return False
    if "[remote rejected]" in both or "\n!" in "\n" + out:
        line = next((l for l in (out + "\n" + err).splitlines() if l.startswith("!") or "rejected" in l), err.strip())
        raise CrmError(f"{remote} refused the push ({line.strip().lstrip('!').strip()}); your commits are kept here")
    raise _network_error(git, remote, err, "push", root)


def _rev(git: GitRepo, ref: str) -> str | None:
    status, out, _ = git.attempt("rev-parse", "--verify", "-q", f"{ref}^{{commit}}")
    return out.strip() if status == 0 and out.strip() else None


def _ahead(git: GitRepo, remote_ref: str) -> bool:
    if _rev(git, remote_ref) is None:
        return True
    return git.attempt("rev-list", "--count", f"{remote_ref}..HEAD")[1].strip() not in ("", "0")


def _changed(git: GitRepo, old: str | None, new: str) -> list[str]:
    if old is None:
        out = git.attempt("ls-tree", "-r", "--name-only", new, "--", CUSTOMERS)[1]
    else:
        out = git.attempt("diff", "--name-only", "--no-renames", old, new, "--")[1]
    return [p for p in out.splitlines() if p]


def _records(paths: list[str]) -> list[str]:
    return [_handle(p) for p in paths if p.startswith(CUSTOMERS + "/") and p.endswith(".toml")]


def _paths_ahead(git: GitRepo, remote_ref: str) -> list[str]:
    """Files changed here since the last sync (all of them before the first)."""
    if _rev(git, remote_ref) is None:
        return _changed(git, None, "HEAD")  # the first push: every record
    base = git.attempt("merge-base", "HEAD", remote_ref)[1].strip()
    return _changed(git, base or None, "HEAD")


def _integrate(service, remote_ref: str, report: SyncReport, say=None, label: str | None = None) -> None:
    """Merge the fetched remote branch (or a commit) into HEAD (a fast-forward when nothing was committed here)."""
    from crmtui.storage.lock import clear_stale_index_lock
    from crmtui.storage.merge import clear_merge_log, read_merge_log  # here, so opening a book stays light

    git: GitRepo = service.git
    root: Path = service.book.root
    theirs = _rev(git, remote_ref)
    if theirs is None:
        return
    if git.attempt("merge-base", "--is-ancestor", theirs, "HEAD")[0] == 0:
        return  # nothing new there
    before = _rev(git, "HEAD")
    git_dir = root / ".git"
    name = label or remote_ref.removeprefix("refs/remotes/")
    for attempt in (1, 2):
        clear_merge_log(git_dir)
        # no renames: a deleted record and a similar new one are two customers, never one renamed
        status, out, err = git.attempt(*git.identity_args(), "merge", "--no-edit", "--no-verify", "--no-stat",
                                       *MERGE_ARGS, "-m", f"Sync with {name}", theirs)
        if status == 0:
            break
        if not _merge_in_progress(root):
            raise _merge_refused(out + "\n" + err, root)
        if _finish_merge(service, report, started_by="this sync") is None:
            break
        # git recorded the merge without applying it (e.g. another git held the index): undone, try once more
        if attempt == 2:
            raise CrmError(f"git could not apply the merge with {name} ({_reason(err)}); it was undone and "
                           f"nothing is lost: run crmtui sync again")
        clear_stale_index_lock(root, say)
    after = _rev(git, "HEAD")
    changed = _changed(git, before, after)
    report.came_in += [h for h in _records(changed) if h not in report.came_in]
    report.settings_came_in |= SETTINGS in changed
    for path, _how, _detail in read_merge_log(git_dir):
        handle = _handle(path)
        if handle not in report.merged:
            report.merged.append(handle)
    clear_merge_log(git_dir)


def _reason(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip() and not line.startswith("hint:")]
    return lines[-1].removeprefix("fatal: ").removeprefix("error: ") if lines else "no reason given"


def _merge_refused(output: str, root: Path) -> CrmError:
    """git would not start the merge: uncommitted work here is in the way. Name the files."""
    files = [line.strip() for line in output.splitlines() if line.startswith("\t")]
    if not files and "overwritten" not in output:
        return CrmError(f"git could not start the merge ({_reason(output)}); nothing was merged, nothing is lost")
    named = ", ".join(files) if files else "some files"
    return CrmError(f"{named} changed on the other side too, and here {'it has' if len(files) == 1 else 'they have'} "
                    f"edits that are not committed because they do not validate (see crmtui check). Fix "
                    f"{'it' if len(files) == 1 else 'them'}, then sync again; nothing was merged, nothing is lost")


def _unmerged(git: GitRepo) -> dict[str, set[int]]:
    out = git.attempt("ls-files", "-u", "-z")[1]
    stages: dict[str, set[int]] = {}
    for entry in out.split("\0"):
        if not entry.strip():
            continue
        meta, _, path = entry.partition("\t")
        stages.setdefault(path, set()).add(int(meta.split()[2]))
    return stages


def _has_markers(path: Path) -> int:
    """The line of the first conflict marker, or 0."""
    try:
        lines = path.read_text("utf-8", errors="replace").splitlines()
    except OSError:
        return 0
    for number, line in enumerate(lines, 1):
        if line.startswith(MARKERS) or line == "=======":
            return number
    return 0


def _finish_merge(service, report: SyncReport, started_by: str) -> str | None:
    """Settle what a merge left unmerged, then commit it; or explain what is still to do.

    A merge git recorded (MERGE_HEAD) but never applied to the index (git could not
    write it, or was killed) is not committed: that commit's tree would be this side's
    alone and drop the other machine's work. It is undone instead, and the commit to
    merge again is returned.
    """
    git: GitRepo = service.git
    root: Path = service.book.root
    if not _merge_in_progress(root):
        return None
    unmerged = _unmerged(git)
    if not unmerged:
        theirs = _rev(git, "MERGE_HEAD")
        applied, fresh = _applied(git)
        if theirs and not applied:
            _undo_unapplied_merge(git, root, fresh)
            report.notes.append(f"a merge started by {started_by} had not reached the files (git stopped half "
                                f"way); it was undone and done again, nothing is lost")
            return theirs
    open_files = []
    for path, stages in sorted(unmerged.items()):
        file = root / path
        is_record = path.startswith(CUSTOMERS + "/") and path.endswith(".toml")
        if is_record and stages in ({1, 2}, {1, 3}) and file.exists():
            how = "deleted here and edited on the other side" if 3 in stages else \
                "deleted on the other side and edited here"
            report.kept.append(f"kept {path}: it was {how}; the edited version stays (delete it again if you "
                               f"meant to)")
            git.run("add", "--", path)
        elif is_record and stages in ({1, 2}, {1, 3}):
            git.run("rm", "-q", "--cached", "--", path)  # deleted, and the edit too: nothing to keep
        elif is_record and stages == {1, 2, 3} and file.exists() and _remerged(git, root, path):
            git.run("add", "--", path)  # the driver had failed (e.g. ran from another Python): merged now
        elif file.exists() and not _has_markers(file) and _parses(file):
            git.run("add", "--", path)  # the user settled it by hand
        else:
            open_files.append((path, _has_markers(file)))
    if open_files:
        where = "; ".join(f"{p} (line {line})" if line else p for p, line in open_files)
        raise CrmError(
            f"a merge started by {started_by} is waiting: git could not combine {where}, changed on both sides "
            f"in the same place. Nothing is lost: git marked both versions between <<<<<<< and >>>>>>> in the "
            f"file. Edit it to keep what you want (delete the marker lines), then run crmtui sync again; or undo "
            f"the whole merge with: git -C {shlex.quote(str(root))} merge --abort")
    before = _rev(git, "HEAD")
    message = [] if (root / ".git" / "MERGE_MSG").exists() else ["-m", f"Merge {_rev(git, 'MERGE_HEAD')}"]
    git.run(*git.identity_args(), "commit", "-q", "--no-edit", "--no-verify", *message)
    changed = _changed(git, before, _rev(git, "HEAD"))
    report.came_in += [h for h in _records(changed) if h not in report.came_in]
    report.settings_came_in |= SETTINGS in changed
    return None


def _tree_paths(git: GitRepo, old: str, new: str) -> set[str]:
    return _names(git, "diff-tree", "-r", "-z", "--no-renames", "--name-only", old, new)


def _applied(git: GitRepo) -> tuple[bool, tuple[str | None, set[str]] | None]:
    """Whether the index holds the merge of MERGE_HEAD, settled by hand or not (and the
    merge made anew, when it took one to tell).

    Each file the other side changed (and HEAD has otherwise) must be staged, or have
    been a conflict someone settled (git keeps "resolve-undo" for those), or be one
    the merge cleanly leaves as HEAD has it (checked against the merge made anew).
    """
    staged = _names(git, "diff-index", "--cached", "-z", "--no-renames", "--name-only", "HEAD")
    settled = {line.partition("\t")[2] for line in git.attempt("ls-files", "-z", "--resolve-undo")[1].split("\0")}
    differ = _tree_paths(git, "HEAD", "MERGE_HEAD")
    changed_there = set().union(*(_tree_paths(git, base, "MERGE_HEAD") for base in _bases(git))) or differ
    waiting = (differ & changed_there) - staged - settled
    if not waiting:
        return True, None
    anew = fresh, conflicted = _merge_anew(git, "MERGE_HEAD")
    if fresh is None or waiting & conflicted:  # git would have left those unmerged, and nobody settled them
        return False, anew
    merged, head = dict(_blob_ids(git, fresh, sorted(waiting))), dict(_blob_ids(git, "HEAD", sorted(waiting)))
    theirs = dict(_blob_ids(git, "MERGE_HEAD", sorted(waiting)))
    # merge-tree guesses renames (git 2.39 has no -X no-renames for it): a record deleted here
    # and edited there may look "moved" into a similar new one. Such an edit is never taken
    # as applied: the merge is made again, without renames, and keeps it.
    if any(merged.get(p) is None and theirs.get(p) is not None for p in waiting):
        return False, anew
    return all(merged.get(p) == head.get(p) for p in waiting), anew


def _merge_anew(git: GitRepo, theirs: str) -> tuple[str | None, set[str]]:
    """(tree, conflicted paths) of merging HEAD and `theirs` now, in git's object store only;
    the record driver runs as in a merge. (None, …) when git cannot say."""
    status, out, _ = git.attempt("merge-tree", "--write-tree", "--name-only", "--no-messages", "-z", "HEAD", theirs)
    tree, *paths = out.split("\0")
    if status not in (0, 1) or len(tree.strip()) < 40:
        return None, set()
    return tree.strip(), {p for p in paths if p}


def _names(git: GitRepo, *args: str) -> set[str]:
    return {p for p in git.attempt(*args)[1].split("\0") if p}


def _bases(git: GitRepo, theirs: str = "MERGE_HEAD") -> list[str]:
    return git.attempt("merge-base", "--all", "HEAD", theirs)[1].split()


def _undo_unapplied_merge(git: GitRepo, root: Path, anew: tuple[str | None, set[str]] | None) -> None:
    """Forget the merge, and put back what it had written already (see _put_back_merge_output)."""
    _put_back_merge_output(git, root, "MERGE_HEAD", anew)
    git.run("merge", "--quit")


def _put_back_merge_output(git: GitRepo, root: Path, theirs: str,
                           anew: tuple[str | None, set[str]] | None = None) -> list[str]:
    """Files a merge of `theirs` stopped half way had written (exactly its result) go back to
    HEAD's version, so the merge done again finds no local change in its way and nothing is
    committed as an outside edit. Anything else in the work tree stays. Both sides are
    commits, so the merge done again brings it all back. Returns the paths put back."""
    differs = _names(git, "diff", "-z", "--no-renames", "--name-only", "HEAD", "--")
    untracked = _names(git, "ls-files", "-z", "--others", "--exclude-standard")
    if not _tree_paths(git, "HEAD", theirs) & (differs | untracked):
        return []  # the merge had written nothing yet
    fresh, _ = anew or _merge_anew(git, theirs)
    # what the merge writes to a file (None: removes it): the other side's version of what it
    # changed, or the driver's merge of both (merge-tree's, which can only add candidates)
    results: dict[str, set[str | None]] = {}
    their_blobs = dict(_blob_ids(git, theirs, ["."]))
    for base in _bases(git, theirs):
        for path in _tree_paths(git, base, theirs):
            results.setdefault(path, set()).add(their_blobs.get(path))
    if fresh:
        merged = dict(_blob_ids(git, fresh, ["."]))
        for path in _tree_paths(git, "HEAD", fresh):
            results.setdefault(path, set()).add(merged.get(path))
    paths = sorted(results)
    in_head = dict(_blob_ids(git, "HEAD", paths))
    present = [p for p in paths if (root / p).is_file()]
    found = dict(zip(present, git.attempt("hash-object", "--", *present)[1].split())) if present else {}
    written = [p for p in paths if found.get(p) != in_head.get(p) and found.get(p) in results[p]]
    if [p for p in written if p in in_head]:
        git.run("checkout", "HEAD", "--", *[p for p in written if p in in_head])
    for path in written:
        if path not in in_head:
            (root / path).unlink()
    return written


def _put_back_killed_merge(git: GitRepo, root: Path, report: SyncReport) -> None:
    """A git merge killed before it recorded MERGE_HEAD left index.lock, ORIG_HEAD at HEAD, and
    (the recursive strategy writes file by file) some of its results in the work tree."""
    if _rev(git, "ORIG_HEAD") != _rev(git, "HEAD"):
        return
    for junk in root.glob(".merge_file_*"):  # git's temporary copies for the merge driver
        junk.unlink(missing_ok=True)
    try:
        remote, branch, _ = _target(git, root)
    except CrmError:
        return
    theirs = _rev(git, f"refs/remotes/{remote}/{branch}")
    if theirs is None or git.attempt("merge-base", "--is-ancestor", theirs, "HEAD")[0] == 0:
        return
    if _put_back_merge_output(git, root, theirs):
        report.notes.append("a merge that was interrupted had written some files; they were put back and "
                            "merged again, nothing is lost")


def _blob_ids(git: GitRepo, tree: str, paths: list[str]) -> list[tuple[str, str]]:
    if not paths:
        return []
    out = git.attempt("ls-tree", "-r", "-z", tree, "--", *paths)[1]
    pairs = []
    for entry in out.split("\0"):
        meta, _, path = entry.partition("\t")
        if path and len(meta.split()) == 3:
            pairs.append((path, meta.split()[2]))
    return pairs


def _remerged(git: GitRepo, root: Path, path: str) -> bool:
    """When the file is still exactly this side's version, the driver did not run to the
    end: merge base, ours and theirs now. False when the user edited it, or it cannot merge."""
    from crmtui.storage.merge import Unmergeable, merge_texts

    ours = git.show_file("", path, stage=2)
    if ours is None or (root / path).read_bytes() != ours.encode("utf-8"):
        return False
    try:
        result = merge_texts(git.show_file("", path, stage=1), ours, git.show_file("", path, stage=3) or "",
                             handle=Path(path).stem)
    except Unmergeable:
        return False
    atomic_write(root / path, result.text.encode("utf-8"))
    return True


def _parses(path: Path) -> bool:
    if path.suffix != ".toml":
        return True
    import tomllib

    try:
        tomllib.loads(path.read_bytes().decode("utf-8").removeprefix("\ufeff"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
        return False
    return True
