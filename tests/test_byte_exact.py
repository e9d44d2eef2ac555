"""Logging an interaction changes only the bytes it adds, whatever the file looks like.

Every test goes through the real path: a book made by init_book, a hand-written file,
Service.log_interaction, the bytes on disk afterwards. "Only the bytes it adds" is
checked exactly: taking the inserted blocks out of the new file gives back the old one.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmtui.service import Service, init_book
from crmtui.storage.record_file import _may_regroup

NOW = datetime(2026, 6, 15, 9, 0)
BOM = "\ufeff".encode()
HEADER = re.compile(rb"^[ \t]*\[", re.M)


def inserted_blocks(before: bytes, after: bytes) -> list[tuple[int, bytes]]:
    """(offset in `before`, bytes) of the one or two blocks that make `after` out of `before`;
    fails if `after` is anything but `before` with up to two insertions."""
    prefix = 0
    limit = min(len(before), len(after))
    while prefix < limit and before[prefix] == after[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and before[-1 - suffix] == after[-1 - suffix]:
        suffix += 1
    old_middle, new_middle = before[prefix:len(before) - suffix], after[prefix:len(after) - suffix]
    if not old_middle:
        return [(prefix, new_middle)]
    at = new_middle.find(old_middle)
    assert at >= 0, f"changed, not only added, around byte {prefix}:\n{before[prefix:prefix + 200]!r}\n" \
                    f"became\n{after[prefix:prefix + 200]!r}"
    blocks = [(prefix, new_middle[:at]), (prefix + len(old_middle), new_middle[at + len(old_middle):])]
    return [(offset, block) for offset, block in blocks if block]


def dominant_eol(raw: bytes) -> bytes:
    crlf = raw.count(b"\r\n")
    return b"\r\n" if crlf > raw.count(b"\n") - crlf else b"\n"


def assert_new_lines_end_like_most(before: bytes, after: bytes) -> None:
    """Counted, as where a block starts is ambiguous ("x\\n" + "y\\n" is also "x" + "\\ny" + "\\n")."""
    def counts(raw: bytes) -> tuple[int, int, int]:
        crlf = raw.count(b"\r\n")
        return crlf, raw.count(b"\n") - crlf, raw.count(b"\r") - crlf
    (crlf, lf, cr), (crlf_after, lf_after, cr_after) = counts(before), counts(after)
    assert cr_after == cr
    if dominant_eol(before) == b"\r\n":
        assert lf_after == lf, "a new line ends in LF in a CRLF file"
    else:
        assert crlf_after == crlf, "a new line ends in CRLF in an LF file"


def log(root: Path, handle: str, summary: str, follow_up: bool) -> None:
    Service.open(root, now=lambda: NOW).log_interaction(handle, summary, kind="call",
                                                         follow_up="14d" if follow_up else None)


def check_log(root: Path, handle: str, before: bytes, summary: str = "Renewal call",
              follow_up: bool = True) -> tuple[bytes, list[tuple[int, bytes]]]:
    """Log on a file holding `before`; check everything that must hold for any file."""
    path = root / "customers" / f"{handle}.toml"
    path.write_bytes(before)
    log(root, handle, summary, follow_up)
    after = path.read_bytes()
    blocks = inserted_blocks(before, after)
    assert 1 <= len(blocks) <= 2
    assert_new_lines_end_like_most(before, after)
    assert after.startswith(BOM) == before.startswith(BOM)
    assert after.endswith(b"\n") or not before.endswith(b"\n")
    old, new = (tomllib.loads(raw.decode("utf-8").removeprefix("\ufeff")) for raw in (before, after))
    assert new.pop("interactions") == old.pop("interactions", []) + [
        {"at": NOW, "kind": "call", "summary": summary.strip()}]
    if follow_up:
        assert new.pop("reminders") == old.pop("reminders", []) + [
            {"due": date(2026, 6, 29), "text": f"Follow up: {summary.strip()}"}]
    assert new == old
    # The text fast path of log and the general tomlkit path agree. Where line endings are
    # mixed they may differ in blank lines; where tomlkit regroups the tables (which
    # _keep_style undoes) also in where a comment above a header ends up.
    slow = via_tomlkit(root, before, summary, follow_up)
    if _may_regroup(before.decode("utf-8")):
        assert sorted(line.strip() for line in after.splitlines() if line.strip()) == \
            sorted(line.strip() for line in slow.splitlines() if line.strip())
    elif 0 < before.count(b"\r\n") < before.count(b"\n"):
        assert re.sub(rb"\n(\r?\n)+", b"\n", after) == re.sub(rb"\n(\r?\n)+", b"\n", slow)
    else:
        assert after == slow
    return after, blocks


def via_tomlkit(root: Path, before: bytes, summary: str, follow_up: bool) -> bytes:
    """The same log made by the general edit path (tomlkit, then _keep_style), not the text fast path."""
    from crmtui.storage.record_file import append_table, edit_record

    path = root / "customers" / "slow-path.toml"
    path.write_bytes(before)

    def mutate(doc):
        append_table(doc, "interactions", {"at": NOW, "kind": "call", "summary": summary.strip()})
        if follow_up:
            append_table(doc, "reminders", {"due": date(2026, 6, 29), "text": f"Follow up: {summary.strip()}"})

    edit_record(root, "customers/slow-path.toml", mutate)
    after = path.read_bytes()
    path.unlink()
    return after


def with_inserted(before: bytes, *pieces: tuple[int, bytes]) -> bytes:
    out, last = [], 0
    for offset, block in sorted(pieces):
        out += [before[last:offset], block]
        last = offset
    return b"".join(out) + before[last:]


def headers(raw: bytes) -> list[tuple[int, bytes]]:
    """(offset, the header) of each table header line (the generated files hold no multi-line strings)."""
    return [(m.start(), raw[m.start():raw.index(b"]", m.start()) + 1].strip()) for m in HEADER.finditer(raw)]


def entry_end(before: bytes, key: str) -> int | None:
    """Where the last [[key]] entry of `before` ends: at the next header, or the end."""
    headers = [m for m in HEADER.finditer(before) if before[m.start():].lstrip(b" \t").startswith(
        b"[[" + key.encode() + b"]]")]
    if not headers:
        return None
    following = [m.start() for m in HEADER.finditer(before) if m.start() > headers[-1].start()]
    return following[0] if following else len(before)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "book"
    init_book(path)
    return path


# ---- hand-written files ----------------------------------------------------------------

SPLIT = b"""# Interactions written where they happened, not grouped
name = "Ana L\xc3\xb3pez"   # aligned comment
company = 'Acme'

