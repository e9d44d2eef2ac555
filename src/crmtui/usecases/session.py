"""The book session: one book open, its snapshot and search index, and the one write path.

Every use case (records, reminders, history, sync, interchange) works over a
session: it reads through `snapshot`, `resolve` and `search`, and writes through
`transaction()` (storage/transaction.py), which takes the book's lock, checks
git's state, settles outside edits, and commits or puts everything back.
"""

from __future__ import annotations

import os
import stat
import shlex
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Callable, Iterator

from crmtui.domain.dates import DateError, parse_when
from crmtui.domain.record import Customer
from crmtui.domain.search import FUZZY, Hit, SearchEntry, SearchIndex, clear_winner
from crmtui.domain.tiers import Standing, standing
from crmtui.domain.settings import Settings
from crmtui.errors import AmbiguousError, CrmError
from crmtui.storage.book import CUSTOMERS, SETTINGS, Book, Snapshot, write_default_settings
from crmtui.storage.git_repo import GitRepo
from crmtui.storage.atomic import remove_stale_temp_files
from crmtui.storage.lock import book_lock, clear_stale_index_lock
from crmtui.storage.record_file import NotAFile, check_text, read_regular
from crmtui.storage.transaction import WriteTransaction, refuse_unsafe_git_state
from crmtui.storage.toml_text import Problem, decode


def current_time() -> datetime:
    """Now, or the fixed moment in $CRMTUI_NOW (tests and reproducible demos)."""
    fixed = os.environ.get("CRMTUI_NOW")
    if fixed:
        return datetime.fromisoformat(fixed)
    return datetime.now().replace(microsecond=0)


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


class BookSession:
    def __init__(self, book: Book, now: Callable[[], datetime] = current_time):
        self.book = book
        self.git = GitRepo(book.root)
        self.now = now
        self._snapshot: Snapshot | None = None
        self._settings: Settings | None = None  # crm.toml alone, for commands that need no snapshot
        self._index: SearchIndex | None = None
        self._index_entries: list[SearchEntry] | None = None  # what _index was built from
        self.progress: Callable[[int, int], None] | None = None  # told how a first, slow load advances
        self.on_wait: Callable[[str], None] | None = None  # told why a write waits for another writer

    @classmethod
    def open(cls, path: Path, now: Callable[[], datetime] = current_time) -> "BookSession":
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
    def settings(self) -> Settings:
        """crm.toml's settings: from the snapshot when the book is read, else crm.toml alone."""
        if self._snapshot is not None:
            return self._snapshot.settings
        if self._settings is None:
            self._settings = self.book.read_settings()[0]
        return self._settings

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

    def build_index(self, previous: "BookSession | None" = None) -> None:
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
        if self._snapshot is None and handle and _is_plain_file(self.book.customers_dir / f"{handle}.toml"):
            return self.record(handle)  # a file name: no need to read the whole book
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

    def _customer_or_none(self, handle: str) -> Customer | None:
        """The whole record, or None when its file is missing or broken (the write reports it)."""
        try:
            return self.book.read_full(handle).customer
        except OSError:
            return None

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

    def _when(self, value, now: datetime):
        if isinstance(value, (date, datetime)):
            return value
        try:
            return parse_when(value, now)
        except DateError as error:
            raise CrmError(str(error)) from None

    def notices(self) -> list[str]:
        out, self.git.notices = self.git.notices, []
        return out


def _is_plain_file(path: Path) -> bool:
    """A regular file, not a link (a link may alias another record: the snapshot decides)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False
