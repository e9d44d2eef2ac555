"""`crmtui report`: retention, the pyramid's movement, the life cycle, referrals and attention
over a period, from the book's git history."""

from __future__ import annotations

import argparse

from crmtui.cli.command import Command, emit_json, progress_bar

SHOWN = 6  # names listed before "… and N more" without --names
BLOCKS = " ▁▂▃▄▅▆▇█"
REASONS = {"former": "moved to former", "removed": "removed from the book",
           "silent": "silent past their cadence's maximum"}

DESCRIPTION = """\
What the history knows over a period: retention, the pyramid's movement, the life
cycle, referrals and attention, from the book's git history.

The period is whole days, both ends included. Default: the twelve months ending
today, against the same number of days just before. --from alone runs to today;
--to alone covers the twelve months ending then. The previous period always has
the same length and ends the day before --from.

Retention: active = an interaction or a won deal in the period. Churn: customers
(stage customer at the start) who moved to former, were removed, or are silent
past their keep-in-touch cadence's maximum at the end. Tiers, stages, open deals
and referrers are read as the records stood at each date (from git history, with
crm.toml's thresholds as they stood then); interactions and deals count on the
dates written in the records' latest versions.

The history is read once and kept in .git/crmtui/; later runs read only the new
commits.

examples: crmtui report   ·   crmtui report --from 2026-01-01   ·   crmtui report --json"""


def report_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--from", dest="start", metavar="WHEN",
                   help="the first day of the period (2026-01-01, 3m ago; default: a year ago tomorrow)")
    p.add_argument("--to", dest="end", metavar="WHEN", help="the last day of the period (default: today)")
    p.add_argument("--names", action="store_true", help="list every name (default: the first few of each list)")


def cmd_report(service, args) -> int:
    report = service.report(args.start, args.end, progress=progress_bar("Reading the history"))
    if args.json:
        return emit_json(report_json(report))
    print(report_text(report, args.names))
    return 0


COMMANDS = (
    Command("report", "what the history knows: retention, the pyramid over time, life cycle, referrals",
            cmd_report, report_args, description=DESCRIPTION, json=True, reads_only=True, uses_settings=True),
)


# ---- JSON: every figure with its names -----------------------------------------------------


def _people(report, handles) -> list[dict]:
    return [{"handle": h, "name": report.name(h)} for h in handles]


def _deal(report, event) -> dict:
    return {"handle": event.handle, "name": report.name(event.handle), "title": event.title,
            "amount": event.amount, "margin": event.margin, "date": event.day}


def _lifecycle_json(report, life) -> dict:
    return {
        "added": _people(report, life.added),
        "prospects_added": _people(report, life.prospects_added),
        "converted": [{"handle": h, "name": report.name(h), "days": days} for h, days in life.converted],
        "median_days_to_convert": life.median_days_to_convert,
        "won": {"count": len(life.won), "amount": life.won_value, "deals": [_deal(report, d) for d in life.won]},
        "lost": {"count": len(life.lost), "amount": life.lost_value, "deals": [_deal(report, d) for d in life.lost]},
        "cross_sell": _people(report, life.cross_sell),
        "open_pipeline": {"count": len(life.open_deals), "amount": life.open_value,
                          "deals": [_deal(report, d) | {"close": d.day, "date": None} for d in life.open_deals]},
    }


def _node_json(report, node) -> dict:
    return {"handle": node.handle, "name": report.names.get(node.handle), "in_book": node.in_book,
            "value": node.value, "referred": [_node_json(report, kid) for kid in node.children]}


