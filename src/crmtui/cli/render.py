"""How the CLI prints: plain aligned text for people, JSON for scripts."""

from __future__ import annotations

from crmtui.json_text import dumps  # noqa: F401 - the CLI's one JSON writer, here for its commands

import os
import re
import sys
import unicodedata
from datetime import date
from typing import Any

from crmtui.domain.dates import relative_days
from crmtui.domain.record import Customer
from crmtui.domain.reminders import DueItem
from crmtui.domain.tiers import PYRAMID_ORDER, Standing, TierRow

# What a terminal would obey rather than show: C0 controls (ESC starts escape codes) but
# tab and newline, DEL and C1 (0x9b is CSI too), bidi overrides, embeddings, isolates and
# marks (U+202E turns "gpj.exe" round), zero-width spaces, line and paragraph separators,
# and lone surrogates (a file name that is not UTF-8; printing one would crash). ZWJ and
# ZWNJ (U+200C, U+200D) stay: names and emoji need them and they reorder nothing.
_UNSAFE = "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2060\u2066-\u2069\ufeff\ud800-\udfff"
_CONTROL = re.compile(f"[{_UNSAFE}]")
# Breaks that would split a table row or a one-line item: folded to one space.
_BREAKS = re.compile(r"[\t\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")
# In JSON the same characters are written as \\uXXXX escapes: the same string to a parser.


def width(text: str) -> int:
    """Terminal cells: wide East Asian characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def clip(text: str, cells: int) -> str:
    """At most `cells` terminal cells, with … where it was cut."""
    if width(text) <= cells:
        return text
    out = ""
    for ch in text:
        if width(out + ch) > cells - 1:
            break
        out += ch
    return out + "…"


def pad(text: str, cells: int) -> str:
    return text + " " * max(0, cells - width(text))


def _visible(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(text: Any) -> str:
    """User text made safe for a terminal: control characters, escape codes and bidi
    overrides are shown as \\xNN or \\uNNNN, not obeyed (as the TUI shows them). Tabs and
    newlines are kept, for notes and diffs; see `cell` for one-line places."""
    return _CONTROL.sub(_visible, str(text))


def cell(text: Any) -> str:
    """User text for one line (a table cell, a list item): `clean`, with newlines and tabs
    folded to one space, so a company written on two lines stays one row."""
    return clean(_BREAKS.sub(" ", str(text)))


class OutputError(OSError):
    """Writing the command's output failed (stdout on a full disk...), not the book."""


class Output:
    """sys.stdout while a command runs. With guard=True (text for people) whatever is
    written passes `clean` on its way out, so text from a file that reached a print
    without it is still shown, not obeyed; only the styles `style` made get through.
    JSON and exports use guard=False: they stay exact. A failed write is an OutputError."""

    def __init__(self, stream, guard: bool):
        self._stream = stream
        self._guard = guard

    def write(self, text: str) -> int:
        try:
            self._stream.write(_GUARD.sub(_guarded, text) if self._guard else text)
        except BrokenPipeError:
            raise
        except OSError as error:
            raise OutputError(error.errno, error.strerror) from error
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as error:
            raise OutputError(error.errno, error.strerror) from error

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


_STYLES: set[str] = set()  # the escape sequences `style` wrote: the only ones Output lets through
_GUARD = re.compile(f"\x1b\\[[0-9;]*m|[{_UNSAFE}]")


def _guarded(match: re.Match) -> str:
    found = match.group()
    if found in _STYLES:
        return found
    return "\\x1b" + found[1:] if len(found) > 1 else _visible(match)


def use_color(stream=None) -> bool:
    stream = stream or sys.stdout  # looked up per call: sys.stdout may be replaced after import
    return stream.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def style(text: str, code: str, stream=None) -> str:
    if not use_color(stream):
        return text
    _STYLES.update((f"\x1b[{code}m", "\x1b[0m"))
    return f"\x1b[{code}m{text}\x1b[0m"


def money(amount: float, currency: str) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount):,.0f} {cell(currency)}"  # the currency comes from crm.toml


def tier_label(st: Standing) -> str:
    if st.tier is None:
        return "-"
    if st.disagrees:
        return f"{st.tier}* (computed {st.computed or 'unranked'})"
    return st.tier


def to_json(value: Any) -> str:
    """Indented for a person at a terminal; compact (and much faster) for a pipe."""
    return dumps(value, indent=2 if sys.stdout.isatty() else None)


