"""Mail clients and interactions that log themselves: query, add-email, and the bodies of
`import mail`, `import calendar` and `log --mail` (their arguments live with import and log)."""

from __future__ import annotations

import argparse
import sys

from crmtui.cli.command import Command, progress_bar
from crmtui.errors import CrmError

SHOWN_PROBLEMS = 20
SHOWN_CUSTOMERS = 25


def capture_args(formats, book_option) -> None:
    """`import mail` and `import calendar`, added to the import command's formats."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--since", metavar="WHEN", help="only what happened since then: a date, or 3m for "
                                                        "the last three months")
    common.add_argument("--dry-run", action="store_true", help="show what would be logged; write nothing")
    q = formats.add_parser(
        "mail", parents=[book_option(), common], formatter_class=argparse.RawDescriptionHelpFormatter,
        help="log mail from and to customers as email interactions (Maildir, mbox, .eml, -)",
        description="Log every message from or to a customer's address as an email interaction, at\n"
                    "the message's date, with its subject (→ sent by you, ← received). Only headers\n"
                    "are read. PATH is a Maildir (cur/ and new/), a folder of Maildirs or .eml files,\n"
                    "an mbox file, or - for one message on stdin.\n\n"
                    "Each message is logged once: its Message-ID is kept on the interaction, so an\n"
                    "import again, overlapping folders, or the same message in Sent and Inbox add\n"
                    "nothing. Skipped: mail between your own addresses (me = [...] in crm.toml,\n"
                    "else git's user.email), mailing lists (List-Id, Precedence: bulk) and\n"
                    "noreply, mailer-daemon and postmaster senders. People not in the book are\n"
                    "not added; the most frequent are listed as candidates. One commit.\n\n"
                    "examples:\n  crmtui import mail ~/Maildir/INBOX ~/Maildir/Sent --since 6m\n"
                    "  crmtui import mail ~/mail/archive.mbox --dry-run\n  crmtui import mail - < message.eml")
    q.add_argument("paths", nargs="+", metavar="PATH")
    q = formats.add_parser(
        "calendar", parents=[book_option(), common], formatter_class=argparse.RawDescriptionHelpFormatter,
        help="log events with customers as meetings (.ics file or a khal/vdirsyncer folder)",
        description="Log every event that a customer organised or attended (and not only you) as a\n"
                    "meeting at its start, with its summary. Recurring events count once per\n"
                    "occurrence up to now; cancelled and private (or confidential) events are\n"
                    "skipped. Each occurrence is logged once (by its UID and start): an import\n"
                    "again adds nothing. FILE is an .ics file; FOLDER a khal or vdirsyncer calendar\n"
                    "(one .ics per event). One commit.\n\n"
                    "examples:\n  crmtui import calendar ~/.calendars/work/ --since 3m\n"
                    "  crmtui import calendar exported.ics --dry-run")
    q.add_argument("path", metavar="FILE|FOLDER")


def cmd_import_capture(service, args) -> int:
    if args.format == "mail":
        paths = [p for p in args.paths if p != "-"]
        stdin = sys.stdin.buffer.read() if "-" in args.paths else None
        progress = progress_bar("Reading mail")
        report = service.import_mail(paths, since=args.since, dry_run=args.dry_run, progress=progress, stdin=stdin,
                                     label="stdin" if stdin is not None and not paths else None,
                                     write_progress=progress_bar("Writing records", at_least=200))
    else:
        report = service.import_calendar(args.path, since=args.since, dry_run=args.dry_run,
                                         progress=progress_bar("Reading the calendar", at_least=200),
                                         write_progress=progress_bar("Writing records", at_least=200))
    return print_report(report)


def print_report(report, quiet_when_empty: bool = False) -> int:
    from crmtui.cli.render import cell, clean

    shown = report.problems[:SHOWN_PROBLEMS]
    for problem in shown:
        print(f"crmtui: {clean(problem)}", file=sys.stderr)
    if len(report.problems) > len(shown):
        print(f"crmtui: ... and {len(report.problems) - len(shown)} more that could not be read", file=sys.stderr)
    if report.no_me:
        print("crmtui: your own address is not known, so every message counts as received; set it in "
              "crm.toml: me = [\"you@example.com\"] (or git config user.email)", file=sys.stderr)
    source = clean(report.source)
    if report.dry_run:
        print(f"Dry run of {source}: nothing was written.")
        verb = "Would import"
    else:
        verb = "Imported"
    print(f"{verb} {report.summary()}.")
    ranked = sorted(report.added.items(), key=lambda item: (-item[1], item[0]))
    for handle, count in ranked[:SHOWN_CUSTOMERS]:
        print(f"  +{count:<5} {cell(report.names.get(handle, handle))} ({handle})")
    if len(ranked) > SHOWN_CUSTOMERS:
        print(f"  ... and {len(ranked) - SHOWN_CUSTOMERS} more customers (every count is in the commit: "
              f"crmtui history)")
    if report.subject:
        print(f"Committed: {clean(report.subject)}")
    if report.unknown:
        print("Not in the book, most frequent first (add one: crmtui add NAME --email ADDRESS):")
        for address, name, count in report.unknown:
            same = report.same_name.get(address)
            print(f"  {count:>5}  {cell(address)}" + (f"  {cell(name)}" if name else "")
                  + (f"  (the name of {same}: its address? crmtui edit {same})" if same else ""))
    return 0


# ---- query: the address book of mutt, neomutt, aerc and alot --------------------------

def query_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("text", nargs="*", metavar="TEXT")
    p.add_argument("--format", choices=("mutt", "aerc", "alot"), default="mutt",
                   help="mutt (default; also neomutt): a first line, then email<TAB>name<TAB>company · tier, "
                        "exit 1 when nothing matches; aerc: email<TAB>name lines only, at most 100; alot: a first "
                        "line, then email<TAB>name, exit 0 when nothing matches")
    p.add_argument("--limit", type=int, default=100, metavar="N", help="at most N addresses (default 100)")


def cmd_query(service, args) -> int:
    from crmtui.cli.render import cell

    if args.limit < 1:
        raise CrmError("--limit must be at least 1")
    text = " ".join(args.text)
    limit = min(args.limit, 100) if args.format == "aerc" else args.limit  # aerc stops reading at 100
    lines = service.query_addresses(text, limit=limit)
    if args.format != "aerc":
        what = f"'{cell(text)}'" if text else "everyone"
        print(f"crmtui: {len(lines)} address{'es' if len(lines) != 1 else ''} for {what}" if lines else
              f"crmtui: no customer matches {what}")
    for email, name, extra in lines:
        fields = [cell(email), cell(name) or cell(email)]
        if extra and args.format == "mutt":  # alot's regexps read two fields; aerc ignores a third
            fields.append(cell(extra))
        print("\t".join(fields))
    return 1 if not lines and args.format == "mutt" else 0


# ---- add-email and log --mail: a message piped in -------------------------------------

def add_email_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--to-too", action="store_true", help="add the To and Cc addresses too (never yours)")
    p.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")


def _stdin_message(command: str) -> bytes:
    if sys.stdin is None or sys.stdin.isatty():
        raise CrmError(f"pipe a message in on stdin (mutt: <pipe-message>{command}<enter>; a shell: "
                       f"{command} < message.eml)")
    data = sys.stdin.buffer.read()
    if not data.strip():
        raise CrmError("stdin was empty; pipe a whole message in (mutt: <pipe-message>)")
    return data


def cmd_add_email(service, args) -> int:
    from crmtui.cli.render import cell

    report = service.add_from_message(_stdin_message("crmtui add-email"), to_too=args.to_too, dry_run=args.dry_run)
    prefix = "Would" if args.dry_run else ""
    for action in report.actions:
        name, handle = cell(action.name), action.handle
        if action.kind == "add":
            print(f"{prefix + ' add' if prefix else 'Added'} {name} as a prospect (customers/{handle}.toml)")
        elif action.kind == "update":
            added = "; ".join(c.removeprefix("email added: ") for c in action.changes)
            print(f"{prefix + ' add' if prefix else 'Added'} {cell(added)} to {name} ({handle}), "
                  f"whose name it matched")
        elif action.kind == "unchanged":
            print(f"{name} ({handle}) is already in the book with that address")
    if report.subject:
        print(f"Committed: {cell(report.subject)}")
    return 0


def cmd_log_mail(service, args) -> int:
    report = service.log_message(_stdin_message("crmtui log --mail"))
    if not report.added and not report.already and not report.problems:
        why = ", ".join(report.skipped) or "none of its addresses is a customer's"
        raise CrmError(f"nothing logged: {why} (add the sender with: crmtui add-email)")
    return print_report(report)


# ---- vdir sync: the phone, through a folder of vCards ----------------------------------

def vdir_args(p: argparse.ArgumentParser) -> None:
    from crmtui.cli.command import book_option

    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = actions.add_parser("sync", parents=[book_option()], formatter_class=argparse.RawDescriptionHelpFormatter,
                           help="sync the book with a folder of .vcf files, both ways",
                           description=VDIR_HELP)
    q.add_argument("folder", metavar="DIR")
    q.add_argument("--accept-deletes", action="store_true",
                   help="remove the records whose cards were deleted in DIR (git keeps them: crmtui restore)")
    q.add_argument("--dry-run", action="store_true", help="show what would change on both sides; write nothing")


VDIR_HELP = """\
Keep the book and DIR, a folder of vCards (one .vcf per contact: vdirsyncer's
and khard's layout, e.g. a phone's address book), in step, both ways:

  a card changed in DIR updates its record (as import vcard does: new emails,
  phones, tags, links, empty fields filled; when only the card changed since
  the last sync its company, title and birthday win, when both changed the
  book's stay and the card's are reported); a card added in DIR becomes a
  prospect, or joins the record it matches; a record changed or added in the
  book rewrites its card, keeping what the card holds that a record has no
  field for (addresses, photos); a card deleted in DIR is reported, and its
  record removed only with --accept-deletes.