def report_json(report) -> dict:
    from crmtui.domain.report import ABSENT, LADDER

    ret, mig, att = report.retention, report.migration, report.attention
    return {
        "today": report.today,
        "period": {"from": report.period.start, "to": report.period.end, "days": report.period.days},
        "previous": {"from": report.previous.start, "to": report.previous.end, "days": report.previous.days},
        "book_began": report.began,
        "currency": report.currency,
        "retention": {
            "active_before": _people(report, ret.base),
            "retained": _people(report, ret.retained),
            "lost": _people(report, ret.lost),
            "newly_active": _people(report, ret.gained),
            "rate": ret.rate,
            "churn": {
                "customers_at_start": len(ret.churn_base),
                "rate": ret.churn_rate,
                "churned": [{"handle": c.handle, "name": report.name(c.handle), "reason": c.reason,
                             "last_contact": c.last_contact, "limit": c.limit} for c in ret.churned],
            },
        },
        "pyramid": {
            "start": report.period.start, "end": report.period.end,
            "tiers": [*LADDER, ABSENT],
            "moves": [{"from": a, "to": b, "count": len(handles), "customers": _people(report, handles)}
                      for (a, b), handles in _cells_in_order(mig)],
            "up": _people(report, mig.up), "down": _people(report, mig.down),
            "stayed": _people(report, mig.same), "joined": _people(report, mig.joined),
            "left": _people(report, mig.left),
        },
        "lifecycle": _lifecycle_json(report, report.lifecycle),
        "previous_lifecycle": _lifecycle_json(report, report.previous_lifecycle),
        "referrals": {
            "tree": [_node_json(report, node) for node in report.referral_tree],
            "referrers": [{"handle": r.handle, "name": report.names.get(r.handle), "value": r.value,
                           "brought": _people(report, r.brought)} for r in report.referrers],
        },
        "attention": {
            "interactions": att.total,
            "previous_interactions": att.previous_total,
            "weeks": [{"from": start, "count": count} for start, count in zip(att.week_starts, att.weeks)],
            "by_kind": att.by_kind,
            "by_tier": att.by_tier,
            "platinum_gold_within_cadence": att.within_share,
            "platinum_gold": [{"handle": c.handle, "name": report.name(c.handle), "tier": c.tier,
                               "last_contact": c.last_contact, "within_cadence": c.within} for c in att.cared],
        },
    }


def _cells_in_order(migration):
    from crmtui.domain.report import ABSENT, LADDER

    order = {tier: i for i, tier in enumerate((*LADDER, ABSENT))}
    return sorted(migration.cells.items(), key=lambda item: (order[item[0][0]], order[item[0][1]]))


# ---- text: tables for people ----------------------------------------------------------------


def _pct(value: float | None) -> str:
    from crmtui.domain.report import percent

    return percent(value)


def _names(report, handles, all_names: bool, limit: int = SHOWN) -> str:
    from crmtui.cli.render import cell

    handles = list(handles)
    shown = handles if all_names else handles[:limit]
    twice = report.shared_names
    text = ", ".join(cell(report.name(h)) + (f" ({cell(h)})" if report.name(h) in twice else "") for h in shown)
    if len(handles) > len(shown):
        text += f", … and {len(handles) - len(shown):,} more (--names)"
    return text


def spark(values, width: int | None = None) -> str:
    """A one-line chart of `values` in block characters (the tallest bar is the largest value)."""
    values = list(values)
    if width and len(values) > width:  # squeeze: each cell sums a run of values
        step = len(values) / width
        values = [sum(values[int(i * step):int((i + 1) * step)]) for i in range(width)]
    top = max(values, default=0)
    if not top:
        return BLOCKS[1] * len(values)
    return "".join(BLOCKS[0 if not v else max(1, round(v / top * 8))] for v in values)


