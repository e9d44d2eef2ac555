"""The command palette (ctrl+p): jump to any customer by fuzzy name, and every action."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from crmtui.tui.fmt import safe

ACTIONS = [
    ("Search customers", "focus_search", "Focus the search box (/)"),
    ("Log an interaction", "log", "With the selected customer (l)"),
    ("New customer", "new_customer", "Add someone to the book (n)"),
    ("Edit in $EDITOR", "edit", "Open the selected customer's file (e)"),
    ("Reminders", "reminders", "Overdue, today, this week, later (r)"),
    ("Tiers: the customer pyramid", "tiers", "Counts and value per tier (t)"),
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
