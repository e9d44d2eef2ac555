"""A contact as other tools know it: the fields an address book shares with a record."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crmtui.domain.dates import DateError
from crmtui.domain.record import Customer, parse_birthday


@dataclass
class Contact:
    name: str = ""
    company: str = ""
    title: str = ""
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    birthday: str = ""  # "1984-03-12", or "03-12" without the year
    notes: str = ""
    links: dict[str, str] = field(default_factory=dict)
    uid: str = ""
    where: str = ""  # where it came from, for reports: "line 7", "card 3 (line 40)"

    def tidy(self) -> "Contact":
        """Whitespace trimmed, empty and repeated items dropped (first spelling wins)."""
        self.name = " ".join(self.name.split())
        self.company = " ".join(self.company.split())
        self.title = " ".join(self.title.split())
        self.emails = unique([e.strip().removeprefix("mailto:") for e in self.emails], key=str.lower)
        self.phones = unique([p.strip().removeprefix("tel:") for p in self.phones], key=phone_digits)
        self.tags = unique([" ".join(t.split()) for t in self.tags], key=str.lower)
        self.notes = self.notes.strip()
        self.links = {k: v.strip() for k, v in self.links.items() if v.strip()}
        return self


@dataclass(frozen=True)
class Problem:
    """A row or card that could not be used (or a field that was left out), and where."""

    where: str
    message: str
    skipped: bool = True  # False: the contact was imported, without the field named

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def unique(items, key=lambda x: x) -> list:
    seen, out = set(), []
    for item in items:
        k = key(item)
        if item and k not in seen:
            seen.add(k)
            out.append(item)
    return out


def phone_digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit()) or phone


def normal_birthday(text: str) -> str:
    """'1984-03-12' or '03-12' from the forms address books write; DateError when unreadable."""
    raw = text.strip()
    import re

    raw = re.sub(r"T.*$", "", raw)  # 1984-03-12T00:00:00Z
    compact = re.fullmatch(r"(\d{4}|--)(\d{2})-?(\d{2})", raw)  # 19840312, --0312, --03-12
    if compact:
        year = compact.group(1)
        raw = f"{year}-{compact.group(2)}-{compact.group(3)}" if year != "--" else f"{compact.group(2)}-{compact.group(3)}"
    return str(parse_birthday(raw))


def contact_from_customer(c: Customer) -> Contact:
    return Contact(name=c.name, company=c.company, title=c.title, emails=list(c.emails), phones=list(c.phones),
                   tags=list(c.tags), birthday=str(c.birthday) if c.birthday else "", notes=c.notes,
                   links=dict(c.links), uid=f"crmtui-{c.handle}")


def birthday_value(text: str) -> Any:
    """What to write in TOML for a birthday: a date with the year, else "03-12"."""
    from datetime import date

    b = parse_birthday(text)
    return date(b.year, b.month, b.day) if b.year else str(b)


__all__ = ["Contact", "Problem", "DateError", "normal_birthday", "contact_from_customer", "birthday_value",
           "phone_digits", "unique"]