def report_text(report, all_names: bool = False) -> str:
    from crmtui.cli import render as r
    from crmtui.domain.report import ABSENT, LADDER

    money = lambda amount: r.money(amount, report.currency)  # noqa: E731
    p, q = report.period, report.previous
    lines = [r.style(f"Report {p.start} to {p.end} ({p.days} days), against {q.start} to {q.end}", "1")]
    if report.began and report.began > q.start:
        lines.append(f"The book began on {report.began}: nothing before then is counted.")

    ret = report.retention
    lines += ["", r.style("Retention", "1")]
    if ret.base:
        lines.append(f"  {_pct(ret.rate)} retained: {len(ret.retained):,} of the {len(ret.base):,} active in the previous "
                     f"period (an interaction or a won deal) are active again")
    else:
        lines.append("  nobody was active in the previous period (an interaction or a won deal)")
    if ret.lost:
        lines.append(f"  lost {len(ret.lost):,}: {_names(report, ret.lost, all_names)}")
    lines.append(f"  newly active {len(ret.gained):,}" + (f": {_names(report, ret.gained, all_names)}" if ret.gained else ""))
    if ret.churn_base:
        reasons = {reason: [c.handle for c in ret.churned if c.reason == reason] for reason in REASONS}
        lines.append(f"  churn {_pct(ret.churn_rate)}: {len(ret.churned):,} of the {len(ret.churn_base):,} customers at "
                     f"the start")
        for reason, handles in reasons.items():
            if handles:
                lines.append(f"    {REASONS[reason]} {len(handles):,}: {_names(report, handles, all_names)}")
    else:
        lines.append("  churn: no customers (stage customer) at the start of the period")

    mig = report.migration
    lines += ["", r.style(f"Pyramid movement (tier on {p.start - _day()} → on {p.end})", "1")]
    tiers = [*LADDER, ABSENT]
    present = [t for t in tiers if any(mig.count(t, other) or mig.count(other, t) for other in tiers)]
    if present:
        rows = [[r.TIER_TITLES.get(a, "Absent")] + [f"{mig.count(a, b):,}" if mig.count(a, b) else "·" for b in present] for a in present]
        table = r.table(rows, ["from \\ to"] + [r.TIER_TITLES.get(b, "Absent") for b in present])
        lines += ["  " + row for row in table.splitlines()]
        lines.append(f"  moved up {len(mig.up):,}, down {len(mig.down):,}, stayed {len(mig.same):,}, "
                     f"joined {len(mig.joined):,}, left {len(mig.left):,} (absent: not in the book on that day)")
        if all_names:
            for (a, b), handles in _cells_in_order(mig):
                if a != b:
                    lines.append(f"    {r.TIER_TITLES.get(a, 'Absent')} → {r.TIER_TITLES.get(b, 'Absent')} "
                                 f"{len(handles):,}: {_names(report, handles, True)}")
        else:
            moved = [(a, b, h) for (a, b), h in _cells_in_order(mig) if a != b][:8]
            for a, b, handles in moved:
                lines.append(f"    {r.TIER_TITLES.get(a, 'Absent')} → {r.TIER_TITLES.get(b, 'Absent')} "
                             f"{len(handles):,}: {_names(report, handles, False, 3)}")
    else:
        lines.append("  nobody was in the book on either day")

    life, before = report.lifecycle, report.previous_lifecycle
    lines += ["", r.style("Life cycle", "1")]
    median = lambda life: "" if life.median_days_to_convert is None else f" (median {life.median_days_to_convert:g} days)"  # noqa: E731
    rows = [
        ["added", f"{len(life.added):,}", f"{len(before.added):,}"],
        ["prospects added", f"{len(life.prospects_added):,}", f"{len(before.prospects_added):,}"],
        ["converted to customer", f"{len(life.converted)}{median(life)}", f"{len(before.converted)}{median(before)}"],
        ["deals won", f"{len(life.won):,}: {money(life.won_value)}", f"{len(before.won):,}: {money(before.won_value)}"],
        ["deals lost", f"{len(life.lost):,}: {money(life.lost_value)}",
         f"{len(before.lost):,}: {money(before.lost_value)}"],
        ["cross-sell (won again)", f"{len(life.cross_sell):,}", f"{len(before.cross_sell):,}"],
        ["open pipeline at the end", f"{len(life.open_deals):,}: {money(life.open_value)}",
         f"{len(before.open_deals):,}: {money(before.open_value)}"],
    ]
    lines += ["  " + row for row in r.table(rows, ["", "this period", "previous"]).splitlines()]
    for label, handles in (("converted", [h for h, _ in life.converted]), ("cross-sell", life.cross_sell)):
        if handles:
            lines.append(f"  {label}: {_names(report, handles, all_names)}")

    lines += ["", r.style("Referrals: who brought whom (won: deals won in the period, amount minus cost)", "1")]
    if report.referral_tree:
        trees = report.referral_tree if all_names else report.referral_tree[:SHOWN]
        for node in trees:
            lines += _tree_lines(report, node, money, "  ", "  ", all_names)
        if len(report.referral_tree) > len(trees):
            lines.append(f"  … and {len(report.referral_tree) - len(trees)} more referrers (--names)")
        top = [x for x in report.referrers if x.value][:3]
        if top:
            lines.append("  most value brought: " + "; ".join(
                f"{r.cell(report.name(x.handle))} {money(x.value)} ({len(x.brought)} referred)" for x in top))
    else:
        lines.append("  no referrals (referred_by in a record names who brought them)")

    att = report.attention
    lines += ["", r.style("Attention", "1")]
    lines.append(f"  {att.total:,} interactions (previous period {att.previous_total:,})")
    if att.weeks:
        lines.append(f"  per week  {spark(att.weeks, 60)}  (most {max(att.weeks):,} a week)")
    if att.by_kind:
        lines.append("  by kind   " + " · ".join(f"{r.cell(k)} {n:,}" for k, n in att.by_kind.items()))
    if att.by_tier:
        lines.append("  by tier   " + " · ".join(f"{r.TIER_TITLES.get(t, 'Absent')} {n:,}" for t, n in att.by_tier.items()))
    if att.cared:
        outside = [c.handle for c in att.cared if not c.within]
        lines.append(f"  Platinum and Gold within their cadence: {_pct(att.within_share)} "
                     f"({len(att.cared) - len(outside):,} of {len(att.cared):,})")
        if outside:
            lines.append(f"    not in touch {len(outside):,}: {_names(report, outside, all_names)}")
    else:
        lines.append("  no Platinum or Gold customers with a cadence at the end of the period")
    return "\n".join(_wrapped(lines))


