"""vCard 2.1, 3.0 and 4.0 read; 3.0 written (what phones, Google, iCloud and khard all read).

Reading is tolerant: folded lines (RFC 6350 3.2), quoted-printable values from
old phones, grouped properties (`item1.EMAIL`), quoted parameters, `tel:` and
`mailto:` URIs, and yearless birthdays (`--0312`, Apple's year 1604). A card that
cannot be used is reported with its number and line, and the others are read.
Photos, sounds and keys are skipped without being decoded.

Why not vobject (the library khard reads with): measured, not assumed.
tests/test_vcard_library.py reads every fixture both ways. vobject 0.9.9 gives the
same Contacts on the well-formed cards (iPhone, macOS, khard's, 4.0), and worse
ones on the cards phones and Outlook write: it raises on a cut base64 photo, on
an AGENT's nested card, and on a quoted-printable value without CHARSET in a
Windows-1252 file, and then the whole file is lost; it stops at a card without
END:VCARD, losing the cards after it, and names no card or line; it drops 2.1
soft line breaks, cuts TITLE and NOTE at an unescaped comma (Outlook writes
them; py-vobject/vobject#55), and keeps Google's `https\\://`. On 10,000 cards
(scripts/bench_vcard.py, median of 5, 2 cores) it reads ~3.5x slower (7.7 s
against 2.2 s for an export of crmtui's, 6.4 s against 1.8 s for phone cards) and
writes ~20x slower (7.4 s against 0.34 s). So this module keeps its own parser
and writer; the tests check that vobject, so khard, reads what it writes.
"""

from __future__ import annotations

import quopri
import re
from dataclasses import dataclass, field

from crmtui.domain import validate
from crmtui.domain.dates import DateError
from crmtui.interchange.contact import Contact, Problem, normal_birthday

SKIPPED = {"PHOTO", "LOGO", "SOUND", "KEY", "AGENT"}
GENERIC_TYPES = {"pref", "home", "work", "internet", "other", "x-other", "voice", "cell", "uri", "text"}
LINK_HOSTS = (
    ("linkedin.", "linkedin"), ("github.", "github"), ("twitter.", "twitter"), ("x.com", "twitter"),
    ("facebook.", "facebook"), ("instagram.", "instagram"), ("xing.", "xing"), ("mastodon", "mastodon"),
    ("gitlab.", "gitlab"), ("youtube.", "youtube"),
)


@dataclass
class Line:
    """One content line, unfolded: `group.NAME;PARAM=a,b:value`."""

    name: str
    params: dict[str, list[str]]
    value: str  # still escaped
    number: int  # the physical line it starts on (1-based)
    group: str = ""

    def types(self) -> list[str]:
        return [t.lower() for t in self.params.get("TYPE", [])]


@dataclass
class Card:
    index: int  # 1-based position in the file
    line: int  # where BEGIN:VCARD is
    lines: list[Line] = field(default_factory=list)
    version: str = ""

    @property
    def where(self) -> str:
        return f"card {self.index} (line {self.line})"


# ---- reading -------------------------------------------------------------------------

