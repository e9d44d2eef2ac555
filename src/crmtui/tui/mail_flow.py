"""Reach out from the TUI: a message to the selected customer in the user's mailer, then the
log form, ready to log it as an email (Escape: don't). A mixin of the app, like EditorFlow."""

from __future__ import annotations

from textual.app import SuspendNotSupported

from crmtui.errors import CrmError


class MailFlow:
    async def action_mail(self) -> None:
        from crmtui.mailer import mailer_for, run_mailer
        from crmtui.tui.screens.log_form import LogForm

        await self.catch_up()
        handle = self.current_handle()
        customer = self.reader.snapshot.customer(handle) if self.reader and handle else None
        if customer is None:
            self.notify("Select a customer first: press / and type a name.", severity="warning")
            return
        emails = [e.strip() for e in customer.emails if e.strip()]
        if not emails:
            self.notify(f"{customer.name} has no email address; add one with e (edit).", severity="warning",
                        markup=False)
            return
        address = emails[0]
        try:
            mailer = mailer_for(address)
            if mailer is None:
                self.notify(f"Write to {address} (no mailer found: set $CRMTUI_MAILER, e.g. mutt or "
                            f"'aerc %u')", timeout=15, markup=False)
                return
            if mailer.waits:
                import subprocess

                try:
                    with self.suspend():
                        run_mailer(mailer)
                except SuspendNotSupported:  # headless (tests): run it without a terminal
                    run_mailer(mailer, stdin=subprocess.DEVNULL, capture_output=True)
            else:
                run_mailer(mailer)
                self.notify(f"Opened a message to {address} in your mail program.", markup=False)
        except CrmError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        self.push_screen(LogForm(customer, summary=f"→ Wrote to {customer.name}", kind="email",
                                 title="Log the email to "))
