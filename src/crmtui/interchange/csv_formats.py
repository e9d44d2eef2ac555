"""CSV contacts in: Google Contacts, LinkedIn Connections, Outlook, crmtui's own
export, any file with plain column names, or a mapping the user gives. CSV out.

The format is recognised by its header row, which need not be the first row
(LinkedIn puts a "Notes:" preamble above it). The delimiter is sniffed from the
header (comma, semicolon or tab). Each row reports its own line number.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Iterable

from crmtui.domain.dates import DateError
from crmtui.domain.search import fold
from crmtui.interchange.contact import Contact, Problem, normal_birthday
from crmtui.interchange.vcard import leave_out_invalid, link_name

TARGETS = ("name", "first_name", "middle_name", "last_name", "prefix", "suffix", "nickname", "company", "title",
           "emails", "phones", "tags", "birthday", "notes", "links", "skip")
ALIASES = {"email": "emails", "mail": "emails", "phone": "phones", "tel": "phones", "tag": "tags", "labels": "tags",
           "note": "notes", "link": "links", "url": "links", "website": "links", "first": "first_name",
           "given": "first_name", "last": "last_name", "family": "last_name", "surname": "last_name",
           "org": "company", "organization": "company", "organisation": "company", "position": "title",
           "job_title": "title", "bday": "birthday", "ignore": "skip", "-": "skip", "full_name": "name"}
SYNONYMS = {
    "name": {"name", "full name", "fullname", "display name", "contact", "contact name", "person"},
    "first_name": {"first name", "firstname", "given name", "first", "forename"},
    "middle_name": {"middle name", "additional name"},
    "last_name": {"last name", "lastname", "surname", "family name", "last"},
    "company": {"company", "organization", "organisation", "org", "employer", "account", "company name",
                "organization name", "firma"},
    "title": {"title", "job title", "position", "role", "job", "organization title"},
    "tags": {"tags", "tag", "labels", "groups", "categories", "group"},
    "birthday": {"birthday", "birth date", "birthdate", "date of birth", "dob", "bday"},
    "notes": {"notes", "note", "comments", "comment", "description"},
    "links": {"website", "url", "web", "homepage", "web page", "linkedin", "profile", "links", "site"},
}
LIST_TARGETS = {"emails", "phones", "tags", "links"}


@dataclass
class Format:
    name: str  # "Google Contacts", "LinkedIn Connections", ...
    columns: list[tuple[int, str]]  # (column index, target)
    multi: str = ""  # the separator of several values in one cell, when the format has one
    us_dates: bool = False  # birthdays written M/D/YYYY

    def describe(self, headers: list[str]) -> str:
        pairs = ", ".join(f"{headers[i]}={t}" for i, t in self.columns if t != "skip")
        return f"{self.name} ({pairs})"


class MappingError(ValueError):
    """A --map the file does not fit; the message says what to write instead."""


def norm(header: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", fold(header)).split())


# ---- recognising a header row --------------------------------------------------------

def _google(headers: list[str]) -> Format | None:
    h = [x.strip() for x in headers]
    if not any(re.fullmatch(r"E-mail \d+ - Value", x) for x in h) and not (
            "Labels" in h and "First Name" in h) and "Group Membership" not in h:
        return None
    fixed = {"First Name": "first_name", "Given Name": "first_name", "Middle Name": "middle_name",
             "Additional Name": "middle_name", "Last Name": "last_name", "Family Name": "last_name",
             "Name Prefix": "prefix", "Name Suffix": "suffix", "Nickname": "nickname",
             "Organization Name": "company", "Organization 1 - Name": "company",
             "Organization Title": "title", "Organization 1 - Title": "title", "Birthday": "birthday",
             "Notes": "notes", "Labels": "tags", "Group Membership": "tags", "Name": "name"}
    columns = []
    for i, x in enumerate(h):
        if x in fixed:
            columns.append((i, fixed[x]))
        elif re.fullmatch(r"E-mail \d+ - Value", x):
            columns.append((i, "emails"))
        elif re.fullmatch(r"Phone \d+ - Value", x):
            columns.append((i, "phones"))
        elif re.fullmatch(r"Website \d+ - Value", x):
            columns.append((i, "links"))
    return Format("Google Contacts", columns, multi=" ::: ")


def _linkedin(headers: list[str]) -> Format | None:
    h = [x.strip() for x in headers]
    if "Connected On" not in h or "First Name" not in h:
        return None
    fixed = {"First Name": "first_name", "Last Name": "last_name", "URL": "links", "Email Address": "emails",
             "Company": "company", "Position": "title"}
    return Format("LinkedIn Connections", [(i, fixed[x]) for i, x in enumerate(h) if x in fixed])


def _outlook(headers: list[str]) -> Format | None:
    h = [x.strip() for x in headers]
    if "E-mail Address" not in h or not ({"Business Phone", "Mobile Phone", "Job Title"} & set(h)):
        return None
    columns = []
    for i, x in enumerate(h):
        if x in ("First Name", "Middle Name", "Last Name", "Suffix"):
            columns.append((i, {"First Name": "first_name", "Middle Name": "middle_name", "Last Name": "last_name",
                                "Suffix": "suffix"}[x]))
        elif x == "Title":
            columns.append((i, "prefix"))
        elif re.fullmatch(r"E-mail( \d)? Address", x):
            columns.append((i, "emails"))
        elif x.endswith("Phone") or re.fullmatch(r".* Phone \d", x):
            columns.append((i, "phones"))
        elif x in ("Company", "Job Title", "Birthday", "Notes", "Categories", "Web Page"):
            columns.append((i, {"Company": "company", "Job Title": "title", "Birthday": "birthday",
                                "Notes": "notes", "Categories": "tags", "Web Page": "links"}[x]))
    return Format("Outlook", columns, multi=";", us_dates=True)


def _crmtui(headers: list[str]) -> Format | None:
    h = [x.strip() for x in headers]
    if h[:2] != ["handle", "name"]:
        return None
    wanted = {"name": "name", "company": "company", "title": "title", "emails": "emails", "phones": "phones",
              "tags": "tags", "birthday": "birthday", "notes": "notes", "links": "links"}
    return Format("crmtui", [(i, wanted[x]) for i, x in enumerate(h) if x in wanted], multi="; ")


def _generic(headers: list[str]) -> Format | None:
    columns = []
    for i, x in enumerate(headers):
        n = norm(x)
        target = next((t for t, names in SYNONYMS.items() if n in names), None)
        if target is None:
            if "email" in n.replace(" ", "") or "e mail" in n or n == "mail":
                target = "emails"
            elif any(w in n.split() for w in ("phone", "mobile", "tel", "telephone", "cell", "handy", "telefon", "mobil")):
                target = "phones"
        if target:
            columns.append((i, target))
    targets = {t for _, t in columns}
    if not ({"name", "first_name", "last_name"} & targets or ("emails" in targets and len(targets) > 1)):
        return None
    return Format("plain columns", columns, multi=";")


RECOGNISERS = (_google, _linkedin, _outlook, _crmtui, _generic)


def recognise(headers: list[str]) -> Format | None:
    for recogniser in RECOGNISERS:
        found = recogniser(headers)
        if found is not None and found.columns:
            return found
    return None


def parse_mapping(text: Iterable[str], headers: list[str]) -> Format:
    """`Full Name=name,Mail=emails` (or several --map) against the file's header row."""
    columns = []
    by_name = {h.strip().lower(): i for i, h in enumerate(headers)}
    for spec in text:
        for part in re.split(r",(?=[^,=]*=)", spec):  # a comma starts a new pair only if an '=' follows
            if not part.strip():
                continue
            column, eq, target = part.rpartition("=")
            column, target = column.strip(), target.strip().lower().replace(" ", "_")
            if not eq or not column:
                raise MappingError(f"--map '{part.strip()}' should be COLUMN=FIELD, like \"Full Name=name\"")
            target = ALIASES.get(target, target)
            if target not in TARGETS:
                raise MappingError(f"--map: '{target}' is not a field; use one of {', '.join(TARGETS)}")
            index = by_name.get(column.lower())
            if index is None:
                shown = ", ".join(f"'{h}'" for h in headers if h.strip())
                raise MappingError(f"--map: the file has no column '{column}'; its columns are {shown}")
            columns.append((index, target))
    if not any(t in ("name", "first_name", "last_name", "emails") for _, t in columns):
        raise MappingError("--map needs a column for the name (=name, or =first_name and =last_name) or =emails")
    return Format("your --map", columns, multi=";")


