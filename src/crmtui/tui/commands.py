"""The command palette (ctrl+p): jump to any customer by fuzzy name, and every action."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.markup import escape

from crmtui.tui.fmt import safe

ACTIONS = [
    ("Search customers", "focus_search", "Focus the search box (/)"),
    ("Log an interaction", "log", "With the selected customer (l)"),
    ("Add a reminder", "remind", "For the selected customer: what, when, repeat (m)"),
    ("New customer", "new_customer", "Add someone to the book (n)"),
    ("Edit in $EDITOR", "edit", "Open the selected customer's file (e)"),
    ("Write an email", "mail", "To the selected customer, in your mailer; then log it (M)"),
    ("Reminders", "reminders", "Losing touch, overdue, today, this week, later (r)"),
    ("Tiers: the customer pyramid", "tiers", "Counts and value per tier (t)"),
    ("Report: retention, the pyramid over time", "report",
     "Retention, pyramid movement, life cycle, referrals, attention, for the last 12 months (o)"),
    ("Pipeline: open deals by stage", "pipeline", "Totals per stage, what winning each does to the tier (P)"),
    ("Add a deal", "deal_add", "An open deal for the selected customer ($)"),
    ("Mark a deal won", "deal_won", "The selected customer's open deal (w)"),
    ("Mark a deal lost", "deal_lost", "The selected customer's open deal (L)"),
    ("History of the customer", "history", "Its commits, diffs, restore (h)"),
    ("History of the book", "book_history", "Every commit in the book (H)"),
    ("Problems", "problems", "Files that failed to parse or validate (p)"),
    ("Sync", "sync", "Commit, pull with the record-aware merge, push (s)"),
    ("Help: all keys", "help", "Every key of crmtui (?)"),
]


class CrmCommands(Provider):
    """Customers by fuzzy name (through the book's own search), then crmtui's actions."""

    async def _run(self, action: str) -> None:
        await self.app.run_action(action)

    async def discover(self) -> Hits:
        for title, action, help_text in ACTIONS:
            yield DiscoveryHit(title, partial(self._run, action), help=help_text)
        for name, query in self._views().items():
            yield DiscoveryHit(self._view_label(name), partial(self._apply_view, query), text=f"View: {name}",
                               help=escape(f"Search: {query}"))

    def _views(self) -> dict[str, str]:
        """The saved views of crm.toml [views]: name -> query."""
        reader = getattr(self.app, "reader", None)
        return reader.snapshot.settings.views if reader is not None else {}

    @staticmethod
    def _view_label(name: str) -> Content:
        return Content("View: ").stylize("dim") + Content(safe(name))  # plain Content: never markup

    def _apply_view(self, query: str) -> None:
        """A saved view: its query goes in the search box, and the list shows what it finds."""
        self.app.back_to_main()
        self.app.main_screen.apply_query(query)

    async def search(self, query: str) -> Hits:
        app = self.app
        reader = getattr(app, "reader", None)
        if reader is not None and query.strip():
            for rank, (customer, _hit) in enumerate(reader.search(query, limit=12)):
                if customer is None:
                    continue
                label = safe(customer.name) + (f" · {safe(customer.company)}" if customer.company else "")
                # Plain Content: a name is text, never markup.
                display = Content("Go to ").stylize("dim") + Content(label)
                yield Hit(1.0 - rank / 100, display, partial(app.jump_to, customer.handle),
                          text=f"Go to {label}", help="Customer")
        matcher = self.matcher(query)
        for title, action, help_text in ACTIONS:
            score = matcher.match(title)
            if score > 0:
                yield Hit(score * 0.9, matcher.highlight(title), partial(self._run, action), help=help_text)
        for name, view_query in self._views().items():
            score = max(matcher.match(f"View: {name}"), matcher.match(f"view {name} {view_query}") * 0.8)
            if score > 0:
                yield Hit(score * 0.95, self._view_label(name), partial(self._apply_view, view_query),
                          text=f"View: {name}", help=escape(f"Search: {view_query}"))
