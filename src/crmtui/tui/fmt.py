"""Turning record data into Rich Text for the screens.

Everything that came from a user's file goes through `safe` and into Text
objects, never into markup: a name like "[bold]x[/]" is shown as written, and
control characters (terminal escape codes) are shown as \\xNN, not obeyed.
"""

from __future__ import annotations

import re
from datetime import date

from rich.text import Text

from crmtui.domain.dates import relative_days

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL_WITH_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")

TIER_STYLES = {
    "platinum": "bold #1b1b2f on #c9d6ea",
    "gold": "bold #2b2000 on #e8c547",
    "iron": "bold #f0f0f0 on #5f6b7a",
    "lead": "bold #f0f0f0 on #6b3a3a",
}
TIER_SHORT = {"platinum": "PLAT", "gold": "GOLD", "iron": "IRON", "lead": "LEAD"}
KIND_STYLES = {
    "call": "bold #7fb8ff",
    "email": "bold #a6e3a1",
    "meeting": "bold #f9c97a",
    "message": "bold #c6a0f6",
    "note": "bold #aaaaaa",
    "feedback": "bold #f38ba8",
}


def _show(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(value: object, multiline: bool = False) -> str:
    """User text made safe to show: control characters written as \\xNN.

    With multiline, newlines and tabs are kept (for notes); otherwise a newline
    is shown as \\x0a too, so one record is one line in a list.
    """
    text = "" if value is None else str(value)
    if multiline:
        return _CONTROL.sub(_show, text)
    return _CONTROL_WITH_BREAKS.sub(_show, text)


def text(value: object, style: str = "", multiline: bool = False) -> Text:
    return Text(safe(value, multiline), style=style)


def clip(value: str, width: int) -> str:
    return value if len(value) <= width else value[: max(0, width - 1)] + "…"


def money(amount: float, currency: str) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount):,.0f} {safe(currency)}"


def tier_label(tier: str | None) -> str:
    return tier.capitalize() if tier else "Unranked"


def tier_badge(tier: str | None, disagrees: bool = False) -> Text:
    if not tier:
        return Text("  ·  ", style="dim")
    badge = Text(f" {TIER_SHORT.get(tier, tier[:4].upper())}", style=TIER_STYLES.get(tier, "bold"))
    badge.append("*" if disagrees else " ", style=TIER_STYLES.get(tier, "bold"))
    return badge


def when_short(due: date | None, today: date) -> Text:
    """A compact next-reminder cell: '3d late', 'today', 'in 5d', 'Aug 02'."""
    if due is None:
        return Text("")
    days = (due - today).days
    if days < 0:
        return Text(f"{-days}d late", style="bold red")
    if days == 0:
        return Text("today", style="bold yellow")
    if days <= 60:
        return Text(f"in {days}d", style="green" if days > 7 else "yellow")
    return Text(due.strftime("%b %d") if days < 300 else due.strftime("%Y-%m"), style="dim")


def relative(due: date, today: date) -> str:
    return relative_days(due, today)
