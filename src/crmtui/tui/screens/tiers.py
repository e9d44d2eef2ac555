"""The customer pyramid and the customers of the chosen tier; overrides that disagree are marked."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from crmtui.service import Service
from crmtui.tui.fmt import clip, money, safe, tier_label
from crmtui.tui.screens.view_base import ViewScreen
from crmtui.tui.widgets.pyramid import Pyramid

LIMIT = 200


class TiersScreen(ViewScreen):
    BINDINGS = [
        Binding("enter", "go", "Go to", id="crmtui.tiers.go", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.members: list[str] = []

    def compose(self) -> ComposeResult:
        yield self.title_bar("Tiers: the customer pyramid (value = won deals of the last 12 months)")
        yield Pyramid(id="pyramid")
        yield Static("", id="tier-members-title")
        yield DataTable(id="tier-members", cursor_type="row")
        yield from self.status_and_footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(Pyramid).focus()

    def book_changed(self, reader: Service) -> None:
        pyramid = self.query_one(Pyramid)
        pyramid.set_rows(reader.tiers(), reader.snapshot.settings.currency)
        self.show_members(reader, pyramid.tier)

    @on(Pyramid.TierChosen)
    def _tier_chosen(self, event: Pyramid.TierChosen) -> None:
        if self.app.reader is not None:
            self.show_members(self.app.reader, event.tier)

    def show_members(self, reader: Service, tier: str) -> None:
        row = next((r for r in reader.tiers() if r.tier == tier), None)
        handles = list(row.handles) if row else []
        table = self.query_one("#tier-members", DataTable)
        table.clear(columns=True)
        wide = self.app.size.width >= 100
        name_w, company_w = (24, 18) if wide else (17, 11)
        table.add_column("Name", width=name_w)
        table.add_column("Company", width=company_w)
        table.add_column("Value", width=13)
        table.add_column("Tier", width=28 if wide else 26)
        currency = reader.snapshot.settings.currency
        disagree = 0
        self.members = []
        for handle in handles[:LIMIT]:
            customer = reader.snapshot.customer(handle)
            if customer is None:
                continue
            st = reader.standing(customer)
            if st.disagrees:
                disagree += 1
                note = Text(f"⚠ {tier_label(st.override)}, computed {tier_label(st.computed)}", style="bold yellow")
            elif st.override:
                note = Text("set in the file", style="dim")
            else:
                note = Text("computed", style="dim")
            table.add_row(Text(clip(safe(customer.name), name_w), style="bold"),
                          Text(clip(safe(customer.company), company_w)),
                          Text(money(st.value, currency), justify="right"), note)
            self.members.append(handle)
        wide = self.app.size.width >= 100
        title = Text(f"{tier_label(None if tier == 'unranked' else tier)}: {len(handles)} customer"
                     f"{'s' if len(handles) != 1 else ''}", style="bold")
        if len(handles) > LIMIT:
            title.append(f" (showing {LIMIT})", style="dim")
        if disagree:
            title.append(f"  ·  ⚠ {disagree} override{'s' if disagree != 1 else ''} disagree{'s' if disagree == 1 else ''} with the numbers", style="yellow")
        if wide:
            title.append("  ·  Tab: the list", style="dim")
        self.query_one("#tier-members-title", Static).update(title)

    def current_handle(self) -> str | None:
        table = self.query_one("#tier-members", DataTable)
        if table.has_focus and 0 <= table.cursor_row < len(self.members):
            return self.members[table.cursor_row]
        return None

    def action_go(self) -> None:
        handle = self.current_handle()
        if handle:
            self.app.jump_to(handle)
        else:
            self.query_one("#tier-members", DataTable).focus()

    @on(DataTable.RowSelected, "#tier-members")
    def _row_selected(self) -> None:
        self.action_go()
