"""Commands on what is due: due, done."""

from __future__ import annotations

import argparse

from crmtui.cli.command import Command, emit_json, warn_problems
from crmtui.errors import CrmError


def due_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--within", type=int, default=7, metavar="DAYS", help="look this many days ahead (default 7)")


def cmd_due(service, args) -> int:
    from crmtui.cli import render as r

    if args.within < 0:
        raise CrmError("--within must be 0 or more days")
    items = service.due(args.within)
    if args.json:
        return emit_json([r.due_json(i) | {"bucket": i.bucket(service.today())} for i in items])
    print(r.due_text(items, service.today()))
    warn_problems(service)
    return 0


def done_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("who", metavar="WHO")
    p.add_argument("text", nargs="*", help="words of the reminder (default: the earliest open one)")


def cmd_done(service, args) -> int:
    from crmtui.cli.render import clean

    customer = service.resolve(args.who)
    reminder = service.find_reminder(customer, " ".join(args.text) or None)
    saved, reminder, next_due = service.mark_done(customer.handle, reminder.index)
    if next_due:
        print(f"Done: {clean(reminder.text)} ({clean(saved.name)}); next due {next_due}")
    else:
        print(f"Done: {clean(reminder.text)} ({clean(saved.name)})")
    return 0


COMMANDS = (
    Command("due", "what is due: reminders, birthdays, keep-in-touch; overdue first", cmd_due, due_args,
            json=True, reads_only=True, uses_settings=True),
    Command("done", "mark a reminder done (a recurring one moves forward)", cmd_done, done_args),
)
