"""Mail headers in, the facts of an email interaction out: pure, no files.

Only headers are read, never a body or an attachment: `header_block` cuts a
message's bytes at the blank line that ends its headers, and `parse_message` takes
the few fields an interaction needs out of that block (`wanted_headers`, by the
stdlib parser's own rule for what a header line is), then decodes them with the
standard library: encoded words (RFC 2047) with email.header, addresses with
email.utils (a fast path for the plain forms), dates with parsedate_to_datetime.
Raw 8-bit bytes in a header are read as UTF-8, else as Windows-1252, never a crash.
`people_of` (add-email) reads a whole block with BytesHeaderParser.

`plan_mail` then decides, for many messages at once, which customer each one
belongs to (by an address -> handles map built once), in which direction, and
whether it is already in the book (by Message-ID).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.header import decode_header
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime
from typing import Iterable, NamedTuple

SENT, RECEIVED = "→", "←"
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"\s+")
_NOREPLY = re.compile(r"no[-_.]?reply|do[-_.]?not[-_.]?reply|^mailer[-_]?daemon$|^postmaster$", re.IGNORECASE)
_BULK = ("bulk", "list", "junk")
_PARSER = BytesHeaderParser(policy=compat32)
_SURROGATE = re.compile("[\udc80-\udcff]")  # raw 8-bit bytes, as the parser keeps them in a str


class Message(NamedTuple):
    """What an email interaction needs from one message."""

    where: str  # the place it was read from, to name it in the report
    message_id: str  # "<...>" as in the header, or a stable one made from the headers when it has none
    at: datetime  # local time, naive, like every interaction
    subject: str
    sender: str  # address, lower case
    sender_name: str
    recipients: tuple[tuple[str, str], ...]  # (address, name) of To, Cc and Bcc, lower case addresses
    bulk: str = ""  # why it is list or bulk mail ("List-Id", "Precedence: bulk"), or ""


class Skip(NamedTuple):
    """A message that could not be read: where, and why in words."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}; skipped"


def header_block(data: bytes, complete: bool = True) -> bytes | None:
    """The bytes of the headers (to the blank line that ends them, which is kept).

    With complete=False (a message cut out of an mbox whose end is not known to be the
    message's end), headers that never reach a blank line are a truncated message: None.
    """
    match = _HEADER_END.search(data)
    if match:
        return data[:match.end()]
    return data if complete else None


def decode_text(value: str) -> str:
    """A header value as text: folding undone, 8-bit bytes and encoded words decoded,
    control characters and runs of spaces made one space."""
    if value.isascii() and value.isprintable() and "=?" not in value and "  " not in value:
        return value.strip()  # most headers: nothing to decode
    value = _FOLD.sub("", value)
    if _SURROGATE.search(value):  # raw 8-bit bytes, kept by the parser as surrogates
        raw = value.encode("ascii", "surrogateescape")
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            value = raw.decode("cp1252", "replace")
    if "=?" in value:
        try:
            parts = []
            for chunk, charset in decode_header(value):
                if isinstance(chunk, bytes):
                    try:
                        chunk = chunk.decode(charset or "ascii", "replace")
                    except LookupError:  # a charset Python does not know
                        chunk = chunk.decode("utf-8", "replace")
                parts.append(chunk)
            value = _join_decoded(parts, value)
        except (ValueError, AssertionError, IndexError):  # a broken encoded word: keep the raw text
            pass
    return _SPACES.sub(" ", _CONTROL.sub(" ", value)).strip()


def _join_decoded(parts: list[str], original: str) -> str:
    # decode_header drops the spaces between an encoded word and plain text next to it
    if len(parts) == 1:
        return parts[0]
    out = ""
    for part in parts:
        if out and not out.endswith(" ") and not part.startswith(" "):
            out += " "
        out += part
    return out


_WANTED = frozenset((b"from", b"to", b"cc", b"bcc", b"date", b"subject", b"message-id", b"list-id",
                     b"precedence"))
_FIELD = re.compile(rb"[\x21-\x39\x3b-\x7e]*:")  # a header's name and colon (as the stdlib parser reads one)


