"""The book's git history: history, restore."""

from __future__ import annotations

import argparse

from crmtui.cli.command import Command, emit_json
from crmtui.errors import CrmError


def history_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("who", nargs="?", metavar="WHO")
    p.add_argument("--patch", action="store_true", help="show the diffs")
    p.add_argument("--limit", type=int, default=30, help="how many commits (default 30)")


def cmd_history(service, args) -> int:
    from crmtui.cli import render as r

    handle = None
    if args.who:
        handle = _history_handle(service, args.who)
    if args.limit < 1:
        raise CrmError("--limit must be at least 1")
    entries = service.history(handle, limit=args.limit)
    if args.json:
        return emit_json([{"commit": e.commit.sha, "when": e.commit.when, "author": e.commit.author,
                           "subject": e.commit.subject, "file": e.path, "handle": e.handle,
                           "changes": list(e.phrases)} for e in entries])
    if not entries:
        print("No history yet.")
        return 0
    last_sha = None
    for entry in entries:
        c = entry.commit
        if c.sha != last_sha:
            if last_sha and args.patch:
                print()
            author = r.cell(c.author)
            author = author if len(author) <= 16 else author[:15] + "…"
            print(f"{r.style(c.short, '33')}  {c.when:%Y-%m-%d %H:%M}  {author:<16}  {r.cell(c.subject)}")
            last_sha = c.sha
            if args.patch:
                print(r.clean(service.patch(c.sha, handle)))  # the diff shows the file's bytes: shown, not obeyed
                continue
        if entry.phrases and not args.patch:
            prefix = "" if handle else f"{entry.handle or entry.path}: "
            print(f"          {r.cell(prefix)}{r.cell('; '.join(entry.phrases))}")
    return 0


def _history_handle(service, who: str) -> str:
    handle = who.removesuffix(".toml").rsplit("/", 1)[-1]
    if handle in service.snapshot.records:
        return handle
    if service.git.log(service.book.rel(handle), limit=1):
        return handle  # a deleted record still has its history
    return service.resolve(who).handle


def restore_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("who", metavar="WHO", help="a customer, or the file name of a deleted one")
    p.add_argument("rev", metavar="REV", help="a commit id from crmtui history")


def cmd_restore(service, args) -> int:
    from crmtui.cli.render import clean

    handle = _history_handle(service, args.who)
    customer, sha = service.restore(handle, args.rev)
    print(f"Restored {clean(customer.name)} to {sha[:8]} (a new commit; nothing was lost)")
    return 0


COMMANDS = (
    Command("history", "git history of one record, or of the whole book", cmd_history, history_args,
            json=True, reads_only=True),
    Command("restore", "bring a record back to an earlier version, as a new commit", cmd_restore, restore_args),
)
