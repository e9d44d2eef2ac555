"""The customer pyramid drawn to scale: one band per tier, as wide as its count, with count and value."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from crmtui.domain.tiers import PYRAMID_ORDER, UNRANKED, TierRow
from crmtui.tui.fmt import money, tier_label

BAND_COLORS = {"platinum": "#c9d6ea", "gold": "#e8c547", "iron": "#7d8a99", "lead": "#a05a5a"}
LABEL_WIDTH = 34


class Pyramid(Widget, can_focus=True):
    """Rich-text drawing of TierRows; ↑/↓ (or a click) chooses a tier."""

    BINDINGS = [
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("down,j", "move(1)", "Down", show=False),
    ]

    selected: reactive[int] = reactive(0)

    class TierChosen(Message):
        def __init__(self, tier: str) -> None:
            super().__init__()
            self.tier = tier

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.rows: list[TierRow] = []
        self.currency = "EUR"

    @property
    def order(self) -> list[str]:
        return [*PYRAMID_ORDER, UNRANKED]

    @property
    def tier(self) -> str:
        return self.order[self.selected]

    def set_rows(self, rows: list[TierRow], currency: str) -> None:
        self.rows = rows
        self.currency = currency
        self.refresh(layout=True)

    @property
    def band_height(self) -> int:
        """Two rows per tier when the terminal has room, one at 80x24."""
        return 2 if self.app.size.height >= 30 else 1

    def get_content_height(self, container, viewport, width: int) -> int:
        return len(PYRAMID_ORDER) * self.band_height + 1

    def _row(self, tier: str) -> TierRow:
        return next((r for r in self.rows if r.tier == tier), TierRow(tier, 0, 0.0, ()))

    def render(self) -> Text:
        width = max(20, self.content_size.width)
        bar_area = max(8, width - LABEL_WIDTH - 2)
        ranked = [self._row(t) for t in PYRAMID_ORDER]
        biggest = max((r.count for r in ranked), default=0) or 1
        out = Text(no_wrap=True, overflow="crop")
        for position, row in enumerate(ranked):
            chosen = position == self.selected
            bar = 0 if row.count == 0 else max(1, round(row.count / biggest * bar_area))
            if bar % 2 != bar_area % 2 and bar < bar_area:
                bar += 1  # keep the band centred on the same axis
            pad = (bar_area - bar) // 2
            for line in range(self.band_height):
                out.append("▶ " if chosen and line == 0 else "  ", style="bold")
                out.append(" " * pad)
                if bar:
                    out.append("█" * bar, style=BAND_COLORS[row.tier])
                else:
                    out.append("·", style="dim")
                out.append(" " * (bar_area - pad - max(bar, 1)))
                if line == 0:
                    label = Text(f" {tier_label(row.tier):<9}", style="bold reverse" if chosen else "bold")
                    label.append(f" {row.count:>5}  ")
                    label.append(f"{money(row.value, self.currency):>16}", style="dim" if not row.value else "")
                    out.append_text(label)
                out.append("\n")
        unranked = self._row(UNRANKED)
        chosen = self.selected == len(PYRAMID_ORDER)
        out.append("▶ " if chosen else "  ", style="bold")
        out.append(f"Unranked (no won deal yet): {unranked.count}",
                   style="bold reverse" if chosen else "italic")
        return out

    def watch_selected(self, selected: int) -> None:
        self.post_message(self.TierChosen(self.tier))

    def action_move(self, step: int) -> None:
        self.selected = max(0, min(len(self.order) - 1, self.selected + step))

    def select_tier(self, tier: str) -> None:
        if tier in self.order:
            self.selected = self.order.index(tier)

    def on_click(self, event: events.Click) -> None:
        y = event.y - self.styles.padding.top
        if y >= len(PYRAMID_ORDER) * self.band_height:
            self.selected = len(PYRAMID_ORDER)
        elif y >= 0:
            self.selected = y // self.band_height
