"""One customer file: read it tolerantly, edit it surgically, write it atomically."""

from __future__ import annotations

import errno
import os
import re
import stat
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, NamedTuple

if TYPE_CHECKING:  # imported where used: reading commands start faster without it
    import tomlkit

from crmtui.domain.record import Customer, RecordError, customer_from_data
from crmtui.errors import CrmError
from crmtui.storage.atomic import Changed, atomic_write, swap_write
from crmtui.storage.toml_text import BOM, Problem, decode, locate, parse, parse_fast, syntax_problem

# (mtime_ns, ctime_ns, size): a cheap "has this file changed" check. ctime moves on every
# write and rename, even when a tool puts the old mtime and size back.
Stamp = tuple[int, int, int]


def stamp_of(path: Path) -> Stamp | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return file_stamp(st)


def file_stamp(st: os.stat_result) -> Stamp:
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size)


def kind_of(mode: int) -> str:
    """What a file is, in words, from its st_mode: "a named pipe (FIFO)", "a socket"..."""
    for test, words in ((stat.S_ISREG, "a regular file"), (stat.S_ISDIR, "a folder"),
                        (stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
                        (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device file"), (stat.S_ISBLK, "a device file")):
        if test(mode):
            return words
    return "a special file"


class NotAFile(OSError):
    """The path leads to something that is not a regular file: it was not opened."""

    def __init__(self, message: str, filename: str):
        super().__init__(errno.EINVAL, message, filename)


_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)


def read_regular(path: Path) -> bytes:
    """The bytes of a regular file (through symlinks); NotAFile for anything else.

    stat decides before anything is opened: opening a FIFO blocks until a writer comes,
    forever in practice. The open is non-blocking too and checked again with fstat, for a
    file swapped for a pipe in between; on a regular file O_NONBLOCK changes nothing.
    """
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise NotAFile(f"{kind_of(st.st_mode)}, not a record file; it was not read", str(path))
    fd = os.open(path, _READ_FLAGS)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotAFile(f"{kind_of(st.st_mode)}, not a record file; it was not read", str(path))
        handle = open(fd, "rb")  # owns fd from here
    except BaseException:
        os.close(fd)
        raise
    with handle:
        return handle.read()


@dataclass
class RecordFile:
    handle: str
    rel: str  # path relative to the book, e.g. customers/ana-lopez.toml
    stamp: Stamp | None
    customer: Customer | None = None
    problem: Problem | None = None

    @property
    def trouble(self) -> str | None:
        """What its problem is: "broken" (not read), "conflict" (a sync left [[conflicts]]),
        "invalid" (read, but a value breaks a rule), or None."""
        if self.problem is None:
            return None
        if self.customer is None:
            return "broken"
        return "conflict" if self.customer.conflicts else "invalid"


def check_text(rel: str, handle: str, text: str, fast: bool = False, summary: bool = False
               ) -> tuple[dict[str, Any] | None, Customer | None, Problem | None]:
    """Parse and validate; on failure a Problem with line and column."""
    try:
        data = parse_fast(text) if fast else parse(text)
    except tomllib.TOMLDecodeError as error:
        return None, None, syntax_problem(rel, error, text)
    try:
        return data, customer_from_data(handle, data, summary), None
    except RecordError as error:
        issue = error.issues[0]
        line, col = locate(text, issue.path)
        more = f" (and {len(error.issues) - 1} more)" if len(error.issues) > 1 else ""
        return data, None, Problem(rel, line, col, issue.message + more)


def read_record(root: Path, path: Path, summary: bool = False) -> RecordFile:
    """Read one file; with summary=True keep only what lists need (see Customer.summary)."""
    handle, rel = path.stem, f"{path.parent.name}/{path.name}"
    try:
        stamp = stamp_of(path)
    except OSError:  # a link loop, a folder we may not enter: the read below says why
        stamp = None
    try:
        text = decode(read_regular(path))
    except UnicodeDecodeError as error:
        return RecordFile(handle, rel, stamp, problem=Problem(rel, 1, error.start + 1, "not UTF-8 text"))
    except NotAFile as error:
        return RecordFile(handle, rel, stamp, problem=Problem(rel, 1, 1, error.strerror))
    except OSError as error:
        return RecordFile(handle, rel, stamp, problem=Problem(rel, 1, 1, f"cannot read: {error.strerror}"))
    _, customer, problem = check_text(rel, handle, text, fast=True, summary=summary)
    if customer is not None and customer.conflicts:  # readable, but needs a decision: shown and reported
        problem = conflict_problem(rel, text, customer)
    elif customer is not None and customer.issues:  # readable, a value breaks a rule: shown and reported
        first, more = customer.issues[0], len(customer.issues) - 1
        problem = Problem(rel, *locate(text, first.path), first.message + (f" (and {more} more)" if more else ""))
    if summary and customer is not None:
        customer = customer.summary()
    return RecordFile(handle, rel, stamp, customer, problem)


def conflict_problem(rel: str, text: str, customer: Customer) -> Problem:
    """A record with [[conflicts]] left by a sync: where the first one is, and how to settle it."""
    from crmtui.domain.record import conflict_sentence

    first = customer.conflicts[0]
    line, col = locate(text, ("conflicts", first.index))
    more = f" (and {len(customer.conflicts) - 1} more)" if len(customer.conflicts) > 1 else ""
    return Problem(rel, line, col, conflict_sentence(customer.handle, first) + more)


class EditResult(NamedTuple):
    before: dict[str, Any]
    after: dict[str, Any]
    customer: Customer
    base: bytes | None = None  # the bytes the edit was built on (None: a new file)
    written: bytes | None = None  # the bytes on disk after it


Mutation = Callable[["tomlkit.TOMLDocument"], None]


def edit_record(root: Path, rel: str, mutate: Mutation, path: Path | None = None) -> EditResult:
    """Apply `mutate` to the file as it is on disk and write it back atomically.

    The edit is built on the bytes on disk, and swapped in so that a version
    someone saved meanwhile is seen and the edit built again on it (storage.atomic.
    swap_write): an outside edit is never overwritten. A file that is broken on disk
    is refused, never rewritten. `path` is where the bytes live when `rel` is a
    symlink to another file.
    """
    path = path or root / rel
    results: dict[bytes, EditResult] = {}
    first: list[tuple[Counter, Counter]] = []  # the first base's lines, and the lines the edit added

    def build(raw: bytes) -> bytes:
        text = decode(raw)
        before, _, problem = check_text(rel, path.stem, text, fast=True)
        if problem:
            raise CrmError(f"{problem}; fix the file first (crmtui edit {path.stem}), it was not changed")
        as_text = getattr(mutate, "as_text", None)  # a fast path that edits the text itself
        new_text = as_text(text, before) if as_text else None
        if new_text is None:
            import tomlkit  # only writes need it: reading commands start faster without

            doc = tomlkit.parse(text)
            mutate(doc)
            new_text = _keep_style(text, doc.as_string())
        after, customer, problem = check_text(rel, path.stem, new_text, fast=True)
        if problem:  # a bug in a mutation, never the user's fault: refuse rather than write
            raise CrmError(f"refusing to write {rel}: the change would make it invalid ({problem.message})")
        new = new_text.encode("utf-8")
        if raw.startswith(BOM.encode()):
            new = BOM.encode() + new
        if not first:
            old_lines = Counter(raw.splitlines())
            first.append((old_lines, Counter(new.splitlines()) - old_lines))
        results[new] = EditResult(before, after, customer)
        return new

    def applied(raw: bytes) -> bool:
        """Does this version already hold the edit (its writer read the file after ours)?"""
        if not first:
            return False
        old_lines, added = first[0]
        return bool(added) and not (added - (Counter(raw.splitlines()) - old_lines))

    try:
        base, final = swap_write(path, build, applied, merge3)
    except FileNotFoundError:
        raise CrmError(f"{rel} no longer exists") from None
    except Changed:
        raise CrmError(f"{rel} keeps changing on disk; nothing was written, try again in a moment") from None
    if final in results:
        return results[final]._replace(base=base, written=final)
    text = decode(final)  # a version that already held the edit, as its writer saved it
    after, customer, problem = check_text(rel, path.stem, text)
    if problem:
        raise CrmError(f"{problem}; it changed on disk while crmtui wrote it")
    return EditResult(after, after, customer, base, final)


def merge3(base: bytes, ours: bytes, theirs: bytes) -> bytes | None:
    """A line-wise 3-way merge (git merge-file) that still parses, or None.

    Used only when an outside save races a write (see swap_write). Where both sides
    added lines at the same place, both are kept (--union), if the file still parses.
    """
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="crmtui-merge-") as folder:
        names = []
        for name, data in (("ours", ours), ("base", base), ("theirs", theirs)):
            names.append(os.path.join(folder, name))
            with open(names[-1], "wb") as handle:
                handle.write(data)
        for how in ([], ["--union"]):
            try:
                result = subprocess.run(["git", "merge-file", "-p", "-q", *how, *names], capture_output=True)
            except OSError:
                return None
            if result.returncode != 0:
                continue
            try:
                parse(decode(result.stdout))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError):
                continue
            return result.stdout
    return None


