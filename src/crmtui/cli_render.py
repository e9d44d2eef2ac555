"""How the CLI prints: plain aligned text for people, JSON for scripts."""

from __future__ import annotations

import json
import os
import re
import sys
import unicodedata
from datetime import date, datetime
from typing import Any

from crmtui.domain.dates import relative_days
from crmtui.domain.record import Customer
from crmtui.domain.reminders import DueItem
from crmtui.domain.tiers import PYRAMID_ORDER, Standing, TierRow

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


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


def clean(text: Any) -> str:
    """User text made safe for a terminal: control and escape characters shown, not obeyed."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def use_color(stream=None) -> bool:
    stream = stream or sys.stdout  # looked up per call: sys.stdout may be replaced after import
    return stream.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def style(text: str, code: str, stream=None) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if use_color(stream) else text


def money(amount: float, currency: str) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount):,.0f} {currency}"


def tier_label(st: Standing) -> str:
    if st.tier is None:
        return "-"
    if st.disagrees:
        return f"{st.tier}* (computed {st.computed or 'unranked'})"
    return st.tier


def to_json(value: Any) -> str:
    """Indented for a person at a terminal; compact (and much faster) for a pipe."""
    def default(obj):
        if isinstance(obj, (date, datetime)):
            return obj.isoformat()
        return str(obj)

    if sys.stdout.isatty():
        return json.dumps(value, ensure_ascii=False, indent=2, default=default)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=default)


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
        "deals": [{"title": d.title, "amount": d.amount, "cost": d.cost, "status": d.status, "date": d.date}
                  for d in c.deals],
        "reminders": [{"due": r.due, "text": r.text, "every": str(r.every) if r.every else None, "done": r.done}
                      for r in c.reminders],
        "interactions": [{"at": i.at, "kind": i.kind, "summary": i.summary} for i in reversed(c.interactions)],
        "due": [due_json(d) for d in due],
        "extra": c.extra,
    })
    return out


def due_json(item: DueItem) -> dict[str, Any]:
    return {"handle": item.handle, "name": item.name, "kind": item.kind, "due": item.due, "text": item.text}


def table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(width(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    lines = ["  ".join(pad(h, w) for h, w in zip(headers, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(pad(str(c), w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)


def show_text(c: Customer, st: Standing, due: list[DueItem], currency: str, today: date,
              referred: list[Customer], referrer: Customer | None) -> str:
    lines = [style(clean(c.name), "1")]
    role = ", ".join(clean(x) for x in (c.title, c.company) if x)
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
        ("keep in touch", f"every {c.keep_in_touch.describe()}" if c.keep_in_touch else ""),
        ("referred by", f"{referrer.name} ({referrer.handle})" if referrer else c.referred_by),
        ("referred", ", ".join(r.name for r in referred)),
    ]
    fields += [(label, url) for label, url in c.links.items()]
    fields += [(key, str(value)) for key, value in c.extra.items() if not isinstance(value, (dict, list))]
    for label, value in fields:
        if value:
            lines.append(f"  {label:<13} {clean(value)}")  # a space even after a long unknown key
    open_deals = [d for d in c.deals if d.status == "open"]
    if open_deals:
        lines += ["", style("Open deals", "1")]
        lines += [f"  {clean(d.title)}: {money(d.amount, currency)}" for d in open_deals]
    if due:
        lines += ["", style("Due", "1")]
        lines += [f"  {d.due}  {relative_days(d.due, today):<12} {clean(d.text)}" for d in due]
    if c.notes:
        lines += ["", style("Notes", "1")] + [f"  {clean(x)}" for x in c.notes.strip().splitlines()]
    if c.interactions:
        lines += ["", style(f"Interactions ({len(c.interactions)}, newest first)", "1")]
        for i in list(reversed(c.interactions))[:15]:
            lines.append(f"  {i.at:%Y-%m-%d %H:%M}  {clean(i.kind):<9} {clean(i.summary)}")
        if len(c.interactions) > 15:
            lines.append(f"  … {len(c.interactions) - 15} older: crmtui show {c.handle} --json")
    return "\n".join(lines)


def due_text(items: list[DueItem], today: date) -> str:
    if not items:
        return "Nothing due. Enjoy the quiet."
    sections = {"overdue": "Overdue", "today": "Today", "week": "This week", "later": "Later"}
    lines: list[str] = []
    for key, title in sections.items():
        group = [i for i in items if i.bucket(today) == key]
        if not group:
            continue
        if lines:
            lines.append("")
        color = {"overdue": "31;1", "today": "33;1"}.get(key, "1")
        lines.append(style(f"{title} ({len(group)})", color))
        for i in group:
            lines.append(f"  {i.due}  {relative_days(i.due, today):<13} {pad(clean(i.name), 24)} {clean(i.text)}")
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
