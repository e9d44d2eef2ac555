"""`crmtui demo`: a book built from sample_book/ with its dates moved to today
and a git history that tells the story of each customer.

The sample files are written as if today were 2026-06-15. Every date in them is
moved by the same number of days, as a substitution on the text so comments and
layout survive byte for byte. The history is written in one `git fast-import`
run (a few hundred backdated commits in well under a second): the book is
created, each customer is added before their first interaction, every later
interaction is logged at its own time, reminders are marked done on their
`done` date, one tier is changed by hand and one file is edited outside crmtui.
Each commit message is the one crmtui itself would have written, and every
version committed is checked to parse and to mean what it should.
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
import subprocess
import tempfile
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from crmtui.errors import CrmError
from crmtui.storage.book import CUSTOMERS, GITATTRIBUTES, SETTINGS
from crmtui.storage.git_repo import FALLBACK_EMAIL, FALLBACK_NAME
from crmtui.storage.sync import ATTRIBUTES_TEXT

REFERENCE_DAY = date(2026, 6, 15)  # the "today" sample_book/ is written for
LEA = ("Lea Martin", "lea@example.com")  # the colleague who owns some customers
FALLBACK = (FALLBACK_NAME, FALLBACK_EMAIL)  # as crmtui commits without an identity
PREFERRED_OUTSIDE_EDIT = "ana-lopez"  # whose phone number appears through an editor

_MISSING = ("the demo data (sample_book/) is not installed with this copy of crmtui; "
            "run the demo from a source checkout (pip install -e .)")


# ---- finding the sample ----------------------------------------------------------


def sample_book_dir() -> Path:
    """sample_book/ inside the package (a wheel ships it as package data), else at the repository root."""
    here = Path(__file__).resolve()
    candidates = [here.parent / "sample_book"]
    if len(here.parents) > 2:
        candidates.append(here.parents[2] / "sample_book")
    for candidate in candidates:
        if (candidate / SETTINGS).is_file() and (candidate / CUSTOMERS).is_dir():
            return candidate
    raise CrmError(_MISSING)


# ---- moving dates ------------------------------------------------------------------

# Comments and strings are skipped whole, so a date inside them is left alone; a bare
# date (also the date part of a date-time) is moved. A date followed by `=` is a key.
_SKIP = r'#[^\n]*|"""(?:\\[\s\S]|[^\\])*?"{3,5}|\'\'\'[\s\S]*?\'{3,5}|"(?:\\.|[^"\\\n])*"|\'[^\'\n]*\''
_DATE = r"(?<![\w.:+-])(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})(?![\d-])(?!\s*=)"
_SCAN = re.compile(f"(?P<skip>{_SKIP})|{_DATE}")
_YEARLESS_BIRTHDAY = re.compile(r"""^([ \t]*birthday[ \t]*=[ \t]*)(["'])(\d{2})-(\d{2})\2""", re.M)


def shift_yearless(month_day: str, delta: timedelta) -> str:
    """'06-18' moved by delta days, as seen from the sample's year."""
    month, day = (int(part) for part in month_day.split("-"))
    try:
        start = date(REFERENCE_DAY.year, month, day)
    except ValueError:  # 02-29
        start = date(2028, month, day)
    return (start + delta).strftime("%m-%d")


def shift_text(text: str, delta: timedelta) -> str:
    """TOML text with every date and date-time value moved by delta; all else byte for byte."""
    if not delta:
        return text

    def move(match: re.Match) -> str:
        if match.group("skip") is not None:
            return match.group(0)
        try:
            day = date(int(match.group("y")), int(match.group("m")), int(match.group("d")))
        except ValueError:
            return match.group(0)  # not a date after all (tomllib would reject it anyway)
        return (day + delta).isoformat()

    text = _SCAN.sub(move, text)
    return _YEARLESS_BIRTHDAY.sub(
        lambda m: f"{m.group(1)}{m.group(2)}{shift_yearless(f'{m.group(3)}-{m.group(4)}', delta)}{m.group(2)}", text)


def _same_but_shifted(old: Any, new: Any, delta: timedelta, key: Any = None) -> bool:
    """True when `new` is `old` with every date moved by delta (and yearless birthdays too)."""
    if isinstance(old, dict):
        return (isinstance(new, dict) and old.keys() == new.keys()
                and all(_same_but_shifted(old[k], new[k], delta, k) for k in old))
    if isinstance(old, list):
        return (isinstance(new, list) and len(old) == len(new)
                and all(_same_but_shifted(a, b, delta) for a, b in zip(old, new)))
    if isinstance(old, (date, datetime)):  # datetime is a date
        return type(old) is type(new) and new == old + delta
    if key == "birthday" and isinstance(old, str) and re.fullmatch(r"\d{2}-\d{2}", old):
        return new == shift_yearless(old, delta)
    return type(old) is type(new) and old == new


@dataclass(frozen=True)
class SampleFile:
    rel: str  # crm.toml or customers/<handle>.toml
    text: str  # shifted
    data: dict


def read_sample(source: Path, delta: timedelta) -> list[SampleFile]:
    """crm.toml and every customers/*.toml, shifted and checked."""
    paths = [source / SETTINGS] + sorted(
        p for p in (source / CUSTOMERS).glob("*.toml") if not p.name.startswith("."))
    files = []
    for path in paths:
        rel = path.relative_to(source).as_posix()
        try:
            original = path.read_bytes().decode("utf-8")
            before = tomllib.loads(original)
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise CrmError(f"the demo data is damaged: sample_book/{rel} cannot be read ({error})") from None
        text = shift_text(original, delta)
        try:
            after = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            after = None
        if after is None or not _same_but_shifted(before, after, delta):
            raise CrmError(f"could not move the dates of sample_book/{rel} to today; the demo data needs a fix")
        files.append(SampleFile(rel, text, after))
    return files


# ---- the story of one customer ------------------------------------------------------

_HEADER = re.compile(r"^[ \t]*(\[\[?)[ \t]*([^\[\]#]+?)[ \t]*\]\]?[ \t]*(?:#.*)?$")


@dataclass
class Story:
    """How each earlier version of one file is made from its final text, line by line."""

    handle: str
    name: str
    author: tuple[str, str]
    lines: list[str]
    data: dict
    newline: str
    cuts: list[int] | None = None  # line where interaction k starts; None: all in the Add
    times: list[datetime] = field(default_factory=list)  # of the interactions
    done_lines: dict[int, int] = field(default_factory=dict)  # reminder index -> its `done =` line
    tier: tuple[int, str, str] | None = None  # (line, that line with the earlier tier, earlier tier)
    phones: int | None = None  # the top-level phones line

    # A state is (interactions shown, reminders done, tier changed, phones added).
    def text(self, shown: int, done: frozenset, tier_changed: bool, phones: bool) -> str:
        end = len(self.lines) if self.cuts is None or shown >= len(self.cuts) else self.cuts[shown]
        skip = {line for index, line in self.done_lines.items() if index not in done}
        if self.phones is not None and not phones:
            skip.add(self.phones)
        out = []
        for number in range(end):
            if number in skip:
                continue
            if self.tier is not None and number == self.tier[0] and not tier_changed:
                out.append(self.tier[1])
            else:
                out.append(self.lines[number])
        text = "".join(out)
        return text if end == len(self.lines) else text.rstrip() + self.newline

    def expected(self, shown: int, done: frozenset, tier_changed: bool, phones: bool) -> dict:
        data = copy.deepcopy(self.data)
        if self.cuts is not None and shown < len(self.cuts):
            if shown:
                data["interactions"] = data["interactions"][:shown]
            else:
                del data["interactions"]
        for index in self.done_lines:
            if index not in done:
                del data["reminders"][index]["done"]
        if self.tier is not None and not tier_changed:
            data["tier"] = self.tier[2]
        if self.phones is not None and not phones:
            del data["phones"]
        return data

    def final_state(self) -> tuple:
        return (len(self.cuts or ()), frozenset(self.done_lines), True, True)

    def means(self, *state) -> bool:
        try:
            return tomllib.loads(self.text(*state)) == self.expected(*state)
        except tomllib.TOMLDecodeError:
            return False


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value.astimezone().replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return datetime.combine(value, time(12, 0))
    return None


def _hash(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\0".join(parts).encode("utf-8")).digest()[:8], "big")


def plan_story(file: SampleFile, user: tuple[str, str]) -> Story:
    """Find which lines make the earlier versions; every part is checked on its own."""
    handle = Path(file.rel).stem
    data = file.data
    name = " ".join(str(data.get("name") or handle).split())
    author = LEA if str(data.get("owner", "")).strip().lower() == "lea" else user
    lines = file.text.splitlines(keepends=True)
    story = Story(handle, name, author, lines, data, "\r\n" if "\r\n" in file.text else "\n")
    none_done: frozenset = frozenset()

    headers = [(n, m.group(1) == "[[", m.group(2)) for n, line in enumerate(lines) if (m := _HEADER.match(line))]
    top_end = headers[0][0] if headers else len(lines)

    # Interactions: each a commit of its own when they close the file, oldest first.
    interactions = data.get("interactions")
    starts = [n for n, double, key in headers if double and key == "interactions"]
    times = [_as_datetime(i.get("at")) if isinstance(i, dict) else None for i in interactions or ()]
    if (isinstance(interactions, list) and interactions and len(starts) == len(interactions)
            and all(n < starts[0] for n, _, key in headers if key != "interactions")
            and None not in times and times == sorted(times)):
        cuts = []
        for start in starts:
            while start > 0 and lines[start - 1].lstrip().startswith("#"):
                start -= 1  # a comment just above a table belongs to it
            cuts.append(start)
        story.cuts = cuts
        if all(story.means(k, none_done, True, True) for k in range(len(cuts))):
            story.times = times
        else:
            story.cuts = None

    # Done reminders: the `done = ...` line appears when it was marked done.
    table, seen = None, {}
    reminders = data.get("reminders") if isinstance(data.get("reminders"), list) else []
    for number, line in enumerate(lines):
        if m := _HEADER.match(line):
            key = m.group(2)
            seen[key] = seen.get(key, -1) + 1
            table = (key, seen[key]) if m.group(1) == "[[" else (key, None)
        elif table and table[0] == "reminders" and table[1] is not None and re.match(r"[ \t]*done[ \t]*=", line):
            index = table[1]
            if index < len(reminders) and isinstance(reminders[index].get("done"), date):
                story.done_lines[index] = number
                if not story.means(len(story.cuts or ()), frozenset(set(range(len(reminders))) - {index}), True, True):
                    del story.done_lines[index]

    # Top-level tier and phones lines, for the hand-made changes.
    for number in range(top_end):
        line = lines[number]
        m = re.match(r"""[ \t]*tier[ \t]*=[ \t]*(["'])(\w+)\1""", line)
        if m and story.tier is None:
            final = m.group(2)
            earlier = "gold" if final != "gold" else "iron"
            story.tier = (number, line[:m.start(2)] + earlier + line[m.end(2):], earlier)
            if not story.means(len(story.cuts or ()), frozenset(story.done_lines), False, True):
                story.tier = None
        if re.match(r"[ \t]*phones[ \t]*=", line) and story.phones is None:
            story.phones = number
            if not story.means(len(story.cuts or ()), frozenset(story.done_lines), True, False):
                story.phones = None
    return story


# ---- the whole history ------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    when: datetime
    story: Story | None  # None: the first commit
    kind: str  # create | add | log | done | tier | outside
    arg: int | None = None


@dataclass(frozen=True)
class CommitPlan:
    when: datetime
    author: tuple[str, str]
    message: str
    files: tuple[tuple[str, str], ...]  # (path, text)


def plan_history(settings: SampleFile, stories: list[Story], today: date, now: datetime,
                 user: tuple[str, str]) -> list[CommitPlan]:
    from crmtui.domain.changes import describe_change, edit_subject

    per_story: dict[str, list[Event]] = {}
    adds: dict[str, datetime] = {}
    for story in stories:
        h = _hash(story.handle)
        if story.times:
            added = story.times[0] - timedelta(days=1)
        else:
            interactions = [t for i in story.data.get("interactions") or () if isinstance(i, dict)
                            if (t := _as_datetime(i.get("at")))]
            if interactions:
                added = min(interactions) - timedelta(days=1)
            else:  # a day in the last nine months, the same for the same customer
                added = datetime.combine(today - timedelta(days=14 + h % 255), time(9 + h % 8, h % 60))
        adds[story.handle] = min(added, now)
        events = [Event(at, story, "log", k) for k, at in enumerate(story.times)]
        for index in story.done_lines:
            day = story.data["reminders"][index]["done"]
            events.append(Event(datetime.combine(_as_datetime(day).date(), time(9 + h % 9, (h >> 8) % 60)),
                                story, "done", index))
        per_story[story.handle] = events

    # One tier changed by hand two months ago, one file edited in an editor three weeks ago.
    def pick(candidates: list[Story], when: datetime) -> Story | None:
        return next((s for s in candidates if adds[s.handle] < when - timedelta(days=1)), None)

    tier_when = datetime.combine(today - timedelta(days=61), time(10, 14))
    tiered = [s for s in stories if s.tier]
    tiered.sort(key=lambda s: (s.data.get("tier") != "platinum", s.handle))
    tier_story = pick(tiered, tier_when)
    if tier_story:
        per_story[tier_story.handle].append(Event(tier_when, tier_story, "tier"))
    edit_when = datetime.combine(today - timedelta(days=22), time(21, 37))
    phoned = [s for s in stories if s.phones is not None and s is not tier_story]
    phoned.sort(key=lambda s: (s.handle != PREFERRED_OUTSIDE_EDIT, s.author != user, s.handle))
    edit_story = pick(phoned, edit_when)
    if edit_story:
        per_story[edit_story.handle].append(Event(edit_when, edit_story, "outside"))

    # Each customer's events in order after their Add, none in the future.
    events: list[Event] = []
    for story in stories:
        when = adds[story.handle]
        ordered = [Event(when, story, "add")]
        for event in sorted(per_story[story.handle], key=lambda e: e.when):
            at = min(event.when, now)
            when = at if at > when else when + timedelta(minutes=1)
            ordered.append(Event(when, story, event.kind, event.arg))
        events += ordered
    order = {id(e): n for n, e in enumerate(events)}
    events.sort(key=lambda e: (e.when, order[id(e)]))
    first = min((e.when for e in events), default=now)
    created = datetime.combine(first.date() - timedelta(days=1), time(9, 0))

    # As init_book does: .gitattributes comes with the book, so opening it adds no set-up commit.
    commits = [CommitPlan(created, user, "Create the book", ((SETTINGS, settings.text), (f"{CUSTOMERS}/.gitkeep", ""),
                                                              (GITATTRIBUTES, ATTRIBUTES_TEXT)))]
    states: dict[str, list] = {}
    for event in events:
        story = event.story
        rel = f"{CUSTOMERS}/{story.handle}.toml"
        if event.kind == "add":
            states[story.handle] = [0, frozenset(), story is not tier_story, story is not edit_story]
            message = f"Add {story.name}"
            before = None
        else:
            before = tuple(states[story.handle])
            state = states[story.handle]
            if event.kind == "log":
                state[0] = event.arg + 1
                kind = str(story.data["interactions"][event.arg].get("kind") or "note").lower().strip()
                message = f"Log {kind} with {story.name}"
            elif event.kind == "done":
                state[1] = state[1] | {event.arg}
                text = story.data["reminders"][event.arg].get("text") or "reminder"
                message = f"Done: {text} ({story.name})"
            elif event.kind == "tier":
                state[2] = True
                message = edit_subject(story.name, describe_change(story.expected(*before),
                                                                   story.expected(*state)))
            else:
                state[3] = True
                message = f"Edit {story.handle}.toml outside crmtui"
        state = tuple(states[story.handle])
        text = story.text(*state)
        if before is not None and text == story.text(*before):
            continue
        if not story.means(*state):
            raise CrmError(f"the demo history of {rel} came out wrong; the demo data needs a fix")
        commits.append(CommitPlan(event.when, story.author, message, ((rel, text),)))
    for story in stories:  # the last version is the sample file itself
        if story.text(*states[story.handle]) != "".join(story.lines):
            raise CrmError(f"the demo history of {story.handle} does not end with its sample file")
    return commits


# ---- git ------------------------------------------------------------------------


def _git(root: Path, *args: str, input: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess:
    try:
        result = subprocess.run(["git", *args], cwd=root, input=input, capture_output=True)
    except FileNotFoundError:
        raise CrmError("git is not installed or not on PATH; crmtui needs it to keep the book's history") from None
    if check and result.returncode != 0:
        detail = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise CrmError(f"git {args[0]} failed: {detail[-1] if detail else 'exit ' + str(result.returncode)}")
    return result


def user_identity(root: Path) -> tuple[str, str]:
    """Whoever git would commit as in this repository, else crmtui's fallback."""
    name, email = os.environ.get("GIT_AUTHOR_NAME"), os.environ.get("GIT_AUTHOR_EMAIL")
    if name and email:
        return name, email
    found = {}
    out = _git(root, "config", "--get-regexp", r"^user\.(name|email)$", check=False).stdout.decode("utf-8", "replace")
    for line in out.splitlines():
        key, _, value = line.partition(" ")
        found[key] = value.strip()
    name, email = found.get("user.name"), found.get("user.email")
    return (name, email) if name and email else FALLBACK


def _ident(who: tuple[str, str], when: datetime) -> bytes:
    local = when.astimezone()  # a naive time is the user's local time
    offset = local.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    name = who[0].replace("<", "").replace(">", "").replace("\n", " ")
    email = who[1].replace("<", "").replace(">", "").replace("\n", "")
    return f"{name} <{email}> {int(local.timestamp())} {sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}".encode("utf-8")


def _data(payload: bytes) -> bytes:
    return b"data %d\n" % len(payload) + payload + b"\n"


def fast_import_stream(commits: list[CommitPlan], branch: str = "refs/heads/main") -> bytes:
    chunks = []
    for number, commit in enumerate(commits, 1):
        ident = _ident(commit.author, commit.when)
        chunks += [f"commit {branch}\nmark :{number}\n".encode(), b"author " + ident + b"\n",
                   b"committer " + ident + b"\n", _data((commit.message + "\n").encode("utf-8"))]
        if number > 1:
            chunks.append(f"from :{number - 1}\n".encode())
        for path, text in commit.files:
            chunks += [f"M 100644 inline {path}\n".encode("utf-8"), _data(text.encode("utf-8"))]
        chunks.append(b"\n")
    chunks.append(b"done\n")
    return b"".join(chunks)


# ---- the command ------------------------------------------------------------------


def _target(path: Path | None) -> Path:
    if path is None:
        return Path(tempfile.mkdtemp(prefix="crmtui-demo-"))
    root = Path(path).expanduser()
    if root.exists():
        if not root.is_dir():
            raise CrmError(f"{root} is a file; choose another path for the demo book")
        if any(root.iterdir()):
            raise CrmError(f"{root} already exists and is not empty; choose another path")
    else:
        try:
            root.mkdir(parents=True)
        except OSError as error:
            raise CrmError(f"cannot create {root}: {error.strerror or error}") from None
    return root


def build_demo(path: Path | None, today: date | None = None, *, source: Path | None = None) -> Path:
    """Build the demo book at `path` (None: a new temporary folder) and return its folder."""
    from crmtui.service import current_time

    moment = current_time()
    today = today or moment.date()
    now = moment if moment.date() == today else datetime.combine(today, time(18, 0))
    source = Path(source) if source is not None else sample_book_dir()
    if not (source / SETTINGS).is_file() or not (source / CUSTOMERS).is_dir():
        raise CrmError(f"{source} is not a sample book (it needs crm.toml and customers/)")
    files = read_sample(source, today - REFERENCE_DAY)  # everything that can fail on the data, first

    root = _target(path).resolve()
    _git(root, "init", "-q", "-b", "main")
    user = user_identity(root)
    settings, customers = files[0], files[1:]
    stories = [plan_story(f, user) for f in customers]
    commits = plan_history(settings, stories, today, now, user)
    _git(root, "fast-import", "--quiet", "--done", input=fast_import_stream(commits))
    _git(root, "reset", "-q", "--hard", "main")
    _git(root, "commit-graph", "write", "--reachable", "--changed-paths", check=False)
    return root
