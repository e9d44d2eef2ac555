"""The book's history for reports: one pass of `git log`, kept under the git directory, then
only the commits that arrived since.

A cold scan runs `git log --first-parent --raw` over the whole main line (one pass, split in
spans that run side by side, one a core), and reads every version of every record and of
crm.toml that the log names through `git cat-file --batch`, parsed with the fast parser down to the few fields a report
needs (domain.report.version_from_data). The result, a domain.report.BookHistory, is
pickled to .git/crmtui/report-history.pickle with the HEAD it reached. The next run with
the same HEAD only loads it; when commits were added on top, only `OLD..HEAD` is read and
appended. A HEAD that is no longer on the same line (a reset, a rebase, a fast-forward to
another machine's merge) rebuilds it from scratch, as a missing or corrupt file does.

Only the latest version of a record needs its interactions (what happened is read from it);
on a long history the older versions are parsed without their [[interactions]] tables (when
nothing else follows them, as crmtui writes them), most of their bytes, so a version whose
only fault is a broken interaction still gives its stage, tier and deals.

The main line: the first parent of each merge, and a merge as the change it made to it, so
a record's versions are the ones this clone's HEAD went through, and work merged from
another machine counts from the merge. Only committed versions count: an edit not yet
committed joins the report once crmtui commits it (any write or crmtui sync does).
"""

from __future__ import annotations

import os
import pickle
import re
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Callable

from crmtui import __version__
from crmtui.domain.record import Deal, RecordError
from crmtui.domain.report import BookHistory, RecordHistory, Version, version_from_data
from crmtui.domain.settings import Settings, settings_from_data
from crmtui.storage.atomic import atomic_write
from crmtui.storage.book import CUSTOMERS, SETTINGS
from crmtui.storage.git_repo import ZERO, GitRepo
from crmtui.storage.toml_text import decode, parse_fast

FORMAT = 3  # 2: packed as plain tuples; 3: versions too
FILE_NAME = "report-history.pickle"
_LOG = ("log", "--first-parent", "--diff-merges=first-parent", "--reverse", "--raw", "-z", "--no-renames",
        "--no-abbrev", "--format=%x1e%H %aI")
_NOT_FILES = ("120000", "160000")  # a symbolic link, a submodule: never a record
_DELETED = "deleted"
SPAN_AT_LEAST = 2000  # commits: a shorter line is read by one git log
MAX_SPANS = 8

Progress = Callable[[int, int], None]