def _keep_style(original: str, new_text: str) -> str:
    """tomlkit's rewrite of `original`, cut down to the lines the edit changed.

    The change is the line diff between what tomlkit writes for the untouched text and
    `new_text`, replayed on the user's own text, so every line the edit did not touch
    keeps its bytes and its place. That matters where tomlkit moves things: it gathers an
    array of tables written in pieces ([[interactions]], [[reminders]], [[interactions]])
    into one place. New lines get the file's dominant line ending (one CRLF line in an LF
    file does not make it CRLF); a line that ended the file without a newline gets one
    when something is added after it.
    """
    if new_text == original:
        return original
    old = _lines(original)
    where = None  # line of tomlkit's untouched text -> line of the user's text
    if _may_regroup(original):
        import tomlkit

        untouched = _lines(tomlkit.parse(original).as_string())
        if untouched != old:
            where = _map_moved(old, untouched)
            if where is None:  # not a reordering we know how to undo: keep tomlkit's order
                old = untouched
    base = untouched if where is not None else old
    if where is None:
        where = list(range(len(old)))
    eol = _dominant_eol(original)
    new = _lines(new_text)
    # Compared as if each ended in a newline: tomlkit gives the user's open last line one
    # as soon as something follows it, and that is no change to it.
    keys, new_keys = ([line if line.endswith("\n") else line + "\n" for line in lines] for lines in (base, new))
    inserted: dict[int, list[str]] = {}  # before line k of the user's text
    deleted: set[int] = set()
    for tag, i1, i2, j1, j2 in _changes(keys, new_keys):
        deleted.update(where[i] for i in range(i1, i2))
        if j2 > j1:  # added after the line above it: where an appended table belongs
            at = where[i1] if tag == "replace" else where[i1 - 1] + 1 if i1 else (where[0] if where else 0)
            if i1 == len(base) and tag == "insert" and _new_tables(new[j1:j2], old):
                at = len(old)  # a table new to the file, added at tomlkit's end: the file's end
            inserted.setdefault(at, []).extend(_with_eol(line, eol) for line in new[j1:j2])
    out: list[str] = []
    for k in range(len(old) + 1):
        out += inserted.get(k, ())
        if k < len(old) and k not in deleted:
            out.append(old[k])
    for n in range(len(out) - 1):  # a line that ended the file gets an ending once something follows
        if not out[n].endswith("\n"):
            out[n] += eol
    return "".join(out)