The book's changes are one commit. The sync's state is kept under .git.

example: crmtui vdir sync ~/.contacts/phone/   (then: vdirsyncer sync)"""


def cmd_vdir(service, args) -> int:
    from crmtui.cli.render import cell, clean
    from crmtui.usecases.vdir import vdir_sync

    report = vdir_sync(service, args.folder, accept_deletes=args.accept_deletes, dry_run=args.dry_run)
    for problem in report.problems:
        print(f"crmtui: {clean(problem)}", file=sys.stderr)
    folder = clean(report.folder)
    if args.dry_run:
        print(f"Dry run of {folder}: nothing was written.")
    would = "would " if args.dry_run else ""
    for handle, name, card in report.added:
        print(f"  {would}add     {cell(name)} ({handle}) from {cell(card)}")
    for handle, name, changes, kept in report.updated:
        if changes:
            print(f"  {would}update  {cell(name)} ({handle}): {cell('; '.join(changes))}")
        for item in kept:
            print(f"  kept    {cell(name)} ({handle}): the book's {cell(item)}")
    for handle in report.records_removed:
        print(f"  {would}remove  {handle} (its card was deleted in {folder})")
    for card, handle in report.deleted:
        print(f"crmtui: {clean(card)} was deleted in {folder}; {handle} stays in the book (remove it with "
              f"--accept-deletes)", file=sys.stderr)
    if args.dry_run and not (report.added or report.updated or report.records_removed):
        print("The book would not change; the cards of records changed in the book are written on a real run.")
    if not args.dry_run:
        written, removed = len(report.cards_written), len(report.cards_removed)
        print(f"Synced {folder}: {len(report.added)} added, "
              f"{len({h for h, _, c, _ in report.updated if c})} updated, {len(report.records_removed)} removed "
              f"in the book; {written} card{'s' if written != 1 else ''} written, {removed} removed in the folder.")
        if report.subject:
            print(f"Committed: {clean(report.subject)}")
    return 0


COMMANDS = (
    Command("vdir", "keep a folder of vCards (a phone's, via vdirsyncer) in step with the book", cmd_vdir,
            vdir_args, description="Sync the book with a folder of vCards.\n\n" + VDIR_HELP),
    Command("query", "addresses for mutt, neomutt, aerc and alot to complete (query_command)", cmd_query,
            query_args, reads_only=True, uses_settings=True,
            description="Print the addresses of the customers matching TEXT (a name word starting with\n"
                        "TEXT first), the best tier first, then the most recently contacted, in the\n"
                        "format mutt's and neomutt's query_command read (a first line, then\n"
                        "email<TAB>name<TAB>company · tier; exit 1 when nothing matches), aerc's\n"
                        "address-book-cmd (--format aerc) and alot's shellcommand address book\n"
                        "(--format alot).\n\n"
                        "muttrc:    set query_command = \"crmtui query %s\"\n"
                        "aerc.conf: address-book-cmd = crmtui query --format aerc \"%s\"\n"
                        "alot:      command = crmtui query --format alot\n"
                        "           regexp = '^(?P<email>[^@]+@[^\\t]+)\\t+(?P<name>[^\\t]+)'"),
    Command("add-email", "add the sender of a piped message as a prospect (mutt: <pipe-message>)", cmd_add_email,
            add_email_args,
            description="Read one message on stdin (mutt's <pipe-message> sends it whole) and add its\n"
                        "sender as a prospect, or add the address to the record it matches by name.\n"
                        "With --to-too the To and Cc addresses too, never your own. One commit.\n\n"
                        "muttrc: macro index,pager A \"<pipe-message>crmtui add-email<enter>\" \"add the sender to crmtui\""),
)
