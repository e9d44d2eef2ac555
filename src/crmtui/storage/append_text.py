"""Append entries to a record's [[tables]] as text: the fast path of `crmtui log`.

tomlkit takes ~3 ms per interaction to parse a record (60 ms for 20, half a second
for 200), and a log only adds lines. This inserts the new entry's lines after the
last entry of its table and changes no other byte. The caller checks the result
with the fast parser against the data it expects, and falls back to tomlkit when
anything here guessed wrong (a header inside a multi-line string, an inline array).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any

_HEADER = re.compile(r"[ \t]*\[")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_value(value: Any) -> str | None:
    """A plain value as TOML text, or None for what this module does not write."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + "".join(_ESCAPES.get(ch) or (f"\\u{ord(ch):04x}" if ord(ch) < 0x20 or ch == "\x7f" else ch)
                             for ch in value) + '"'
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return None


def append_entries(text: str, entries: list[tuple[str, dict[str, Any]]]) -> str | None:
    """`text` with one [[key]] entry added per (key, values), or None to leave it to tomlkit.

    Entries of one key in a row are added in one pass (an import of many interactions):
    the same bytes as adding them one by one, without scanning the file once per entry."""
    groups: list[tuple[str, list[dict[str, Any]]]] = []
    for key, values in entries:
        if groups and groups[-1][0] == key:
            groups[-1][1].append(values)
        else:
            groups.append((key, [values]))
    for key, rows in groups:
        result = _append_one(text, key, rows)
        if result is None:
            return None
        text = result
    return text


def _append_one(text: str, key: str, rows: list[dict[str, Any]]) -> str | None:
    if not re.fullmatch(r"[A-Za-z0-9_-]+", key):
        return None
    newline = "\r\n" if text.count("\r\n") * 2 > text.count("\n") else "\n"
    blocks = []
    for values in rows:
        body = []
        for k, v in values.items():
            rendered = toml_value(v)
            if rendered is None or not re.fullmatch(r"[A-Za-z0-9_-]+", k):
                return None
            body.append(f"{k} = {rendered}{newline}")
        blocks.append(f"[[{key}]]{newline}" + "".join(body))
    lines = text.splitlines(keepends=True)
    headers = _header_lines(lines)
    own = re.compile(r"[ \t]*\[\[[ \t]*" + re.escape(key) + r"[ \t]*\]\][ \t]*(#.*)?\r?\n?")
    mine = [i for i in headers if own.fullmatch(lines[i])]
    compact = _compact(lines, headers)
    apart = "" if compact else newline  # between entries added at the file's end
    if not mine:
        if re.search(r"(?m)^[ \t]*" + re.escape(key) + r"[ \t]*=", text):
            return None  # written inline (key = [...]): tomlkit knows how
        ending = "" if not text or text.endswith("\n") else newline
        gap = "" if compact or not text or text.endswith(newline * 2) else newline
        return text + ending + gap + apart.join(blocks)
    last = mine[-1]
    following = next((i for i in headers if i > last), None)
    if following is None:  # the last entry ends the file: add after everything
        ending = "" if text.endswith("\n") else newline
        gap = "" if compact or text.endswith(newline * 2) else newline
        return text + ending + gap + apart.join(blocks)
    # Comments right above the next header (no blank line between) belong to it: the
    # new entry goes before them, after the blank lines that end the last entry, and
    # takes one blank line of its own to stand apart from what follows.
    point = following
    while point - 1 > last and lines[point - 1].lstrip().startswith("#"):
        point -= 1
    spaced = point - 1 > last and not lines[point - 1].strip()
    gap = newline if spaced else ""
    return "".join(lines[:point]) + "".join(block + gap for block in blocks) + "".join(lines[point:])


def _header_lines(lines: list[str]) -> list[int]:
    """Indexes of table header lines, skipping those inside multi-line strings."""
    headers, open_quote = [], None
    for index, line in enumerate(lines):
        if open_quote is None and _HEADER.match(line):
            headers.append(index)
        for quote in ('"""', "'''"):
            if open_quote in (None, quote) and line.count(quote) % 2:
                open_quote = None if open_quote else quote
    return headers


def _compact(lines: list[str], headers: list[int]) -> bool:
    """Are the tables written with no blank line between them?"""
    later = [i for i in headers[1:] if i > 0]
    return bool(later) and all(lines[i - 1].strip() for i in later)
