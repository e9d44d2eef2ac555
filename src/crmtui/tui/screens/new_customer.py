"""New customer: a form with validation messages next to the fields."""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Input, Label, Select, Static

from crmtui.domain.dates import DateError, parse_duration
from crmtui.domain.record import STAGES, TIERS, Customer, parse_birthday
from crmtui.tui.fmt import safe
from crmtui.tui.screens.form_base import FormBody, FormInput, SaveCancelForm, error_label

FIELDS = [
    ("name", "Name", "required: Ana López"),
    ("company", "Company", "Acme Corp"),
    ("title", "Title", "CTO, Head of Data, …"),
    ("email", "Emails", "ana@acme.example (several: commas)"),
    ("phone", "Phones", "+34 600 123 456 (several: commas)"),
    ("tags", "Tags", "fintech, referral"),
    ("birthday", "Birthday", "1984-03-12, or 03-12"),
    ("keep_in_touch", "Keep in touch", "30d, 2w, 3m, 1y (default: by tier)"),
]


EMAIL = re.compile(r"[^@\s,]+@[^@\s,]+\.[^@\s,]+")  # a plausible address, not a full RFC 5322 check
PHONE = re.compile(r"\+?[\d\s().\-/]*\d[\d\s().\-/]*(?:\s*(?:x|ext\.?)\s*\d+)?")  # digits, maybe an extension


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


class NewCustomerForm(SaveCancelForm):
    def compose(self) -> ComposeResult:
        with FormBody(id="form"):
            yield Static("New customer", classes="form-title")
            for field, label, placeholder in FIELDS:
                with Horizontal(classes="row"):
                    yield Label(label, classes="label")
                    yield FormInput(placeholder=placeholder, id=field, compact=True)
                yield error_label(field)
            with Horizontal(classes="row"):
                yield Label("Stage", classes="label")
                yield Select([(s, s) for s in STAGES], value="prospect", allow_blank=False, id="stage", compact=True)
            with Horizontal(classes="row"):
                yield Label("Tier", classes="label")
                yield Select([("computed from deals", "")] + [(t, t) for t in TIERS], value="",
                             allow_blank=False, id="tier", compact=True)
            yield error_label("form")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button("Add", id="save", variant="primary", compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#name", Input).focus()

    def value(self, field: str) -> str:
        return self.query_one(f"#{field}", Input).value.strip()

    def validate(self) -> bool:
        ok = True
        if not self.value("name"):
            self.set_error("name", "A customer needs a name.")
            ok = False
        bad = [e for e in _split(self.value("email")) if not EMAIL.fullmatch(e)]
        if bad:
            self.set_error("email", f"'{bad[0]}' does not look like an email address.")
            ok = False
        bad = [p for p in _split(self.value("phone")) if not PHONE.fullmatch(p)]
        if bad:
            self.set_error("phone", f"'{bad[0]}' does not look like a phone number (digits, +, spaces, -, ()).")
            ok = False
        if self.value("birthday"):
            try:
                parse_birthday(self.value("birthday"))
            except DateError:
                self.set_error("birthday", "Write the birthday as 1984-03-12, or 03-12 without the year.")
                ok = False
        if self.value("keep_in_touch"):
            try:
                parse_duration(self.value("keep_in_touch"))
            except DateError as error:
                self.set_error("keep_in_touch", str(error))
                ok = False
        return ok

    def action_save(self) -> None:
        if self.saving:
            return
        self.clear_errors()
        if not self.validate():
            return
        self.saving = True
        name = self.value("name")
        fields = dict(
            company=self.value("company"),
            title=self.value("title"),
            emails=_split(self.value("email")),
            phones=_split(self.value("phone")),
            tags=_split(self.value("tags")),
            stage=str(self.query_one("#stage", Select).value),
            tier=str(self.query_one("#tier", Select).value) or None,
            birthday=self.value("birthday") or None,
            keep_in_touch=self.value("keep_in_touch") or None,
        )
        self.app.write("Adding the customer", lambda service: service.add_customer(name, **fields),
                       on_done=self._saved, on_error=self.show_failure)

    def _saved(self, customer: Customer) -> None:
        self.dismiss(customer.handle)
        self.app.notify(f"Added {safe(customer.name)} ({customer.handle}.toml), committed.", markup=False)
        self.app.jump_to(customer.handle)
