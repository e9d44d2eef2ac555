"""Who is who: matching an incoming contact to a record, scoring likely duplicates,
and planning what an update or a merge adds to a record. Plain data in and out.

A contact matches a record by email first, then by phone number (compared by
their last nine digits, so +34 600 123 456 is 600123456), then by a very close
name, unless the two name different companies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Iterable

from rapidfuzz import fuzz, process

from crmtui.domain.record import Customer
from crmtui.domain.search import fold
from crmtui.interchange.contact import Contact, birthday_value

NAME_MATCH = 95  # token-sorted similarity an import needs to take a name as the same person
NAME_DUPLICATE = 88  # what `crmtui duplicates` needs, with the same company
COMPANY_SAME = 85
LEGAL = {"inc", "incorporated", "ltd", "limited", "llc", "gmbh", "ag", "sa", "sl", "srl", "bv", "nv", "corp",
         "corporation", "co", "company", "plc", "oy", "ab", "as", "spa", "sas", "sarl", "kg", "pty", "the"}


# ---- keys ----------------------------------------------------------------------------

def email_key(email: str) -> str:
    return email.strip().lower().removeprefix("mailto:")


def phone_key(phone: str) -> str:
    """A bucket for phone numbers (their last eight digits); `same_phone` decides."""
    digits = re.sub(r"\D", "", phone)
    return digits[-8:] if len(digits) >= 6 else ""


def _phone_parts(phone: str) -> tuple[str, bool]:
    text = phone.strip().removeprefix("tel:")
    digits = re.sub(r"\D", "", text)
    international = text.startswith("+") or digits.startswith("00")
    if digits.startswith("00"):
        digits = digits[2:]
    return digits, international


def same_phone(a: str, b: str) -> bool:
    """The same number, written with or without its country code and trunk 0:
    +34 600 123 456 is 600 123 456, and +31 6 1234 5678 is 06 1234 5678."""
    (da, ia), (db, ib) = _phone_parts(a), _phone_parts(b)
    if len(da) < 6 or len(db) < 6:
        return False
    if da == db:
        return True
    (short, short_intl), (long, _) = sorted(((da, ia), (db, ib)), key=lambda x: len(x[0]))
    national = short.lstrip("0")
    return (not short_intl and len(national) >= 7 and long.endswith(national)
            and 1 <= len(long) - len(national) <= 3)


def name_key(name: str) -> str:
    text = fold(name)
    if text.count(",") == 1:  # "López, Ana"
        last, first = text.split(",")
        text = f"{first} {last}"
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def company_key(company: str) -> str:
    words = re.sub(r"[^\w]+", " ", fold(company)).split()
    kept = [w for w in words if w not in LEGAL]
    return " ".join(kept or words)


def _digits(text: str) -> list[str]:
    return re.findall(r"\d+", text)


def close_names(a: str, b: str, cutoff: float) -> float:
    """Similarity of two name keys, 0 when they differ in their numbers (Person 1, Person 2)."""
    if _digits(a) != _digits(b):
        return 0.0
    score = fuzz.token_sort_ratio(a, b)
    return score if score >= cutoff else 0.0


def companies_differ(a: str, b: str) -> bool:
    ka, kb = company_key(a), company_key(b)
    return bool(ka and kb) and (fuzz.ratio(ka, kb) < COMPANY_SAME or _digits(ka) != _digits(kb))


@dataclass
class Known:
    """What matching needs of a record."""

    handle: str
    name: str
    company: str = ""
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()

    @classmethod
    def of(cls, c: Customer) -> "Known":
        return cls(c.handle, c.name, c.company, tuple(c.emails), tuple(c.phones))


@dataclass(frozen=True)
class Match:
    handle: str
    reason: str  # "email ana@acme.example", "phone 600123456", "name"


class Matcher:
    def __init__(self, known: Iterable[Known] = ()):
        self.by_email: dict[str, str] = {}
        self.by_phone: dict[str, list[tuple[str, str]]] = {}  # bucket -> [(number, handle)]
        self.by_name: dict[str, str] = {}
        self.records: dict[str, Known] = {}
        self._names: list[str] = []
        self._handles: list[str] = []
        for k in known:
            self.add(k)

    def add(self, k: Known) -> None:
        """Index a record (again, after an update: its new emails and phones join)."""
        first = k.handle not in self.records
        self.records[k.handle] = k
        for e in k.emails:
            self.by_email.setdefault(email_key(e), k.handle)
        for p in k.phones:
            if phone_key(p):
                self.by_phone.setdefault(phone_key(p), []).append((p, k.handle))
        key = name_key(k.name)
        if first and key:
            self.by_name.setdefault(key, k.handle)
            self._names.append(key)
            self._handles.append(k.handle)

    def match(self, contact: Contact) -> Match | None:
        if contact.uid.startswith("crmtui-"):  # exported by crmtui: the record it came from, if still that person
            known = self.records.get(contact.uid[len("crmtui-"):])
            if known and fuzz.token_sort_ratio(name_key(contact.name), name_key(known.name)) >= 80:
                return Match(known.handle, "uid")
        for e in contact.emails:
            handle = self.by_email.get(email_key(e))
            if handle:
                return Match(handle, f"email {e}")
        for p in contact.phones:
            for number, handle in self.by_phone.get(phone_key(p), []) if phone_key(p) else ():
                if same_phone(p, number):
                    return Match(handle, f"phone {p}")
        key = name_key(contact.name)
        if not key:
            return None
        handle = self.by_name.get(key)
        if handle is None and len(key) >= 5:
            found = process.extract(key, self._names, scorer=fuzz.token_sort_ratio, score_cutoff=NAME_MATCH, limit=5)
            handle = next((self._handles[i] for _, _, i in found if close_names(key, self._names[i], NAME_MATCH)),
                          None)
        if handle and not companies_differ(contact.company, self.records[handle].company):
            return Match(handle, "name")
        return None


# ---- duplicates ----------------------------------------------------------------------

@dataclass
class Duplicate:
    a: str
    b: str
    score: int
    reasons: list[str] = field(default_factory=list)


def find_duplicates(known: list[Known]) -> list[Duplicate]:
    """Likely duplicate pairs, best first: the same email or phone, close names at the
    same company, or the very same name with nothing telling them apart."""
    pairs: dict[tuple[str, str], dict[str, float]] = {}

    def note(a: str, b: str, reason: str, score: float) -> None:
        if a == b:
            return
        key = (a, b) if a < b else (b, a)
        reasons = pairs.setdefault(key, {})
        reasons[reason] = max(score, reasons.get(reason, 0))

    for keyer, label, score, attr, same in ((email_key, "same email", 95, "emails", str.__eq__),
                                            (phone_key, "same phone", 85, "phones", same_phone)):
        groups: dict[str, list[tuple[str, str]]] = {}
        for k in known:
            for value in getattr(k, attr):
                if keyer(value):
                    groups.setdefault(keyer(value), []).append((value, k.handle))
        for group in groups.values():
            for i, (va, a) in enumerate(group):
                for vb, b in group[i + 1:]:
                    if same(keyer(va), keyer(vb)) if attr == "emails" else same(va, vb):
                        note(a, b, f"{label} {va}", score)

    by_company: dict[str, list[Known]] = {}
    for k in known:
        if company_key(k.company):
            by_company.setdefault(company_key(k.company), []).append(k)
    for group in by_company.values():
        names = [name_key(k.name) for k in group]
        for i, a in enumerate(group):
            for j in range(i + 1, len(group)):
                similarity = close_names(names[i], names[j], NAME_DUPLICATE)
                if similarity:
                    note(a.handle, group[j].handle, f"close names at {a.company} ({similarity:.0f}%)",
                         50 + similarity * 0.4)

    by_name: dict[str, list[Known]] = {}
    for k in known:
        by_name.setdefault(name_key(k.name), []).append(k)
    for key, group in by_name.items():
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                if not companies_differ(a.company, b.company) and not (company_key(a.company) and
                                                                       company_key(a.company) == company_key(b.company)):
                    note(a.handle, b.handle, "same name", 60)

    out = []
    for (a, b), reasons in pairs.items():
        miss = 1.0
        for s in reasons.values():
            miss *= 1 - s / 100
        score = min(99, round(100 * (1 - miss)))
        out.append(Duplicate(a, b, score, sorted(reasons, key=lambda r: -reasons[r])))
    out.sort(key=lambda d: (-d.score, d.a, d.b))
    return out


# ---- plans: what an import or a merge adds to a record -------------------------------

@dataclass
class Plan:
    """Edits to one record, applied by the storage layer with tomlkit."""

    set: dict[str, Any] = field(default_factory=dict)  # top-level keys written (new or replaced)
    add: dict[str, list[str]] = field(default_factory=dict)  # items appended to emails, phones, tags
    links: dict[str, str] = field(default_factory=dict)
    tables: dict[str, list[dict]] = field(default_factory=dict)  # deals, reminders, interactions appended
    notes: str = ""  # appended to the notes after a blank line
    changes: list[str] = field(default_factory=list)  # in words, for reports and commit messages
    kept: list[str] = field(default_factory=list)  # differences where the book's value was kept

    @property
    def empty(self) -> bool:
        return not (self.set or any(self.add.values()) or self.links or any(self.tables.values()) or self.notes)


def _new_phones(existing: list[str], incoming: list[str]) -> list[str]:
    have = list(existing)
    out = []
    for item in incoming:
        digits = re.sub(r"\D", "", item) or item.strip()
        if digits and not any(same_phone(item, x) or (re.sub(r"\D", "", x) or x.strip()) == digits for x in have):
            have.append(item)
            out.append(item)
    return out


def _new_items(existing: list[str], incoming: list[str], key) -> list[str]:
    if key is None:
        return _new_phones(existing, incoming)
    have = {key(x) for x in existing}
    out = []
    for item in incoming:
        if key(item) and key(item) not in have:
            have.add(key(item))
            out.append(item)
    return out


def _link_name(base: str, links: dict[str, str]) -> str:
    name, n = base, 2
    while name in links:
        name, n = f"{base}-{n}", n + 1
    return name


def _add_links(plan: Plan, existing: dict[str, str], incoming: dict[str, str]) -> None:
    urls = {u.rstrip("/").lower() for u in existing.values()}
    taken = dict(existing)
    for name, url in incoming.items():
        if url.rstrip("/").lower() in urls:
            continue
        final = _link_name(name, taken)
        taken[final] = url
        urls.add(url.rstrip("/").lower())
        plan.links[final] = url
        plan.changes.append(f"link added: {final}")


def update_plan(existing: Customer, incoming: Contact, *, overwrite: bool = False, tags: Iterable[str] = ()) -> Plan:
    """What an imported contact adds to the record it matched.

    Empty fields are filled and new emails, phones, tags and links added; where
    both have a different company, title or birthday the book's is kept, unless
    `overwrite`. Notes from the file that the record does not contain yet are
    appended, never replaced.
    """
    plan = Plan()
    for key in ("company", "title"):
        mine, theirs = getattr(existing, key), getattr(incoming, key)
        if theirs and not mine:
            plan.set[key] = theirs
            plan.changes.append(f"{key}: {theirs}")
        elif theirs and fold(theirs) != fold(mine):
            if overwrite:
                plan.set[key] = theirs
                plan.changes.append(f"{key}: {mine} -> {theirs}")
            else:
                plan.kept.append(f"{key} '{mine}' (the file has '{theirs}')")
    for key, keyer in (("emails", email_key), ("phones", None), ("tags", lambda t: fold(t.strip()))):
        items = list(getattr(incoming, key)) + (list(tags) if key == "tags" else [])
        new = _new_items(getattr(existing, key), items, keyer)
        if new:
            plan.add[key] = new
            plan.changes += [f"{key[:-1]} added: {x}" for x in new]
    if incoming.birthday:
        mine = str(existing.birthday) if existing.birthday else ""
        theirs = incoming.birthday
        gains_year = bool(mine) and len(mine) == 5 and theirs.endswith(mine) and len(theirs) == 10
        if not mine or gains_year or (overwrite and theirs != mine):
            plan.set["birthday"] = birthday_value(theirs)
            plan.changes.append(f"birthday: {theirs}")
        elif theirs != mine and not theirs == mine[5:]:
            plan.kept.append(f"birthday {mine} (the file has {theirs})")
    note = incoming.notes.strip()
    if note and " ".join(note.split()) not in " ".join(existing.notes.split()):
        plan.notes = note
        plan.changes.append("notes added")
    _add_links(plan, existing.links, incoming.links)
    return plan


def new_record_data(contact: Contact, *, stage: str = "prospect", tags: Iterable[str] = ()) -> dict[str, Any]:
    """The keys of a new record made from a contact, in the order `crmtui add` writes them."""
    data: dict[str, Any] = {"name": contact.name}
    for key in ("company", "title"):
        if getattr(contact, key):
            data[key] = getattr(contact, key)
    all_tags = list(contact.tags) + _new_items(contact.tags, list(tags), lambda t: fold(t.strip()))
    for key, values in (("emails", contact.emails), ("phones", contact.phones), ("tags", all_tags)):
        if values:
            data[key] = list(values)
    data["stage"] = stage
    if contact.birthday:
        data["birthday"] = birthday_value(contact.birthday)
    if contact.notes:
        data["notes"] = contact.notes
    if contact.links:
        data["links"] = dict(contact.links)
    return data


# ---- merging two records -------------------------------------------------------------

SCALARS = ("company", "title", "stage", "tier", "owner", "birthday", "keep_in_touch", "referred_by")
LISTS = {"emails": email_key, "phones": None, "tags": lambda t: fold(t.strip())}
TABLES = ("deals", "reminders", "interactions")


def _texts(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _show(value: Any) -> str:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return ", ".join(f"{k} = {_show(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return fold(a.strip()) == fold(b.strip())
    return a == b


def merge_plan(keep: dict[str, Any], other: dict[str, Any], keep_handle: str, other_handle: str,
               today: date) -> Plan:
    """What KEEP gains from OTHER so that nothing OTHER holds is lost.

    Lists and [links] are united, [[deals]], [[reminders]] and [[interactions]]
    entries KEEP lacks are appended, keys KEEP lacks are taken; where both hold a
    different value KEEP's stays and OTHER's is written into the notes, with
    OTHER's own notes, under a line saying where they came from.
    """
    plan = Plan()
    aside: list[str] = []
    other_name = str(other.get("name", other_handle))
    if not _same(keep.get("name", ""), other_name):
        aside.append(f"name: {other_name}")
    for key, value in other.items():
        if key in ("name", "notes", "links", *LISTS, *TABLES):
            continue
        if key == "referred_by" and value in (keep_handle, other_handle):
            continue  # a referral between the two would point at itself
        mine = keep.get(key)
        if mine is None or (isinstance(mine, str) and not mine.strip()):
            plan.set[key] = value
            plan.changes.append(f"{key}: {_show(value)}")
        elif key == "birthday" and isinstance(mine, str) and not isinstance(value, str) \
                and mine.lstrip("-") == f"{value.month:02d}-{value.day:02d}":
            plan.set[key] = value  # the other knows the year
            plan.changes.append(f"birthday: {_show(value)}")
        elif not _same(mine, value) and not (key == "company" and isinstance(mine, str) and isinstance(value, str)
                                             and company_key(mine) == company_key(value)):
            if key == "birthday" and isinstance(value, str) and not isinstance(mine, str) \
                    and value.lstrip("-") == f"{mine.month:02d}-{mine.day:02d}":
                continue
            aside.append(f"{key}: {_show(value)}")
    for key, keyer in LISTS.items():
        new = _new_items(_texts(keep.get(key)), _texts(other.get(key)), keyer)
        if new:
            plan.add[key] = new
            plan.changes += [f"{key[:-1]} added: {x}" for x in new]
    other_links = other.get("links") if isinstance(other.get("links"), dict) else {}
    _add_links(plan, keep.get("links") if isinstance(keep.get("links"), dict) else {}, other_links)
    for key in TABLES:
        mine = keep.get(key) if isinstance(keep.get(key), list) else []
        theirs = other.get(key) if isinstance(other.get(key), list) else []
        new = [t for t in theirs if t not in mine]
        if new:
            plan.tables[key] = new
            plan.changes.append(f"+{len(new)} {key[:-1] if len(new) == 1 else key}")
    other_notes = str(other.get("notes") or "").strip()
    keep_notes = " ".join(str(keep.get("notes") or "").split())
    carry = other_notes if other_notes and " ".join(other_notes.split()) not in keep_notes else ""
    if aside or carry:
        lines = [f"Merged from {other_name} ({other_handle}) on {today.isoformat()}:"]
        lines += aside
        if carry:
            lines += ["", carry] if aside else [carry]
        plan.notes = "\n".join(lines)
        plan.changes.append("notes added")
    return plan


def apply_plan(data: dict[str, Any], plan: Plan) -> dict[str, Any]:
    """The record's plain data with a plan applied (what the file will hold after)."""
    out = dict(data)
    out.update(plan.set)
    for key, items in plan.add.items():
        out[key] = _texts(out.get(key)) + list(items)
    if plan.links:
        out["links"] = {**(out.get("links") or {}), **plan.links}
    for key, rows in plan.tables.items():
        out[key] = list(out.get(key) or []) + [dict(r) for r in rows]
    if plan.notes:
        mine = str(out.get("notes") or "").rstrip()
        out["notes"] = f"{mine}\n\n{plan.notes}" if mine else plan.notes
    return out
