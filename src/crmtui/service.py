"""The use cases the CLI and the TUI share. Each one validates, writes, commits.

Before any write, edits made outside crmtui (an editor, sed) are committed in a
commit of their own, so the program's commit contains only the program's change.
"""

from __future__ import annotations

import os
import re
import shlex
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Callable, Iterator, NamedTuple

from crmtui.domain import reminders as reminders_mod
from crmtui.domain import validate
from crmtui.domain.changes import describe_change, edit_subject
from crmtui.domain.dates import DateError, as_date, as_datetime, parse_duration, parse_when
from crmtui.domain.record import Customer, Reminder, parse_birthday
from crmtui.domain.search import FUZZY, Hit, SearchEntry, SearchIndex, clear_winner
from crmtui.domain.slug import HANDLE, unique_handle
from crmtui.domain.tiers import Standing, TierRow, pyramid, standing
from crmtui.errors import AmbiguousError, CrmError
from crmtui.storage.book import CUSTOMERS, SETTINGS, Book, Snapshot, write_default_settings
from crmtui.storage.git_repo import Commit, GitRepo
from crmtui.storage.atomic import remove_stale_temp_files
from crmtui.storage.lock import book_lock, clear_stale_index_lock
from crmtui.storage.record_file import AppendEntries, NotAFile, check_text, read_regular, table_at
from crmtui.storage.transaction import WriteTransaction, refuse_unsafe_git_state
from crmtui.storage.toml_text import BOM, Problem, decode, parse, parse_fast


def current_time() -> datetime:
    """Now, or the fixed moment in $CRMTUI_NOW (tests and reproducible demos)."""
    fixed = os.environ.get("CRMTUI_NOW")
    if fixed:
        return datetime.fromisoformat(fixed)
    return datetime.now().replace(microsecond=0)


class HistoryEntry(NamedTuple):
    commit: Commit
    handle: str | None  # the record it concerns (None for other files)
    path: str
    phrases: tuple[str, ...]


def init_book(path: Path, notices: list[str] | None = None) -> Book:
    """Create a book; things to tell the user (like a missing git identity) go to `notices`."""
    root = Path(path).expanduser()
    if (root / SETTINGS).exists():
        raise CrmError(f"{root} is already a crmtui book")
    if root.exists() and not root.is_dir():
        raise CrmError(f"{root} is a file, not a folder")
    (root / CUSTOMERS).mkdir(parents=True, exist_ok=True)
    write_default_settings(root)
    (root / CUSTOMERS / ".gitkeep").touch()
    git = GitRepo(root.resolve())
    if not git.is_repo():
        git.init()
    from crmtui.storage.sync import GITATTRIBUTES, attributes_ready, configure_driver, write_attributes

    if not attributes_ready(root):
        write_attributes(root)  # how git merges records: part of the book, so it travels with clones
    configure_driver(root.resolve())
    git.commit([SETTINGS, f"{CUSTOMERS}/.gitkeep", GITATTRIBUTES], "Create the book")
    if notices is not None:
        notices.extend(git.notices)
    return Book(root.resolve())


