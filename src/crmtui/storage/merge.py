"""The record-aware three-way merge of one customer file, and the git merge driver around it.

git calls the driver when both sides of a merge changed the same customers/*.toml
(`git pull`, `git merge`, `crmtui sync`): `.gitattributes` names it for
`customers/*.toml` and the repository's local config says how to run it:

    [merge "crmtui"]
        driver = /path/to/python -P -m crmtui.storage.merge %O %A %B %P

Merges of a book never detect renames (storage/sync.py sets that up), so the three
versions are always one customer's: never a deleted record paired with a similar new one.

How a file is merged:

1. git's own line merge (`git merge-file`) is tried first. When it is clean and
   its result means exactly what the record-aware merge means, it is taken: it
   keeps the comments and layout of both sides.
2. Otherwise the record-aware merge: the three versions are parsed with tomllib
   and compared key by key against the common ancestor; the result is made by
   editing *our* file with tomlkit, so its comments and layout survive.
   - a key changed on one side only takes that side's value;
   - lists of texts (emails, phones, tags) merge as sets;
   - tables ([links]) merge key by key;
   - [[interactions]], [[reminders]], [[deals]] (and any list of tables) merge as
     sets: additions from both sides are kept, a removal on one side is respected,
     nothing is duplicated; an entry changed on both sides is merged field by field;
   - the same key changed differently on both sides is a real conflict: our value
     stays in place and a `[[conflicts]]` entry keeps both values, so nothing is
     dropped and the file stays valid TOML (`crmtui check` explains it and
     `crmtui resolve` settles it).
3. A side that is not valid TOML cannot be merged by meaning: git's conflict
   markers are written instead and the driver exits non-zero, so git reports a
   conflict as usual.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT, Array

from crmtui.storage.atomic import atomic_write
from crmtui.storage.toml_text import BOM

CONFLICTS = "conflicts"
SET_TABLES = ("interactions", "reminders", "deals", CONFLICTS)
MERGE_LOG = Path("crmtui") / "merge-log"  # under .git: which files the driver merged, read by sync
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()


@dataclass(frozen=True)
class Conflict:
    """The same key changed differently on both sides. MISSING means the side removed it."""

    key: str  # "company", "links.linkedin", or a set table's name for an entry ("deals")
    ours: Any
    theirs: Any


@dataclass
class MergeResult:
    text: str
    conflicts: list[Conflict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. "kept a reminder edited here and removed there"
    how: str = "fields"  # "lines" (git's line merge was enough) or "fields"


class Unmergeable(ValueError):
    """A side is not valid TOML: the merge cannot be done by meaning."""


# ---- values --------------------------------------------------------------------

def freeze(value: Any) -> Any:
    """A hashable, type-aware form of a parsed TOML value, for comparing and matching."""
    if isinstance(value, dict):
        return ("table", tuple(sorted((k, freeze(v)) for k, v in value.items())))
    if isinstance(value, list):
        return ("list", tuple(freeze(v) for v in value))
    return (type(value).__name__, value)


def same(a: Any, b: Any) -> bool:
    if a is MISSING or b is MISSING:
        return a is b
    return freeze(a) == freeze(b)


def _is_table_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _is_scalar_list(value: Any) -> bool:
    return isinstance(value, list) and not any(isinstance(v, (dict, list)) for v in value)


def canonical(data: dict[str, Any]) -> Any:
    """Data with the order of set-merged lists of tables ignored: what a merge result must mean."""
    out = {}
    for key, value in data.items():
        if key in SET_TABLES or _is_table_list(value):
            out[key] = ("set", tuple(sorted(map(repr, map(freeze, value)))) if isinstance(value, list) else freeze(value))
        else:
            out[key] = freeze(value)
    return tuple(sorted(out.items()))


def _identity(key: str, entry: dict) -> Any:
    """What makes an entry of a set table 'the same one' after an edit of its other fields."""
    if key == "interactions":
        return ("interaction", freeze(entry.get("at")), entry.get("kind"))
    if key == "reminders":
        return ("reminder", entry.get("text"))
    if key == "deals":
        return ("deal", entry.get("title"))
    if key == CONFLICTS:
        return ("conflict", entry.get("key"))
    return None


def _toml_value(value: Any):
    """A tomlkit item for a plain value: dicts inline, long texts multi-line."""
    if isinstance(value, dict):
        table = tomlkit.inline_table()
        for k, v in value.items():
            table[k] = _toml_value(v)
        return table
    if isinstance(value, list):
        array = tomlkit.array()
        for v in value:
            array.append(_toml_value(v))
        return array
    if isinstance(value, str) and "\n" in value:
        return tomlkit.string(value, multiline=True)
    return tomlkit.item(value)


def describe(value: Any, limit: int = 60) -> str:
    """A value as a person reads it, in one line."""
    if value is MISSING:
        return "(removed)"
    if isinstance(value, str):
        text = value.replace("\n", " / ")
    elif isinstance(value, dict):
        text = ", ".join(f"{k} = {describe(v, limit)}" for k, v in value.items())
    elif isinstance(value, list):
        text = "[" + ", ".join(describe(v, limit) for v in value) + "]"
    else:
        text = str(value)
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return f'"{text}"' if isinstance(value, str) else text


# ---- the merge -----------------------------------------------------------------

class _Merger:
    def __init__(self, theirs_doc: tomlkit.TOMLDocument):
        self.theirs_doc = theirs_doc
        self.conflicts: list[Conflict] = []
        self.notes: list[str] = []

    def table(self, path: tuple[str, ...], base: dict, ours: dict, theirs: dict, container, theirs_container) -> None:
        keys = list(ours) + [k for k in theirs if k not in ours] + [k for k in base if k not in ours and k not in theirs]
        for key in keys:
            b, o, t = base.get(key, MISSING), ours.get(key, MISSING), theirs.get(key, MISSING)
            if same(o, t):
                continue
            at = path + (key,)
            if not path and (key in SET_TABLES or any(_is_table_list(v) for v in (b, o, t))) and \
                    all(v is MISSING or isinstance(v, list) for v in (b, o, t)) and \
                    all(isinstance(e, dict) for v in (b, o, t) if v is not MISSING for e in v):
                self.set_table(key, b if b is not MISSING else [], o if o is not MISSING else [],
                               t if t is not MISSING else [], container, theirs_container)
            elif same(o, b):
                self._take(container, theirs_container, key, t)
            elif same(t, b):
                continue
            elif isinstance(o, dict) and isinstance(t, dict) and (b is MISSING or isinstance(b, dict)):
                self.table(at, b if b is not MISSING else {}, o, t, container[key], theirs_container[key])
            elif all(v is MISSING or _is_scalar_list(v) for v in (b, o, t)) and (o is not MISSING or t is not MISSING):
                self.scalar_list(container, key, b, o, t)
            else:
                self.conflicts.append(Conflict(".".join(at), o, t))

    def _take(self, container, theirs_container, key: str, value: Any) -> None:
        if value is MISSING:
            del container[key]
            return
        item = copy.deepcopy(theirs_container.item(key)) if hasattr(theirs_container, "item") else _toml_value(value)
        if key not in container and not isinstance(value, (dict, list)):
            # a new plain key goes where the other side wrote it: after the key before it there
            names = list(theirs_container.keys())
            before = next((k for k in reversed(names[: names.index(key)]) if k in container
                           and not isinstance(container[k], (dict, AoT))), None) if key in names else None
            target = container if hasattr(container, "_insert_after") else getattr(container, "value", None)
            if before is not None and hasattr(target, "_insert_after"):
                try:
                    target._insert_after(before, key, item)
                    return
                except Exception:  # a private tomlkit call: fall back to appending
                    if key in container:
                        return
        container[key] = item

    def scalar_list(self, container, key: str, b, o, t) -> None:
        b = [] if b is MISSING else b
        t = [] if t is MISSING else t
        removed = [x for x in b if not any(same(x, y) for y in t)]
        added = [x for x in t if not any(same(x, y) for y in b)]
        if o is MISSING:
            result = list(added)
            if result:
                container[key] = _toml_value(result)
            return
        array = container[key]
        drop = [i for i, x in enumerate(o) if any(same(x, r) for r in removed)]
        fresh = [x for x in added if not any(same(x, y) for y in o)]
        if not isinstance(array, Array):  # a lone string read as a list: write the list
            container[key] = _toml_value([x for i, x in enumerate(o) if i not in drop] + fresh)
            return
        for i in reversed(drop):
            del array[i]
        for x in fresh:
            array.append(_toml_value(x))

    def set_table(self, key: str, base: list[dict], ours: list[dict], theirs: list[dict], container,
                  theirs_container) -> None:
        fo, ft = [freeze(x) for x in ours], [freeze(x) for x in theirs]
        used_o: set[int] = set()
        used_t: set[int] = set()

        def find(frozen, pool, used):
            for i, f in enumerate(pool):
                if i not in used and f == frozen:
                    used.add(i)
                    return i
            return None

        exact = [(find(freeze(b), fo, used_o), find(freeze(b), ft, used_t)) for b in base]
        identities_in_base = {_identity(key, b) for b in base} - {None}
        new_o = [i for i in range(len(ours)) if i not in used_o]
        new_t = [i for i in range(len(theirs)) if i not in used_t]

        def pair(side: list[dict], new: list[int], taken: set[int], bi: int):
            """The new entry on `side` that is base entry `bi` edited: same identity, or
            else the one keeping most of its fields (at least half), so a deal renamed on
            both sides is one deal changed twice, not two new deals."""
            ident = _identity(key, base[bi])
            if ident is not None:
                for i in new:
                    if i not in taken and _identity(key, side[i]) == ident:
                        taken.add(i)
                        return i
            old = base[bi]
            best, best_score = None, 0
            for i in new:
                if i in taken or _identity(key, side[i]) in identities_in_base:
                    continue
                score = sum(1 for field_name, value in old.items() if same(side[i].get(field_name), value))
                if score > best_score:
                    best, best_score = i, score
            if best is not None and best_score * 2 >= len(old):
                taken.add(best)
                return best
            return None

        paired_o: set[int] = set()
        paired_t: set[int] = set()
        drop: list[int] = []  # indices in ours
        updates: list[tuple[int, dict, dict, int | None]] = []  # (ours index, old, new, theirs index)
        append: list[int] = []  # theirs indices to add
        for bi, (oi, ti) in enumerate(exact):
            oj = pair(ours, new_o, paired_o, bi) if oi is None else None
            tj = pair(theirs, new_t, paired_t, bi) if ti is None else None
            if oi is not None and ti is not None:
                continue
            if oi is not None:  # unchanged here; changed or removed there
                if tj is not None:
                    updates.append((oi, ours[oi], theirs[tj], tj))
                else:
                    drop.append(oi)
            elif ti is not None:  # changed or removed here, unchanged there: ours stands
                continue
            elif oj is not None and tj is not None:  # changed on both sides
                if same(ours[oj], theirs[tj]):
                    continue
                merged, clashes = _merge_entry(base[bi], ours[oj], theirs[tj])
                if clashes:
                    self.conflicts.append(Conflict(key, ours[oj], theirs[tj]))
                else:
                    updates.append((oj, ours[oj], merged, None))
            elif oj is not None:
                self.notes.append(f"kept a {key[:-1] if key.endswith('s') else key} changed here and removed there")
            elif tj is not None:
                self.notes.append(f"kept a {key[:-1] if key.endswith('s') else key} changed there and removed here")
                append.append(tj)
        # Additions: theirs' new entries not already added here too.
        spare_o = [i for i in new_o if i not in paired_o]
        for tj in new_t:
            if tj in paired_t:
                continue
            match = next((i for i in spare_o if fo[i] == ft[tj]), None)
            if match is not None:
                spare_o.remove(match)
                continue
            append.append(tj)

        items = container.get(key) if key in container else None
        for oi, old, new, tj in updates:
            entry = items[oi]
            theirs_entry = theirs_container[key][tj] if tj is not None else None
            for field_name in list(old):
                if field_name not in new:
                    del entry[field_name]
            for field_name, value in new.items():
                if field_name not in old or not same(old[field_name], value):
                    if theirs_entry is not None and field_name in theirs_entry and hasattr(theirs_entry, "item"):
                        entry[field_name] = copy.deepcopy(theirs_entry.item(field_name))
                    else:
                        entry[field_name] = _toml_value(value)
        for oi in sorted(set(drop), reverse=True):
            del items[oi]
        if items is not None and len(items) == 0 and not append:
            del container[key]
        for tj in sorted(append):
            _append_entry(container, key, theirs[tj])


def _merge_entry(base: dict, ours: dict, theirs: dict) -> tuple[dict, bool]:
    """Field-by-field merge of one entry of a set table; (result, whether a field clashed)."""
    result = dict(ours)
    for key in list(ours) + [k for k in theirs if k not in ours] + [k for k in base if k not in ours and k not in theirs]:
        b, o, t = base.get(key, MISSING), ours.get(key, MISSING), theirs.get(key, MISSING)
        if same(o, t) or same(t, b):
            continue
        if same(o, b):
            if t is MISSING:
                result.pop(key, None)
            else:
                result[key] = t
            continue
        return ours, True
    return result, False


def _append_entry(doc, key: str, values: dict[str, Any], comment: str | None = None) -> None:
    """Add one entry to [[key]], separated by a blank line like its neighbours."""
    table = tomlkit.table()
    if comment:
        for line in comment.splitlines():
            table.add(tomlkit.comment(line))
    for k, v in values.items():
        table[k] = _toml_value(v)
    existing = doc.get(key) if key in doc else None
    if isinstance(existing, AoT):
        if len(existing) and existing[-1].as_string().endswith(("\n\n", "\n\r\n")):
            table.add(tomlkit.nl())
        elif len(existing):
            existing[-1].add(tomlkit.nl())
        existing.append(table)
        table.trivia.indent = ""  # the blank line above is already there (tomlkit adds one after a comment)
    elif isinstance(existing, Array):  # written inline as key = [{...}]
        existing.append(_toml_value(values))
    else:
        aot = tomlkit.aot()
        aot.append(table)
        doc[key] = aot


def conflict_comment(key: str, handle: str | None) -> str:
    who = handle or "WHO"
    return (f"crmtui sync: '{key}' was changed differently on two machines. 'ours' is what the record shows,\n"
            f"'theirs' the other value. Keep one: crmtui resolve {who} {key} --ours (or --theirs)")


def _parse(text: str | None, side: str) -> tuple[dict[str, Any], str]:
    text = (text or "").removeprefix(BOM)
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as error:
        raise Unmergeable(f"{side} version is not valid TOML ({error})") from None


def merge_texts(base: str | None, ours: str, theirs: str, handle: str | None = None,
                line_merge: str | None = None) -> MergeResult:
    """Merge three versions of a record's text. `line_merge` is git's clean line merge, if any.

    Raises Unmergeable when ours or theirs does not parse. A base that does not
    parse is treated as empty (then every difference is a change on both sides).
    """
    ours_data, ours_text = _parse(ours, "our")
    theirs_data, theirs_text = _parse(theirs, "their")
    try:
        base_data, _ = _parse(base, "the common")
    except Unmergeable:
        base_data = {}
    doc = tomlkit.parse(ours_text)
    merger = _Merger(tomlkit.parse(theirs_text))
    merger.table((), base_data, ours_data, theirs_data, doc, merger.theirs_doc)
    existing = ours_data.get(CONFLICTS) if isinstance(ours_data.get(CONFLICTS), list) else []
    for conflict in merger.conflicts:
        entry = {"key": conflict.key}
        if conflict.ours is not MISSING:
            entry["ours"] = conflict.ours
        if conflict.theirs is not MISSING:
            entry["theirs"] = conflict.theirs
        if any(same(entry, e) for e in existing):
            continue
        _append_entry(doc, CONFLICTS, entry, conflict_comment(conflict.key, handle))
    text = doc.as_string()
    if "\r\n" in ours_text:
        text = re.sub(r"(?<!\r)\n", "\r\n", text)
    if ours.startswith(BOM):
        text = BOM + text
    result = MergeResult(text, merger.conflicts, merger.notes)
    if line_merge is not None and not merger.conflicts:
        try:
            if canonical(tomllib.loads(line_merge.removeprefix(BOM))) == canonical(tomllib.loads(text.removeprefix(BOM))):
                result.text, result.how = line_merge, "lines"
        except tomllib.TOMLDecodeError:
            pass
    return result


# ---- settling a conflict --------------------------------------------------------

class UnresolvableConflict(ValueError):
    """The record changed since the sync so that a conflict no longer says where to write."""


def apply_resolution(doc: tomlkit.TOMLDocument, keys: set[str] | None, side: str) -> list[str]:
    """Settle [[conflicts]] entries of `keys` (None: all) in a record's tomlkit document.

    side "ours" keeps the value the record has; "theirs" writes the other side's
    value in its place (or removes the key, when the other side had removed it).
    The settled entries are deleted, and the [[conflicts]] table with the last one.
    """
    entries = doc.get(CONFLICTS) if CONFLICTS in doc else None
    if entries is None:
        return []
    settled = []
    for i in reversed(range(len(entries))):
        entry = entries[i].unwrap() if hasattr(entries[i], "unwrap") else dict(entries[i])
        key = entry.get("key")
        if keys is not None and key not in keys:
            continue
        if side == "theirs":
            _write_value(doc, entry)
        del entries[i]
        settled.append(key)
    if len(entries) == 0:
        del doc[CONFLICTS]
    return settled[::-1]


def _write_value(doc: tomlkit.TOMLDocument, entry: dict[str, Any]) -> None:
    key = entry["key"]
    ours, theirs = entry.get("ours", MISSING), entry.get("theirs", MISSING)
    current = doc.get(key) if key in doc else None
    if isinstance(current, (AoT, Array)) and isinstance(ours if ours is not MISSING else theirs, dict):
        # one entry of a list of tables: find ours, put theirs in its place
        index = None
        if ours is not MISSING:
            index = next((i for i, item in enumerate(current) if same(item.unwrap(), ours)), None)
            if index is None:
                raise UnresolvableConflict(f"the {key} entry of this conflict is no longer in the record")
        if theirs is MISSING:
            del current[index]
        elif index is None:
            _append_entry(doc, key, theirs)
        else:
            table = current[index]
            for name in list(table.unwrap()):
                if name not in theirs:
                    del table[name]
            for name, value in theirs.items():
                if name not in table or not same(table[name].unwrap() if hasattr(table[name], "unwrap")
                                                 else table[name], value):
                    table[name] = _toml_value(value)
        return
    if key in SET_TABLES and theirs is not MISSING and isinstance(theirs, dict):
        _append_entry(doc, key, theirs)
        return
    container = doc
    parts = key.split(".")
    for part in parts[:-1]:
        if part not in container:
            if theirs is MISSING:
                return
            container[part] = tomlkit.table()
        container = container[part]
    if theirs is MISSING:
        if parts[-1] in container:
            del container[parts[-1]]
    else:
        container[parts[-1]] = _toml_value(theirs)


# ---- the git merge driver ------------------------------------------------------

def git_line_merge(base_path: str, ours_path: str, theirs_path: str) -> str | None:
    """git's own three-way line merge; the text when it is clean, else None."""
    try:
        done = subprocess.run(["git", "merge-file", "-p", "--quiet", ours_path, base_path, theirs_path],
                              capture_output=True)
    except OSError:
        return None
    if done.returncode != 0:
        return None
    try:
        return done.stdout.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _git_dir() -> Path | None:
    env = os.environ.get("GIT_DIR")
    if env:
        return Path(env)
    here = Path.cwd() / ".git"
    if here.is_dir():
        return here
    try:
        out = subprocess.run(["git", "rev-parse", "--git-dir"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return Path(out.strip()).resolve()


def log_merge(path: str, how: str, detail: str = "") -> None:
    """Note which file the driver merged and how, for sync's summary (best effort)."""
    git_dir = _git_dir()
    if git_dir is None:
        return
    try:
        log = git_dir / MERGE_LOG
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(f"{path}\t{how}\t{detail}\n")
    except OSError:
        pass


def read_merge_log(git_dir: Path) -> list[tuple[str, str, str]]:
    try:
        lines = (git_dir / MERGE_LOG).read_text("utf-8").splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        parts = line.split("\t")
        if len(parts) >= 2:
            out.append((parts[0], parts[1], parts[2] if len(parts) > 2 else ""))
    return out


def clear_merge_log(git_dir: Path) -> None:
    try:
        (git_dir / MERGE_LOG).unlink()
    except OSError:
        pass


def run_driver(base_path: str, ours_path: str, theirs_path: str, name: str) -> int:
    """What git runs: merge into `ours_path`; 0 when merged (conflicts recorded in the file), 1 otherwise."""
    raw = {}
    for side, path in (("base", base_path), ("ours", ours_path), ("theirs", theirs_path)):
        try:
            raw[side] = Path(path).read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            raw[side] = None
    handle = Path(name).stem if name else None
    if raw["ours"] is not None and raw["theirs"] is not None:
        try:
            result = merge_texts(raw["base"], raw["ours"], raw["theirs"], handle,
                                 git_line_merge(base_path, ours_path, theirs_path))
        except Unmergeable as error:
            reason = str(error)
        except Exception as error:  # never lose data to a bug: fall back to git's markers
            reason = f"internal error {type(error).__name__}: {error}"
        else:
            _write(ours_path, result.text)
            detail = ",".join(c.key for c in result.conflicts) or "; ".join(result.notes)
            log_merge(name, "conflict" if result.conflicts else result.how, detail)
            return 0
    else:
        reason = "a side is not UTF-8 text"
    # Cannot merge by meaning: git's markers, and a conflict git reports as usual.
    subprocess.run(["git", "merge-file", "-L", "ours", "-L", "base", "-L", "theirs",
                    ours_path, base_path, theirs_path], capture_output=True)
    log_merge(name, "markers", reason)
    print(f"crmtui: {name}: {reason}; git's conflict markers were written instead", file=sys.stderr)
    return 1


def _write(path: str, text: str) -> None:
    atomic_write(Path(path), text.encode("utf-8"))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (3, 4):
        print("usage: python -m crmtui.storage.merge BASE OURS THEIRS [PATH]  (git's %O %A %B %P)", file=sys.stderr)
        return 2
    return run_driver(args[0], args[1], args[2], args[3] if len(args) == 4 else args[1])


if __name__ == "__main__":
    raise SystemExit(main())