def customer_summary(c: Customer, st: Standing, next_due: DueItem | None) -> dict[str, Any]:
    return {
        "handle": c.handle,
        "name": c.name,
        "company": c.company,
        "title": c.title,
        "emails": c.emails,
        "phones": c.phones,
        "tags": c.tags,
        "stage": c.stage,
        "tier": st.tier,
        "computed_tier": st.computed,
        "tier_override": st.override,
        "value": st.value,
        "owner": c.owner,
        # Dates as text here, so the JSON encoder never calls back into Python.
        "next_reminder": {"due": next_due.due.isoformat(), "text": next_due.text, "kind": next_due.kind}
        if next_due else None,
        "last_interaction": c.last_interaction.at.isoformat() if c.last_interaction else None,
    }


def customer_full(c: Customer, st: Standing, due: list[DueItem]) -> dict[str, Any]:
    out = customer_summary(c, st, due[0] if due else None)
    out.update({
        "birthday": str(c.birthday) if c.birthday else None,
        "keep_in_touch": str(c.keep_in_touch) if c.keep_in_touch else None,
        "referred_by": c.referred_by or None,
        "notes": c.notes,
        "links": c.links,
        "deals": [{"title": d.title, "amount": d.amount, "cost": d.cost, "status": d.status, "date": d.date,
                   "stage": d.stage, "close": d.close} for d in c.deals],
        "reminders": [{"due": r.due, "text": r.text, "every": str(r.every) if r.every else None, "done": r.done}
                      for r in c.reminders],
        "interactions": [{"at": i.at, "kind": i.kind, "summary": i.summary} for i in reversed(c.interactions)],
        "due": [due_json(d) for d in due],
        "extra": c.extra,
    })
    return out


def due_json(item: DueItem) -> dict[str, Any]:
    out = {"handle": item.handle, "name": item.name, "kind": item.kind, "due": item.due, "text": item.text}
    if item.kind == "keep-in-touch":  # the cadence band (soon, due, lapsed; null before soon) and the maximum
        out |= {"band": item.band, "max": item.max_due}
    return out


