"""The interchange use cases: import (match, add or update, one commit), merge two
records (one commit), find duplicates, and the exports.

Writes go through the book's one write path (session.transaction()), so a
record's comments and layout survive an import or a merge, and if anything fails
half way the files already written are put back and nothing is committed.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable

import tomlkit
from tomlkit.items import Array, InlineTable, Table

from crmtui.domain.record import Customer, customer_from_data
from crmtui.domain.slug import unique_handle
from crmtui.errors import CrmError
from crmtui.interchange import csv_formats, ics, vcard
from crmtui.interchange.contact import Contact, Problem, contact_from_customer
from crmtui.interchange.matching import (Duplicate, Known, Matcher, Plan, apply_plan, find_duplicates, merge_plan,
                                         new_record_data, update_plan)
from crmtui.storage.atomic import atomic_write
from crmtui.storage.record_file import append_table, check_text
from crmtui.storage.toml_text import decode

Progress = Callable[[int, int], None]
VCARD_SUFFIXES = (".vcf", ".vcard")


# ---- reading sources -----------------------------------------------------------------

def read_vcard_source(path: Path) -> tuple[list[Contact], list[Problem]]:
    """A .vcf file with any number of cards, or a folder of them (khard's layout)."""
    path = Path(path).expanduser()
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in VCARD_SUFFIXES and p.is_file())
        if not files:
            raise CrmError(f"{path} holds no .vcf files")
    elif path.is_file():
        files = [path]
    else:
        raise CrmError(f"no file or folder at {path}")
    contacts: list[Contact] = []
    problems: list[Problem] = []
    for file in files:
        label = file.name if file == path else file.relative_to(path).as_posix()
        found, trouble = vcard.read_vcards(vcard.decode_bytes(_read(file)), label)
        contacts += found
        problems += trouble
    return contacts, problems


