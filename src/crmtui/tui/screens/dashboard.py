"""The report, drawn: retention, attention (a sparkline of interactions per week), the pyramid's
movement as a migration table whose cells give their names, the life cycle, and referrals as a tree.

The report is computed in a thread worker (the first time on a large book it reads the whole
git history: seconds, shown as a progress bar) over its own read-only session, so writes are
never held up; it is computed again, from the cache, when the book changes.
"""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, OptionList, ProgressBar, Sparkline, Static, Tree
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from crmtui.domain.dates import add_months
from crmtui.domain.report import ABSENT, LADDER, RANK, Report, percent
from crmtui.service import Service
from crmtui.tui.fmt import TIER_STYLES, clip, money, safe
from crmtui.tui.screens.view_base import ViewScreen
from crmtui.tui.widgets.pyramid import BAND_COLORS

TITLES = {"platinum": "Platinum", "gold": "Gold", "iron": "Iron", "lead": "Lead", "unranked": "Unranked",
          ABSENT: "Absent"}
SHORT = {"platinum": "Plat", "gold": "Gold", "iron": "Iron", "lead": "Lead", "unranked": "Unr.", ABSENT: "Abs."}
ROW_STYLES = {**TIER_STYLES, "unranked": "bold", ABSENT: "dim"}
NAMES_SHOWN = 60  # rows of the names list under the table
_ONE_AT_A_TIME = threading.Lock()  # a report waits for the one before (a cold read is seconds of CPU)
_READING = [0, 0]  # how far the report being made has read the history: done, total
WIDE = 110  # columns from which the dashboard has two columns


def bar(share: float | None, cells: int = 12, style: str = "green") -> Text:
    """A horizontal bar for a share from 0 to 1."""
    if share is None:
        return Text("·" * cells, style="dim")
    full = round(max(0.0, min(1.0, share)) * cells)
    out = Text("█" * full, style=style)
    out.append("░" * (cells - full), style="dim")
    return out