def _wrapped(lines: list[str]) -> list[str]:
    """Long lines folded at the terminal's width, under their own indent (not the trees); a pipe
    gets them whole."""
    import shutil
    import sys
    import textwrap

    if not sys.stdout.isatty():
        return lines
    width = max(60, shutil.get_terminal_size((100, 24)).columns - 1)
    out = []
    for line in lines:
        if len(line) <= width or "─ " in line or "│" in line:
            out.append(line)
            continue
        indent = " " * (len(line) - len(line.lstrip()) + 4)
        out += textwrap.wrap(line, width, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)
    return out


def _day():
    from datetime import timedelta

    return timedelta(days=1)


def _tree_lines(report, node, money, first: str, rest: str, all_names: bool, depth: int = 0) -> list[str]:
    from crmtui.cli.render import cell

    name = cell(report.name(node.handle)) if node.in_book else f"{cell(node.handle)} (not in the book)"
    kids = node.children
    parts = [f"won {money(node.value)}"] if node.value else []
    if kids:
        brought = sum(kid.value for kid in kids)
        parts.append(f"brought {len(kids)}" + (f", who won {money(brought)}" if brought else ""))
    lines = [f"{first}{name}" + (f"  ({'; '.join(parts)})" if parts else "")]
    if depth >= 4 and not all_names and kids:
        return lines + [f"{rest}└─ … {len(kids)} more (--names)"]
    for i, kid in enumerate(kids):
        last = i == len(kids) - 1
        lines += _tree_lines(report, kid, money, rest + ("└─ " if last else "├─ "), rest + ("   " if last else "│  "),
                             all_names, depth + 1)
    return lines
