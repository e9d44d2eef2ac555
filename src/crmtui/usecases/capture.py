"""Interactions that log themselves: mail and calendar imports, and the mail clients.

`import_mail` reads the headers of every message in Maildirs, mbox files, folders
of .eml files or one message on stdin, and logs one `email` interaction per
customer a message is from or to; `import_calendar` logs one `meeting` per
customer an event had. Each is ONE transaction: every touched record is edited
once (an AppendEntries of all its new interactions) and the whole import is one
commit, so a failed import leaves the book as it was. The Message-ID (or the
event's UID and start) stored on each interaction makes importing again, or
overlapping folders, add nothing.

Parsing is pure (interchange/mail.py, interchange/calendar_in.py); the walking
of folders and files is here.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Callable, Iterator

from crmtui.domain.dates import DateError, as_datetime, parse_when
from crmtui.errors import CrmError
from crmtui.storage.atomic import batched_dir_sync
from crmtui.storage.record_file import AppendEntries
from crmtui.storage.toml_text import decode, parse_fast


class _OnFirstUse:
    """A module imported when first used: Service composes this mixin, so every command
    would otherwise pay for the email package and icalendar (~25 ms) at start-up."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str):
        import importlib

        module = importlib.import_module(self._name)
        setattr(self, attr, getattr(module, attr))
        return getattr(module, attr)


mail = _OnFirstUse("crmtui.interchange.mail")
calendar_in = _OnFirstUse("crmtui.interchange.calendar_in")

Progress = Callable[[int, int], None]
CHUNK = 16384
MAIL_SUFFIXES = (".eml", ".msg", ".mail")
ICS_SUFFIXES = (".ics", ".ical", ".ifb", ".icalendar")
TOP_UNKNOWN = 10


@dataclass
class CaptureReport:
    """What an import of mail or of a calendar did (or, on a dry run, would do)."""

    source: str
    noun: str  # "email" or "meeting"
    read: int = 0  # messages or events read
    added: dict[str, int] = field(default_factory=dict)  # handle -> interactions added
    names: dict[str, str] = field(default_factory=dict)  # handle -> the customer's name
    already: int = 0  # found in the book: imported before
    twice: int = 0  # read twice in this import (the same message in Sent and Inbox, a copy in two folders)
    skipped: Counter = field(default_factory=Counter)  # reason -> how many, skipped on purpose
    problems: list = field(default_factory=list)  # what could not be read, each naming its place
    unknown: list[tuple[str, str, int]] = field(default_factory=list)  # (address, name, count), most first
    same_name: dict[str, str] = field(default_factory=dict)  # unknown address -> a record with its name
    subject: str = ""  # the commit's subject; empty when nothing was committed
    dry_run: bool = False
    no_me: bool = False  # no address of yours is known: every message counts as received

    @property
    def total(self) -> int:
        return sum(self.added.values())

    def words(self, count: int) -> str:
        return f"{count} {self.noun}{'' if count == 1 else 's'}"

    def summary(self) -> str:
        customers = len(self.added)
        parts = [f"{self.words(self.total)} for {customers} customer{'' if customers == 1 else 's'}"
                 if self.total else f"no new {self.noun}s"]
        if self.already:
            parts.append(f"{self.already} already in the book")
        if self.twice:
            parts.append(f"{self.twice} read twice" + (" (one message in two folders)" if self.noun == "email" else ""))
        skipped = sum(self.skipped.values())
        if skipped:
            parts.append(f"{skipped} skipped (" + ", ".join(f"{n} {why}" for why, n in self.skipped.most_common())
                         + ")")
        if self.problems:
            parts.append(f"{len(self.problems)} unreadable")
        return "; ".join(parts)


# ---- --since, and your own addresses ---------------------------------------------------

