"""New customer: a form with validation messages next to the fields."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Input, Label, Select, Static

from crmtui.domain import validate as rules
from crmtui.domain.dates import DateError
from crmtui.domain.record import STAGES, TIERS, Customer
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


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _sentence(message: str) -> str:
    """A rule's message as the form shows it: a capital first letter and a full stop."""
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


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
        # domain.validate: the rules the CLI, imports and `crmtui check` apply too
        checks = [("email", rules.emails, _split), ("phone", rules.phones, _split),
                  ("birthday", rules.birthday, None),
                  ("keep_in_touch", lambda text: rules.duration(text, "the keep-in-touch cadence"), None)]
        for field, check, split in checks:
            text = self.value(field)
            if not text:
                continue
            try:
                check(split(text) if split else text)
            except DateError as error:  # not a date at all
                self.set_error(field, "Write the birthday as 1984-03-12, or 03-12 without the year."
                               if field == "birthday" else _sentence(str(error)))
                ok = False
            except rules.InvalidValue as error:
                self.set_error(field, _sentence(str(error)))
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
