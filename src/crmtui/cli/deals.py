"""Commands on deals: deal add|won|lost, and the pipeline of open deals by stage."""

from __future__ import annotations

import argparse
import shutil

from crmtui.cli.command import Command, book_option, emit_json, warn_problems

DEAL_HELP = """\
Cross-sell and upsell: a deal is open until it is won or lost. Won deals of the
last 12 months (amount minus cost) are the customer's value, which sets the tier.

  crmtui deal add ana "Q1 audit" 12000 --cost 3000 --close 2026-12-20 --stage proposal
  crmtui deal won ana                 (her only open deal; or name it: crmtui deal won ana audit)
  crmtui deal lost ana "Q1 audit"

The stages of an open deal are set in crm.toml: [deals] stages = ["lead", "proposal", "negotiation"]."""


def deal_args(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="deal_action", metavar="ACTION", required=True)
    common = dict(parents=[book_option()], formatter_class=argparse.RawDescriptionHelpFormatter)

    add = sub.add_parser("add", help="a new open deal", description="Add an open deal to a customer, committed.",
                         **common)
    add.add_argument("who", metavar="WHO")
    add.add_argument("title", metavar="TITLE", help="what the deal is, like \"Q1 audit\" (quote several words)")
    add.add_argument("amount", metavar="AMOUNT", help="what it brings in, like 12000 or 1250.50")
    add.add_argument("--cost", metavar="N", help="what it costs you (flights, subcontractors); value = amount - cost")
    add.add_argument("--close", metavar="WHEN", help="when you expect it to close (2026-12-20, 3m, ...)")
    add.add_argument("--stage", metavar="STAGE", help="its stage (default: the first in crm.toml, lead)")

    won = sub.add_parser("won", help="mark an open deal won", **common,
                         description="Mark an open deal won (dated today unless --date), committed; "
                                     "the customer's value and tier move with it.")
    won.add_argument("who", metavar="WHO")
    won.add_argument("title", metavar="TITLE", nargs="*",
                     help="words of the deal's title (not needed when the customer has one open deal)")
    won.add_argument("--date", metavar="WHEN", help="when it was won (default today; 3d ago, 2026-06-01)")

    lost = sub.add_parser("lost", help="mark an open deal lost", **common,
                          description="Mark an open deal lost (dated today), committed.")
    lost.add_argument("who", metavar="WHO")
    lost.add_argument("title", metavar="TITLE", nargs="*",
                      help="words of the deal's title (not needed when the customer has one open deal)")


def cmd_deal(service, args) -> int:
    from crmtui.cli.render import cell, money

    customer = service.resolve(args.who)
    currency = service.snapshot.settings.currency
    if args.deal_action == "add":
        saved, deal = service.add_deal(customer.handle, args.title, args.amount, cost=args.cost, close=args.close,
                                       stage=args.stage)
        close = f", expected to close {deal.close}" if deal.close else ""
        print(f"Added deal {cell(deal.title)} ({money(deal.amount, currency)}) for {cell(saved.name)}: "
              f"stage {cell(deal.stage)}{close}")
        return 0
    index, deal = service.find_deal(customer, " ".join(args.title) or None)
    if args.deal_action == "won":
        saved, deal, what_if = service.win_deal(customer.handle, index, args.date)
        from crmtui.domain.deals import won_message

        print(cell(won_message(deal, saved.name, currency, what_if).splitlines()[0]))
        if what_if.override and what_if.override != what_if.after:
            print(f"The file sets the tier to {cell(what_if.override)}, which stays in force "
                  f"(crmtui edit {saved.handle} to change it).")
        return 0
    saved, deal = service.lose_deal(customer.handle, index)
    from crmtui.domain.deals import lost_message

    print(cell(lost_message(deal, saved.name)))
    return 0


def cmd_pipeline(service, args) -> int:
    pipe = service.pipeline()
    currency = service.snapshot.settings.currency
    if args.json:
        return emit_json(pipeline_json(pipe, currency))
    print(pipeline_text(pipe, currency, service.today(), shutil.get_terminal_size().columns))
    warn_problems(service)
    return 0