def since_time(value: str | date | datetime | None, now: datetime) -> datetime | None:
    """--since WHEN: a date or time, "3d ago", or a bare duration (14d, 3m) meaning that long ago."""
    if value is None or value == "":
        return None
    if isinstance(value, (date, datetime)):
        return as_datetime(value)
    text = str(value).strip()
    try:
        bare = re.fullmatch(r"\d+\s*[dwmy]", text, re.IGNORECASE)  # "3m": the last three months
        when = parse_when(f"{text} ago" if bare else text, now)
    except DateError as error:
        raise CrmError(f"--since: {error}") from None
    when = as_datetime(when)
    if when > now:
        raise CrmError(f"--since {text} is in the future; write a past date, or 3m for the last three months")
    return when


# ---- where the messages are ------------------------------------------------------------

class _Source:
    """One place messages come from, read header block by header block."""

    def __init__(self, label: str, count: int, items: Callable[[], Iterator[tuple[str, bytes | None]]]):
        self.label = label
        self.count = count
        self.items = items  # yields (where, header bytes or None when truncated)


def _file_headers(path: str) -> bytes:
    """The headers of a message file: read until the blank line that ends them, never the body."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        data = b""
        while True:
            chunk = os.read(fd, CHUNK)
            if not chunk:
                return data
            data += chunk
            block = mail.header_block(data, complete=False)
            if block is not None:
                return block
    finally:
        os.close(fd)


def _is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() or (path / "new").is_dir()


def _maildir_files(root: Path) -> list[str]:
    files = []
    for sub in ("cur", "new"):
        folder = root / sub
        if not folder.is_dir():
            continue
        with os.scandir(folder) as entries:
            files += [entry.path for entry in entries if not entry.name.startswith(".") and entry.is_file()]
    return sorted(files)


def _files_source(label: str, files: list[str], base: Path) -> _Source:
    prefix = str(base).rstrip(os.sep) + os.sep

    def items():
        for name in files:
            where = name[len(prefix):] if name.startswith(prefix) else name
            try:
                yield where, _file_headers(name)
            except OSError as error:
                yield where, OSError(error.strerror)
    return _Source(label, len(files), items)


def _mbox_source(path: Path) -> _Source:
    import mailbox

    try:
        box = mailbox.mbox(str(path), create=False)
        keys = box.keys()
    except (OSError, mailbox.Error) as error:
        raise CrmError(f"cannot read {path}: {getattr(error, 'strerror', None) or error}") from None

    def items():
        try:
            for number, key in enumerate(keys, start=1):
                start = box._toc[key][0]  # noqa: SLF001 - the byte offset, to name the place
                where = f"{path.name}: message {number} (byte {start})"
                handle = box.get_file(key)
                data = b""
                while True:
                    chunk = handle.read(CHUNK)
                    if not chunk:
                        break
                    data += chunk
                    if mail.header_block(data, complete=False) is not None:
                        break
                yield where, mail.header_block(data, complete=False)
        finally:
            box.close()
    return _Source(path.name, len(keys), items)


def _looks_like_mbox(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(5) == b"From "
    except OSError:
        return False


def mail_sources(paths: list[str | Path]) -> list[_Source]:
    """What each PATH holds: a Maildir (cur/ and new/), a folder of Maildirs and .eml files
    (searched through), an mbox file, or one message file."""
    sources = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            if _is_maildir(path):
                sources.append(_files_source(path.name or str(path), _maildir_files(path), path.parent))
                for sub in sorted(p for p in path.iterdir() if p.name.startswith(".") and p.is_dir()
                                  and _is_maildir(p)):  # Maildir++ subfolders (.Sent, .Archive)
                    sources.append(_files_source(f"{path.name}/{sub.name}", _maildir_files(sub), path.parent))
                continue
            found = False
            for folder, dirs, files in os.walk(path):
                dirs.sort()
                here = Path(folder)
                if _is_maildir(here):
                    sources.append(_files_source(here.relative_to(path.parent).as_posix(), _maildir_files(here),
                                                 path.parent))
                    dirs[:] = [d for d in dirs if d not in ("cur", "new", "tmp")]
                    found = True
                    continue
                emls = sorted(os.path.join(folder, f) for f in files if f.lower().endswith(MAIL_SUFFIXES))
                if emls:
                    sources.append(_files_source(here.relative_to(path.parent).as_posix(), emls, path.parent))
                    found = True
                mboxes = sorted(here / f for f in files if f.lower().endswith(".mbox") and (here / f).is_file())
                for box in mboxes:
                    sources.append(_mbox_source(box))
                    found = True
            if not found:
                raise CrmError(f"{path} holds no mail: no Maildir (cur/, new/), no .eml files, no .mbox files")
        elif path.is_file():
            if _looks_like_mbox(path) and not path.suffix.lower() in MAIL_SUFFIXES:
                sources.append(_mbox_source(path))
            else:
                sources.append(_files_source(path.name, [str(path)], path.parent))
        else:
            raise CrmError(f"no file or folder at {path}")
    return sources


def stdin_source(data: bytes, label: str = "stdin") -> _Source:
    """One message piped in (mutt's <pipe-message>); an mbox "From " line first is dropped."""
    if data.startswith(b"From "):
        data = data.split(b"\n", 1)[1] if b"\n" in data else b""

    def items():
        yield label, mail.header_block(data)
    return _Source(label, 1, items)


# ---- the use cases ---------------------------------------------------------------------

class CaptureUseCases:
    def my_addresses(self) -> tuple[str, ...]:
        """Your own addresses: `me` in crm.toml, else git's user.email (then $EMAIL)."""
        me = self.snapshot.settings.me
        if me:
            return me
        found = ""
        try:
            found = self.git.run("config", "--get", "user.email")
        except CrmError:
            pass
        found = found or os.environ.get("GIT_AUTHOR_EMAIL", "") or os.environ.get("EMAIL", "")
        return (found.strip().lower(),) if "@" in found else ()

    def _kind(self, kind: str) -> str:
        if kind not in self.snapshot.settings.kinds:
            raise CrmError(f"this book has no interaction kind '{kind}' (crm.toml interaction_kinds); add it "
                           f"there to import {kind}s")
        return kind

    def read_messages(self, sources: list[_Source], progress: Progress | None = None
                      ) -> tuple[list[mail.Message], list[mail.Skip]]:
        total = sum(s.count for s in sources)
        messages, problems, done = [], [], 0
        for source in sources:
            for where, head in source.items():
                done += 1
                if progress and done % 500 == 0:
                    progress(done, total)
                if isinstance(head, OSError):
                    problems.append(mail.Skip(where, f"cannot be read ({head})"))
                    continue
                if head is None:
                    problems.append(mail.Skip(where, "truncated: the file ends inside its headers"))
                    continue
                parsed = mail.parse_message(head, where)
                (problems if isinstance(parsed, mail.Skip) else messages).append(parsed)
        if progress:
            progress(total, total)
        return messages, problems

    def import_mail(self, paths: list[str | Path] = (), *, since=None, dry_run: bool = False,
                    progress: Progress | None = None, stdin: bytes | None = None, label: str | None = None,
                    write_progress: Progress | None = None) -> CaptureReport:
        """Log every message from or to a customer as an email interaction; one commit."""
        kind = self._kind("email")
        sources = ([stdin_source(stdin, label or "stdin")] if stdin is not None else []) + mail_sources(list(paths))
        if not sources:
            raise CrmError("name a Maildir, an mbox file, a folder of .eml files, or - for one message on stdin")
        source = label or ", ".join(s.label for s in sources[:3]) + (f" and {len(sources) - 3} more"
                                                                     if len(sources) > 3 else "")
        cutoff = since_time(since, self.now())
        messages, problems = self.read_messages(sources, progress)
        report = CaptureReport(source, kind, read=len(messages) + len(problems), problems=list(problems),
                               dry_run=dry_run)

        def plan(service) -> tuple[dict[str, list[dict]], dict[str, str]]:
            me = service.my_addresses()
            report.no_me = not me
            known = mail.address_map(service.customers)
            planned = mail.plan_mail(messages, known, me, {}, since=cutoff, now=service.now(), kind=kind)
            report.skipped, report.twice = planned.skipped, planned.already
            report.unknown = [(a, planned.names.get(a, ""), n) for a, n in planned.unknown.most_common(TOP_UNKNOWN)]
            report.same_name = _same_names(service, report.unknown)
            return planned.new, {}

        return self._capture(report, plan, "message_id", dry_run, write_progress)

    def import_calendar(self, path: str | Path, *, since=None, dry_run: bool = False,
                        progress: Progress | None = None, write_progress: Progress | None = None) -> CaptureReport:
        """Log every event a customer attended (organised, or was invited to) as a meeting; one commit."""
        kind = self._kind("meeting")
        path = Path(path).expanduser()
        if path.is_dir():
            files = sorted(str(p) for p in path.rglob("*") if p.suffix.lower() in ICS_SUFFIXES and p.is_file())
            if not files:
                raise CrmError(f"{path} holds no .ics files")
        elif path.is_file():
            files = [str(path)]
        else:
            raise CrmError(f"no file or folder at {path}")
        cutoff = since_time(since, self.now())
        start, end = calendar_in.window(cutoff, self.now())
        events, problems, skipped = [], [], Counter()
        for number, name in enumerate(files, start=1):
            if progress and number % 200 == 0:
                progress(number, len(files))
            where = Path(name).name if len(files) == 1 else os.path.relpath(name, path)
            try:
                with open(name, "rb") as handle:
                    data = handle.read()
            except OSError as error:
                problems.append(calendar_in.CalendarSkip(where, f"cannot be read ({error.strerror})"))
                continue
            found, trouble = calendar_in.read_calendar(data, where, start, end)
            events += found
            for skip in trouble:
                if skip.problem:
                    problems.append(skip)
                else:
                    skipped[skip.reason] += 1
        if progress:
            progress(len(files), len(files))
        report = CaptureReport(path.name or str(path), kind, read=len(events) + len(problems) + sum(skipped.values()),
                               problems=problems, dry_run=dry_run)

        def plan(service):
            me = service.my_addresses()
            report.no_me = not me
            known = mail.address_map(service.customers)
            new, already, why, unknown, names = calendar_in.plan_meetings(events, known, me, {}, kind=kind)
            report.skipped = skipped + why
            report.twice = already
            report.unknown = [(a, names.get(a, ""), n) for a, n in unknown.most_common(TOP_UNKNOWN)]
            report.same_name = _same_names(service, report.unknown)
            return new, {}

        return self._capture(report, plan, "event_uid", dry_run, write_progress)

    def _existing(self, handle: str, key: str) -> set:
        """The Message-IDs (key "message_id") or (UID, start) pairs (key "event_uid") a record holds."""
        rel = self.book.rel(handle)
        data = parse_fast(decode((self.book.root / rel).read_bytes()))
        rows = data.get("interactions", [])
        found = set()
        for row in rows if isinstance(rows, list) else ():
            if not isinstance(row, dict) or key not in row:
                continue
            if key == "message_id":
                found.add(str(row[key]))
            else:
                at = row.get("at")
                found.add((str(row[key]), at.replace(tzinfo=None) if isinstance(at, datetime) else at))
        return found

    def _edit_all(self, tx, mutations: dict, progress: Progress | None = None) -> None:
        """Every record's edit, in the one transaction. Each is its own file, so a few run at once:
        a record's write waits on the disk (its fsync) while the next is built. customers/ itself
        is fsynced once at the end, not once per record. The first failure stops the rest and
        fails the transaction, which puts back every file already written."""
        import threading
        from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

        total, done, lock = len(mutations), [0], threading.Lock()

        def edit(handle, mutate):
            tx.edit(self.book.rel(handle), mutate)
            with lock:
                done[0] += 1
                if progress and (done[0] % 50 == 0 or done[0] == total):
                    progress(done[0], total)

        with batched_dir_sync():
            if total < 8:
                for handle, mutate in mutations.items():
                    edit(handle, mutate)
                return
            with ThreadPoolExecutor(max_workers=4, thread_name_prefix="crmtui-import") as pool:
                futures = [pool.submit(edit, handle, mutate) for handle, mutate in mutations.items()]
                _, pending = wait(futures, return_when=FIRST_EXCEPTION)
                for future in pending:
                    future.cancel()
            for future in futures:
                if not future.cancelled() and future.exception() is not None:
                    raise future.exception()

    def _fresh(self, report: CaptureReport, plan, key: str) -> tuple[dict[str, list[dict]], list]:
        """The plan, less what each record already holds; fills the report's counts."""
        new, _ = plan(self)
        report.added, report.names, report.already = {}, {}, 0
        unreadable = []
        identity = (lambda row: row["message_id"]) if key == "message_id" else \
            (lambda row: (row["event_uid"], row["at"]))
        for handle in sorted(new):
            rows = new[handle]
            try:
                have = self._existing(handle, key)
            except Exception as error:  # noqa: BLE001 - a record that does not read: say so, go on
                unreadable.append(mail.Skip(f"customers/{handle}.toml", f"cannot be read ({error}); its "
                                            f"{report.words(len(rows))} were not imported"))
                continue
            fresh = [row for row in rows if identity(row) not in have]
            report.already += len(rows) - len(fresh)
            if fresh:
                new[handle] = fresh
                report.added[handle] = len(fresh)
                customer = self.snapshot.customer(handle)
                report.names[handle] = customer.name if customer else handle
        return new, unreadable

    def _capture(self, report: CaptureReport, plan, key: str, dry_run: bool,
                 write_progress: Progress | None = None) -> CaptureReport:
        read_problems = list(report.problems)
        new, unreadable = self._fresh(report, plan, key)  # without the lock: an import again ends here
        report.problems = read_problems + unreadable
        if dry_run or not report.added:
            return report
        with self.transaction() as tx:  # the lock, to the commit; then the plan again on the book as it is
            self.reload()
            new, unreadable = self._fresh(report, plan, key)
            report.problems = read_problems + unreadable
            if not report.added:
                return report
            try:
                self._edit_all(tx, {handle: AppendEntries(*(("interactions", row) for row in new[handle]))
                                    for handle in sorted(report.added)}, write_progress)
                report.subject = (f"Import {report.words(report.total)} from {report.source}: "
                                  f"{len(report.added)} customer{'' if len(report.added) == 1 else 's'}")
                lines = [f"{report.names[h]} ({h}): +{report.words(n)}" for h, n in
                         sorted(report.added.items(), key=lambda item: (-item[1], item[0]))]
                if len(lines) > 300:
                    lines = lines[:300] + [f"... and {len(lines) - 300} more"]
                tx.commit(report.subject + "\n\n" + "\n".join(lines))
            except OSError as error:
                raise CrmError(f"cannot write {error.filename or 'the book'}: {error.strerror}; nothing was "
                               f"imported") from None
        self._snapshot, self._index = None, None  # read again when next asked for: thousands may have changed
        return report

    # ---- the mail clients ----------------------------------------------------------------

    def query_addresses(self, text: str, limit: int = 100) -> list[tuple[str, str, str]]:
        """(email, name, "company · tier") of the customers matching TEXT, one line per address:
        those with a name word starting with TEXT first, then the best tier first, then the most
        recently contacted (mutt's query_command, aerc, alot)."""
        from crmtui.domain.search import FUZZY, NAME_PREFIX, fold

        text = " ".join(text.split())
        named: set[str] = set()  # a name word starts with TEXT: those come first
        if text:
            hits = self.search(text, limit=500)
            close = [(c, h) for c, h in hits if h.band > FUZZY]
            chosen = [c for c, _ in (close or hits)]
            named = {c.handle for c, h in (close or hits) if h.band >= NAME_PREFIX}
        else:
            chosen = list(self.customers)
        order = {"platinum": 0, "gold": 1, "iron": 2, "lead": 3}
        ranked = []
        for customer in chosen:
            if not customer.emails:
                continue
            st = self.standing(customer)
            last = customer.last_interaction.at if customer.last_interaction else datetime.min
            ranked.append((customer.handle not in named, order.get(st.tier or "", 4),
                           -last.timestamp() if last != datetime.min else 0.0, customer.name.lower(), customer,
                           st.tier))
        ranked.sort(key=lambda row: row[:4])
        lines: list[tuple[str, str, str]] = []
        needle = fold(text)
        for *_, customer, tier in ranked:
            extra = " · ".join(part for part in (customer.company, tier or customer.stage) if part)
            emails = [e for e in customer.emails if e.strip()]
            matching = [e for e in emails if needle and needle in fold(e)]
            if matching and needle not in fold(f"{customer.name} {customer.company}"):
                emails = matching  # "b.sch" means that address, not the person's others
            else:
                emails = matching + [e for e in emails if e not in matching]
            for email in emails:
                lines.append((email.strip(), customer.name, extra))
                if len(lines) >= limit:
                    return lines
        return lines

    def add_from_message(self, raw: bytes, to_too: bool = False, dry_run: bool = False):
        """The sender of a piped message (with to_too its To and Cc too, never you) as prospects,
        or their address added to the record they match by email or name: one commit."""
        from crmtui.interchange.contact import Contact
        from crmtui.usecases.interchange import import_contacts

        if raw.startswith(b"From "):
            raw = raw.split(b"\n", 1)[1] if b"\n" in raw else b""
        head = mail.header_block(raw)
        senders, recipients = mail.people_of(head)
        if not senders and not recipients:
            raise CrmError("the message on stdin has no From address; pipe a whole message (mutt: <pipe-message>)")
        me = set(self.my_addresses())
        contacts, seen = [], set()
        for field_name, people in (("From", senders), ("To/Cc", recipients if to_too else [])):
            for address, name in people:
                if address in me or address in seen or mail.is_noreply(address):
                    continue
                seen.add(address)
                contacts.append(Contact(name=name or _name_from_address(address), emails=[address],
                                        where=f"{field_name}: {address}").tidy())
        if not contacts:
            raise CrmError("no one to add: the message's addresses are yours or noreply ones")
        return import_contacts(self, contacts, [], "a message", dry_run=dry_run, stage="prospect")

    def log_message(self, raw: bytes, dry_run: bool = False) -> CaptureReport:
        """A piped message logged as an email interaction (the rules of import mail)."""
        return self.import_mail([], stdin=raw, label="a piped message", dry_run=dry_run)


def _same_names(service, unknown) -> dict[str, str]:
    """Unknown correspondents whose name is a record's (another address of someone in the book)."""
    from crmtui.domain.search import fold

    wanted = {fold(name): address for address, name, _ in unknown if name}
    if not wanted:
        return {}
    found = {}
    for customer in service.customers:
        address = wanted.get(fold(customer.name))
        if address and address not in found:
            found[address] = customer.handle
    return found


def _name_from_address(address: str) -> str:
    """A name for a prospect known only by an address: ana.lopez@x -> Ana Lopez."""
    local = address.partition("@")[0].split("+", 1)[0]
    words = [w for w in re.split(r"[._-]+", local) if w]
    return " ".join(w.capitalize() for w in words) or address
