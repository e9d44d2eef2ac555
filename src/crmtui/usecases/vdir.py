"""crmtui vdir sync DIR: the book and a folder of vCards (a phone's, through vdirsyncer) kept in step.

Both sides are compared with what they were at the last sync (the state: for each card
file, the record it belongs to, its UID, the sha256 of the file as the sync left it and of
the card the record rendered then), kept under the git directory (.git/crmtui/vdir/), so it
never enters the book's history:

- a card changed in DIR updates its record, by the same rules as `import vcard` (new emails,
  phones, tags and links added; empty fields filled); when the record did not change since
  the last sync the card's values win (the phone's edit is the only edit), when both changed
  the book's stay and the card's differing values are reported;
- a card added in DIR is matched like an import (email, phone, a close name, crmtui's UID),
  else it becomes a prospect;
- a record changed or added in the book (re)writes its card; a phone's card keeps the
  properties crmtui has no field for (addresses, photos...), and its own UID;
- a card deleted in DIR is reported and not applied, unless --accept-deletes: then its
  record is removed (git keeps it: crmtui restore brings it back);
- the card of a record removed from the book is removed from DIR.

The book's side is one transaction and one commit; DIR's files are written after it,
atomically, and the state last: a sync stopped half way is finished by the next one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crmtui.domain.record import customer_from_data
from crmtui.domain.slug import unique_handle
from crmtui.errors import CrmError
from crmtui.interchange import vcard
from crmtui.interchange.contact import Contact, Problem, contact_from_customer
from crmtui.interchange.matching import Known, Matcher, apply_plan, new_record_data, update_plan
from crmtui.interchange.vdir import digest, keep_foreign
from crmtui.storage.atomic import atomic_write
from crmtui.storage.lock import git_dir

SUFFIXES = (".vcf", ".vcard")


@dataclass
class VdirReport:
    folder: str
    first: bool = False  # no state yet: the first sync with this folder
    updated: list[tuple[str, str, list[str], list[str]]] = field(default_factory=list)  # handle, name, changes, kept
    added: list[tuple[str, str, str]] = field(default_factory=list)  # handle, name, card file
    cards_written: list[str] = field(default_factory=list)  # files written in DIR (new or rewritten)
    cards_removed: list[str] = field(default_factory=list)  # cards of records removed from the book
    deleted: list[tuple[str, str]] = field(default_factory=list)  # (card file, handle) deleted in DIR, not applied
    records_removed: list[str] = field(default_factory=list)  # with --accept-deletes
    problems: list[Problem] = field(default_factory=list)
    subject: str = ""
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.updated or self.added or self.cards_written or self.cards_removed or self.records_removed)


def state_path(service, folder: Path) -> Path:
    directory = git_dir(service.book.root)
    if directory is None:
        raise CrmError(f"{service.book.root} has no .git; the sync state lives there")
    return directory / "crmtui" / "vdir" / (digest(str(folder.resolve()))[:16] + ".json")


def _load_state(path: Path) -> dict[str, dict[str, str]] | None:
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return None  # unreadable: as on a first sync (cards are matched again, nothing is lost)
    cards = data.get("cards") if isinstance(data, dict) else None
    return cards if isinstance(cards, dict) else None


def _save_state(path: Path, folder: Path, cards: dict[str, dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"folder": str(folder.resolve()), "cards": cards}, indent=1, sort_keys=True)
    atomic_write(path, text.encode("utf-8"))


def _render(customer, uid: str, previous: str | None) -> tuple[str, str]:
    """(the card to write, the sha of the record's own card): foreign lines kept from `previous`."""
    contact = contact_from_customer(customer)
    contact.uid = uid or contact.uid
    own = vcard.write_vcard(contact)
    return keep_foreign(own, previous), digest(own)


def vdir_sync(service, folder: str | Path, *, accept_deletes: bool = False, dry_run: bool = False) -> VdirReport:
    from crmtui.usecases.interchange import _apply_to_doc, _new_doc, _record_data
    from crmtui.usecases.records import _handle_source

    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise CrmError(f"{folder} is a file; vdir sync keeps a folder of .vcf files (one per contact)")
    state_file = state_path(service, folder)
    state = _load_state(state_file)
    report = VdirReport(str(folder), first=state is None, dry_run=dry_run)
    state = dict(state or {})
    on_disk: dict[str, bytes] = {}
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in SUFFIXES and path.is_file() and not path.name.startswith("."):
                try:
                    on_disk[path.name] = path.read_bytes()
                except OSError as error:
                    report.problems.append(Problem(path.name, f"cannot be read ({error.strerror}); left as it is"))

    from contextlib import ExitStack

    with ExitStack() as stack:
        tx = None if dry_run else stack.enter_context(service.transaction())
        service.reload()
        customers = {c.handle: c for c in service.customers}
        matcher = Matcher(Known.of(c) for c in customers.values())
        taken = set(service.snapshot.records) | {p.stem for p in service.book.customer_paths()}
        data: dict[str, dict[str, Any]] = {}
        plans: dict[str, list] = {}
        new: set[str] = set()
        links: dict[str, dict[str, str]] = {}  # card file -> {"handle", "uid"} after this sync
        texts: dict[str, str] = {}  # card file -> its text now

        def record_data(handle: str) -> dict[str, Any] | None:
            if handle not in data:
                try:
                    data[handle] = _record_data(service, handle)
                except (CrmError, OSError) as error:
                    report.problems.append(Problem(f"customers/{handle}.toml", f"cannot be updated ({error})"))
                    return None
            return data[handle]

        def take_card(name: str, contact: Contact, handle: str, overwrite: bool) -> None:
            current_data = record_data(handle)
            if current_data is None:
                return
            current = customer_from_data(handle, current_data)
            plan = update_plan(current, contact, overwrite=overwrite)
            if not plan.empty:
                data[handle] = apply_plan(current_data, plan)
                if handle not in new:
                    plans.setdefault(handle, []).append(plan)
                    report.updated.append((handle, current.name, plan.changes, plan.kept))
            elif plan.kept:
                report.updated.append((handle, current.name, [], plan.kept))
            matcher.add(Known.of(customer_from_data(handle, data[handle])))

        for name, raw in on_disk.items():
            text = vcard.decode_bytes(raw)
            texts[name] = text
            entry = state.get(name)
            changed = entry is None or digest(raw) != entry.get("card")
            if not changed:
                if entry["handle"] in customers:
                    links[name] = entry
                else:  # its record was removed from the book: so is the card
                    report.cards_removed.append(name)
                continue
            contacts, trouble = vcard.read_vcards(text, name)
            report.problems += [p for p in trouble if p.skipped]
            if len(contacts) != 1:
                if len(contacts) > 1:
                    report.problems.append(Problem(name, f"holds {len(contacts)} cards; a vdir keeps one per "
                                                         f"file; left as it is"))
                if entry is not None:
                    links[name] = entry
                continue
            contact = contacts[0]
            uid = contact.uid
            if entry is not None and entry["handle"] in customers:
                handle = entry["handle"]
                record_changed = _render(customers[handle], entry.get("uid", ""), None)[1] != entry.get("rendered")
                take_card(name, contact, handle, overwrite=not record_changed)
                links[name] = {"handle": handle, "uid": entry.get("uid", uid)}
                continue
            match = matcher.match(contact)
            if match is not None:
                take_card(name, contact, match.handle, overwrite=False)
                links[name] = {"handle": match.handle, "uid": uid}
                continue
            handle = unique_handle(_handle_source(contact.name, contact.company, contact.emails), taken)
            taken.add(handle)
            new.add(handle)
            data[handle] = new_record_data(contact, stage="prospect")
            report.added.append((handle, contact.name, name))
            links[name] = {"handle": handle, "uid": uid}
            matcher.add(Known.of(customer_from_data(handle, data[handle])))

        for name, entry in state.items():
            if name in on_disk:
                continue
            handle = entry.get("handle", "")
            if handle not in customers:
                continue  # gone on both sides
            if accept_deletes:
                report.records_removed.append(handle)
            else:
                report.deleted.append((name, handle))
                links[name] = entry  # remembered: reported again until settled

        if not dry_run and (plans or new or report.records_removed):
            try:
                for handle in sorted(new):
                    tx.create(service.book.rel(handle), _new_doc(data[handle]))
                for handle in sorted(plans):
                    tx.edit(service.book.rel(handle), lambda doc, h=handle: [_apply_to_doc(doc, p) for p in plans[h]])
                for handle in report.records_removed:
                    tx.remove(service.book.rel(handle))
                parts = [f"{len(report.added)} added" if report.added else "",
                         f"{len(plans)} updated" if plans else "",
                         f"{len(report.records_removed)} removed" if report.records_removed else ""]
                report.subject = f"Sync vCards with {folder.name or folder}: " + ", ".join(p for p in parts if p)
                body = [f"Added {n} ({h}) from {f}" for h, n, f in report.added]
                body += [f"Updated {n} ({h}): {'; '.join(c)}" for h, n, c, _ in report.updated if c]
                body += [f"Removed {h}: its card was deleted in {folder}" for h in report.records_removed]
                tx.commit(report.subject + "\n\n" + "\n".join(body))
            except OSError as error:
                raise CrmError(f"cannot write {error.filename or 'the book'}: {error.strerror}; nothing was "
                               f"synced") from None
    if dry_run:
        return report

    # DIR's side: after the book's commit; the state last
    service.reload()
    customers = {c.handle: c for c in service.customers}
    folder.mkdir(parents=True, exist_ok=True)
    cards: dict[str, dict[str, str]] = {}
    linked = {entry["handle"] for entry in links.values()}
    for handle in sorted(set(customers) - linked):  # a record with no card yet
        name = f"{handle}.vcf"
        n = 1
        while name in on_disk or name in links:
            n += 1
            name = f"{handle}-{n}.vcf"
        links[name] = {"handle": handle, "uid": f"crmtui-{handle}"}
    for name, entry in sorted(links.items()):
        handle = entry["handle"]
        if handle not in customers:
            continue
        if name not in on_disk and any(name == d for d, _ in report.deleted):
            cards[name] = dict(state[name])  # deleted in DIR and not applied: remembered as it was
            continue
        text, rendered = _render(customers[handle], entry.get("uid", ""), texts.get(name))
        data = text.encode("utf-8")
        if on_disk.get(name) != data:
            atomic_write(folder / name, data)
            report.cards_written.append(name)
        cards[name] = {"handle": handle, "uid": entry.get("uid", ""), "card": digest(data), "rendered": rendered}
    for name in report.cards_removed:
        try:
            os.unlink(folder / name)
        except FileNotFoundError:
            pass
    _save_state(state_file, folder, cards)
    return report


__all__ = ["VdirReport", "vdir_sync", "state_path"]
