"""One customer file: read it tolerantly, edit it surgically, write it atomically."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, NamedTuple

if TYPE_CHECKING:  # imported where used: reading commands start faster without it
    import tomlkit

from crmtui.domain.record import Customer, RecordError, customer_from_data
from crmtui.errors import CrmError
from crmtui.storage.atomic import atomic_write
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


@dataclass
class RecordFile:
    handle: str
    rel: str  # path relative to the book, e.g. customers/ana-lopez.toml
    stamp: Stamp | None
    customer: Customer | None = None
    problem: Problem | None = None


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
    stamp = stamp_of(path)
    try:
        text = decode(path.read_bytes())
    except UnicodeDecodeError as error:
        return RecordFile(handle, rel, stamp, problem=Problem(rel, 1, error.start + 1, "not UTF-8 text"))
    except OSError as error:
        return RecordFile(handle, rel, stamp, problem=Problem(rel, 1, 1, f"cannot read: {error.strerror}"))
    _, customer, problem = check_text(rel, handle, text, fast=True, summary=summary)
    if customer is not None and customer.conflicts:  # readable, but needs a decision: shown and reported
        problem = conflict_problem(rel, text, customer)
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


Mutation = Callable[["tomlkit.TOMLDocument"], None]


def edit_record(root: Path, rel: str, mutate: Mutation, attempts: int = 3) -> EditResult:
    """Apply `mutate` to the file's current text and write it back atomically.

    The edit is always applied to what is on disk at that moment, and the file is
    checked again just before the rename: if someone else wrote it meanwhile, the
    edit is re-applied to their version, so an outside edit is never overwritten.
    A file that is broken on disk is refused, never rewritten.
    """
    path = root / rel
    for _ in range(attempts):
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise CrmError(f"{rel} no longer exists") from None
        text = decode(raw)
        before, customer, problem = check_text(rel, path.stem, text)
        if problem:
            raise CrmError(f"{problem}; fix the file first (crmtui edit {path.stem}), it was not changed")
        import tomlkit  # only writes need it: reading commands start faster without

        doc = tomlkit.parse(text)
        mutate(doc)
        new_text = _keep_style(text, doc.as_string())
        after, customer, problem = check_text(rel, path.stem, new_text)
        if problem:  # a bug in a mutation, never the user's fault: refuse rather than write
            raise CrmError(f"refusing to write {rel}: the change would make it invalid ({problem.message})")
        if path.read_bytes() != raw:
            continue  # changed under us: start again from the new bytes
        atomic_write(path, new_text.encode("utf-8") if not raw.startswith(BOM.encode()) else
                     BOM.encode() + new_text.encode("utf-8"))
        return EditResult(before, after, customer)
    raise CrmError(f"{rel} keeps changing on disk; try again in a moment")


def _keep_style(original: str, new_text: str) -> str:
    """Keep the file's line endings and final newline as the user had them."""
    if "\r\n" in original:
        new_text = re.sub(r"(?<!\r)\n", "\r\n", new_text)
    return new_text


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
    return EditResult({}, after, customer)


def write_text(root: Path, rel: str, text: str) -> None:
    """Replace a whole file (restore, merge results) atomically."""
    atomic_write(root / rel, text.encode("utf-8"))


def remove_file(root: Path, rel: str) -> None:
    os.unlink(root / rel)


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
        # The blank line between tables belongs to the table above it: give the old
        # last entry one if it lacks it, or, if it has one (more follows), the new entry too.
        if len(existing) and existing[-1].as_string().endswith(("\n\n", "\n\r\n")):
            table.add(tomlkit.nl())
        elif len(existing):
            existing[-1].add(tomlkit.nl())
        existing.append(table)
    elif isinstance(existing, Array):  # written inline as key = [{...}]
        inline = tomlkit.inline_table()
        inline.update(values)
        existing.append(inline)
    elif existing is None:
        aot = tomlkit.aot()
        table = tomlkit.table()
        for k, v in values.items():
            table[k] = v
        aot.append(table)
        doc[key] = aot
    else:
        raise CrmError(f"'{key}' in this file is not a list of tables; fix it by hand first")


def table_at(doc: "tomlkit.TOMLDocument", key: str, index: int) -> "tomlkit.items.Table":
    try:
        return doc[key][index]
    except (KeyError, IndexError, TypeError):
        raise CrmError(f"this record has no {key} entry number {index + 1}; it changed on disk, reload") from None