def decode_bytes(raw: bytes) -> str:
    """vCard files are UTF-8 (3.0 and 4.0); old ones may be Windows-1252."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def unfold(text: str) -> list[tuple[int, str]]:
    """Logical lines with the physical line number each starts on.

    A line that starts with a space or tab continues the one before (that one
    character is dropped). A quoted-printable value ending in '=' continues on
    the next line as it is (vCard 2.1 soft line breaks).
    """
    out: list[tuple[int, str]] = []
    qp_open = False
    for number, raw in enumerate(re.split(r"\r\n|\r|\n", text), start=1):
        if qp_open and out:
            start, prev = out[-1]
            out[-1] = (start, prev[:-1] + raw)
            qp_open = raw.endswith("=")
            continue
        if raw[:1] in (" ", "\t") and out:
            start, prev = out[-1]
            out[-1] = (start, prev + raw[1:])
        elif raw.strip():
            out.append((number, raw))
        else:
            continue
        head = out[-1][1].split(":", 1)[0].upper()
        qp_open = "QUOTED-PRINTABLE" in head and out[-1][1].endswith("=")
    return out


_NAME = re.compile(r"^(?:([A-Za-z0-9-]+)\.)?([A-Za-z0-9-]+)")


def parse_line(number: int, text: str) -> Line | None:
    match = _NAME.match(text)
    if not match:
        return None
    group, name = match.group(1) or "", match.group(2).upper()
    rest = text[match.end():]
    params: dict[str, list[str]] = {}
    i = 0
    while i < len(rest) and rest[i] == ";":
        i += 1
        start, quoted = i, False
        while i < len(rest) and (quoted or rest[i] not in ";:"):
            if rest[i] == '"':
                quoted = not quoted
            i += 1
        param = rest[start:i]
        key, eq, value = param.partition("=")
        if not eq:  # vCard 2.1: a bare type, TEL;CELL;PREF:
            key, value = "TYPE", key
        values = [v.strip().strip('"') for v in re.findall(r'"[^"]*"|[^,]+', value)]
        params.setdefault(key.strip().upper(), []).extend(v for v in values if v)
    if i >= len(rest) or rest[i] != ":":
        return None
    return Line(name, params, rest[i + 1:], number, group)


def split_cards(text: str) -> tuple[list[Card], list[Problem]]:
    """The cards in a text, and the problems of cards that are not well formed."""
    cards: list[Card] = []
    problems: list[Problem] = []
    current: Card | None = None
    index = 0
    depth = 0
    outside: list[int] = []  # lines of text between cards
    for number, raw in unfold(text):
        upper = raw.strip().upper()
        if upper == "BEGIN:VCARD":
            if current is not None and (depth or (current.lines and current.lines[-1].name == "AGENT"
                                                  and not current.lines[-1].value.strip())):
                depth += 1  # a nested card (vCard 2.1 AGENT:): ignored
                continue
            if current is not None:
                problems.append(Problem(current.where, "no END:VCARD before the next card; skipped"))
            index += 1
            current = Card(index, number)
            depth = 0
            continue
        if upper == "END:VCARD":
            if current is None:
                problems.append(Problem(f"line {number}", "END:VCARD without BEGIN:VCARD; ignored", skipped=False))
                continue
            if depth:
                depth -= 1
                continue
            cards.append(current)
            current = None
            continue
        if current is None:
            outside.append(number)
            continue
        if depth:
            continue
        line = parse_line(number, raw)
        if line is None:
            problems.append(Problem(f"{current.where}, line {number}",
                                    f"'{raw[:40]}' is not a vCard line (NAME:value); line ignored", skipped=False))
            continue
        if line.name == "VERSION":
            current.version = line.value.strip()
        current.lines.append(line)
    if current is not None:
        problems.append(Problem(current.where, "the card has no END:VCARD (the file is cut short?); skipped"))
    if outside and cards:
        more = f" (and {len(outside) - 1} more lines)" if len(outside) > 1 else ""
        problems.append(Problem(f"line {outside[0]}", f"text outside BEGIN:VCARD ... END:VCARD{more}; ignored",
                                skipped=False))
    # keep the reports in file order
    return cards, problems


def unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def split_escaped(value: str, sep: str) -> list[str]:
    """Split on `sep` where it is not escaped by a backslash, then unescape each part."""
    parts, current, i = [], "", 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            current += value[i:i + 2]
            i += 2
            continue
        if ch == sep:
            parts.append(current)
            current = ""
        else:
            current += ch
        i += 1
    parts.append(current)
    return [unescape(p) for p in parts]


def raw_value(line: Line) -> str:
    """The value with a 2.1 quoted-printable or charset encoding undone (still escaped)."""
    value = line.value
    encoding = [e.upper() for e in line.params.get("ENCODING", [])]
    if "QUOTED-PRINTABLE" in encoding or "QUOTED-PRINTABLE" in line.types():
        charset = (line.params.get("CHARSET") or ["utf-8"])[0]
        try:
            value = quopri.decodestring(value.encode("latin-1", errors="replace")).decode(charset, errors="replace")
        except LookupError:
            value = quopri.decodestring(value.encode("latin-1", errors="replace")).decode("utf-8", errors="replace")
    return value


def text_of(line: Line) -> str:
    return unescape(raw_value(line))


def link_name(url: str, types: list[str], taken: dict[str, str]) -> str:
    named = [t for t in types if t not in GENERIC_TYPES and not t.startswith("x-")]
    if named:
        base = re.sub(r"[^a-z0-9_-]+", "-", named[0].lower()).strip("-") or "website"
    else:
        host = url.lower()
        base = next((name for needle, name in LINK_HOSTS if needle in host), "website")
    name, n = base, 2
    while name in taken and taken[name] != url:
        name, n = f"{base}-{n}", n + 1
    return name


def leave_out_invalid(contact: Contact, where: str) -> list[Problem]:
    """Emails and phones that break domain.validate's rules (the ones `crmtui add` and
    `crmtui check` apply) are not imported; each one left out is a Problem to report."""
    problems = []
    for key, problem_of in (("emails", validate.email_problem), ("phones", validate.phone_problem)):
        kept = []
        for value in getattr(contact, key):
            problem = problem_of(value)
            if problem:
                problems.append(Problem(where, f"{problem}; imported without it", skipped=False))
            else:
                kept.append(value)
        setattr(contact, key, kept)
    return problems


def card_to_contact(card: Card) -> tuple[Contact | None, list[Problem]]:
    problems: list[Problem] = []
    contact = Contact(where=card.where)
    fn = ""
    n_parts: list[str] = []
    labels = {ln.group: text_of(ln) for ln in card.lines if ln.name == "X-ABLABEL" and ln.group}
    for line in card.lines:
        name = line.name
        if name in SKIPPED:
            continue
        if name == "FN":
            fn = text_of(line)
        elif name == "N":
            n_parts = split_escaped(raw_value(line), ";")
        elif name == "ORG":
            contact.company = contact.company or split_escaped(raw_value(line), ";")[0]
        elif name == "TITLE":
            contact.title = contact.title or text_of(line)
        elif name == "EMAIL":
            contact.emails.append(text_of(line))
        elif name == "TEL":
            contact.phones.append(text_of(line))
        elif name == "BDAY":
            value = text_of(line).strip()
            omit_year = line.params.get("X-APPLE-OMIT-YEAR")
            try:
                birthday = normal_birthday(value)
                if omit_year and birthday.startswith(omit_year[0] + "-"):
                    birthday = birthday[5:]
                contact.birthday = birthday
            except DateError:
                problems.append(Problem(card.where, f"birthday '{value}' is not a date; imported without it",
                                        skipped=False))
        elif name == "NOTE":
            note = text_of(line).strip()
            if note:
                contact.notes = f"{contact.notes}\n\n{note}" if contact.notes else note
        elif name == "CATEGORIES":
            contact.tags.extend(t.strip() for t in split_escaped(raw_value(line), ",") if t.strip())
        elif name in ("URL", "X-SOCIALPROFILE"):
            url = text_of(line).strip()
            if url:
                types = line.types()
                label = labels.get(line.group, "")
                if label and not label.startswith("_$!<"):
                    types = [label.lower(), *types]
                contact.links[link_name(url, types, contact.links)] = url
        elif name == "UID":
            contact.uid = text_of(line).strip()
    name = fn.strip()
    if not name and n_parts:
        family, given, additional, prefix, suffix = (n_parts + [""] * 5)[:5]
        name = " ".join(p.replace(",", " ") for p in (given, additional, family, suffix) if p.strip())
    if not name:
        name = contact.company
    contact.name = name
    contact.tidy()
    problems += leave_out_invalid(contact, card.where)
    if not contact.name:
        problems.append(Problem(card.where, "the card has no name (FN, N or ORG); skipped"))
        return None, problems
    return contact, problems


def read_vcards(text: str, source: str = "") -> tuple[list[Contact], list[Problem]]:
    """All the contacts in a vCard text, and what could not be read (with where)."""
    cards, problems = split_cards(text)
    if not cards and not problems and text.strip():
        problems.append(Problem("line 1", "no BEGIN:VCARD in it; is it a vCard file?"))
    contacts = []
    for card in cards:
        if card.version and card.version not in ("2.1", "3.0", "4.0"):
            problems.append(Problem(card.where, f"vCard version {card.version} is unknown; read as 3.0",
                                    skipped=False))
        contact, found = card_to_contact(card)
        problems += found
        if contact is not None:
            contacts.append(contact)
    if source:
        contacts_where = [c for c in contacts]
        for c in contacts_where:
            c.where = f"{source}: {c.where}"
        problems = [Problem(f"{source}: {p.where}", p.message, p.skipped) for p in problems]
    problems.sort(key=_line_of)
    return contacts, problems


def _line_of(problem: Problem) -> int:
    found = re.findall(r"line (\d+)", problem.where)
    return int(found[-1]) if found else 0


# ---- writing -------------------------------------------------------------------------

def escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n"))


def fold(line: str, limit: int = 75) -> str:
    """Fold a content line at `limit` octets, never inside a UTF-8 character."""
    encoded = line.encode("utf-8")
    if len(encoded) <= limit:
        return line
    pieces, current, size = [], "", 0
    budget = limit
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > budget:
            pieces.append(current)
            current, size, budget = "", 0, limit - 1  # continuation lines start with a space
        current += ch
        size += width
    pieces.append(current)
    return "\r\n ".join(pieces)


def split_name(name: str) -> tuple[str, str]:
    """(family, given) for the N property: the last word is taken as the family name."""
    words = name.split()
    if len(words) <= 1:
        return "", name
    return words[-1], " ".join(words[:-1])


def write_vcard(contact: Contact) -> str:
    """One vCard 3.0, CRLF line endings, folded at 75 octets."""
    family, given = split_name(contact.name)
    lines = ["BEGIN:VCARD", "VERSION:3.0"]
    if contact.uid:
        lines.append(f"UID:{escape(contact.uid)}")
    lines.append(f"FN:{escape(contact.name)}")
    lines.append(f"N:{escape(family)};{escape(given)};;;")
    if contact.company:
        lines.append(f"ORG:{escape(contact.company)}")
    if contact.title:
        lines.append(f"TITLE:{escape(contact.title)}")
    for i, email in enumerate(contact.emails):
        lines.append(f"EMAIL;TYPE=INTERNET{',PREF' if i == 0 and len(contact.emails) > 1 else ''}:{escape(email)}")
    for i, phone in enumerate(contact.phones):
        lines.append(f"TEL;TYPE=VOICE{',PREF' if i == 0 and len(contact.phones) > 1 else ''}:{escape(phone)}")
    if contact.birthday:
        b = contact.birthday
        lines.append(f"BDAY:{b}" if len(b) == 10 else f"BDAY:--{b}")
    for name, url in contact.links.items():
        kind = re.sub(r"[^A-Za-z0-9-]+", "-", name).strip("-")
        lines.append(f"URL;TYPE={kind}:{url}" if kind else f"URL:{url}")
    if contact.tags:
        lines.append("CATEGORIES:" + ",".join(escape(t) for t in contact.tags))
    if contact.notes:
        lines.append(f"NOTE:{escape(contact.notes)}")
    lines.append("END:VCARD")
    return "".join(fold(line) + "\r\n" for line in lines)
