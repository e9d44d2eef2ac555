"""The pipeline: open deals by stage, with totals, the expected close, and what winning each
would do to the customer's tier. w / L mark the chosen deal won / lost; Enter goes to the customer."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from crmtui.domain.deals import PipelineDeal
from crmtui.service import Service
from crmtui.tui.fmt import money, relative, safe, tier_badge
from crmtui.tui.screens.view_base import ViewScreen


PER_STAGE = 150  # never hand thousands of rows to one widget: the soonest closes of each stage


def deal_key(item: PipelineDeal) -> str:
    return f"{item.handle}|{item.index}"


def _cell(value: str, width: int, style: str = "", right: bool = False) -> Text:
    """Text clipped or padded to `width` terminal cells (CJK characters take two)."""
    cell = Text(value, style=style, no_wrap=True)
    cell.truncate(width, overflow="ellipsis", pad=not right)
    if right and cell.cell_len < width:
        cell = Text(" " * (width - cell.cell_len)) + cell
    return cell


def what_if_text(item: PipelineDeal) -> Text:
    """IRON → GOLD, or 'stays GOLD', in the list's tier badges; * when the file sets the tier."""
    w = item.what_if
    out = Text()
    if w.changes:
        out.append_text(tier_badge(w.before))
        out.append(" → ")
    else:
        out.append("stays ", style="dim")
    out.append_text(tier_badge(w.after))
    if w.override:
        out.append("*", style="bold yellow")
    return out


class PipelineScreen(ViewScreen):
    def __init__(self) -> None:
        super().__init__()
        self.order: list[str] = []  # the deals' keys, top to bottom

    def compose(self) -> ComposeResult:
        yield self.title_bar("Pipeline")
        yield Static("", id="pipeline-hint", classes="hint")
        yield OptionList(id="pipeline-list")
        yield from self.status_and_footer()

    def book_changed(self, reader: Service) -> None:
        today = reader.today()
        currency = reader.snapshot.settings.currency
        pipe = reader.pipeline()
        option_list = self.query_one(OptionList)
        keep = self.current_key()
        before = list(self.order)
        line_width = max(60, self.app.size.width - 8)  # the list's border, padding and scroll bar
        wide = line_width >= 100
        amount_w, close_w = 12, (24 if wide else 11)  # "2026-06-01! 100 days ago"
        room = line_width - 2 - amount_w - close_w - 17 - 4  # the what-if takes up to 17 cells: " IRON  →  GOLD *"
        name_w = min(24, max(12, room * 2 // 5))
        title_w = max(12, room - name_w)
        columns = Text("  ", style="dim")
        for label, width in (("Customer", name_w), ("Deal", title_w)):
            columns.append_text(_cell(label, width, "dim"))
            columns.append(" ")
        columns.append_text(_cell("Amount", amount_w, "dim", right=True))
        columns.append("  ")
        columns.append_text(_cell("Close", close_w, "dim"))
        columns.append(" If won", style="dim")
        options: list[Option] = [Option(columns, disabled=True)]
        self.order = []
        for row in pipe.stages:
            if not row.count and not row.configured:
                continue
            header = Text(f"{safe(row.stage).capitalize()}", style="bold underline")
            header.append(f"  {row.count} deal{'s' if row.count != 1 else ''} · {money(row.total, currency)}",
                          style="bold")
            options.append(Option(header, disabled=True))
            for item in row.deals[:PER_STAGE]:
                deal = item.deal
                line = Text("  ")
                line.append_text(_cell(safe(item.name), name_w, "bold"))
                line.append(" ")
                line.append_text(_cell(safe(deal.title or "(untitled)"), title_w))
                line.append(" ")
                line.append_text(_cell(money(deal.amount, currency), amount_w, right=True))
                line.append("  ")
                if deal.close:
                    late = "!" if item.overdue else ""  # red too; ! for a terminal without colour
                    close = deal.close.isoformat() + late + (f" {relative(deal.close, today)}" if wide else "")
                    line.append_text(_cell(close, close_w, "bold red" if item.overdue else "dim"))
                else:
                    line.append(" " * close_w)
                line.append(" ")
                line.append_text(what_if_text(item))
                options.append(Option(line, id=deal_key(item)))
                self.order.append(deal_key(item))
            if row.count > PER_STAGE:
                options.append(Option(Text(f"  … {row.count - PER_STAGE} more, closing later "
                                           f"(crmtui pipeline --json lists every one)", style="dim italic"),
                                      disabled=True))
        option_list.clear_options()
        if not self.order:
            options.append(Option(Text("No open deals. Select a customer and press $ to add one.",
                                       style="dim italic"), disabled=True))
        option_list.add_options(options)
        title = Text(f"Pipeline · {pipe.count} open deal{'s' if pipe.count != 1 else ''} · "
                     f"{money(pipe.total, currency)}")
        if pipe.overdue:
            title.append(f" · {pipe.overdue} past the expected close", style="bold red")
        self.query_one("#view-title", Static).update(title)
        hint = "w won · L lost · $ new deal · " + ("Enter go to the customer" if wide else "Enter customer")
        if any(d.what_if.override for d in pipe.deals()):
            hint += " · * tier set in the file"
        self.query_one("#pipeline-hint", Static).update(Text(hint, style="dim"))
        if self.order:
            if keep in self.order:
                target = keep
            else:  # the deal is gone (won, lost): the one that followed it takes its place
                following = before[before.index(keep) + 1:] if keep in before else []
                target = next((key for key in following if key in self.order),
                              self.order[-1] if following else self.order[0])
            option_list.highlighted = option_list.get_option_index(target)
        option_list.focus()

    def current_key(self) -> str | None:
        option_list = self.query_one(OptionList)
        if option_list.highlighted is None:
            return None
        return option_list.get_option_at_index(option_list.highlighted).id

    def current_deal(self) -> tuple[str, int] | None:
        """The deal under the cursor, as (handle, index in [[deals]]): what w and L act on."""
        key = self.current_key()
        if not key:
            return None
        handle, _, index = key.rpartition("|")
        return handle, int(index)

    def current_handle(self) -> str | None:
        deal = self.current_deal()
        return deal[0] if deal else None

    @on(OptionList.OptionSelected, "#pipeline-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        handle = self.current_handle()
        if handle:
            self.app.jump_to(handle)