class Service:
    def __init__(self, book: Book, now: Callable[[], datetime] = current_time):
        self.book = book
        self.git = GitRepo(book.root)
        self.now = now
        self._snapshot: Snapshot | None = None
        self._index: SearchIndex | None = None
        self._index_entries: list[SearchEntry] | None = None  # what _index was built from
        self.progress: Callable[[int, int], None] | None = None  # told how a first, slow load advances
        self.on_wait: Callable[[str], None] | None = None  # told why a write waits for another writer

    @classmethod
    def open(cls, path: Path, now: Callable[[], datetime] = current_time) -> "Service":
        service = cls(Book.open(path), now)
        from crmtui.storage.sync import configure_driver

        try:
            configure_driver(service.book.root)  # local config does not travel with a clone; no commit here
        except OSError:
            pass  # a read-only book still opens
        return service

    # ---- reading -----------------------------------------------------------------

    @property
    def snapshot(self) -> Snapshot:
        if self._snapshot is None:
            self._snapshot = self.book.load(self.progress)
        return self._snapshot

    def reload(self, progress=None) -> Snapshot:
        self._snapshot = self.book.load(progress)
        self._index = None
        return self._snapshot

    def today(self) -> date:
        return self.now().date()

    @property
    def customers(self) -> list[Customer]:
        return self.snapshot.customers

    @property
    def problems(self) -> list[Problem]:
        return self.snapshot.problems

    @property
    def index(self) -> SearchIndex:
        if self._index is None:
            self.build_index()
        return self._index

    def build_index(self, previous: "Service | None" = None) -> None:
        """Build the search index, or take `previous`'s when no searchable field changed
        (most writes: a logged call, a reminder done). Building takes ~0.35 s at 10,000
        customers; an index never changes once built, so sharing it is safe."""
        entries = [SearchEntry(c.handle, c.name, c.company, tuple(c.emails), tuple(c.tags), tuple(c.phones))
                   for c in self.customers]
        reusable = previous is not None and previous._index is not None and previous._index_entries == entries
        self._index = previous._index if reusable else SearchIndex(entries)
        self._index_entries = entries

    def search(self, query: str, limit: int | None = None) -> list[tuple[Customer, Hit]]:
        hits = self.index.search(query, limit)
        return [(self.snapshot.customer(h.handle), h) for h in hits]

    def standing(self, customer: Customer) -> Standing:
        return standing(customer, self.today(), self.snapshot.settings)

    def resolve(self, who: str) -> Customer:
        """A WHO argument: a file name, or a query that clearly means one record.

        Broken files take part too, by their file name: a query that would point at
        a broken file is refused with its problem rather than landing on someone else.
        """
        who = who.strip()
        handle = who.removesuffix(".toml").rsplit("/", 1)[-1]
        record = self.snapshot.records.get(handle)
        if record is not None:
            if record.customer is None:
                raise CrmError(f"{record.problem}; fix it with: crmtui edit {handle}")
            return self.record(handle)
        hits = self.index.search(who, limit=8)
        broken = [r for r in self.snapshot.records.values() if r.customer is None]
        if broken:
            by_file = SearchIndex([SearchEntry(r.handle, r.handle.replace("-", " ")) for r in broken])
            suspect = next(iter(by_file.search(who, limit=1)), None)
            if suspect and suspect.band > FUZZY and (not hits or suspect.band >= hits[0].band):
                record = self.snapshot.records[suspect.handle]
                raise CrmError(f"'{who}' may mean {record.rel}, which cannot be read ({record.problem.message}, "
                               f"line {record.problem.line}); fix it with: crmtui edit {record.handle}")
        winner = clear_winner(hits)
        if winner:
            return self.record(winner.handle)
        close = [h for h in hits if h.band > FUZZY]
        if not close:  # only loose fuzzy hits: say so, and offer the nearest as a hint
            hint = f"; closest: {', '.join(h.handle for h in hits[:3])}" if hits else ""
            raise CrmError(f"no customer matches '{who}'{hint} (try: crmtui search {shlex.quote(who)})")
        names = "; ".join(f"{h.handle} ({self.snapshot.customer(h.handle).name})" for h in close[:6])
        raise AmbiguousError(f"'{who}' matches several customers: {names}; name one by its file name")

    def record(self, handle: str) -> Customer:
        """The whole record, every interaction included (the snapshot holds summaries)."""
        record = self.book.read_full(handle)
        if record.customer is None:
            raise CrmError(f"{record.problem}; fix it with: crmtui edit {handle}")
        return record.customer

    def due(self, within: int = 7):
        return reminders_mod.due_items(self.customers, self.today(), self.snapshot.settings, within)

    def tiers(self) -> list[TierRow]:
        return pyramid(self.customers, self.today(), self.snapshot.settings)

    def referrals(self, handle: str) -> list[Customer]:
        return [c for c in self.customers if c.referred_by == handle]

    # ---- writing -----------------------------------------------------------------

    def ensure_can_write(self) -> None:
        """Refuse before touching a file in the git states where the commit would fail or be
        lost (a merge or rebase in progress, a detached HEAD, no repository of its own)."""
        refuse_unsafe_git_state(self.book.root)

    @contextmanager
    def lock(self) -> Iterator[None]:
        """The book's write lock (waits for another writer, then names it); reentrant."""
        with book_lock(self.book.root, say=self.on_wait):
            yield

    @contextmanager
    def transaction(self, settle: bool = True) -> Iterator[WriteTransaction]:
        """The one write path: lock, check git's state, settle outside edits, then the
        caller's edits and commit; on any failure before the commit every file is put back."""
        with self.lock():
            self.ensure_can_write()
            clear_stale_index_lock(self.book.root, self.git.notices.append)
            remove_stale_temp_files(self.book.customers_dir)
            if settle:
                self.git.notices.extend(self.settle_outside_edits())
            tx = WriteTransaction(self.book.root, self.git)
            try:
                yield tx
            except BaseException:
                if not tx.committed:
                    tx.rollback()
                raise

    def settle_outside_edits(self) -> list[str]:
        """Commit valid edits made outside crmtui; report broken ones. Returns notices.

        Every write calls this first, so it is also where writes are refused in an
        unsafe git state, and where the book gets its .gitattributes for the
        record-aware merge if it lacks them.
        """
        notices, valid, names = [], [], []
        if not self.git.is_repo():
            return notices
        with self.lock():
            self.ensure_can_write()
            clear_stale_index_lock(self.book.root, notices.append)
            from crmtui.storage.sync import ensure_merge_driver

            ensure_merge_driver(self.book.root, self.git)
            for status, rel in self.git.pending(CUSTOMERS, SETTINGS):
                if not rel.endswith(".toml"):
                    continue
                path = self.book.root / rel
                if status != "D":
                    if rel == SETTINGS:
                        problem = self.book.read_settings()[1]
                    else:
                        try:  # never opens a named pipe: it would block forever
                            problem = check_text(rel, path.stem, decode(read_regular(path)))[2]
                        except NotAFile as error:
                            problem = Problem(rel, 1, 1, error.strerror)
                        except (OSError, UnicodeDecodeError) as error:
                            problem = Problem(rel, 1, 1, f"cannot read: {error}")
                    if problem:
                        notices.append(f"{problem} (an outside edit, left uncommitted until it is fixed)")
                        continue
                valid.append(rel)
                names.append(Path(rel).name)
            if valid:
                added = dict((path, status) for status, path in self.git.pending(*valid))
                verb = {"D": "Delete", "A": "Add"}.get(added.get(valid[0]), "Edit") if len(valid) == 1 else "Edit"
                subject = (f"{verb} {names[0]} outside crmtui" if len(valid) == 1
                           else f"Edit {len(valid)} files outside crmtui")
                body = "\n".join(valid) if len(valid) > 1 else ""
                self.git.commit(valid, subject + ("\n\n" + body if body else ""))
        return notices

    def _write(self, handle: str, mutate, message: Callable[[Customer], str]) -> Customer:
        with self.transaction() as tx:
            result = tx.edit(self.book.rel(handle), mutate)
            tx.commit(message(result.customer))
        self._refresh(handle)
        return result.customer

    def _refresh(self, handle: str) -> None:
        if self._snapshot is not None:
            self.book.reload_one(self._snapshot, handle)
            self._index = None

    def add_customer(self, name: str, *, company: str = "", title: str = "", emails=(), phones=(), tags=(),
                     tier: str | None = None, stage: str | None = None, birthday: str | None = None,
                     keep_in_touch: str | None = None, referred_by: str | None = None, notes: str = "") -> Customer:
        name = " ".join(name.split())
        if not name:
            raise CrmError("a customer needs a name")
        try:  # domain.validate: the rules the TUI form, imports and `crmtui check` apply too
            emails, phones = validate.emails(emails), validate.phones(phones)
            tier, stage = validate.tier(tier), validate.stage(stage)
            if birthday:
                validate.birthday(birthday)
            if keep_in_touch:
                validate.duration(keep_in_touch, "the keep-in-touch cadence")
        except validate.InvalidValue as error:
            raise CrmError(str(error)) from None
        import tomlkit

        doc = tomlkit.document()
        doc["name"] = name
        for key, value in (("company", company), ("title", title)):
            if value:
                doc[key] = value
        for key, values in (("emails", emails), ("phones", phones), ("tags", tags)):
            values = [v.strip() for v in values if v.strip()]
            if values:
                doc[key] = values
        doc["stage"] = (stage or "prospect").lower()
        if tier:
            doc["tier"] = tier.lower()
        if birthday:
            try:
                parsed = parse_birthday(birthday)
            except DateError as error:
                raise CrmError(str(error)) from None
            doc["birthday"] = date(parsed.year, parsed.month, parsed.day) if parsed.year else str(parsed)
        if keep_in_touch:
            doc["keep_in_touch"] = str(_duration(keep_in_touch))
        if referred_by:
            doc["referred_by"] = self.resolve(referred_by).handle
        if notes:
            doc["notes"] = notes
        with self.transaction() as tx:
            taken = set(self.snapshot.records) | {p.stem for p in self.book.customer_paths()}
            handle = unique_handle(_handle_source(name, company, doc.get("emails", [])), taken)
            result = tx.create(self.book.rel(handle), doc)
            tx.commit(f"Add {name}")
        self._refresh(handle)
        return result.customer

    def log_interaction(self, handle: str, summary: str, kind: str = "note", at: str | datetime | None = None,
                        follow_up: str | date | None = None) -> Customer:
        summary = summary.strip()
        if not summary:
            raise CrmError("say what happened: the summary is empty")
        kind = kind.lower().strip()
        kinds = self.snapshot.settings.kinds
        if kind not in kinds:
            raise CrmError(f"unknown kind '{kind}'; use one of {', '.join(kinds)} (or add it to crm.toml)")
        now = self.now()
        when = now
        if at:
            parsed = self._when(at, now)
            # "3d ago" or "yesterday" means at this time of day; a written date means that day.
            relative = isinstance(at, str) and not re.match(r"\s*\d{4}-", at)
            if relative and not isinstance(parsed, datetime):
                when = datetime.combine(parsed, now.time())
            else:
                when = as_datetime(parsed)
        if when > now:
            raise CrmError(f"--at {at} is in the future; for a past time write e.g. '3d ago', yesterday or a date")
        due = as_date(self._when(follow_up, now)) if follow_up else None
        try:  # from today on, at most 100 years ahead, and a day every export can write
            due = validate.future_day(due, now.date(), "the follow-up") if due is not None else None
        except validate.InvalidValue as error:
            raise CrmError(str(error)) from None

        entries = [("interactions", {"at": when, "kind": kind, "summary": summary})]
        if due is not None:
            entries.append(("reminders", {"due": due, "text": f"Follow up: {summary}"}))
        mutate = AppendEntries(*entries)

        def message(customer: Customer) -> str:
            text = f"Log {kind} with {customer.name}"
            return text + (f"\n\nFollow up on {due}." if due else "")

        return self._write(handle, mutate, message)

    def _when(self, value, now: datetime):
        if isinstance(value, (date, datetime)):
            return value
        try:
            return parse_when(value, now)
        except DateError as error:
            raise CrmError(str(error)) from None

    def find_reminder(self, customer: Customer, text: str | None = None) -> Reminder:
        open_ones = customer.open_reminders
        if not open_ones:
            raise CrmError(f"{customer.name} has no open reminder (keep-in-touch restarts when you log "
                           f"an interaction: crmtui log {customer.handle} SUMMARY)")
        if not text:
            return open_ones[0]
        index = SearchIndex([SearchEntry(str(r.index), r.text) for r in open_ones])
        hits = index.search(text)
        winner = clear_winner(hits) or (hits[0] if len(hits) == 1 else None)
        if winner is None:
            listing = "; ".join(f"{r.due} {r.text}" for r in open_ones)
            raise AmbiguousError(f"'{text}' does not name one reminder of {customer.name}: {listing}")
        return next(r for r in open_ones if str(r.index) == winner.handle)

    def mark_done(self, handle: str, index: int) -> tuple[Customer, Reminder, date | None]:
        """Mark [[reminders]] number `index` done; a recurring one moves forward instead."""
        customer = self.snapshot.customer(handle)
        reminder = next((r for r in customer.reminders if r.index == index), None) if customer else None
        if reminder is None or reminder.done is not None:
            raise CrmError("that reminder is not open any more; reload")
        today = self.today()
        next_due = reminders_mod.advance(reminder, today)

        def mutate(doc):
            table = _same_reminder(table_at(doc, "reminders", index), reminder)
            if next_due is not None:
                table["due"] = next_due
            else:
                table["done"] = today

        def message(c: Customer) -> str:
            subject = f"Done: {reminder.text or 'reminder'} ({c.name})"
            return subject + (f"\n\nRecurring: next due {next_due}." if next_due else "")

        return self._write(handle, mutate, message), reminder, next_due

    def snooze(self, handle: str, index: int, until: str | date) -> tuple[Customer, date]:
        customer = self.snapshot.customer(handle)
        reminder = next((r for r in customer.reminders if r.index == index), None) if customer else None
        if reminder is None:
            raise CrmError("that reminder is not there any more; reload")
        new_due = as_date(self._when(until, self.now()))
        if new_due <= self.today():
            raise CrmError("snooze to a day after today")
        try:
            validate.future_day(new_due, self.today(), "the snooze date")
        except validate.InvalidValue as error:
            raise CrmError(str(error)) from None

        def mutate(doc):
            _same_reminder(table_at(doc, "reminders", index), reminder)["due"] = new_due

        saved = self._write(handle, mutate,
                            lambda c: f"Snooze: {reminder.text or 'reminder'} ({c.name}) to {new_due}")
        return saved, new_due

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

    def commit_edit(self, handle: str, before_text: str | None) -> tuple[str | None, Problem | None]:
        """After an editor session on a record: validate, then commit with a summary.

        Returns (commit subject or None when nothing was committed, problem or None).
        The summary compares with the last committed version, so fixing a broken
        file reads as what changed since the last good one.
        """
        with self.transaction(settle=False):
            return self._commit_edit(handle, before_text)

    def _commit_edit(self, handle: str, before_text: str | None) -> tuple[str | None, Problem | None]:
        rel = self.book.rel(handle)
        path = self.book.root / rel
        self._refresh(handle)
        committed = self.git.show_file("HEAD", rel) if self.git.has_commits() else None
        if not path.exists():
            if committed is not None and self.git.commit([rel], f"Delete {handle}.toml"):
                return f"Delete {handle}.toml", None
            return None, None
        try:
            text = decode(path.read_bytes())
        except UnicodeDecodeError as error:
            return None, Problem(rel, 1, error.start + 1, "not UTF-8 text; save it as UTF-8")
        after, customer, problem = check_text(rel, handle, text)
        if problem:
            return None, problem
        before = None
        for candidate in (committed, before_text):
            try:
                before = parse(candidate.removeprefix(BOM)) if candidate is not None else None
            except Exception:
                continue
            break
        phrases = describe_change(before, after)
        subject = edit_subject(customer.name, phrases) if before is not None else f"Add {customer.name}"
        if self.git.commit([rel], subject) is None:
            return None, None
        return subject, None

    def notices(self) -> list[str]:
        out, self.git.notices = self.git.notices, []
        return out

    # ---- several machines --------------------------------------------------------

    def sync(self, interactive: bool = False):
        """Commit pending edits, fetch, merge record by record, push: a storage.sync.SyncReport.

        Blocks on the network: the TUI runs it in a worker. Raises CrmError with a
        sentence to show when it cannot sync; nothing is lost either way.
        """
        from crmtui.storage.sync import sync

        return sync(self, interactive=interactive)

    def resolve_conflict(self, handle: str, key: str | None, side: str) -> tuple[Customer, list[str]]:
        """Settle a record's [[conflicts]] left by a sync, as one commit.

        side "ours" keeps the value the record has now, "theirs" takes the other
        side's; key None settles every conflict of the record. Returns the saved
        customer and the keys settled.
        """
        if side not in ("ours", "theirs"):
            raise CrmError("choose a side: --ours keeps the record's value, --theirs takes the other side's")
        customer = self.snapshot.customer(handle)
        if customer is None:
            raise CrmError(f"no readable record {handle}; see: crmtui check")
        if not customer.conflicts:
            raise CrmError(f"{customer.name} has no sync conflict to resolve")
        chosen = [c.key for c in customer.conflicts if key is None or c.key == key]
        if not chosen:
            raise CrmError(f"{customer.name} has no conflict on '{key}'; its conflicts are on: "
                           f"{', '.join(sorted({c.key for c in customer.conflicts}))}")

        def mutate(doc):
            from crmtui.storage.merge import UnresolvableConflict, apply_resolution

            try:
                apply_resolution(doc, set(chosen), side)
            except UnresolvableConflict as error:
                raise CrmError(f"{error}; edit the file to settle it: crmtui edit {handle}") from None

        keys = ", ".join(dict.fromkeys(chosen))
        how = "kept this record's value" if side == "ours" else "took the other side's value"
        saved = self._write(handle, mutate, lambda c: f"Resolve {keys} of {c.name}: {how}")
        return saved, list(dict.fromkeys(chosen))

    # ---- history -----------------------------------------------------------------

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


def _same_reminder(table, reminder: Reminder):
    """The [[reminders]] entry found by position, if it is still the one the user chose;
    the file may have changed on disk since it was read."""
    if str(table.get("text", "")) != reminder.text or str(table.get("due", "")) != str(reminder.due):
        raise CrmError(f"the reminder '{reminder.text}' changed on disk since it was read; reload and try again")
    return table


def _handle_of(path: str) -> str | None:
    if path.startswith(CUSTOMERS + "/") and path.endswith(".toml"):
        stem = path[len(CUSTOMERS) + 1 : -5]
        return stem if HANDLE.match(stem) or "/" not in stem else None
    return None


def _duration(text: str):
    try:
        return parse_duration(text)
    except DateError as error:
        raise CrmError(str(error)) from None


def _handle_source(name: str, company: str, emails) -> str:
    """What to make the file name from: the name, or when it has no Latin letters
    (李娜), the email's local part, then the company."""
    from crmtui.domain.slug import slugify

    for candidate in (name, *(e.split("@")[0] for e in emails), company):
        if candidate and slugify(candidate) != "customer":
            return candidate
    return name