# ---- reading rows --------------------------------------------------------------------

@dataclass
class CsvResult:
    contacts: list[Contact] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    format: Format | None = None
    headers: list[str] = field(default_factory=list)
    rows: int = 0  # data rows read, empty ones not counted


def sniff_delimiter(line: str) -> str:
    counts = {d: line.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: (counts[d], d == ","))


def _birthday(value: str, us_dates: bool) -> str:
    value = value.strip()
    if not value or value in ("0/0/00", "0/0/0000", "00.00.0000"):
        return ""
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})", value)
    if m and us_dates:
        month, day, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        year = year + (1900 if year > 30 else 2000) if year < 100 else year
        value = f"{year:04d}-{month:02d}-{day:02d}"
    m = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", value)
    if m:
        value = f"{int(m.group(3)):04d}-{int(m.group(2)):02d}-{int(m.group(1)):02d}"
    return normal_birthday(value)


def _split(value: str, target: str, multi: str) -> list[str]:
    parts = [value]
    for sep in {" ::: ", multi.strip() or ";"} if target in LIST_TARGETS else ():
        parts = [p for part in parts for p in part.split(sep)]
    if target in ("emails", "tags") and multi != " ::: ":
        parts = [p for part in parts for p in part.split(",")]
    return [p.strip() for p in parts if p.strip()]