def pipeline_json(pipe, currency: str) -> dict:
    def deal_json(d) -> dict:
        w = d.what_if
        return {"handle": d.handle, "name": d.name, "company": d.company, "title": d.deal.title,
                "amount": d.deal.amount, "cost": d.deal.cost, "stage": d.stage,
                "close": d.deal.close.isoformat() if d.deal.close else None, "overdue": d.overdue,
                "tier": w.before, "tier_if_won": w.after, "value": w.value_before, "value_if_won": w.value_after,
                "tier_override": w.override}

    return {"currency": currency, "count": pipe.count, "total": pipe.total, "overdue": pipe.overdue,
            "stages": [{"stage": row.stage, "configured": row.configured, "count": row.count, "total": row.total,
                        "deals": [deal_json(d) for d in row.deals]} for row in pipe.stages]}


def pipeline_text(pipe, currency: str, today, columns: int = 80) -> str:
    """Open deals by stage: a header per stage with its count and total, a row per deal
    (customer, deal, amount, expected close, what winning it would do to the tier)."""
    from crmtui.cli.render import cell, clip, money, pad, style, width
    from crmtui.domain.dates import relative_days

    if not pipe.count:
        return ("No open deals. Add one: crmtui deal add WHO TITLE AMOUNT [--close WHEN] [--stage STAGE]"
                + "".join(f"\n  {cell(row.stage).capitalize()}: 0" for row in pipe.stages if row.configured))
    wide = columns >= 110  # room for "in 30 days" after the close
    cells = []
    for row in pipe.stages:
        for d in row.deals:
            close = ""
            if d.deal.close:
                late = "!" if d.overdue else ""
                close = f"{d.deal.close}{late}"
                if wide:
                    close += f" {relative_days(d.deal.close, today)}"
            marker = "*" if d.what_if.override else ""
            cells.append((row.stage, cell(d.name), cell(d.deal.title or "(untitled)"), money(d.deal.amount, currency),
                          close, d.overdue, d.what_if.phrase() + marker))
    amount_w = max([width(c[3]) for c in cells] + [len("Amount")])
    close_w = max([width(c[4]) for c in cells] + [len("Close")])
    phrase_w = max([width(c[6]) for c in cells] + [len("If won")])
    # The customer and the deal share what the other columns leave of the terminal (80 at least).
    room = max(80, columns) - 2 - amount_w - close_w - phrase_w - 8
    name_w = min(max([width(c[1]) for c in cells] + [8]), max(12, room * 2 // 5), 28)
    title_w = min(max([width(c[2]) for c in cells] + [4]), max(12, room - name_w), 40)
    rows = [(stage, clip(name, name_w), clip(title, title_w), amount, close, late, phrase)
            for stage, name, title, amount, close, late, phrase in cells]
    widths = [name_w, title_w, amount_w, close_w]
    overdue = f", {pipe.overdue} overdue" if pipe.overdue else ""
    lines = [style(f"Pipeline: {pipe.count} open deal{'s' if pipe.count != 1 else ''}, "
                   f"{money(pipe.total, currency)}{overdue}", "1")]
    for row in pipe.stages:
        if not row.count and not row.configured:
            continue
        lines.append("")
        deals = f"{row.count} deal{'s' if row.count != 1 else ''}"
        lines.append(style(f"{cell(row.stage).capitalize()}  ·  {deals}  ·  {money(row.total, currency)}", "1"))
        if not row.count:
            continue
        lines.append("  " + "  ".join(pad(h, w) for h, w in zip(("Customer", "Deal", "Amount", "Close"), widths))
                     + "  If won")
        for stage, name, title, amount, close, late, phrase in rows:
            if stage != row.stage:
                continue
            close_cell = pad(close, widths[3])
            if late:
                close_cell = style(close_cell, "31;1")
            lines.append("  " + "  ".join((pad(name, widths[0]), pad(title, widths[1]),
                                           " " * (widths[2] - width(amount)) + amount, close_cell)) + f"  {phrase}")
    if any(d.what_if.override for d in pipe.deals()):
        lines += ["", "* the file sets this customer's tier; it stays in force whatever the deals say"]
    if pipe.overdue:
        deals = f"{pipe.overdue} deal{'s' if pipe.overdue != 1 else ''}"
        lines += ["", f"! the expected close has passed ({deals}): mark it",
                  "  won or lost (crmtui deal won|lost WHO), or move its close (crmtui edit WHO)"]
    return "\n".join(lines)


COMMANDS = (
    Command("deal", "deals: add an open one, mark one won or lost (deal add|won|lost)", cmd_deal, deal_args,
            description=DEAL_HELP, uses_settings=True),
    Command("pipeline", "open deals by stage, with totals and what winning each does to the tier",
            cmd_pipeline, json=True, reads_only=True, uses_settings=True),
)