[[interactions]]
at = 2026-01-10T10:00:00
kind = "call"
summary = "First"

[[reminders]]
due = 2026-02-01
text = "Send the offer"


[[interactions]]
at = 2026-03-02T16:00:00  # after the offer
kind = "email"
summary = "Second"

[links]
web = "https://acme.example"
"""


def test_split_interactions_stay_where_they_are_and_the_new_one_follows_the_last(root: Path):
    after, _ = check_log(root, "split", SPLIT)
    assert after == with_inserted(
        SPLIT,
        (entry_end(SPLIT, "reminders"),  # below the first reminder and its blank lines, above the 2nd interaction
         b'[[reminders]]\ndue = 2026-06-29\ntext = "Follow up: Renewal call"\n\n'),
        (entry_end(SPLIT, "interactions"),  # below "Second", above [links]
         b'[[interactions]]\nat = 2026-06-15T09:00:00\nkind = "call"\nsummary = "Renewal call"\n\n'))
    # and again: the file it made is just as good a start
    check_log(root, "split", after, "Third", follow_up=False)


COMPACT_NO_NEWLINE = (b'name = "Compact"\n[[interactions]]\nat = 2026-01-10T10:00:00\nkind = "call"\nsummary = "a"\n'
                      b'[[reminders]]\ndue = 2026-02-01\ntext = "r"\n[[interactions]]\nat = 2026-02-10T10:00:00\n'
                      b'kind = "call"\nsummary = "b"')


def test_a_compact_file_without_a_final_newline_gets_no_blank_lines(root: Path):
    after, _ = check_log(root, "compact", COMPACT_NO_NEWLINE)
    assert after == with_inserted(
        COMPACT_NO_NEWLINE,
        (COMPACT_NO_NEWLINE.index(b"[[interactions]]\nat = 2026-02"),
         b'[[reminders]]\ndue = 2026-06-29\ntext = "Follow up: Renewal call"\n'),
        (len(COMPACT_NO_NEWLINE), b'\n[[interactions]]\nat = 2026-06-15T09:00:00\nkind = "call"\nsummary = "Renewal call"\n'))


def test_one_crlf_line_in_an_lf_file_stays_one(root: Path):
    before = (b'name = "Mostly LF"\ncompany = "Pasted from Windows"\r\ntags = ["a"]\n\n'
              b'[[interactions]]\nat = 2026-01-10T10:00:00\nkind = "call"\nsummary = "a"\n')
    after, _ = check_log(root, "one-crlf", before)
    assert after == before + (b'\n[[interactions]]\nat = 2026-06-15T09:00:00\nkind = "call"\nsummary = "Renewal call"\n'
                              b'\n[[reminders]]\ndue = 2026-06-29\ntext = "Follow up: Renewal call"\n')


def test_one_lf_line_in_a_crlf_file_and_a_bom(root: Path):
    before = BOM + (b'# saved by Notepad\r\nname = "Mostly CRLF"\r\nnotes = "typed on Linux"\n\r\n'
                    b'[[interactions]]\r\nat = 2026-01-10T10:00:00\r\nkind = "call"\r\nsummary = "a"\r\n')
    after, blocks = check_log(root, "one-lf", before)
    assert after.count(b"\r\n") == before.count(b"\r\n") + sum(block.count(b"\n") for _, block in blocks)
    assert after.startswith(BOM + b"# saved by Notepad\r\n")


ODD = """\ufeff# odd but valid: inline tables, dotted keys, a header that is not one, comments above headers\r
name="Odd Person"\r
links = { web = "https://odd.example", "git hub" = "odd" }\r
custom.colour = "teal"\r
notes = '''\r
[[interactions]]\r
this line only looks like a header\r
'''\r
\r
[[deals]]\r
title = "Audit"\r
amount = 1_000\r
status = "won"\r
date = 2026-01-05\r
\r
  [[interactions]]   # indented header\r
  at = 2026-01-10T10:00:00\r
  kind = "meeting"\r
  summary = "Kick-off"\r