def _changes(a: list[str], b: list[str]) -> list[tuple[str, int, int, int, int]]:
    """difflib's opcodes from a to b, without the "equal" ones. The common head and tail
    are cut off first: an edit touches a few lines, and difflib is slow on the thousands of
    alike lines (blank, kind = "call") of a long record."""
    import difflib

    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    matcher = difflib.SequenceMatcher(None, a[head:len(a) - tail], b[head:len(b) - tail], autojunk=False)
    return [(tag, i1 + head, i2 + head, j1 + head, j2 + head)
            for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


def _new_tables(added: list[str], old: list[str]) -> bool:
    """Do the added lines start (after blank ones) with a header the old lines never had?"""
    first = next((line for line in added if line.strip()), "")
    return bool(_HEADER.match(first)) and first.strip() not in {line.strip() for line in old}


def _lines(text: str) -> list[str]:
    """Lines with their endings, split at \\n only (str.splitlines also splits at \\x0c,
    \\u2028 and friends, which TOML strings may hold)."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _dominant_eol(text: str) -> str:
    crlf = text.count("\r\n")
    return "\r\n" if crlf > text.count("\n") - crlf else "\n"


def _with_eol(line: str, eol: str) -> str:
    if line.endswith("\n"):
        return line[:-2 if line.endswith("\r\n") else -1] + eol
    return line


_HEADER = re.compile(r"[ \t]*\[\[?[ \t]*([^\]\r\n]*)")


def _may_regroup(text: str) -> bool:
    """Could tomlkit move tables around? It does when one top-level name has its tables
    in separate places (or a header is quoted, which this cheap look cannot split)."""
    runs: list[str] = []
    for line in _lines(text):
        match = _HEADER.match(line)
        if match:
            name = match.group(1)
            if '"' in name or "'" in name:
                return True
            top = name.split(".")[0].strip()
            if not runs or runs[-1] != top:
                if top in runs:
                    return True
                runs.append(top)
    return False


def _segments(lines: list[str]) -> list[tuple[int, int]]:
    """(start, end) of each run of lines that begins at a table header (the first run: the top)."""
    starts = [0] + [n for n, line in enumerate(lines) if n and _HEADER.match(line)]
    return list(zip(starts, starts[1:] + [len(lines)]))


def _map_moved(old: list[str], moved: list[str]) -> list[int] | None:
    """For each line of `moved` (tomlkit's untouched text), the line of `old` it came from,
    when `moved` is `old` with whole tables reordered; None otherwise."""
    pool: dict[tuple[str, ...], list[int]] = {}
    segments = _segments(old)
    for number, (a, b) in enumerate(segments):
        pool.setdefault(tuple(old[a:b]), []).append(number)
        if b == len(old) and old and not old[-1].endswith("\n"):  # moved up, it gains an ending
            for ending in ("\n", "\r\n"):
                pool.setdefault(tuple(old[a:b - 1]) + (old[-1] + ending,), []).append(number)
    used: set[int] = set()
    where: list[int] = []
    for a, b in _segments(moved):
        number = next((n for n in pool.get(tuple(moved[a:b]), ()) if n not in used), None)
        if number is None:
            return None
        used.add(number)
        start = segments[number][0]
        where.extend(range(start, start + b - a))
    return where if len(used) == len(segments) else None


def write_new_record(root: Path, rel: str, doc: "tomlkit.TOMLDocument") -> EditResult:
    path = root / rel
    text = doc.as_string()
    after, customer, problem = check_text(rel, path.stem, text)
    if problem:
        raise CrmError(problem.message)
    try:
        atomic_write(path, text.encode("utf-8"), exclusive=True)
    except FileExistsError:
        raise CrmError(f"{rel} already exists") from None
    return EditResult({}, after, customer, None, text.encode("utf-8"))


def write_text(root: Path, rel: str, text: str) -> None:
    """Replace a whole file (restore, merge results) atomically."""
    atomic_write(root / rel, text.encode("utf-8"))


def remove_file(root: Path, rel: str) -> None:
    os.unlink(root / rel)


class AppendEntries:
    """A mutation that adds entries to [[tables]] (a logged call and its follow-up).

    As text when it can: only the new lines are inserted, checked against the data
    the edit must give; otherwise through tomlkit like any other mutation.
    """

    def __init__(self, *entries: tuple[str, dict[str, Any]]):
        self.entries = list(entries)

    def __call__(self, doc: "tomlkit.TOMLDocument") -> None:
        for key, values in self.entries:
            append_table(doc, key, values)

    def as_text(self, text: str, data: dict[str, Any] | None) -> str | None:
        from crmtui.storage.append_text import append_entries

        new_text = append_entries(text, self.entries)
        if new_text is None or data is None:
            return None
        expected = dict(data)
        for key, values in self.entries:
            expected[key] = [*expected.get(key, []), dict(values)]
        try:
            return new_text if parse_fast(new_text) == expected else None  # the same parser as `data`
        except tomllib.TOMLDecodeError:
            return None


# ---- small tomlkit helpers that keep the user's layout --------------------------

def append_table(doc: "tomlkit.TOMLDocument", key: str, values: dict[str, Any]) -> None:
    """Add one entry to [[key]], separated by a blank line like its neighbours."""
    import tomlkit
    from tomlkit.items import AoT, Array

    existing = doc.get(key)
    if isinstance(existing, AoT):
        table = tomlkit.table()
        for k, v in values.items():
            table[k] = v
        if len(existing):
            # Where the fast path (storage.append_text) puts it, so both write the same bytes:
            # after the blank lines that end the last entry, one blank line of its own if that
            # entry has them, and above the comments that sit right over the next header.
            # At the end of the file: after everything, one blank line apart unless the
            # file is written without.
            last = existing[-1]
            compact, text = _compact(doc), last.as_string()
            if not text.endswith("\n"):  # it ended the file, with no newline
                last.add(tomlkit.nl())
            if _ends_document(doc, existing):
                if not compact and not text.endswith(("\n\n", "\n\r\n")):
                    last.add(tomlkit.nl())
            else:
                above_next = _take_trailing_comments(last)
                following = None if above_next else _table_after(doc, existing)
                if following is not None and following.trivia.indent.startswith(("\n", "\r\n")):
                    # a table tomlkit added carries the blank line above it in its header's
                    # indent: give it to the entry above, where a parsed file has it
                    following.trivia.indent = following.trivia.indent.split("\n", 1)[1]
                    last.add(tomlkit.nl())
                if last.as_string().endswith(("\n\n", "\n\r\n")):
                    table.add(tomlkit.nl())
                for item in above_next:
                    table.add(item)
        existing.append(table)
    elif isinstance(existing, Array):  # written inline as key = [{...}]
        inline = tomlkit.inline_table()
        inline.update(values)
        existing.append(inline)
    elif existing is None:
        text = doc.as_string()
        separate = bool(text.strip()) and not _compact(doc) and not text.endswith(("\n\n", "\n\r\n"))
        aot = tomlkit.aot()
        table = tomlkit.table()
        for k, v in values.items():
            table[k] = v
        aot.append(table)
        doc[key] = aot
        doc[key][0].trivia.indent = "\n" if separate else ""  # the blank line above it, if the file has them
    else:
        raise CrmError(f"'{key}' in this file is not a list of tables; fix it by hand first")


def _take_trailing_comments(table: "tomlkit.items.Table") -> list:
    """Remove and return the comment lines that end `table` with no blank line after them:
    they sit right above the next header and belong to it. (tomlkit keeps them as the last
    items of the table above.)"""
    from tomlkit.items import Comment

    body = table.value.body
    start = len(body)
    while start and body[start - 1][0] is None and isinstance(body[start - 1][1], Comment):
        start -= 1
    if start == 0:  # nothing but comments: leave them
        return []
    taken = [item for _, item in body[start:]]
    del body[start:]
    return taken


def _table_after(doc: "tomlkit.TOMLDocument", aot) -> "tomlkit.items.Table | None":
    """The table whose header comes right after `aot` in tomlkit's document, if any."""
    from tomlkit.items import AoT, Table

    body = doc.body
    index = next((n for n, (_, item) in enumerate(body) if item is aot), None)
    if index is None or index + 1 >= len(body):
        return None
    following = body[index + 1][1]
    if isinstance(following, AoT):
        return following[0] if len(following) else None
    return following if isinstance(following, Table) else None


def _ends_document(doc: "tomlkit.TOMLDocument", aot) -> bool:
    """Is `aot` the last thing in the document (only whitespace and comments after it)?"""
    from tomlkit.items import Comment, Whitespace

    body = doc.body
    index = next((n for n, (_, item) in enumerate(body) if item is aot), None)
    return index is not None and all(key is None and isinstance(item, (Comment, Whitespace))
                                     for key, item in body[index + 1:])


def _compact(doc: "tomlkit.TOMLDocument") -> bool:
    """Are the file's tables written with no blank line between them?"""
    text = doc.as_string()
    headers = re.findall(r"(?:^|\n)([ \t]*\r?\n)?[ \t]*\[", text)
    return len(headers) > 1 and not any(headers[1:])


def table_at(doc: "tomlkit.TOMLDocument", key: str, index: int) -> "tomlkit.items.Table":
    try:
        return doc[key][index]
    except (KeyError, IndexError, TypeError):
        raise CrmError(f"this record has no {key} entry number {index + 1}; it changed on disk, reload") from None