def table(rows: list[list[str]], headers: list[str]) -> str:
    """Aligned columns. Every cell passes `cell`: a newline or an escape code in a company
    cannot break the row or reach the terminal (callers clip after `clean`; both are idempotent)."""
    rows = [[cell(c) for c in r] for r in rows]
    widths = [max(width(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    lines = ["  ".join(pad(h, w) for h, w in zip(headers, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(pad(str(c), w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)


def show_text(c: Customer, st: Standing, due: list[DueItem], currency: str, today: date,
              referred: list[Customer], referrer: Customer | None, touch=None) -> str:
    """`touch`: where the keep-in-touch cadence stands (domain/cadence.py Touch), when it applies."""
    lines = [style(cell(c.name), "1")]
    role = ", ".join(cell(x) for x in (c.title, c.company) if x)
    if role:
        lines.append(role)
    lines.append("")
    fields = [
        ("file", f"customers/{c.handle}.toml"),
        ("stage", c.stage),
        ("tier", tier_label(st)),
        ("value", money(st.value, currency) + " (won, last 12 months)"),
        ("emails", ", ".join(c.emails)),
        ("phones", ", ".join(c.phones)),
        ("tags", ", ".join(c.tags)),
        ("owner", c.owner),
        ("birthday", str(c.birthday) if c.birthday else ""),
        ("keep in touch", f"{touch.rule.cadence.describe()} ({touch.rule.source.replace(':', ' ')}); "
                          f"{touch.sentence(today)}" if touch is not None
         else f"every {c.keep_in_touch.describe()}" if c.keep_in_touch else ""),
        ("referred by", f"{referrer.name} ({referrer.handle})" if referrer else c.referred_by),
        ("referred", ", ".join(r.name for r in referred)),
    ]
    fields += [(label, url) for label, url in c.links.items()]
    fields += [(key, str(value)) for key, value in c.extra.items() if not isinstance(value, (dict, list))]
    for label, value in fields:
        if value:
            lines.append(f"  {cell(label):<13} {cell(value)}")  # a space even after a long unknown key
    open_deals = [d for d in c.deals if d.status == "open"]
    if open_deals:
        lines += ["", style("Open deals", "1")]
        lines += [f"  {cell(d.title)}: {money(d.amount, currency)}"
                  + "".join(f", {part}" for part in (cell(d.stage or ""), f"close {d.close}{' (passed)' if d.close < today else ''}" if d.close else "") if part)
                  for d in open_deals]
    if due:
        lines += ["", style("Due", "1")]
        lines += [f"  {d.due}  {relative_days(d.due, today):<12} {cell(d.text)}" for d in due]
    if c.notes:
        lines += ["", style("Notes", "1")] + [f"  {clean(x)}" for x in c.notes.strip().splitlines()]
    if c.interactions:
        lines += ["", style(f"Interactions ({len(c.interactions)}, newest first)", "1")]
        for i in list(reversed(c.interactions))[:15]:
            lines.append(f"  {i.at:%Y-%m-%d %H:%M}  {cell(i.kind):<9} {cell(i.summary)}")
        if len(c.interactions) > 15:
            lines.append(f"  … {len(c.interactions) - 15} older: crmtui show {c.handle} --json")
    return "\n".join(lines)


def due_text(items: list[DueItem], today: date) -> str:
    """The sections of the reminders view: losing touch (past the maximum interval, the
    longest first), overdue, today, this week, later."""
    if not items:
        return "Nothing due. Enjoy the quiet."
    sections = {"losing-touch": "Losing touch", "overdue": "Overdue", "today": "Today", "week": "This week",
                "later": "Later"}
    lines: list[str] = []
    for key, title in sections.items():
        group = [i for i in items if i.section(today) == key]
        if not group:
            continue
        if key == "losing-touch":
            group.sort(key=lambda i: (i.max_due or i.due, i.name.lower()))
        if lines:
            lines.append("")
        color = {"losing-touch": "31;1", "overdue": "31;1", "today": "33;1"}.get(key, "1")
        lines.append(style(f"{title} ({len(group)})", color))
        for i in group:
            day = i.max_due if key == "losing-touch" and i.max_due else i.due  # losing touch: since the maximum
            lines.append(f"  {day}  {relative_days(day, today):<13} {pad(cell(i.name), 24)} {cell(i.text)}")
    return "\n".join(lines)


def losing_touch_json(customer: Customer, status, today: date) -> dict[str, Any]:
    return {"handle": customer.handle, "name": customer.name, "company": customer.company,
            "last": status.last, "last_kind": status.last_kind, "ideal": str(status.rule.cadence.ideal),
            "max": str(status.rule.cadence.max) if status.rule.cadence.max else None,
            "source": status.rule.source, "ideal_due": status.ideal_on, "max_due": status.max_on,
            "days_past_max": status.past_max(today)}


def losing_touch_text(rows: list, today: date) -> str:
    if not rows:
        return "Nobody is past their maximum keep-in-touch interval."
    lines = [style(f"Losing touch ({len(rows)}): past the maximum interval, the longest first", "31;1")]
    for customer, status in rows:
        late = status.past_max(today)
        lines.append(f"  {pad(cell(customer.name), 24)} {late:>4} day{'s' if late != 1 else ' '} past max  "
                     f"last {cell(status.last_kind)} {status.last}  ({status.rule.cadence.describe()}, "
                     f"{status.rule.source.replace(':', ' ')})")
    return "\n".join(lines)


TIER_TITLES = {"platinum": "Platinum", "gold": "Gold", "iron": "Iron", "lead": "Lead", "unranked": "Unranked"}


def pyramid_text(rows: list[TierRow], currency: str, width: int, draw: bool) -> str:
    ranked = [r for r in rows if r.tier in PYRAMID_ORDER]
    unranked = next((r for r in rows if r.tier == "unranked"), None)
    label_rows = [
        f"{TIER_TITLES[r.tier]:<9}{r.count:>5} {'customer' if r.count == 1 else 'customers':<9}  {money(r.value, currency):>14}"
        for r in ranked
    ]
    if not draw:
        lines = label_rows
    else:
        # Centred bars to scale by count: the pyramid's shape is the book's own.
        most = max((r.count for r in ranked), default=0) or 1
        span = max(20, min(60, width - 48))
        colors = {"platinum": "97;1", "gold": "33;1", "iron": "37", "lead": "90"}
        lines = []
        for row, label in zip(ranked, label_rows):
            bar = "█" * max(1 if row.count else 0, round(span * row.count / most))
            lines.append(f"{style(bar.center(span), colors[row.tier])}  {label}")
    if unranked:
        lines.append(f"{'':{span if draw else 0}}{'  ' if draw else ''}"
                     f"{'Unranked':<9}{unranked.count:>5} {'customer' if unranked.count == 1 else 'customers':<9}  no won deal yet")
    return "\n".join(lines)