class DashboardScreen(ViewScreen):
    DEFAULT_CSS = """
    DashboardScreen #dash-body { height: 1fr; }
    DashboardScreen #dash-columns { height: auto; }
    DashboardScreen #dash-columns.narrow { layout: vertical; }
    DashboardScreen #dash-left, DashboardScreen #dash-right { height: auto; width: 1fr; padding: 0 1; }
    DashboardScreen #dash-columns.narrow #dash-left, DashboardScreen #dash-columns.narrow #dash-right { width: 100%; }
    DashboardScreen .dash-section { height: auto; }
    DashboardScreen .dash-heading { height: 1; text-style: bold; margin-top: 1; }
    DashboardScreen .dash-gap { margin-top: 1; }
    DashboardScreen #dash-progress { height: 1; margin: 1 2; }
    DashboardScreen #dash-progress.done { display: none; }
    DashboardScreen #dash-spark { height: 3; margin-right: 1; }
    DashboardScreen #dash-spark > .sparkline--max-color { color: #e8c547; }
    DashboardScreen #dash-spark > .sparkline--min-color { color: #5f6b7a; }
    DashboardScreen #dash-pyramid { height: auto; layout: vertical; }
    DashboardScreen #dash-columns.narrow #dash-pyramid { layout: horizontal; }
    DashboardScreen #dash-migration { height: auto; max-height: 9; width: auto; }
    DashboardScreen #dash-names { height: auto; max-height: 7; width: 1fr; min-width: 20; }
    DashboardScreen #dash-referrals { height: auto; max-height: 16; }
    """

    BINDINGS = [
        Binding("left_square_bracket", "shift(-1)", "Earlier", id="crmtui.report.earlier", key_display="["),
        Binding("right_square_bracket", "shift(1)", "Later", id="crmtui.report.later", key_display="]"),
    ]

    def __init__(self, start: date | None = None, end: date | None = None) -> None:
        super().__init__()
        self.start, self.end = start, end  # None, None: the defaults (the twelve months ending today)
        self.report: Report | None = None
        self.tiers: list[str] = []  # the rows and columns of the migration table
        self._span: tuple | None = None  # how [ and ] step: ("yearly", end) or ("days", start, end)
        self._told = 0.0

    def compose(self) -> ComposeResult:
        yield self.title_bar("Report · reading the history…")
        with VerticalScroll(id="dash-body"):
            yield ProgressBar(id="dash-progress", show_eta=False)
            with Horizontal(id="dash-columns"):
                with Vertical(id="dash-left"):
                    yield Static("", id="dash-retention", classes="dash-section")
                    yield Static("", id="dash-spark-title", classes="dash-heading")
                    yield Sparkline([], id="dash-spark")
                    yield Static("", id="dash-attention", classes="dash-section")
                    yield Static("", id="dash-lifecycle", classes="dash-section dash-gap")
                with Vertical(id="dash-right"):
                    yield Static("", id="dash-pyramid-title", classes="dash-heading")
                    with Horizontal(id="dash-pyramid"):
                        yield DataTable(id="dash-migration", cursor_type="cell", zebra_stripes=False)
                        yield OptionList(id="dash-names")
                    yield Static("", id="dash-referrals-title", classes="dash-heading")
                    tree: Tree[str | None] = Tree("Referrals", id="dash-referrals")
                    tree.show_root = False
                    yield tree
        yield from self.status_and_footer()

    def on_mount(self) -> None:
        super().on_mount()
        self._fit(self.app.size.width)
        self.query_one("#dash-body").focus()  # ↑ ↓ scroll; Tab goes to the table, its names, the referrals

    def on_resize(self) -> None:
        self._fit(self.app.size.width)

    def _fit(self, width: int) -> None:
        self.query_one("#dash-columns").set_class(width < WIDE, "narrow")

    # ---- computing the report ------------------------------------------------------------

    def book_changed(self, reader: Service) -> None:
        self.load()

    def load(self) -> None:
        self._compute(self.start, self.end)

    @work(thread=True, exclusive=True, group="report", exit_on_error=False)
    def _compute(self, start: date | None, end: date | None) -> None:
        worker = get_current_worker()
        session = Service(self.app.writer.book, now=self.app.now)  # its own: the app's writer stays free

        def tell(done: int, total: int) -> None:
            now = time.monotonic()
            if worker.is_cancelled or (now - self._told < 0.1 and done < total):
                return
            self._told = now
            try:
                self.app.call_from_thread(self._progress, done, total)
            except Exception:  # noqa: BLE001 - the screen closed meanwhile: the reading goes on
                pass

        def progress(done: int, total: int) -> None:
            _READING[:] = [done, total]  # for a dashboard opened again while this one reads
            tell(done, total)

        try:
            # One report at a time: a second one (the view opened again, [ pressed) waits, showing how
            # the first one's reading advances, then finds the history read.
            while not _ONE_AT_A_TIME.acquire(timeout=0.2):
                if worker.is_cancelled:
                    return
                if _READING[1]:
                    tell(*_READING)
            try:
                if worker.is_cancelled:
                    return
                report = session.report(start, end, progress=progress)
            finally:
                _READING[:] = [0, 0]
                _ONE_AT_A_TIME.release()
        except Exception as error:  # noqa: BLE001 - shown, the app keeps running
            report, failure = None, str(error)
        else:
            failure = None
        if worker.is_cancelled:
            return
        try:
            if failure is not None:
                self.app.call_from_thread(self._failed, failure)
            else:
                self.app.call_from_thread(self.show, report)
        except Exception:  # noqa: BLE001 - the app is closing
            pass

    def _progress(self, done: int, total: int) -> None:
        if not self.is_attached:
            return
        bar_widget = self.query_one("#dash-progress", ProgressBar)
        bar_widget.remove_class("done")
        bar_widget.update(total=total, progress=done)

    def _failed(self, message: str) -> None:
        if not self.is_attached:
            return
        self.query_one("#dash-progress").add_class("done")
        self.query_one("#view-title", Static).update(Text("Report · could not be made", style="bold red"))
        self.query_one("#dash-retention", Static).update(Text(safe(message), style="red"))

    # ---- drawing it ------------------------------------------------------------------------

    def show(self, report: Report) -> None:
        if not self.is_attached:
            return
        self.report = report
        self.query_one("#dash-progress").add_class("done")
        p, q = report.period, report.previous
        title = Text(f"Report {p.start} → {p.end}", style="bold")
        title.append(f" · against {q.start} → {q.end}", style="")
        self.query_one("#view-title", Static).update(title)
        self._retention(report)
        self._attention(report)
        self._migration(report)
        self._lifecycle(report)
        self._referrals(report)

    def _retention(self, report: Report) -> None:
        ret = report.retention
        out = Text("Retention ", style="bold")
        if ret.base:
            out.append(f"{percent(ret.rate)} ", style="bold green" if ret.rate >= 0.8 else "bold yellow")
            out.append_text(bar(ret.rate))
            out.append(f"  {len(ret.retained):,} of {len(ret.base):,} still active")
        else:
            out.append("nobody was active in the previous period", style="dim")
        if ret.lost:
            out.append(f"\nlost {len(ret.lost):,}: ", style="bold red")
            out.append(self._names(report, ret.lost, 8))
        if ret.gained:
            out.append(f"\nnewly active {len(ret.gained):,}", style="green")
        out.append("\nchurn ", style="bold")
        if ret.churn_base:
            out.append(f"{percent(ret.churn_rate)} ", style="bold red" if ret.churned else "bold green")
            out.append(f" {len(ret.churned):,} of {len(ret.churn_base):,} customers")
            words = {"former": "former", "removed": "removed", "silent": "silent"}
            counts = [f"{sum(c.reason == r for c in ret.churned):,} {w}" for r, w in words.items()
                      if any(c.reason == r for c in ret.churned)]
            if counts:
                out.append(f" ({', '.join(counts)})", style="dim")
        else:
            out.append("no customers at the start", style="dim")
        self.query_one("#dash-retention", Static).update(out)

    def _attention(self, report: Report) -> None:
        att = report.attention
        title = Text("Interactions per week ", style="bold")
        title.append(f"{att.total:,}", style="bold")
        title.append(f" (previous {att.previous_total:,}; most {max(att.weeks, default=0):,} a week)", style="dim")
        self.query_one("#dash-spark-title", Static).update(title)
        self.query_one("#dash-spark", Sparkline).data = list(att.weeks) or [0]
        out = Text()
        if att.by_kind:
            out.append("by kind  ", style="dim")
            out.append("  ".join(f"{safe(k)} {n:,}" for k, n in att.by_kind.items()))
        if att.by_tier:
            out.append("\nby tier  ", style="dim")
            for tier, n in att.by_tier.items():
                out.append(f" {TITLES[tier]} {n:,} ", style=ROW_STYLES.get(tier, ""))
                out.append(" ")
        out.append("\nPlatinum & Gold in touch ", style="bold")
        if att.cared:
            inside = sum(c.within for c in att.cared)
            out.append(f"{percent(att.within_share)} ")
            out.append_text(bar(att.within_share, style=BAND_COLORS["gold"]))
            out.append(f"  {inside:,} of {len(att.cared):,} within cadence")
        else:
            out.append("none with a cadence", style="dim")
        self.query_one("#dash-attention", Static).update(out)

    def _migration(self, report: Report) -> None:
        mig = report.migration
        p = report.period
        title = Text(f"Pyramid movement ", style="bold")
        title.append(f"{p.start - timedelta(days=1)} → {p.end}  ", style="")
        title.append(f"↑{len(mig.up):,} ↓{len(mig.down):,} ={len(mig.same):,} +{len(mig.joined):,} −{len(mig.left):,}",
                     style="dim")
        self.query_one("#dash-pyramid-title", Static).update(title)
        table = self.query_one("#dash-migration", DataTable)
        tiers = [t for t in (*LADDER, ABSENT) if any(mig.count(t, o) or mig.count(o, t) for o in (*LADDER, ABSENT))]
        self.tiers = tiers
        table.clear(columns=True)
        table.add_column(Text("from\\to", style="dim"), width=8)
        for tier in tiers:
            table.add_column(Text(SHORT[tier], style=ROW_STYLES.get(tier, ""), justify="right"), width=5)
        for start in tiers:
            cells = [Text(TITLES[start], style=ROW_STYLES.get(start, ""))]
            for end in tiers:
                count = mig.count(start, end)
                if not count:
                    cells.append(Text("·", style="dim", justify="right"))
                    continue
                if start == end:
                    style = "dim"
                elif ABSENT in (start, end):
                    style = "italic"
                else:
                    style = "bold green" if RANK[end] > RANK[start] else "bold red"
                cells.append(Text(f"{count:,}" if count < 10000 else f"{count // 1000}k", style=style, justify="right"))
            table.add_row(*cells)
        if not tiers:
            self.query_one("#dash-names", OptionList).clear_options()
            return
        moved = [(a, b) for a in tiers for b in tiers if a != b and mig.count(a, b)]
        a, b = moved[0] if moved else (tiers[0], tiers[0])
        table.move_cursor(row=tiers.index(a), column=tiers.index(b) + 1, animate=False)
        self._show_cell(a, b)

    def _show_cell(self, start: str, end: str) -> None:
        report = self.report
        handles = report.migration.cells.get((start, end), ()) if report else ()
        names = self.query_one("#dash-names", OptionList)
        names.clear_options()
        verb = "stayed" if start == end else "→ " + TITLES[end]
        heading = Text(f"{TITLES[start]} {verb}: {len(handles)}", style="bold")
        names.add_option(Option(heading, disabled=True))
        shown = handles[:NAMES_SHOWN]
        twice = report.shared_names
        for handle in shown:
            label = Text(clip(safe(report.name(handle)), 60))
            if report.name(handle) in twice:
                label.append(f" {safe(handle)}", style="dim")
            names.add_option(Option(label, id=handle))
        if len(handles) > len(shown):
            names.add_option(Option(Text(f"… and {len(handles) - len(shown)} more: crmtui report --json",
                                         style="dim"), disabled=True))

    def _lifecycle(self, report: Report) -> None:
        life, before = report.lifecycle, report.previous_lifecycle
        cur = report.currency
        table = Table(box=None, padding=(0, 2, 0, 0), show_edge=False, expand=False)
        table.add_column(Text("Life cycle", style="bold"), no_wrap=True)
        table.add_column(Text("this period", style="dim"), justify="right", no_wrap=True)
        table.add_column(Text("previous", style="dim"), justify="right", no_wrap=True)

        def median(x) -> str:
            return "" if x.median_days_to_convert is None else f" ~{x.median_days_to_convert:g}d"

        table.add_row("added", f"{len(life.added):,}", f"{len(before.added):,}")
        table.add_row("prospects added", f"{len(life.prospects_added):,}", f"{len(before.prospects_added):,}")
        table.add_row("converted", f"{len(life.converted):,}{median(life)}", f"{len(before.converted):,}{median(before)}")
        table.add_row("won", Text(f"{len(life.won):,} · {money(life.won_value, cur)}", style="green"),
                      f"{len(before.won):,} · {money(before.won_value, cur)}")
        table.add_row("lost", Text(f"{len(life.lost):,} · {money(life.lost_value, cur)}", style="red"),
                      f"{len(before.lost):,} · {money(before.lost_value, cur)}")
        table.add_row("cross-sell", f"{len(life.cross_sell):,}", f"{len(before.cross_sell):,}")
        table.add_row("open pipeline", f"{len(life.open_deals):,} · {money(life.open_value, cur)}",
                      f"{len(before.open_deals):,} · {money(before.open_value, cur)}")
        self.query_one("#dash-lifecycle", Static).update(table)

    def _referrals(self, report: Report) -> None:
        top = [r for r in report.referrers if r.value][:1]
        title = Text("Referrals ", style="bold")
        if top:
            title.append(f"· most value brought: {clip(safe(report.name(top[0].handle)), 24)}, "
                         f"{money(top[0].value, report.currency)}", style="dim")
        elif not report.referral_tree:
            title.append("none (referred_by names who brought a customer)", style="dim")
        self.query_one("#dash-referrals-title", Static).update(title)
        tree = self.query_one("#dash-referrals", Tree)
        tree.clear()

        def label(node) -> Text:
            out = Text(clip(safe(report.name(node.handle)), 28), style="bold" if node.children else "")
            if not node.in_book:
                out.append(" (not in the book)", style="dim italic")
            if node.value:
                out.append(f"  won {money(node.value, report.currency)}", style="green")
            if node.children:
                out.append(f"  brought {len(node.children)}", style="dim")
            return out

        def add(parent, node) -> None:
            if node.children:
                branch = parent.add(label(node), data=node.handle if node.in_book else None, expand=True)
                for kid in node.children:
                    add(branch, kid)
            else:
                parent.add_leaf(label(node), data=node.handle if node.in_book else None)

        for node in report.referral_tree:
            add(tree.root, node)

    @staticmethod
    def _names(report: Report, handles, limit: int) -> str:
        shown = ", ".join(safe(report.name(h)) for h in handles[:limit])
        return shown + (f", … and {len(handles) - limit} more" if len(handles) > limit else "")

    # ---- keys ----------------------------------------------------------------------------

    @on(DataTable.CellHighlighted, "#dash-migration")
    def _cell(self, event: DataTable.CellHighlighted) -> None:
        row, column = event.coordinate.row, event.coordinate.column
        tiers = self.tiers
        if 0 <= row < len(tiers) and 1 <= column <= len(tiers):
            self._show_cell(tiers[row], tiers[column - 1])

    @on(DataTable.CellSelected, "#dash-migration")
    def _cell_chosen(self) -> None:
        names = self.query_one("#dash-names", OptionList)
        if names.option_count > 1:
            names.focus()
            names.highlighted = 1

    @on(OptionList.OptionSelected, "#dash-names")
    def _go(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.app.jump_to(event.option.id)

    @on(Tree.NodeSelected, "#dash-referrals")
    def _go_referral(self, event: Tree.NodeSelected) -> None:
        if event.node.data and not event.node.children:
            self.app.jump_to(event.node.data)

    def current_handle(self) -> str | None:
        names = self.query_one("#dash-names", OptionList)
        if names.has_focus and names.highlighted is not None:
            return names.get_option_at_index(names.highlighted).id
        tree = self.query_one("#dash-referrals", Tree)
        if tree.has_focus and tree.cursor_node is not None:
            return tree.cursor_node.data
        return None

    def action_shift(self, step: int) -> None:
        """The period before or after this one: a year at a time from the default twelve months,
        else by the period's own length; never after today nor wholly before the book began."""
        report = self.report
        if report is None:
            return
        p, today = report.period, report.today
        if self._span is None:
            yearly = p.start == add_months(p.end, -12) + timedelta(days=1)
            self._span = ("yearly", p.end) if yearly else ("days", p.start, p.end)
        if self._span[0] == "yearly":
            end = add_months(self._span[1], 12 * step)
            start = add_months(end, -12) + timedelta(days=1)
        else:
            _, first, last = self._span
            length = (last - first).days + 1
            start, end = first + timedelta(days=step * length), last + timedelta(days=step * length)
        if end > today:
            if p.end >= today:
                self.app.notify("This is the latest period: it ends today.", timeout=3)
                return
            start, end = start - (end - today), today
        if report.began is not None and end < report.began:
            self.app.notify(f"The book began on {report.began}: there is nothing before.", timeout=3)
            return
        self._span = ("yearly", end) if self._span[0] == "yearly" else ("days", start, end)
        if report.began is not None and start < report.began:
            start = report.began  # the part before the book has nothing to count
        self.start, self.end = start, end
        self.query_one("#view-title", Static).update(Text(f"Report {start} → {end} · computing…", style="bold"))
        self.load()
