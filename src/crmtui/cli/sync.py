"""Sharing the book through its git remote: sync, resolve."""

from __future__ import annotations

import argparse
import sys

from crmtui.cli.command import Command, record_handle


def cmd_sync(service, args) -> int:
    from crmtui.cli.render import clean

    report = service.sync(interactive=sys.stdin.isatty())
    print(clean(report.summary))
    for line in report.details:
        print(f"  {clean(line)}")
    return 0


def resolve_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("who", metavar="WHO")
    p.add_argument("key", nargs="?", metavar="KEY", help="the conflicting key (default: every conflict of the record)")
    side = p.add_mutually_exclusive_group(required=True)
    side.add_argument("--ours", dest="side", action="store_const", const="ours",
                      help="keep the value the record has now")
    side.add_argument("--theirs", dest="side", action="store_const", const="theirs",
                      help="take the other side's value")


def cmd_resolve(service, args) -> int:
    from crmtui.cli.render import clean

    handle = record_handle(service, args.who)
    saved, keys = service.resolve_conflict(handle, args.key, args.side)
    how = "kept the record's value" if args.side == "ours" else "took the other side's value"
    left = len(saved.conflicts)
    more = f"; {left} more conflict{'s' if left > 1 else ''} to resolve (crmtui check)" if left else ""
    print(f"Resolved {', '.join(keys)} of {clean(saved.name)}: {how}{more}")
    return 0


COMMANDS = (
    Command("sync", "commit, pull with the record-aware merge, push", cmd_sync,
            description="Sync the book with its git remote: commit pending valid edits, fetch, merge the other "
                        "side's changes record by record, push.\n\nFirst time: git -C BOOK remote add origin URL"),
    Command("resolve", "settle a sync conflict: keep one side's value of a key (committed)", cmd_resolve,
            resolve_args,
            description="Settle a [[conflicts]] entry left by a sync (see crmtui check), as one commit.\n\n"
                        "example: crmtui resolve ana company --theirs"),
)