def wanted_headers(head: bytes) -> dict[str, str] | tuple[int, bytes]:
    """The fields an interaction needs, by lower-case name (the first of each), as the stdlib
    parser's compat32 policy gives them: raw text, 8-bit bytes kept as surrogates, folding
    kept. Received chains and signatures are most of a header block and none of its meaning,
    so they are passed over rather than parsed (this is ~3x faster than BytesHeaderParser
    over the whole block, at 50,000 messages). A line that is not a header (no name and
    colon, the stdlib parser's own rule) ends the headers for any mail reader: then
    (its line number, the line)."""
    found: dict[str, list[bytes]] = {}
    current: list[bytes] | None = None
    for number, line in enumerate(head.split(b"\n"), start=1):
        if not line.strip(b"\r"):
            break
        if line[:1] in (b" ", b"\t"):
            if current is not None:
                current.append(line)
            continue
        if number == 1 and line.startswith(b"From "):  # an mbox separator left on a message file
            continue
        field = _FIELD.match(line)
        if field is None:
            return number, line
        name = line[:field.end() - 1].lower()
        current = None
        if name in _WANTED and name not in found:
            current = found[name.decode("ascii")] = [line[field.end():].lstrip(b" \t")]
    return {name: b"\n".join(lines).rstrip(b"\r\n").decode("ascii", "surrogateescape")
            for name, lines in found.items()}


def parse_message(head: bytes, where: str) -> Message | Skip:
    """One message's header block (see header_block) as a Message, or why it cannot be read."""
    headers = wanted_headers(head)
    if isinstance(headers, tuple):
        number, line = headers
        bad = decode_text(line.decode("ascii", "surrogateescape").strip())[:60]
        return Skip(where, f"a broken header at line {number} ('{bad}' has no name and colon)")
    raw_date = headers.get("date")
    if raw_date is None or not raw_date.strip():
        return Skip(where, "no Date header")
    at = _local_time(decode_text(raw_date))
    if at is None:
        return Skip(where, f"a Date it cannot read ('{decode_text(raw_date)[:40]}')")
    senders = _addresses(headers.get("from", ""))
    if not senders:
        return Skip(where, "no From address")
    sender, sender_name = senders[0]
    recipients = tuple(a for key in ("to", "cc", "bcc") for a in _addresses(headers.get(key, "")))
    subject = decode_text(headers.get("subject", ""))
    message_id = _message_id(headers.get("message-id", ""))
    if not message_id:  # made from what identifies it, so importing it again finds it again
        digest = hashlib.sha1("\n".join((at.isoformat(), sender, subject, ",".join(a for a, _ in recipients)))
                              .encode("utf-8")).hexdigest()[:32]
        message_id = f"<{digest}@crmtui.invalid>"
    bulk = ""
    if "list-id" in headers:
        bulk = "List-Id"
    else:
        precedence = decode_text(headers.get("precedence", "")).lower()
        if precedence in _BULK:
            bulk = f"Precedence: {precedence}"
    return Message(where, message_id, at, subject, sender, sender_name, recipients, bulk)


