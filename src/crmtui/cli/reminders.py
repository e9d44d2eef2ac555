"""Commands on what is due: due, done, remind, snooze."""

from __future__ import annotations

import argparse

from crmtui.cli.command import Command, emit_json, warn_problems
from crmtui.errors import CrmError


def due_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--within", type=int, metavar="DAYS",
                   help="look this many days ahead (default: due_within in crm.toml, 14 days unless set)")
    p.add_argument("--losing-touch", action="store_true",
                   help="only the customers past their maximum keep-in-touch interval, the longest first")


def cmd_due(service, args) -> int:
    from crmtui.cli import render as r

    if args.within is not None and args.within < 0:
        raise CrmError("--within must be 0 or more days")
    if args.losing_touch:
        rows = service.losing_touch()
        if args.json:
            return emit_json([r.losing_touch_json(c, status, service.today()) for c, status in rows])
        print(r.losing_touch_text(rows, service.today()))
        warn_problems(service)
        return 0
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


def remind_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("who", metavar="WHO")
    p.add_argument("when", metavar="WHEN", help="the day: 2026-12-01, tomorrow, 14d, 2w, 3m")
    p.add_argument("text", metavar="TEXT", nargs="+", help="what to do (quotes optional)")
    p.add_argument("--every", metavar="CADENCE", help="repeat: 1w, 1m, 3m, 1y (done moves it forward)")


def cmd_remind(service, args) -> int:
    from crmtui.cli.render import clean

    customer = service.resolve(args.who)
    saved, reminder = service.remind(customer.handle, args.when, " ".join(args.text), every=args.every)
    repeat = f"; repeats every {reminder.every.describe()}" if reminder.every else ""
    print(f"Reminder for {clean(saved.name)} on {reminder.due}: {clean(reminder.text)}{repeat}")
    return 0


def snooze_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("who", metavar="WHO")
    p.add_argument("when", metavar="WHEN", help="until when: tomorrow, 3d, 1w, 2026-12-01")
    p.add_argument("text", nargs="*", help="words of the reminder, or \"keep in touch\", or \"birthday\" "
                                           "(default: the earliest open reminder or keep-in-touch item)")


def cmd_snooze(service, args) -> int:
    from crmtui.cli.render import clean
    from crmtui.domain.reminders import REMINDER

    customer = service.resolve(args.who)
    kind, reminder = service.snooze_target(customer, " ".join(args.text) or None)
    saved, until = service.snooze_item(customer.handle, kind, reminder.index if reminder else None, args.when)
    what = reminder.text if kind == REMINDER else {"keep-in-touch": "Keep in touch", "birthday": "Birthday"}[kind]
    print(f"Snoozed: {clean(what)} ({clean(saved.name)}) to {until}")
    return 0


COMMANDS = (
    Command("due", "what is due: reminders, birthdays, keep-in-touch; overdue first", cmd_due, due_args,
            description="What is due: reminders, birthdays, keep-in-touch; overdue first.\n\n"
                        "Sections: Losing touch (past the maximum keep-in-touch interval), Overdue, Today,\n"
                        "This week, Later. How far ahead it looks: --within, else due_within in crm.toml.",
            json=True, reads_only=True, uses_settings=True),
    Command("done", "mark a reminder done (a recurring one moves forward)", cmd_done, done_args),
    Command("remind", "add a reminder (committed)", cmd_remind, remind_args,
            description="Add a reminder to a customer, committed.\n\n"
                        "example: crmtui remind ana 2w \"send the renewal proposal\" --every 3m"),
    Command("snooze", "snooze a reminder or a keep-in-touch item to a later day (committed)", cmd_snooze,
            snooze_args, description="Snooze a reminder, a keep-in-touch item or a birthday, committed.\n\n"
                                     "A reminder's due date moves; for keep-in-touch the record gets\n"
                                     "keep_in_touch_snoozed_until = DATE (no item before then; logging an\n"
                                     "interaction ends the snooze).\n\n"
                                     "example: crmtui snooze ana 1w renewal   ·   crmtui snooze ben 2w keep in touch",
            uses_settings=True),
)
