"""The detail pane: profile, tier, value, open deals, reminders, and the timeline newest first."""

from __future__ import annotations

from datetime import timedelta

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.containers import VerticalScroll
from textual.widgets import Static
from textual.worker import get_current_worker

from crmtui.domain.reminders import customer_due
from crmtui.domain.record import Customer
from crmtui.service import Service
from crmtui.tui.fmt import KIND_STYLES, clip, money, relative, safe, text, tier_badge, tier_label


def _section(title: str) -> Text:
    return Text(f"\n{title}", style="bold underline")


def _grid(*widths: int) -> Table:
    grid = Table.grid(padding=(0, 1))
    for i, width in enumerate(widths):
        if width:
            grid.add_column(no_wrap=True, width=width)
        else:
            grid.add_column(ratio=1, overflow="fold")
    return grid


def deals_section(customer: Customer, today, currency: str, narrow: bool) -> list:
    """Open deals (stage, expected close, amount) and the won ones that make today's value;
    the keys that act on them. The money of an open deal is bold, a passed close red."""
    from crmtui.domain.tiers import WINDOW

    found = [d for d in customer.deals if d.status == "open"]
    counted = [d for d in customer.deals if d.status == "won" and d.date is not None and today - WINDOW < d.date <= today]
    counted.sort(key=lambda d: d.date, reverse=True)
    parts: list = [_section(f"Deals ({len(found)} open)" if found else "Deals")]
    if not found and not counted:
        parts.append(Text("no deals yet; press $ to add one", style="dim"))
        return parts
    deals = _grid(0, 12) if narrow else _grid(0, 22, 12)
    for deal in found:
        where = Text(safe(deal.stage or ""), style="dim")
        if deal.close:
            where.append(" · " if deal.stage else "")
            where.append(f"close {deal.close}", style="bold red" if deal.close < today else "dim")
        amount = Text(money(deal.amount, currency), style="bold", justify="right")
        if narrow:
            title = text(deal.title or "(untitled)")
            if where.plain:
                title.append("\n")
                title.append_text(where)
            deals.add_row(title, amount)
        else:
            deals.add_row(text(deal.title or "(untitled)"), where, amount)
    for deal in counted[:3]:
        title = text(deal.title or "(untitled)", style="dim")
        amount = Text(money(deal.margin, currency), style="dim", justify="right")
        if narrow:
            title.append(f"\nwon {deal.date}", style="dim")
            deals.add_row(title, amount)
        else:
            deals.add_row(title, Text(f"won {deal.date}", style="dim"), amount)
    parts.append(deals)
    parts.append(Text("w won · L lost · $ add · P pipeline" if found else "$ add a deal · P pipeline",
                      style="dim italic"))
    return parts


