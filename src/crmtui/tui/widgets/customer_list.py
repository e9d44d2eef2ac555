"""The customer list: name (coloured by keep-in-touch band), company, tier badge, next reminder.
At most a few hundred rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rich.text import Text
from textual.widgets import DataTable

from crmtui.tui.fmt import safe, tier_badge, when_short

# The name's colour says where the keep-in-touch cadence stands: yellow due soon, orange
# due (past the ideal), red lapsed (past the maximum: losing touch).
BAND_NAME_STYLES = {"soon": "bold yellow", "due": "bold dark_orange", "lapsed": "bold red"}


@dataclass(frozen=True)
class Row:
    handle: str
    name: str
    company: str
    tier: str | None
    disagrees: bool
    next_due: date | None
    band: str | None = None  # keep in touch (domain/cadence.py): soon, due, lapsed, or None


def _cell(value: str, width: int, style: str) -> Text:
    """User text clipped to `width` terminal cells (CJK characters take two), with an ellipsis."""
    cell = Text(safe(value), style=style, no_wrap=True)
    cell.truncate(width, overflow="ellipsis")
    return cell


class CustomerList(DataTable):
    """A DataTable of customers keyed by handle; column widths follow the widget's width."""

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, show_row_labels=False, **kwargs)
        self._customer_rows: list[Row] = []
        self._today = date.today()
        self._widths: tuple[int, int] | None = None

    def _column_widths(self) -> tuple[int, int]:
        """(name, company) widths; company is 0 (no column) when the list is narrow, as at 80x24."""
        # tier badge 6, next 8, cell padding 2 per column, scrollbar 2
        free = max(16, self.size.width - 6 - 8 - 8 - 2)
        if free < 24:
            return free + 2, 0
        name = max(10, int(free * 0.6))
        return name, max(6, free - name)

    def on_resize(self) -> None:
        if self._column_widths() != self._widths:
            self.show(self._customer_rows, self._today, self.current_handle)

    @property
    def current_handle(self) -> str | None:
        if not self._customer_rows or self.cursor_row < 0 or self.cursor_row >= len(self._customer_rows):
            return None
        return self._customer_rows[self.cursor_row].handle

    def show(self, rows: list[Row], today: date, keep: str | None = None) -> None:
        """Replace the rows; put the cursor on `keep` when it is listed, else on the first row."""
        self._customer_rows, self._today = rows, today
        widths = self._column_widths()
        self._widths = widths
        name_w, company_w = widths
        # The caller decides the selection after a refresh; only the user's moves post events.
        with self.prevent(DataTable.RowHighlighted):
            self.clear(columns=True)
            self.add_column("Name", width=name_w, key="name")
            if company_w:
                self.add_column("Company", width=company_w, key="company")
            self.add_column("Tier", width=6, key="tier")
            self.add_column("Next", width=8, key="next")
            self.add_rows(
                (
                    _cell(r.name, name_w, BAND_NAME_STYLES.get(r.band or "", "bold")),
                    *([_cell(r.company, company_w, "dim")] if company_w else []),
                    tier_badge(r.tier, r.disagrees),
                    when_short(r.next_due, today),
                )
                for r in rows
            )
            # add_rows gives no keys; keep our own list in row order instead
            target = next((i for i, r in enumerate(rows) if r.handle == keep), 0) if keep else 0
            if rows:
                self.move_cursor(row=target, animate=False, scroll=True)


    def index_of(self, handle: str) -> int | None:
        return next((i for i, r in enumerate(self._customer_rows) if r.handle == handle), None)
