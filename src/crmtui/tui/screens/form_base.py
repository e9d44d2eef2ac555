"""What the modal forms share: field errors next to the fields, a general error, Escape to cancel."""

from __future__ import annotations

import time

from textual import events, on
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Select, Static

BURST_GAP = 0.15  # seconds between keys of one burst


class FormInput(Input):
    """A form field that keeps keys in order when they are typed faster than the form reacts.

    Tab is handled here, in the field's own turn (an app binding would act only after
    the keys already routed to this field). A letter that arrives after the focus moved
    on (routed here in the same burst as the Tab) goes to the field that has the focus.
    """

    async def _on_key(self, event: events.Key) -> None:
        screen = self.screen
        if event.key in ("tab", "shift+tab") and self.has_focus:
            event.stop()
            event.prevent_default()
            screen.focus_next() if event.key == "tab" else screen.focus_previous()
            return
        focused = screen.focused
        if focused is not self and isinstance(focused, Input) and event.is_printable and event.character:
            event.stop()
            event.prevent_default()
            focused.insert_text_at_cursor(event.character)
            return
        await super()._on_key(event)


class FormBody(VerticalScroll, can_focus=False):
    """The form's scrolling body; it never takes the focus from the fields."""


class FormScreen(ModalScreen):
    """A modal form. Errors go in `Static.error` widgets with id `<field>-error`."""

    DEFAULT_CLASSES = "dialog"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="crmtui.form.cancel"),
        Binding("ctrl+s", "save", "Save", id="crmtui.form.save"),
    ]

    saving = False
    _burst_until = 0.0

    def __init__(self) -> None:
        super().__init__()
        self._early_keys: list[str] = []

    def on_mount(self) -> None:
        if getattr(self.app, "testing", False):
            for field in self.query(Input):
                field.cursor_blink = False
        for error in self.query(".error"):
            error.display = False

    def on_key(self, event: events.Key) -> None:
        """Keys typed while the form was still opening (a fast typist, a paste) are not lost.

        A key that reaches the screen while no text field has focus was routed before the
        form was ready; it starts a burst, and every key of the burst (until a pause of
        BURST_GAP) is replayed here in order: text into the field, Tab to the next field,
        Enter to save.
        """
        printable = bool(event.is_printable and event.character)
        now = time.monotonic()
        if now >= self._burst_until:
            if not (printable or event.key in ("tab", "enter")):
                return
            if isinstance(self.focused, (Input, Button, Select)):
                return  # an ordinary key the field or the form's bindings handle
        self._burst_until = now + BURST_GAP
        event.stop()
        event.prevent_default()
        self._early_keys.append(event.character if printable else event.key)
        if len(self._early_keys) == 1:
            self.call_after_refresh(self._replay_early_keys)

    def _replay_early_keys(self) -> None:
        while self._early_keys:
            key = self._early_keys.pop(0)
            if key == "tab":
                self.focus_next()
            elif key == "enter":
                self.action_save()
            else:
                field = self.focused
                if not isinstance(field, Input):
                    fields = list(self.query(Input))
                    if not fields:
                        continue
                    field = fields[0]
                    self.set_focus(field)
                field.insert_text_at_cursor(key)

    def set_error(self, field: str, message: str | None) -> None:
        label = self.query_one(f"#{field}-error", Static)
        label.update(message or "")
        label.display = bool(message)

    @on(Input.Changed)
    def _clear_field_error(self, event: Input.Changed) -> None:
        """A field's error goes as soon as the field is edited; saving checks again."""
        if event.input.id and self.query(f"#{event.input.id}-error"):
            self.set_error(event.input.id, None)

    def clear_errors(self) -> None:
        for label in self.query(".error").results(Static):
            label.update("")
            label.display = False

    def show_failure(self, message: str) -> None:
        """A save failed (a CrmError from the service): say why in the form, keep what was typed."""
        self.saving = False
        self.set_error("form", message)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:  # overridden
        pass


def error_label(field: str) -> Static:
    return Static("", id=f"{field}-error", classes="error", markup=False)


class SaveCancelForm(FormScreen):
    """A form with Save and Cancel buttons (ids #save, #cancel) where Enter in a field saves."""

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(None)


def form_footer(hint: str):
    """The end every form shares: the key hint, the form-wide error line, Cancel and Save.
    Used as `yield from form_footer(...)` inside a form's compose."""
    yield Static(hint, classes="form-hint")
    yield error_label("form")
    with Horizontal(classes="buttons"):
        yield Button("Cancel", id="cancel", compact=True)
        yield Button("Save", id="save", variant="primary", compact=True)