# this comment is about the deal below\r
[[deals]]\r
title = "Support"\r
amount = 500\r
status = "open"\r
date = 2026-04-01\r
\r
[custom.more]\r
x = 1""".encode("utf-8")


def test_odd_layouts_keep_every_byte(root: Path):
    after, _ = check_log(root, "odd", ODD)
    assert after == with_inserted(
        ODD,
        (ODD.index(b"# this comment is about the deal below"),  # above that comment: it belongs to the deal
         b'[[interactions]]\r\nat = 2026-06-15T09:00:00\r\nkind = "call"\r\nsummary = "Renewal call"\r\n'),
        (len(ODD), b'\r\n\r\n[[reminders]]\r\ndue = 2026-06-29\r\ntext = "Follow up: Renewal call"\r\n'))
    check_log(root, "odd", after, "Again", follow_up=False)


def test_inline_interactions_get_one_more_inline_table(root: Path):
    before = (b'name = "Inline"\ninteractions = [\n  { at = 2026-01-10T10:00:00, kind = "call", summary = "a" },\n]\n'
              b'reminders = [{ due = 2026-02-01, text = "r" }]  # kept short\n')
    after, _ = check_log(root, "inline", before)
    assert after == (b'name = "Inline"\ninteractions = [\n  { at = 2026-01-10T10:00:00, kind = "call", summary = "a" },\n'
                     b'  {at = 2026-06-15T09:00:00, kind = "call", summary = "Renewal call"},\n]\n'
                     b'reminders = [{ due = 2026-02-01, text = "r" }, {due = 2026-06-29, text = "Follow up: Renewal call"}]'
                     b'  # kept short\n')


def test_the_first_interaction_and_reminder_go_at_the_end(root: Path):
    before = b'name = "New"  # no tables yet\n\n[links]\nweb = "https://new.example"'
    after, _ = check_log(root, "first", before)
    assert after == before + (b'\n\n[[interactions]]\nat = 2026-06-15T09:00:00\nkind = "call"\nsummary = "Renewal call"\n'
                              b'\n[[reminders]]\ndue = 2026-06-29\ntext = "Follow up: Renewal call"\n')


# ---- any file of this shape --------------------------------------------------------------

comment = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12)
spacing = st.sampled_from(["=", " = ", "  =  ", "\t=\t"])
summaries = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20).filter(
    lambda s: s.strip())


@st.composite
def record_texts(draw) -> bytes:
    pad = draw(spacing)

    def key(name: str, value: str) -> str:
        side = draw(st.one_of(st.just(""), comment.map(lambda c: f"  # {c}")))
        return f"{name}{pad}{value}{side}"

    lines = [f"# {draw(comment)}"] if draw(st.booleans()) else []
    lines.append(key("name", '"Prop Person"'))
    if draw(st.booleans()):
        lines += [f"tags{pad}[", '  "a",  # why', '  "b",', "]"]
    if draw(st.booleans()):
        lines.append(key("links", '{ web = "https://p.example" }'))
    kinds = draw(st.lists(st.sampled_from(["interactions", "reminders", "deals"]), max_size=6))
    if draw(st.booleans()):
        kinds.insert(draw(st.integers(0, len(kinds))), "custom")
    for n, kind in enumerate(kinds):
        lines += [""] * draw(st.integers(0, 2))
        if draw(st.integers(0, 3)) == 0:
            lines.append(f"# about the next table: {draw(comment)}")
        lines.append(f"[[{kind}]]" if kind != "custom" else "[custom]")
        if kind == "interactions":
            lines += [key("at", f"2026-01-{n + 1:02}T10:00:00"), key("kind", '"email"'), key("summary", f'"old {n}"')]
        elif kind == "reminders":
            lines += [key("due", f"2026-02-{n + 1:02}"), key("text", f'"remind {n}"')]
        elif kind == "deals":
            lines += [key("title", f'"deal {n}"'), key("amount", "100"), key("status", '"open"'),
                      key("date", "2026-03-01")]
        else:
            lines += [key("tea", '"sencha"')]
    lines += [""] * draw(st.integers(0, 2))
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    endings = [eol] * len(lines)
    if len(lines) > 2 and draw(st.booleans()):  # one line saved by another editor
        stray = draw(st.integers(0, len(lines) - 1))
        endings[stray] = "\n" if eol == "\r\n" else "\r\n"
    text = "".join(line + ending for line, ending in zip(lines, endings))
    if not draw(st.booleans()):
        text = text.rstrip("\r\n")
    return (BOM if draw(st.booleans()) else b"") + text.encode("utf-8")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=record_texts(), summary=summaries, follow_up=st.booleans())
def test_a_log_adds_bytes_and_changes_none(tmp_path, before, summary, follow_up):
    root = tmp_path / "book"  # one book for every example (a git init each costs more than the test)
    if not root.exists():
        init_book(root)
    handle = f"p{len(list((root / 'customers').glob('*.toml')))}"
    after, _ = check_log(root, handle, before, summary, follow_up)
    # Each new entry comes right after the last one of its kind, when there was one.
    old, new = [h for _, h in headers(before)], [h for _, h in headers(after)]
    for key, added in (("interactions", True), ("reminders", follow_up)):
        header = f"[[{key}]]".encode()
        if added and header in old:
            last_new = len(new) - 1 - new[::-1].index(header)
            assert new[last_new - 1] == header, (key, new)


# ---- edits through tomlkit (what is not a plain append: and an append tomlkit must do) --------

def test_marking_a_reminder_done_in_a_split_file_adds_one_line(root: Path):
    path = root / "customers" / "split.toml"
    path.write_bytes(SPLIT)
    service = Service.open(root, now=lambda: NOW)
    service.mark_done("split", 0)
    done_at = SPLIT.index(b"\n", SPLIT.index(b'text = "Send the offer"')) + 1
    assert path.read_bytes() == with_inserted(SPLIT, (done_at, b"done = 2026-06-15\n"))


def test_snoozing_in_a_crlf_file_with_a_bom_changes_one_value(root: Path):
    before = BOM + SPLIT.replace(b"\n", b"\r\n")
    path = root / "customers" / "split.toml"
    path.write_bytes(before)
    Service.open(root, now=lambda: NOW).snooze("split", 0, "2026-07-01")
    assert path.read_bytes() == before.replace(b"due = 2026-02-01", b"due = 2026-07-01")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=record_texts(), summary=summaries)
def test_an_append_through_tomlkit_adds_bytes_and_changes_none(tmp_path, before, summary):
    """The slow path (what an import or a file the fast path cannot read goes through)."""
    from crmtui.storage.record_file import append_table, edit_record

    folder = tmp_path / "customers"
    folder.mkdir(exist_ok=True)
    path = folder / "p.toml"
    path.write_bytes(before)
    entry = {"at": NOW, "kind": "call", "summary": summary}
    edit_record(tmp_path, "customers/p.toml", lambda doc: append_table(doc, "interactions", entry))
    after = path.read_bytes()
    assert 1 <= len(inserted_blocks(before, after)) <= 1 + (not before.endswith(b"\n"))
    assert_new_lines_end_like_most(before, after)
    assert after.endswith(b"\n") or not before.endswith(b"\n")
    old, new = (tomllib.loads(raw.decode("utf-8").removeprefix("\ufeff")) for raw in (before, after))
    assert new.pop("interactions") == old.pop("interactions", []) + [entry]
    assert new == old
    old_headers, new_headers = [h for _, h in headers(before)], [h for _, h in headers(after)]
    if b"[[interactions]]" in old_headers:
        last_new = len(new_headers) - 1 - new_headers[::-1].index(b"[[interactions]]")
        assert new_headers[last_new - 1] == b"[[interactions]]", new_headers