def read_csv_source(path: Path, mapping: list[str]) -> csv_formats.CsvResult:
    path = Path(path).expanduser()
    if path.is_dir():
        raise CrmError(f"{path} is a folder; give the .csv file")
    if not path.is_file():
        raise CrmError(f"no file at {path}")
    raw = _read(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("utf-16") if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else raw.decode("cp1252", "replace")
    try:
        result = csv_formats.read_csv(text, mapping)
    except csv_formats.MappingError as error:
        raise CrmError(f"{path.name}: {error}") from None
    for contact in result.contacts:
        contact.where = f"{path.name}: {contact.where}"
    result.problems = [Problem(f"{path.name}: {p.where}", p.message, p.skipped) for p in result.problems]
    return result


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise CrmError(f"cannot read {path}: {error.strerror}") from None


# ---- import --------------------------------------------------------------------------

@dataclass
class Action:
    kind: str  # "add", "update", "unchanged", or "same" (a person the file lists again)
    handle: str
    name: str
    where: str
    reason: str = ""  # what matched: "email ana@acme.example", "phone ...", "name"
    changes: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    source: str
    actions: list[Action] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    subject: str = ""  # the commit's subject, empty when nothing was committed
    dry_run: bool = False

    def count(self, kind: str) -> int:
        return sum(1 for a in self.actions if a.kind == kind)

    @property
    def bad(self) -> int:
        return sum(1 for p in self.problems if p.skipped)

    @property
    def skipped(self) -> int:
        return self.count("unchanged") + self.count("same") + self.bad

    def summary(self) -> str:
        added, updated = self.count("add"), self.count("update")
        parts = [f"{added} added", f"{updated} updated", f"{self.skipped} skipped"]
        why = []
        if self.count("unchanged"):
            why.append(f"{self.count('unchanged')} already up to date")
        if self.count("same"):
            why.append(f"{self.count('same')} listed twice, combined")
        if self.bad:
            why.append(f"{self.bad} with errors")
        return ", ".join(parts) + (f" ({', '.join(why)})" if why else "")


def _record_data(service, handle: str) -> dict[str, Any]:
    rel = service.book.rel(handle)
    text = decode((service.book.root / rel).read_bytes())
    data, _, problem = check_text(rel, handle, text)
    if problem:
        raise CrmError(f"{problem}; fix it first with: crmtui edit {handle}")
    return data


def import_contacts(service, contacts: list[Contact], problems: list[Problem], source: str, *,
                    dry_run: bool = False, stage: str = "prospect", tags: list[str] | tuple = (),
                    overwrite: bool = False, progress: Progress | None = None) -> ImportReport:
    """Add or update one record per contact; one commit for the whole file.

    A contact matches a record by email, then phone, then a very close name, among
    the book's records and the ones this import has added, so a file listing the
    same person twice, or imported twice, never makes a duplicate.
    """
    from crmtui.usecases.records import _handle_source

    stage = stage.lower()
    from crmtui.domain.record import STAGES

    if stage not in STAGES:
        raise CrmError(f"unknown stage '{stage}'; use one of {', '.join(STAGES)}")
    tags = [t.strip() for t in tags if t.strip()]
    report = ImportReport(source, problems=list(problems), dry_run=dry_run)
    with ExitStack() as stack:
        tx = None if dry_run else stack.enter_context(service.transaction())  # the lock, held to the commit
        if tx is not None:
            service.reload()
        snapshot = service.snapshot
        matcher = Matcher(Known.of(c) for c in snapshot.customers)
        taken = set(snapshot.records) | {p.stem for p in service.book.customer_paths()}
        data: dict[str, dict[str, Any]] = {}  # the plain data of every record touched, as it will be
        new: set[str] = set()
        plans: dict[str, list[Plan]] = {}
        total = len(contacts)
        steps = total * 2 if not dry_run else total
        for number, contact in enumerate(contacts, start=1):
            if progress and number % 50 == 0:
                progress(number, steps)
            match = matcher.match(contact)
            if match is None:
                handle = unique_handle(_handle_source(contact.name, contact.company, contact.emails), taken)
                taken.add(handle)
                new.add(handle)
                data[handle] = new_record_data(contact, stage=stage, tags=tags)
                report.actions.append(Action("add", handle, contact.name, contact.where))
            else:
                handle = match.handle
                if handle not in data:
                    try:
                        data[handle] = _record_data(service, handle)
                    except (CrmError, OSError) as error:
                        report.problems.append(Problem(contact.where, f"matches {handle}, which cannot be "
                                                                      f"updated ({error}); skipped"))
                        continue
                current = customer_from_data(handle, data[handle])
                plan = update_plan(current, contact, overwrite=overwrite, tags=tags)
                if plan.empty:
                    report.actions.append(Action("unchanged", handle, current.name, contact.where, match.reason,
                                                 kept=plan.kept))
                    continue
                data[handle] = apply_plan(data[handle], plan)
                if handle not in new:
                    plans.setdefault(handle, []).append(plan)
                report.actions.append(Action("update", handle, current.name, contact.where, match.reason,
                                             plan.changes, plan.kept))
            c = customer_from_data(handle, data[handle])
            matcher.add(Known.of(c))
        # an "update" of a record this same import added is part of adding it
        added_here = {a.handle: a.where for a in report.actions if a.kind == "add"}
        for action in report.actions:
            if action.kind in ("update", "unchanged") and action.handle in added_here:
                action.kind = "same"
                action.reason = f"the same person as {added_here[action.handle]} ({action.reason})"
        if dry_run:
            return report
        touched = sorted(new | set(plans))
        if not touched:
            return report
        try:
            for number, handle in enumerate(touched, start=1):
                if progress and number % 50 == 0:
                    progress(total + number * total // len(touched), steps)
                rel = service.book.rel(handle)
                if handle in new:
                    tx.create(rel, _new_doc(data[handle]))
                else:
                    tx.edit(rel, lambda doc, h=handle: [_apply_to_doc(doc, p) for p in plans[h]])
            added, updated = report.count("add"), report.count("update")
            read = len(report.actions)
            subject = (f"Import {read} contact{'s' if read != 1 else ''} from {source}: "
                       f"{added} added, {updated} updated")
            body = _import_body(report)
            tx.commit(subject + ("\n\n" + body if body else ""))
        except OSError as error:
            raise CrmError(f"cannot write {error.filename or 'the book'}: {error.strerror}; nothing was imported") from None
    if progress:
        progress(steps, steps)
    report.subject = subject
    service.reload()
    return report


def _import_body(report: ImportReport) -> str:
    lines = []
    for action in report.actions:
        if action.kind == "add":
            lines.append(f"Added {action.name} ({action.handle})")
        elif action.kind == "update":
            lines.append(f"Updated {action.name} ({action.handle}): {'; '.join(action.changes)}")
    skipped = [p for p in report.problems if p.skipped]
    if skipped:
        lines.append("")
        lines += [f"Skipped {p}" for p in skipped]
    if len(lines) > 300:
        lines = lines[:300] + [f"... and {len(lines) - 300} more"]
    return "\n".join(lines)


def _toml_value(key: str, value: Any) -> Any:
    if isinstance(value, str) and "\n" in value:
        return tomlkit.string(value, multiline=True)
    return value


def _new_doc(data: dict[str, Any]) -> tomlkit.TOMLDocument:
    doc = tomlkit.document()
    for key, value in data.items():
        if key == "links":
            table = tomlkit.table()
            for name, url in value.items():
                table[name] = url
            doc.add(tomlkit.nl())
            doc[key] = table
        elif key in ("deals", "reminders", "interactions"):
            for row in value:
                append_table(doc, key, row)
        else:
            doc[key] = _toml_value(key, value)
    return doc


def _apply_to_doc(doc: tomlkit.TOMLDocument, plan: Plan) -> None:
    """A plan as surgical tomlkit edits: keys set, items appended, tables appended."""
    for key, value in plan.set.items():
        doc[key] = _toml_value(key, value)
    for key, items in plan.add.items():
        existing = doc.get(key)
        if isinstance(existing, Array):
            for item in items:
                existing.append(item)
        elif isinstance(existing, str):
            doc[key] = [str(existing), *items]
        else:
            doc[key] = list(items)
    if plan.links:
        links = doc.get("links")
        if isinstance(links, (Table, InlineTable)):
            for name, url in plan.links.items():
                links[name] = url
        else:
            doc["links"] = dict(plan.links)
    for key, rows in plan.tables.items():
        for row in rows:
            append_table(doc, key, row)
    if plan.notes:
        mine = str(doc.get("notes") or "").rstrip()
        doc["notes"] = _toml_value("notes", f"{mine}\n\n{plan.notes}" if mine else plan.notes + "\n")


# ---- duplicates and merge ------------------------------------------------------------

def duplicates(service) -> list[Duplicate]:
    return find_duplicates([Known.of(c) for c in service.customers])


@dataclass
class MergeResult:
    keep: Customer
    other: Customer
    plan: Plan
    referrers: list[str]
    subject: str = ""


def merge(service, keep: Customer, other: Customer, dry_run: bool = False) -> MergeResult:
    """Fold OTHER into KEEP, remove OTHER, point OTHER's referrals at KEEP: one commit."""
    if keep.handle == other.handle:
        raise CrmError(f"KEEP and OTHER are the same record ({keep.handle}); name two different ones")
    with ExitStack() as stack:
        tx = None if dry_run else stack.enter_context(service.transaction())  # the lock, held to the commit
        if tx is not None:
            for handle in (keep.handle, other.handle):
                if service.git.pending(service.book.rel(handle)):
                    raise CrmError(f"{service.book.rel(handle)} has uncommitted changes that do not validate; "
                                   f"fix them first (crmtui edit {handle}); nothing was merged")
        keep_data = _record_data(service, keep.handle)
        other_data = _record_data(service, other.handle)
        plan = merge_plan(keep_data, other_data, keep.handle, other.handle, service.today())
        referrers = sorted(c.handle for c in service.customers
                           if c.referred_by == other.handle and c.handle not in (keep.handle, other.handle))
        result = MergeResult(keep, other, plan, referrers)
        subject = f"Merge {other.name} ({other.handle}) into {keep.name}"
        if keep.name == other.name:
            subject = f"Merge {other.handle} into {keep.handle} ({keep.name})"
        result.subject = subject
        if dry_run:
            return result
        paths = [service.book.rel(keep.handle), service.book.rel(other.handle)]
        try:
            tx.edit(paths[0], lambda doc: _apply_to_doc(doc, plan))
            for handle in referrers:
                def point(doc):
                    doc["referred_by"] = keep.handle

                tx.edit(service.book.rel(handle), point)
            tx.remove(paths[1])
            body = [f"Kept {keep.handle}; removed {other.handle}."]
            if plan.changes:
                body.append("Gained: " + "; ".join(plan.changes))
            if referrers:
                body.append("Referrals moved to it: " + ", ".join(referrers))
            tx.commit(subject + "\n\n" + "\n".join(body))
        except OSError as error:
            raise CrmError(f"cannot write {error.filename or 'the book'}: {error.strerror}; nothing was merged") from None
    service.reload()
    result.keep = service.snapshot.customer(keep.handle) or keep
    return result


# ---- exports -------------------------------------------------------------------------

def _sorted(service) -> list[Customer]:
    return sorted(service.customers, key=lambda c: c.handle)


def vcards_text(service) -> str:
    return "".join(vcard.write_vcard(contact_from_customer(c)) for c in _sorted(service))


def write_vcard_folder(service, folder: Path) -> tuple[int, int]:
    """One <handle>.vcf per record; cards crmtui wrote earlier for records now gone are removed.
    Returns (written or already current, removed)."""
    folder.mkdir(parents=True, exist_ok=True)
    wanted = {}
    for c in _sorted(service):
        wanted[f"{c.handle}.vcf"] = vcard.write_vcard(contact_from_customer(c)).encode("utf-8")
    for name, data in wanted.items():
        path = folder / name
        if not path.exists() or path.read_bytes() != data:
            atomic_write(path, data)
    removed = 0
    for path in folder.glob("*.vcf"):
        if path.name in wanted:
            continue
        try:
            ours = b"\r\nUID:crmtui-" in path.read_bytes()
        except OSError:
            continue
        if ours:
            path.unlink()
            removed += 1
    return len(wanted), removed


def calendar_text(service) -> str:
    """The calendar; an event whose date no calendar can hold is left out, and the notices say which."""
    notices: list[str] = []
    text = ics.write_calendar(_sorted(service), service.today(), service.now(), notices=notices)
    service.git.notices.extend(notices)
    return text


def _plain(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def customer_record(service, c: Customer) -> dict[str, Any]:
    st = service.standing(c)
    out = {
        "handle": c.handle, "name": c.name, "company": c.company, "title": c.title, "emails": c.emails,
        "phones": c.phones, "tags": c.tags, "stage": c.stage, "tier": c.tier_override, "owner": c.owner,
        "birthday": str(c.birthday) if c.birthday else None,
        "keep_in_touch": str(c.keep_in_touch) if c.keep_in_touch else None,
        "referred_by": c.referred_by or None, "notes": c.notes, "links": c.links,
        "deals": [{"title": d.title, "amount": d.amount, "cost": d.cost, "status": d.status, "date": d.date,
                   "stage": d.stage, "close": d.close} for d in c.deals],
        "reminders": [{"due": r.due, "text": r.text, "every": str(r.every) if r.every else None, "done": r.done}
                      for r in c.reminders],
        "interactions": [{"at": i.at, "kind": i.kind, "summary": i.summary} for i in c.interactions],
        "extra": c.extra,
        "computed": {"tier": st.computed, "value": st.value},
    }
    return _plain(out)


def _full(service, c: Customer) -> Customer:
    """The whole record from its file (the book's snapshot may hold only summaries)."""
    try:
        return customer_from_data(c.handle, _record_data(service, c.handle))
    except (CrmError, OSError, ValueError):
        return c


def json_text(service) -> str:
    settings = service.snapshot.settings
    payload = {
        "format": "crmtui-book",
        "version": 1,
        "exported_at": service.now().isoformat(),
        "currency": settings.currency,
        "customers": [customer_record(service, _full(service, c)) for c in _sorted(service)],
    }
    from crmtui.json_text import dumps

    return dumps(payload, indent=2) + "\n"


CSV_COLUMNS = ["handle", "name", "company", "title", "emails", "phones", "tags", "stage", "tier", "computed_tier",
               "value", "owner", "birthday", "keep_in_touch", "referred_by", "links", "notes", "next_due",
               "next_due_text", "last_interaction", "interactions", "open_deals"]


def csv_text(service) -> str:
    from crmtui.domain.reminders import customer_due

    rows = []
    for c in _sorted(service):
        st = service.standing(c)
        due = sorted(customer_due(c, service.today(), service.snapshot.settings, date.max), key=lambda d: d.due)
        rows.append([
            c.handle, c.name, c.company, c.title, "; ".join(c.emails), "; ".join(c.phones), "; ".join(c.tags),
            c.stage, c.tier_override or "", st.computed or "", f"{st.value:g}", c.owner,
            str(c.birthday) if c.birthday else "", str(c.keep_in_touch) if c.keep_in_touch else "", c.referred_by,
            "; ".join(f"{k}={v}" for k, v in c.links.items()), c.notes,
            due[0].due.isoformat() if due else "", due[0].text if due else "",
            c.last_interaction.at.isoformat(sep=" ") if c.last_interaction else "",
            str(getattr(c, "interaction_count", len(c.interactions))),
            str(sum(1 for d in c.deals if d.status == "open")),
        ])
    return csv_formats.write_csv(CSV_COLUMNS, rows)


def write_out(path: Path, text: str) -> None:
    path = Path(path).expanduser()
    if path.is_dir():
        raise CrmError(f"{path} is a folder; give a file name for --out")
    try:
        atomic_write(path, text.encode("utf-8"))
    except OSError as error:
        raise CrmError(f"cannot write {path}: {error.strerror}") from None


__all__ = ["read_vcard_source", "read_csv_source", "import_contacts", "ImportReport", "duplicates", "merge",
           "vcards_text", "write_vcard_folder", "calendar_text", "json_text", "csv_text", "write_out"]