def row_to_contact(row: list[str], fmt: Format, where: str) -> tuple[Contact | None, list[Problem]]:
    values: dict[str, list[str]] = {}
    for index, target in fmt.columns:
        if target == "skip" or index >= len(row):
            continue
        cell = row[index].strip()
        if not cell:
            continue
        if target in LIST_TARGETS:
            values.setdefault(target, []).extend(_split(cell, target, fmt.multi))
        else:
            values.setdefault(target, []).append(cell)
    one = lambda key: " ".join(values.get(key, []))  # noqa: E731
    problems = []
    contact = Contact(where=where)
    contact.name = one("name") or " ".join(  # a prefix (Dr., Mr.) is not part of the name to match on
        x for x in (one("first_name"), one("middle_name"), one("last_name"), one("suffix")) if x)
    contact.name = contact.name or one("nickname")
    contact.company = (values.get("company") or [""])[0]
    contact.title = (values.get("title") or [""])[0]
    contact.emails = values.get("emails", [])
    contact.phones = values.get("phones", [])
    contact.tags = [t.lstrip("* ").strip() for t in values.get("tags", [])
                    if not t.startswith("* ") or t.lstrip("* ").lower() not in ("mycontacts", "starred", "other contacts")]
    contact.notes = "\n\n".join(values.get("notes", []))
    for url in values.get("links", []):
        named = re.fullmatch(r"([\w.-]+)=(\S+)", url)  # crmtui's own export: name=url
        if named:
            contact.links[named.group(1)] = named.group(2)
        elif "linkedin" in fmt.name.lower() or re.match(r"^(https?://|www\.)", url, re.I) or "." in url:
            contact.links[link_name(url, [], contact.links)] = url
    for raw in values.get("birthday", []):
        try:
            contact.birthday = _birthday(raw, fmt.us_dates)
        except DateError:
            problems.append(Problem(where, f"birthday '{raw}' is not a date; imported without it", skipped=False))
    contact.tidy()
    problems += leave_out_invalid(contact, where)
    if not contact.name:
        contact.name = contact.company or (contact.emails[0] if contact.emails else "")
    if not contact.name:
        if any(v for v in values.values()):
            problems.append(Problem(where, "no name, company or email in this row; skipped"))
        return None, problems
    return contact, problems


def read_csv(text: str, mapping: Iterable[str] = ()) -> CsvResult:
    """Contacts from CSV text. Raises MappingError when the file cannot be understood."""
    text = text.removeprefix("\ufeff")
    lines = re.split(r"\r\n|\r|\n", text)
    mapping = [m for m in mapping if m.strip()]
    result = CsvResult()
    header_line = None
    fmt = None
    first_error: MappingError | None = None
    for number, line in enumerate(lines[:25]):
        if not line.strip():
            continue
        try:
            headers = next(csv.reader([line], delimiter=sniff_delimiter(line)))
        except csv.Error:
            continue
        if mapping:
            try:
                fmt = parse_mapping(mapping, headers)
            except MappingError as error:
                first_error = first_error or error
                continue
        else:
            fmt = recognise(headers)
        if fmt is not None:
            header_line, result.headers = number, headers
            break
    if fmt is None:
        if first_error is not None:
            raise first_error
        first = next((x for x in lines if x.strip()), "")
        if not first:
            raise MappingError("the file is empty")
        shown = first if len(first) < 120 else first[:117] + "..."
        raise MappingError(f"cannot tell which column is the name from the header '{shown}'; "
                           "say it with --map, e.g. --map \"Full Name=name,Mail=emails\"")
    result.format = fmt
    delimiter = sniff_delimiter(lines[header_line])
    body = "\n".join(lines[header_line + 1:])
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=delimiter, strict=False)
    width = len(result.headers)
    last_end = header_line + 1  # physical line numbers are 1-based; the header is line header_line+1
    while True:
        start = last_end + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            result.problems.append(Problem(f"line {start}", f"cannot read the rest of the file ({error})"))
            break
        end = header_line + 1 + reader.line_num
        last_end = end
        if not any(cell.strip() for cell in row):
            continue
        result.rows += 1
        where = f"line {start}"
        if end > start and len(row) < width and any("\n" in cell for cell in row):
            result.problems.append(Problem(where, f"a quote opened here is not closed (the row runs to line {end}); "
                                                  "skipped"))
            continue
        if len(row) > width and any(cell.strip() for cell in row[width:]):
            result.problems.append(Problem(where, f"{len(row)} fields where the header has {width} "
                                                  "(a comma outside quotes?); skipped"))
            continue
        contact, problems = row_to_contact(row, fmt, where)
        result.problems += problems
        if contact is not None:
            result.contacts.append(contact)
    return result


# ---- writing -------------------------------------------------------------------------

def write_csv(header: list[str], rows: Iterable[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