class HistoryScan:
    def __init__(self, git: GitRepo, state_dir: Path | None):
        self.git = git
        self.path = state_dir / FILE_NAME if state_dir is not None else None
        self.head: str | None = None
        self.history = BookHistory()
        self.read_commits = 0  # how many commits the last update read from git (0: all from the cache)

    def update(self, progress: Progress | None = None) -> BookHistory:
        """The history up to HEAD: from the cache, with only the new commits read.
        `progress(done, total)` is told how reading the history advances."""
        self._load()
        head = self.git.head()
        self.read_commits = 0
        if head is None:
            self.head, self.history = None, BookHistory()
            return self.history
        if head == self.head:
            return self.history
        line = self._line(self.head, head) if self.head is not None else None
        if line is None:  # no cache, or HEAD left the line the cache followed (a reset, a rebase)
            self.history = BookHistory()
            line = self._line(None, head)
        self._read(line, progress)
        self.head = head
        self.read_commits = len(line)
        self._save()
        return self.history

    # ---- reading commits -----------------------------------------------------------------

    def _line(self, old: str | None, head: str) -> list[str] | None:
        """The main line's commits after `old` (None: all) up to `head`, oldest first; None when
        `old` is not on head's main line."""
        out = self.git.run("rev-list", "--first-parent", "--parents", f"{old}..{head}" if old else head)
        rows = [row.split() for row in reversed(out.splitlines())]
        if old is not None and (not rows or len(rows[0]) < 2 or rows[0][1] != old):
            return None
        return [row[0] for row in rows]

    def _read(self, line: list[str], progress: Progress | None) -> None:
        """Read what each commit of `line` changed, and every version it names, into the history.

        Listing what a commit changed means reading two trees of customers/ (about half a
        millisecond each at 10,000 records): a long line is split in spans, one `git log` each,
        all run at once; the versions a span names are read and parsed while the later
        spans' git logs still run."""
        if not line:
            return
        parts = max(1, min(4 * _cores(), len(line) // SPAN_AT_LEAST, MAX_SPANS))
        bounds = [len(line) * i // parts for i in range(parts + 1)]
        spans = []
        for a, b in zip(bounds, bounds[1:]):
            spans.append([*_LOG, f"{line[a - 1]}..{line[b - 1]}" if a > 0 else line[b - 1]])
        if bounds[0] == 0 and self.history.times:  # an update: the first span starts after the cached HEAD
            spans[0][-1] = f"{self.head}..{line[bounds[1] - 1]}"
        total = len(line)  # commits: each counts half when listed, half when its versions are read
        logged = [0] * len(spans)
        finished = [0]

        def seen(i: int, chunk: bytes) -> None:
            logged[i] += chunk.count(b"\x1e")

        def tell(extra: int = 0) -> None:
            if progress:
                progress(min(total - 1, (min(sum(logged), total) + finished[0] + extra) // 2), total)

        tell()
        # A long line: its older versions are read without their interactions. A few new commits:
        # every version whole (most are the current ones anyway).
        current = self._current_blobs(line[-1]) if len(line) >= SPAN_AT_LEAST else None
        versions: dict[str, object] = {}
        settings: dict[str, Settings] = {}
        last_readable: dict[str, str] = {}  # handle -> the blob of its latest readable version
        for out in self.git.iter_parallel(spans, seen, tell):
            commits = _commits(out)
            wanted = list(dict.fromkeys(blob for _, changes in commits for path, blob in changes
                                        if blob and blob not in versions and blob not in settings))
            of_settings = {blob for _, changes in commits for path, blob in changes if path == SETTINGS}
            for done, (sha, data) in enumerate(self.git.read_blobs(wanted), 1):
                if sha in of_settings:
                    settings[sha] = _settings(data)
                else:  # a blob shared by several commits is parsed once
                    versions[sha] = _version(data, whole=current is None or sha in current)
                if done % 250 == 0:
                    tell(len(commits) * done // len(wanted))
            finished[0] += len(commits)
            self._apply(commits, versions, settings, last_readable)
        # A record whose latest readable version is not in HEAD (deleted since, or broken now):
        # its interactions are read from that version now.
        stale = {blob for blob in last_readable.values() if versions[blob][1] is None}
        whole = {sha: _version(data, whole=True) for sha, data in self.git.read_blobs(sorted(stale))}
        for handle, blob in last_readable.items():
            if blob in stale and whole.get(blob) is not None:
                record = self.history.records[handle]
                record.days, record.kinds = whole[blob][1], whole[blob][2]
        if progress:
            progress(total, total)

    def _current_blobs(self, head: str) -> set[str]:
        """The blobs of the record files in `head`: the versions whose interactions count.
        Older versions are read without their interactions (most of their bytes)."""
        out = self.git.run("ls-tree", "-z", head, f"{CUSTOMERS}/", strip=False)
        return {entry.split("\t", 1)[0].split(" ")[-1] for entry in out.split("\0") if "\t" in entry}

    def _apply(self, commits, versions: dict, settings: dict, last_readable: dict[str, str]) -> None:
        history = self.history
        for when, changes in commits:
            position = len(history.times)
            history.times.append(when)
            for path, blob in changes:
                if path == SETTINGS:
                    history.settings.append((position, settings.get(blob) or Settings()))
                elif blob is None:
                    _apply(history, position, path[len(CUSTOMERS) + 1:-5], _DELETED)
                else:
                    handle = path[len(CUSTOMERS) + 1:-5]
                    value = versions.get(blob)
                    _apply(history, position, handle, value)
                    if value is not None:
                        last_readable[handle] = blob

    # ---- the cache -----------------------------------------------------------------------

    def _load(self) -> None:
        self.head, self.history = None, BookHistory()
        if self.path is None:
            return
        try:
            with open(self.path, "rb") as handle:
                payload = pickle.load(handle)
            if payload.get("format") == FORMAT and payload.get("version") == __version__:
                self.head, self.history = payload["head"], _unpacked(payload["history"])
        except Exception:  # missing, corrupt or from another version: rebuilt
            self.head, self.history = None, BookHistory()

    def _save(self) -> None:
        if self.path is None:
            return
        payload = {"format": FORMAT, "version": __version__, "head": self.head, "history": _packed(self.history)}
        try:
            atomic_write(self.path, pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:
            pass  # a read-only book still reports, it just reads the history again next time


def _packed(history: BookHistory) -> tuple:
    """The history as plain tuples, days as numbers: pickled in a fraction of the time the objects
    take (named tuples pickle through a Python call each, dates as objects)."""
    records = [(r.handle, [(pos, _plain(version)) for pos, version in r.versions],
                tuple(day.toordinal() for day in r.days), r.kinds) for r in history.records.values()]
    return history.times, records, history.settings


def _plain(version: Version | None) -> tuple | None:
    if version is None:
        return None
    *head, deals = version
    return (*head, tuple(tuple(deal) for deal in deals))


def _unpacked(packed: tuple) -> BookHistory:
    times, records, settings = packed
    day = date.fromordinal

    def version(plain: tuple | None) -> Version | None:
        if plain is None:
            return None
        *head, deals = plain
        return Version(*head, tuple(Deal(*deal) for deal in deals))

    return BookHistory(times, {handle: RecordHistory(handle, [(pos, version(v)) for pos, v in versions],
                                                     tuple(map(day, days)), kinds)
                               for handle, versions, days, kinds in records}, settings)


def _commits(out: str) -> list[tuple[datetime, list[tuple[str, str | None]]]]:
    """(author time, [(path, new blob or None when deleted)]) per commit, oldest first; only
    crm.toml and the record files directly in customers/."""
    commits = []
    for block in out.split("\x1e")[1:]:
        header, _, raw = block.partition("\0")
        sha, when = header.split(" ")[:2]
        changes = []
        fields = raw.lstrip("\n").split("\0")
        for at in range(0, len(fields) - 1, 2):
            meta, path = fields[at], fields[at + 1]
            if path != SETTINGS and not _record_path(path):
                continue
            parts = meta.lstrip(":").split(" ")
            if len(parts) < 5:
                continue
            new_mode, new_blob = parts[1], parts[3]
            gone = parts[4].startswith("D") or new_blob == ZERO or new_mode in _NOT_FILES
            changes.append((path, None if gone else new_blob))
        commits.append((datetime.fromisoformat(when).replace(tzinfo=None), changes))
    return commits


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _record_path(path: str) -> bool:
    if not path.startswith(CUSTOMERS + "/") or not path.endswith(".toml"):
        return False
    name = path[len(CUSTOMERS) + 1:]
    return "/" not in name and not name.startswith(".")


def _version(data: bytes | None, whole: bool = True):
    """A record version as the report reads it, None when it does not read; with whole=False
    its interactions are left out (days and kinds None): they count only in the latest."""
    if data is None:
        return None
    try:
        text = decode(data)
        found = version_from_data(parse_fast(text if whole else _without_interactions(text)))
    except Exception:  # not UTF-8, not TOML: this version is skipped
        return None
    if found is None:
        return None
    version, days, kinds = found
    if not whole:
        return version, None, None
    return version, days, tuple(sys.intern(kind) for kind in kinds)


_OTHER_TABLE = re.compile(r"^[ \t]*\[(?![ \t]*\[[ \t]*interactions[ \t]*\][ \t]*\])", re.M)


def _without_interactions(text: str) -> str:
    """The text before the [[interactions]] tables when nothing else follows them (crmtui
    appends them last); the whole text otherwise."""
    at = text.find("\n[[interactions]]")
    if at < 0 or _OTHER_TABLE.search(text, at + 1):
        return text
    return text[:at + 1]


def _settings(data: bytes | None) -> Settings:
    """crm.toml as crmtui read it then: the defaults where it was missing or broken."""
    if data is None:
        return Settings()
    try:
        return settings_from_data(parse_fast(decode(data)))
    except (RecordError, ValueError, UnicodeDecodeError, TypeError, AttributeError):
        return Settings()


def _apply(history: BookHistory, position: int, handle: str, value) -> None:
    record = history.records.get(handle)
    if value == _DELETED:
        if record is not None and record.versions and record.versions[-1][1] is not None:
            record.versions.append((position, None))
        return
    if value is None:  # does not read: the record stands as its last readable version
        return
    version, days, kinds = value
    if record is None:
        record = history.records[handle] = RecordHistory(handle)
    if not record.versions or record.versions[-1][1] != version:
        record.versions.append((position, version))
    if days is not None:
        record.days, record.kinds = days, kinds


# ---- the last report, for the same HEAD, day and period -----------------------------------

REPORT_NAME = "report-last.pickle"
REPORT_FORMAT = 1  # bump when a rule of domain.report changes what a figure means


def _report_shape() -> tuple:
    """The names of every figure's fields: a report saved by a crmtui with other figures is not read."""
    from crmtui.domain import report

    kinds = (report.Report, report.Retention, report.Migration, report.LifeCycle, report.Attention, report.Cared,
             report.Churn, report.DealEvent, report.ReferralNode, report.Referrer, report.Period)
    return tuple(tuple(getattr(kind, "_fields", None) or tuple(kind.__dataclass_fields__)) for kind in kinds)


def read_report(state_dir: Path | None, key: tuple):
    """The report last saved under `key` (HEAD, today, the period asked), or None."""
    if state_dir is None:
        return None
    try:
        with open(state_dir / REPORT_NAME, "rb") as handle:
            payload = pickle.load(handle)
        if (payload["format"], payload["version"], payload["key"]) == ((REPORT_FORMAT, _report_shape()),
                                                                       __version__, key):
            return payload["report"]
    except Exception:  # missing, another key, corrupt: computed again
        pass
    return None


def save_report(state_dir: Path | None, key: tuple, report) -> None:
    if state_dir is None:
        return
    payload = {"format": (REPORT_FORMAT, _report_shape()), "version": __version__, "key": key, "report": report}
    try:
        atomic_write(state_dir / REPORT_NAME, pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))
    except OSError:
        pass
