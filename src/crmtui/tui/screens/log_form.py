"""Log an interaction: kind (crm.toml's default_kind, call unless set), summary, optional follow-up.

The reminders view opens it prefilled for "done" on a keep-in-touch or birthday row."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Input, Label, Select, Static

from crmtui.domain import validate
from crmtui.domain.dates import DateError, as_date, parse_when
from crmtui.domain.record import Customer
from crmtui.tui.fmt import safe
from crmtui.tui.screens.form_base import FormBody, FormInput, SaveCancelForm, error_label, form_footer

DEFAULT_KIND = "call"  # when there is no book yet; the book's crm.toml says default_kind


class LogForm(SaveCancelForm):
    BINDINGS = [
        Binding("ctrl+n", "next_kind", "Next kind", id="crmtui.log.next_kind"),
    ]

    def __init__(self, customer: Customer, *, summary: str = "", kind: str | None = None,
                 title: str = "Log an interaction with ", save=None) -> None:
        """`summary` and `kind` prefill the form; `save(service, handle, summary, kind, at, follow_up)`
        writes it (default: service.log_interaction)."""
        super().__init__()
        self.customer = customer
        self.prefill, self.prefill_kind, self.title_text, self.save = summary, kind, title, save

    def compose(self) -> ComposeResult:
        settings = self.app.reader.snapshot.settings if self.app.reader else None
        kinds = list(settings.kinds) if settings else [DEFAULT_KIND]
        self.kinds = kinds
        wanted = self.prefill_kind or (settings.default_kind if settings else DEFAULT_KIND)
        default = wanted if wanted in kinds else kinds[0]
        with FormBody(id="form"):
            title = Text(self.title_text)
            title.append(safe(self.customer.name), style="bold")
            yield Static(title, classes="form-title")
            with Horizontal(classes="row"):
                yield Label("Summary", classes="label")
                yield FormInput(value=self.prefill, placeholder="what happened", id="summary", compact=True)
            yield error_label("summary")
            with Horizontal(classes="row"):
                yield Label("Follow up", classes="label")
                yield FormInput(placeholder="optional: 14d, 2w, tomorrow, 2026-07-01", id="follow_up", compact=True)
            yield error_label("follow_up")
            with Horizontal(classes="row"):
                yield Label("Kind", classes="label")
                yield Select([(k, k) for k in kinds], value=default, allow_blank=False, id="kind", compact=True)
            with Horizontal(classes="row"):
                yield Label("When", classes="label")
                yield FormInput(placeholder="now; or yesterday, 3d ago, 2026-07-01 14:30", id="at", compact=True)
            yield error_label("at")
            yield from form_footer("Enter saves · Tab next field · ctrl+n next kind · Esc cancels")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#summary", Input).focus()

    def action_next_kind(self) -> None:
        select = self.query_one("#kind", Select)
        values = self.kinds
        if values:
            index = values.index(select.value) if select.value in values else -1
            select.value = values[(index + 1) % len(values)]

    def action_save(self) -> None:
        if self.saving:
            return
        self.clear_errors()
        summary = self.query_one("#summary", Input).value.strip()
        follow_up = self.query_one("#follow_up", Input).value.strip()
        kind = str(self.query_one("#kind", Select).value)
        at = self.query_one("#at", Input).value.strip()
        ok = True
        if at:
            now = self.app.now()
            try:
                when = parse_when(at, now)
            except DateError as error:
                self.set_error("at", str(error))
                ok = False
            else:
                if as_date(when) > now.date():
                    self.set_error("at", "That is in the future; for the past write 3d ago, yesterday or a date.")
                    ok = False
        if not summary:
            self.set_error("summary", "Say what happened: the summary is empty.")
            ok = False
        if follow_up:
            now = self.app.now()
            try:
                due = as_date(parse_when(follow_up, now))
            except DateError as error:
                self.set_error("follow_up", str(error))
                ok = False
            else:
                try:  # domain.validate: from today on, at most 100 years ahead (as the CLI)
                    validate.future_day(due, now.date(), "the follow-up")
                except validate.InvalidValue as error:
                    self.set_error("follow_up", f"{str(error)[:1].upper()}{str(error)[1:]}.")
                    ok = False
        if not ok:
            return
        self.saving = True
        self.kind = kind
        self.set_error("form", None)
        handle = self.customer.handle
        save = self.save or (lambda service, handle, summary, kind, at, follow_up: service.log_interaction(
            handle, summary, kind=kind, at=at, follow_up=follow_up))
        self.app.write(
            "Logging the interaction",
            lambda service: save(service, handle, summary, kind, at or None, follow_up or None),
            on_done=self._saved,
            on_error=self.show_failure,
        )

    def _saved(self, customer: Customer) -> None:
        self.dismiss(customer.handle)
        self.app.notify(f"Logged a {self.kind} with {safe(customer.name)}.",
                        markup=False)