def render_customer(reader: Service, handle: str, width: int = 100, full: Customer | None = None) -> Group:
    """All of one record, as Rich renderables; every value from the file is plain text.

    The snapshot holds summaries (the latest interaction only); `full` is the whole
    record, read from disk in a worker, when it has arrived.
    """
    customer = full or reader.snapshot.customer(handle)
    if customer is None:
        record = reader.snapshot.records.get(handle)
        if record is not None and record.problem is not None:
            p = record.problem
            return Group(Text(f"{handle}.toml does not parse", style="bold red"),
                         text(f"line {p.line}, column {p.col}: {p.message}"),
                         Text("\nPress e to fix it in $EDITOR.", style="italic"))
        return Group(Text("No customer selected.", style="dim italic"))
    today = reader.today()
    settings = reader.snapshot.settings
    st = reader.standing(customer)
    parts: list = []

    title = Text(safe(customer.name), style="bold")
    title.append("  ")
    title.append_text(tier_badge(st.tier, st.disagrees))
    parts.append(title)
    subtitle = " · ".join(safe(v) for v in (customer.title, customer.company) if v)
    if subtitle:
        parts.append(Text(subtitle, style="italic"))
    parts.append(Text(""))

    fields = _grid(13, 0)

    def field(label: str, value: object, style: str = "") -> None:
        fields.add_row(Text(clip(safe(label), 13), style="dim"),
                       value if isinstance(value, Text) else Text(safe(value), style=style))

    tier_text = Text(tier_label(st.tier), style="bold")
    if st.override:
        tier_text.append(f"  (set in the file; computed: {tier_label(st.computed)})",
                         style="bold yellow" if st.disagrees else "dim")
    else:
        tier_text.append("  (computed)", style="dim")
    field("Tier", tier_text)
    field("Value (12 mo)", money(st.value, settings.currency))
    field("Stage", customer.stage)
    for label, values in (("Email", customer.emails), ("Phone", customer.phones)):
        for value in values:
            field(label, value)
    if customer.tags:
        field("Tags", ", ".join(customer.tags))
    if customer.owner:
        field("Owner", customer.owner)
    if customer.birthday:
        field("Birthday", customer.birthday)
    touch = reader.touch(customer) if hasattr(reader, "touch") else None
    if touch is not None:  # the cadence in force (the record's, a tag's or the tier's), and where it stands
        from crmtui.tui.widgets.customer_list import BAND_NAME_STYLES

        line = Text(touch.rule.cadence.describe() + "\n", style="")
        line.append(touch.sentence(today), style=BAND_NAME_STYLES.get(touch.band, "dim").replace("bold ", ""))
        field("Keep in touch", line)
    elif customer.keep_in_touch:
        field("Keep in touch", f"every {customer.keep_in_touch.describe()}")
    if customer.referred_by:
        referrer = reader.snapshot.customer(customer.referred_by)
        field("Referred by", referrer.name if referrer else customer.referred_by)
    referred = reader.referrals(customer.handle)
    if referred:
        field("Referred", ", ".join(c.name for c in referred))
    for label, url in customer.links.items():
        field(label, url)
    for key, value in customer.extra.items():
        field(key, value, style="italic")
    parts.append(fields)

    parts.extend(deals_section(customer, today, settings.currency, width < 56))

    due = customer_due(customer, today, settings, today + timedelta(days=366))
    due.sort(key=lambda item: item.due)
    parts.append(_section("Reminders"))
    if not due:
        parts.append(Text("nothing due", style="dim"))
    narrow = width < 56
    reminders = _grid(10, 0) if narrow else _grid(10, 12, 0)
    for item in due[:8]:
        when = Text(item.due.isoformat(), style="bold red" if item.due < today else "bold")
        what = text(item.text)
        if narrow:
            reminders.add_row(when, what)
        else:
            reminders.add_row(when, Text(relative(item.due, today), style="dim"), what)
    parts.append(reminders)

    count = getattr(customer, "interaction_count", len(customer.interactions))
    parts.append(_section(f"Timeline ({count})"))
    if not customer.interactions:
        parts.append(Text("no interactions yet; press l to log one", style="dim"))
    timeline = _grid(10, 0) if narrow else _grid(16, 8, 0)
    for item in reversed(customer.interactions):
        kind = Text(clip(safe(item.kind), 8), style=KIND_STYLES.get(item.kind, "bold"))
        if narrow:
            line = kind + Text(" ") + text(item.summary, multiline=True)
            timeline.add_row(Text(item.at.strftime("%Y-%m-%d"), style="dim"), line)
        else:
            timeline.add_row(Text(item.at.strftime("%Y-%m-%d %H:%M"), style="dim"), kind,
                             text(item.summary, multiline=True))
    parts.append(timeline)
    if count > len(customer.interactions):
        parts.append(Text(f"… {count - len(customer.interactions)} older, loading", style="dim italic"))

    conflicts = getattr(customer, "conflicts", ())
    if conflicts:
        from crmtui.domain.record import conflict_sentence

        parts.append(_section(f"Sync conflicts ({len(conflicts)})"))
        for conflict in conflicts:
            parts.append(text(conflict_sentence(customer.handle, conflict), style="yellow"))

    if customer.notes:
        parts.append(_section("Notes"))
        parts.append(text(customer.notes, multiline=True))
    return Group(*parts)


class CustomerDetail(VerticalScroll):
    """A scrolling pane showing one record."""

    can_focus = True

    def compose(self):
        yield Static(Text("Reading the book…", style="dim italic"), id="detail-body")

    def show(self, reader: Service | None, handle: str | None) -> None:
        body = self.query_one("#detail-body", Static)
        if reader is None:
            return
        self._detail_shown = (reader, handle)
        if handle is None:
            count = len(reader.customers)
            body.update(Text("The book is empty. Press n to add a customer." if not count
                             else "No customer selected.", style="dim italic"))
            return
        full = self._full if self._full is not None and self._full[0] == (reader, handle) else None
        body.update(render_customer(reader, handle, self.size.width or 100, full[1] if full else None))
        customer = reader.snapshot.customer(handle)
        if full is None and customer is not None and getattr(customer, "is_summary", False) \
                and hasattr(reader, "record"):
            self._load_full(reader, handle)

    _full: tuple[tuple[Service, str], Customer] | None = None

    @work(thread=True, exclusive=True, group="detail", exit_on_error=False)
    def _load_full(self, reader: Service, handle: str) -> None:
        """The whole record (every interaction) is read from its file here, off the UI thread."""
        try:
            customer = reader.record(handle)
        except Exception:  # noqa: BLE001 - the summary stays shown; a reload will report the file
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._full_loaded, reader, handle, customer)

    def _full_loaded(self, reader: Service, handle: str, customer: Customer) -> None:
        if self._detail_shown == (reader, handle):
            self._full = ((reader, handle), customer)
            self.show(reader, handle)

    def on_resize(self) -> None:
        shown = getattr(self, "_detail_shown", None)
        if shown is not None:
            self.show(*shown)
