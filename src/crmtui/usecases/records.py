"""Records: add a customer, log an interaction, commit an edit made in $EDITOR."""

from __future__ import annotations

import re
from datetime import date, datetime

from crmtui.domain import validate
from crmtui.domain.changes import describe_change, edit_subject
from crmtui.domain.dates import DateError, as_date, as_datetime, parse_duration
from crmtui.domain.record import Customer, parse_birthday
from crmtui.domain.slug import unique_handle
from crmtui.domain.tiers import TierRow, pyramid
from crmtui.errors import CrmError
from crmtui.storage.record_file import AppendEntries, check_text
from crmtui.storage.toml_text import BOM, Problem, decode, parse


class RecordUseCases:
    def referrals(self, handle: str) -> list[Customer]:
        return [c for c in self.customers if c.referred_by == handle]

    def tiers(self) -> list[TierRow]:
        return pyramid(self.customers, self.today(), self.snapshot.settings)

    def add_customer(self, name: str, *, company: str = "", title: str = "", emails=(), phones=(), tags=(),
                     tier: str | None = None, stage: str | None = None, birthday: str | None = None,
                     keep_in_touch: str | None = None, referred_by: str | None = None, notes: str = "") -> Customer:
        name = " ".join(name.split())
        if not name:
            raise CrmError("a customer needs a name")
        try:  # domain.validate: the rules the TUI form, imports and `crmtui check` apply too
            emails, phones = validate.emails(emails), validate.phones(phones)
            tier, stage = validate.tier(tier), validate.stage(stage)
            if birthday:
                validate.birthday(birthday)
            if keep_in_touch:
                validate.duration(keep_in_touch, "the keep-in-touch cadence")
        except validate.InvalidValue as error:
            raise CrmError(str(error)) from None
        import tomlkit

        doc = tomlkit.document()
        doc["name"] = name
        for key, value in (("company", company), ("title", title)):
            if value:
                doc[key] = value
        for key, values in (("emails", emails), ("phones", phones), ("tags", tags)):
            values = [v.strip() for v in values if v.strip()]
            if values:
                doc[key] = values
        doc["stage"] = (stage or "prospect").lower()
        if tier:
            doc["tier"] = tier.lower()
        if birthday:
            try:
                parsed = parse_birthday(birthday)
            except DateError as error:
                raise CrmError(str(error)) from None
            doc["birthday"] = date(parsed.year, parsed.month, parsed.day) if parsed.year else str(parsed)
        if keep_in_touch:
            doc["keep_in_touch"] = str(_duration(keep_in_touch))
        if referred_by:
            doc["referred_by"] = self.resolve(referred_by).handle
        if notes:
            doc["notes"] = notes
        with self.transaction() as tx:
            taken = set(self.snapshot.records) | {p.stem for p in self.book.customer_paths()}
            handle = unique_handle(_handle_source(name, company, doc.get("emails", [])), taken)
            result = tx.create(self.book.rel(handle), doc)
            tx.commit(f"Add {name}")
        self._refresh(handle)
        return result.customer

    def log_interaction(self, handle: str, summary: str, kind: str | None = None, at: str | datetime | None = None,
                        follow_up: str | date | None = None, also=None) -> Customer:
        """Append an interaction (kind: crm.toml's default_kind when None) and maybe a follow-up.

        `also(doc)` is one more change to the record in the same commit (the reminders view's
        "done" on a birthday); a keep-in-touch snooze ends with the contact, so it is removed.
        """
        summary = summary.strip()
        if not summary:
            raise CrmError("say what happened: the summary is empty")
        kind = (kind or self.settings.default_kind).lower().strip()
        kinds = self.settings.kinds
        if kind not in kinds:
            raise CrmError(f"unknown kind '{kind}'; use one of {', '.join(kinds)} (or add it to crm.toml)")
        now = self.now()
        when = now
        if at:
            parsed = self._when(at, now)
            # "3d ago" or "yesterday" means at this time of day; a written date means that day.
            relative = isinstance(at, str) and not re.match(r"\s*\d{4}-", at)
            if relative and not isinstance(parsed, datetime):
                when = datetime.combine(parsed, now.time())
            else:
                when = as_datetime(parsed)
        if when > now:
            raise CrmError(f"--at {at} is in the future; for a past time write e.g. '3d ago', yesterday or a date")
        due = as_date(self._when(follow_up, now)) if follow_up else None
        try:  # from today on, at most 100 years ahead, and a day every export can write
            due = validate.future_day(due, now.date(), "the follow-up") if due is not None else None
        except validate.InvalidValue as error:
            raise CrmError(str(error)) from None

        entries = [("interactions", {"at": when, "kind": kind, "summary": summary})]
        if due is not None:
            entries.append(("reminders", {"due": due, "text": f"Follow up: {summary}"}))
        mutate = AppendEntries(*entries)
        # the snapshot when the book is read; else this record alone (a file name as WHO reads nothing more)
        customer = self._snapshot.customer(handle) if self._snapshot is not None else self._customer_or_none(handle)
        if also is not None or (customer is not None and customer.keep_in_touch_snoozed_until is not None):
            mutate = _also(mutate, also)

        def message(customer: Customer) -> str:
            text = f"Log {kind} with {customer.name}"
            return text + (f"\n\nFollow up on {due}." if due else "")

        return self._write(handle, mutate, message)

    def commit_edit(self, handle: str, before_text: str | None) -> tuple[str | None, Problem | None]:
        """After an editor session on a record: validate, then commit with a summary.

        Returns (commit subject or None when nothing was committed, problem or None).
        The summary compares with the last committed version, so fixing a broken
        file reads as what changed since the last good one.
        """
        with self.transaction(settle=False):
            return self._commit_edit(handle, before_text)

    def _commit_edit(self, handle: str, before_text: str | None) -> tuple[str | None, Problem | None]:
        rel = self.book.rel(handle)
        path = self.book.root / rel
        self._refresh(handle)
        committed = self.git.show_file("HEAD", rel) if self.git.has_commits() else None
        if not path.exists():
            if committed is not None and self.git.commit([rel], f"Delete {handle}.toml"):
                return f"Delete {handle}.toml", None
            return None, None
        try:
            text = decode(path.read_bytes())
        except UnicodeDecodeError as error:
            return None, Problem(rel, 1, error.start + 1, "not UTF-8 text; save it as UTF-8")
        after, customer, problem = check_text(rel, handle, text)
        if problem:
            return None, problem
        before = None
        for candidate in (committed, before_text):
            try:
                before = parse(candidate.removeprefix(BOM)) if candidate is not None else None
            except Exception:
                continue
            break
        phrases = describe_change(before, after)
        subject = edit_subject(customer.name, phrases) if before is not None else f"Add {customer.name}"
        if self.git.commit([rel], subject) is None:
            return None, None
        return subject, None


def _also(append: AppendEntries, also):
    """The entries appended, then `also`, and no keep-in-touch snooze: getting in touch ends it."""
    def mutate(doc) -> None:
        append(doc)
        if also is not None:
            also(doc)
        if "keep_in_touch_snoozed_until" in doc:
            del doc["keep_in_touch_snoozed_until"]

    return mutate


def _duration(text: str):
    try:
        return parse_duration(text)
    except DateError as error:
        raise CrmError(str(error)) from None


def _handle_source(name: str, company: str, emails) -> str:
    """What to make the file name from: the name, or when it has no Latin letters
    (李娜), the email's local part, then the company."""
    from crmtui.domain.slug import slugify

    for candidate in (name, *(e.split("@")[0] for e in emails), company):
        if candidate and slugify(candidate) != "customer":
            return candidate
    return name