def people_of(head: bytes | None) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(From, To and Cc) of a header block, as (address, name) pairs: what add-email needs
    (a draft or a message without a Date still has them)."""
    if not head:
        return [], []
    try:
        msg = _PARSER.parsebytes(head)
    except Exception:  # noqa: BLE001
        return [], []
    headers: dict[str, str] = {}
    for name, value in msg.raw_items():
        headers.setdefault(name.lower(), value)
    senders = _addresses(headers.get("from", ""))
    recipients = [a for key in ("to", "cc") for a in _addresses(headers.get(key, ""))]
    return senders, recipients


def _local_time(text: str) -> datetime | None:
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    try:
        if when.tzinfo is not None:  # to the local time of this machine, where the book's times live
            when = when.astimezone().replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        return None
    return when.replace(microsecond=0)


_SIMPLE_ADDRESS = re.compile(r"\s*(?:([^<>@,]*?)\s*<([^<>\s@,]+@[^<>\s@,]+)>|([^<>\s@,]+@[^<>\s@,]+))\s*")


def _addresses(value: str) -> list[tuple[str, str]]:
    if not value:
        return []
    value = _FOLD.sub("", value)
    if _SURROGATE.search(value):
        value = decode_text(value)
    if '"' not in value and "(" not in value and ":" not in value and ";" not in value and "\\" not in value:
        # the common forms (a@b, Name <a@b>, several with commas): read here, ~10x faster than getaddresses
        simple = [_SIMPLE_ADDRESS.fullmatch(part) for part in value.split(",") if part.strip()]
        if all(simple):
            return [((m.group(2) or m.group(3)).lower(), decode_text(m.group(1)) if m.group(1) else "")
                    for m in simple]
    found = []
    for name, address in getaddresses([value]):
        address = address.strip().strip("<>").lower()
        if "@" in address and " " not in address:
            found.append((address, decode_text(name) if name else ""))
    return found


def _message_id(value: str) -> str:
    value = _FOLD.sub("", value).strip()
    match = re.search(r"<[^<>\s]+>", value)
    if match:
        return match.group(0)
    value = value.split()[0] if value.split() else ""
    return f"<{value}>" if value and value.isascii() and value.isprintable() else ""


def is_noreply(address: str) -> bool:
    """noreply@, no-reply@, do-not-reply@, mailer-daemon@, postmaster@ (and the like)."""
    return bool(_NOREPLY.search(address.partition("@")[0]))


# ---- which customer, which way, and whether it is new ----------------------------------

@dataclass
class MailPlan:
    """What an import of many messages would add, and why the rest add nothing."""

    new: dict[str, list[dict]] = field(default_factory=dict)  # handle -> interactions to append, oldest first
    already: int = 0  # (message, customer) pairs already in `existing`, or read twice in this import
    skipped: Counter = field(default_factory=Counter)  # reason -> count: list mail, noreply, ...
    unknown: Counter = field(default_factory=Counter)  # address -> messages, of people not in the book
    names: dict[str, str] = field(default_factory=dict)  # address -> a name seen for it

    @property
    def added(self) -> int:
        return sum(len(rows) for rows in self.new.values())


def plan_mail(messages: Iterable[Message], known: dict[str, tuple[str, ...]], me: Iterable[str],
              existing: dict[str, set[str]], *, since: datetime | None = None, now: datetime | None = None,
              kind: str = "email") -> MailPlan:
    """For each message from or to a known address, one interaction per customer it involves,
    unless that customer already has its Message-ID (`existing`: handle -> ids in the book).

    `known` maps a lower-case address to the handles of the records that list it; `me` are
    your own addresses: a message from one of them was sent (→), any other was received (←).
    """
    mine = {m.lower() for m in me}
    plan = MailPlan()
    seen: dict[str, set[str]] = {h: set(ids) for h, ids in existing.items()}
    latest = now + timedelta(days=1) if now is not None else None
    counted: set[str] = set()  # messages whose unknown people are counted (once, in two folders too)
    for message in messages:
        if message.bulk:
            plan.skipped["mailing list or bulk mail"] += 1
            continue
        if is_noreply(message.sender):
            plan.skipped["from a noreply or system address"] += 1
            continue
        people = [(message.sender, message.sender_name), *message.recipients]
        others = [(a, n) for a, n in people if a not in mine]
        if not others:
            plan.skipped["between your own addresses"] += 1
            continue
        if since is not None and message.at < since:
            plan.skipped["older than --since"] += 1
            continue
        if latest is not None and message.at > latest:
            plan.skipped["dated in the future"] += 1
            continue
        handles: list[str] = []
        first = message.message_id not in counted
        counted.add(message.message_id)
        for address, name in others:
            found = known.get(address)
            if found:
                handles += [h for h in found if h not in handles]
            elif first and not is_noreply(address):
                plan.unknown[address] += 1
                if name and address not in plan.names:
                    plan.names[address] = name
        if not handles:
            plan.skipped["no customer among its addresses"] += 1
            continue
        arrow = SENT if message.sender in mine else RECEIVED
        summary = f"{arrow} {message.subject or '(no subject)'}"
        for handle in handles:
            ids = seen.setdefault(handle, set())
            if message.message_id in ids:
                plan.already += 1
                continue
            ids.add(message.message_id)
            plan.new.setdefault(handle, []).append(
                {"at": message.at, "kind": kind, "summary": summary, "message_id": message.message_id})
    for rows in plan.new.values():
        rows.sort(key=lambda row: row["at"])
    return plan


def address_map(customers: Iterable) -> dict[str, tuple[str, ...]]:
    """Lower-case address -> the handles of the records listing it (built once per import)."""
    found: dict[str, tuple[str, ...]] = {}
    for customer in customers:
        for email in customer.emails:
            key = email.strip().lower()
            if key and customer.handle not in found.get(key, ()):
                found[key] = found.get(key, ()) + (customer.handle,)
    return found


__all__ = ["Message", "Skip", "MailPlan", "header_block", "parse_message", "people_of", "decode_text", "plan_mail",
           "address_map", "is_noreply", "SENT", "RECEIVED"]
