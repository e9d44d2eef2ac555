"""Contacts in and out of other programs, and duplicates: import, export, duplicates, merge."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crmtui.cli.command import Command, book_option, emit_json, progress_bar
from crmtui.errors import CrmError


def import_args(p: argparse.ArgumentParser) -> None:
    formats = p.add_subparsers(dest="format", metavar="FORMAT", required=True)
    importing = argparse.ArgumentParser(add_help=False)
    importing.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    importing.add_argument("--stage", default="prospect", help="stage of the customers it adds (default prospect)")
    importing.add_argument("--tag", action="append", default=[], help="tag everyone in the file; repeat for several")
    importing.add_argument("--overwrite", action="store_true",
                           help="where the file and the book differ (company, title, birthday), take the file's")
    q = formats.add_parser("vcard", help="vCard 2.1, 3.0 or 4.0: one .vcf with many cards, or a folder of them",
                           description="Import a .vcf file (any number of cards) or a folder of .vcf files.",
                           parents=[book_option(), importing])
    q.add_argument("path", type=Path, metavar="FILE|FOLDER")
    q = formats.add_parser("csv", help="Google Contacts, LinkedIn Connections, Outlook, or any CSV with --map",
                           description="Import a CSV file. Google Contacts, LinkedIn Connections, Outlook and\n"
                                       "crmtui's own export are recognised by their header row, as is a file\n"
                                       "whose columns are plainly named (Name, Email, Phone, Company...).\n"
                                       "Otherwise say which column is what with --map.\n\n"
                                       "fields for --map: name, first_name, middle_name, last_name, company,\n"
                                       "title, emails, phones, tags, birthday, notes, links, skip",
                           parents=[book_option(), importing], formatter_class=argparse.RawDescriptionHelpFormatter)
    q.add_argument("path", type=Path, metavar="FILE")
    q.add_argument("--map", action="append", default=[], metavar="COLUMN=FIELD,...",
                   help="which column is which field, e.g. \"Full Name=name,Mail=emails\"")
    from crmtui.cli.capture import capture_args

    capture_args(formats, book_option)  # import mail, import calendar: interactions, not contacts


def cmd_import(service, args) -> int:
    from crmtui.cli.render import clean
    from crmtui.usecases import interchange as ops

    if args.format in ("mail", "calendar"):
        from crmtui.cli.capture import cmd_import_capture

        return cmd_import_capture(service, args)
    if args.format == "vcard":
        contacts, problems = ops.read_vcard_source(args.path)
        kind = "vCard"
    else:
        result = ops.read_csv_source(args.path, args.map)
        contacts, problems = result.contacts, result.problems
        kind = result.format.name if result.format else "CSV"
        if args.dry_run and result.format:
            print(f"Columns read: {clean(result.format.describe(result.headers).split(' (', 1)[-1].rstrip(')'))}")
    source = Path(args.path).name or str(args.path)
    if not contacts:
        detail = f": {problems[0]}" if problems else ""
        raise CrmError(f"no contact could be read from {source}{detail}")
    progress = progress_bar("Importing")
    report = ops.import_contacts(service, contacts, problems, source, dry_run=args.dry_run, stage=args.stage,
                                 tags=args.tag, overwrite=args.overwrite, progress=progress)
    for problem in report.problems:
        print(f"crmtui: {clean(problem)}", file=sys.stderr)
    if args.dry_run:
        print(f"Dry run of {source} ({kind}): nothing was written.")
        for a in report.actions:
            what = {"add": "add", "update": "update", "unchanged": "up to date", "same": "listed twice"}[a.kind]
            detail = "; ".join(a.changes) if a.kind == "update" else (a.reason if a.kind == "same" else "")
            target = f"customers/{a.handle}.toml" if a.kind == "add" else a.handle
            line = f"  {what:<11} {_pad_clip(clean(a.name), 26)} {target}"
            print(line + (f"  ({clean(detail)})" if detail else ""))
            for kept in a.kept:
                print(f"  {'':<11} {'':<26} kept the book's {clean(kept)}")
        print(f"Would import {len(report.actions)} contact{'s' if len(report.actions) != 1 else ''}: "
              f"{report.summary()}.")
        return 0
    read = len(report.actions)
    print(f"Imported {read} contact{'s' if read != 1 else ''} from {clean(source)}: {report.summary()}.")
    kept = sum(len(a.kept) for a in report.actions)
    if kept:
        print(f"The book's value was kept where the file differs ({kept}); see them with --dry-run, "
              "or take the file's with --overwrite.")
    if report.subject:
        print(f"Committed: {clean(report.subject)}")
    return 0


def _pad_clip(text: str, cells: int) -> str:
    from crmtui.cli.render import clip, pad

    return pad(clip(text, cells), cells)


def export_args(p: argparse.ArgumentParser) -> None:
    formats = p.add_subparsers(dest="format", metavar="FORMAT", required=True)
    out = argparse.ArgumentParser(add_help=False)
    out.add_argument("--out", type=Path, metavar="PATH", help="where to write (default: stdout)")
    formats.add_parser("vcard", parents=[book_option(), out], help="vCard 3.0: to a folder (one .vcf per customer), "
                       "a .vcf file, or stdout",
                       description="vCard 3.0 cards. --out DIR (a folder, or a path not ending in .vcf) writes\n"
                                   "one <handle>.vcf per customer and removes the cards it wrote before for\n"
                                   "customers no longer in the book; --out FILE.vcf writes one file.",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    formats.add_parser("csv", parents=[book_option(), out], help="one row per customer, for spreadsheets",
                       description="One row per customer, for spreadsheets (crmtui import csv reads it back).")
    formats.add_parser("ics", parents=[book_option(), out], help="open reminders and birthdays as calendar events",
                       description="Open reminders and birthdays as iCalendar events with stable UIDs:\n"
                                   "importing or subscribing again updates the events instead of copying them.",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    formats.add_parser("json", parents=[book_option(), out], help="every record in full",
                       description="Every record in full, with its computed tier and value.")


def cmd_export(service, args) -> int:
    from crmtui.usecases import interchange as ops

    out = args.out.expanduser() if args.out else None
    skipped = sum(1 for r in service.snapshot.records.values() if r.trouble == "broken")
    if skipped:
        print(f"crmtui: {skipped} file{'s' if skipped > 1 else ''} could not be read and "
              f"{'are' if skipped > 1 else 'is'} not in the export; see: crmtui check", file=sys.stderr)
    count = len(service.customers)
    if args.format == "vcard" and out is not None and (out.is_dir() or out.suffix.lower() not in (".vcf", ".vcard")):
        if out.exists() and not out.is_dir():
            raise CrmError(f"{out} is a file; for one file name it .vcf, for a folder give a folder")
        written, removed = ops.write_vcard_folder(service, out)
        gone = f"; removed {removed} card{'s' if removed != 1 else ''} of customers no longer in the book" \
            if removed else ""
        print(f"Wrote {written} vCard{'s' if written != 1 else ''} to {out}/ (one per customer){gone}")
        return 0
    text = {"vcard": ops.vcards_text, "csv": ops.csv_text, "ics": ops.calendar_text,
            "json": ops.json_text}[args.format](service)
    if out is None:
        sys.stdout.write(text if args.format in ("json",) else text.replace("\r\n", "\n")
                         if sys.stdout.isatty() else text)
        sys.stdout.flush()
        return 0
    ops.write_out(out, text)
    what = {"vcard": f"{count} vCard{'s' if count != 1 else ''}", "csv": f"{count} row{'s' if count != 1 else ''}",
            "json": f"{count} record{'s' if count != 1 else ''}",
            "ics": f"{text.count('BEGIN:VEVENT')} event{'s' if text.count('BEGIN:VEVENT') != 1 else ''}"}
    print(f"Wrote {what[args.format]} to {out}")
    return 0


def duplicates_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--min-score", type=int, default=50, metavar="N", help="leave out pairs scoring below N "
                   "(0-100, default 50)")


def cmd_duplicates(service, args) -> int:
    from crmtui.cli import render as r
    from crmtui.usecases import interchange as ops

    pairs = [d for d in ops.duplicates(service) if d.score >= args.min_score]
    name = lambda handle: service.snapshot.customer(handle).name  # noqa: E731
    if args.json:
        return emit_json([{"score": d.score, "a": d.a, "a_name": name(d.a), "b": d.b, "b_name": name(d.b),
                           "reasons": d.reasons} for d in pairs])
    if not pairs:
        print("No likely duplicates.")
        return 0
    print(r.table([[str(d.score), d.a, r.clip(r.clean(name(d.a)), 24), d.b, r.clip(r.clean(name(d.b)), 24),
                    r.clean("; ".join(d.reasons))] for d in pairs],
                  ["SCORE", "RECORD", "NAME", "LIKELY SAME AS", "NAME", "WHY"]))
    first = pairs[0]
    print(f"\nMerge a pair (the second into the first, nothing lost): crmtui merge {first.a} {first.b}")
    return 0


def merge_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("keep", metavar="KEEP")
    p.add_argument("other", metavar="OTHER")
    p.add_argument("--dry-run", action="store_true", help="show what KEEP would gain; write nothing")


def cmd_merge(service, args) -> int:
    from crmtui.cli.render import clean
    from crmtui.usecases import interchange as ops

    keep, other = service.resolve(args.keep), service.resolve(args.other)
    result = ops.merge(service, keep, other, dry_run=args.dry_run)
    gained = "; ".join(result.plan.changes) or "nothing new"
    moved = f"; referrals moved: {', '.join(result.referrers)}" if result.referrers else ""
    if args.dry_run:
        print(f"Dry run: merging {clean(other.name)} ({other.handle}) into {clean(keep.name)} ({keep.handle}) "
              f"would add: {clean(gained)}{moved}, and remove customers/{other.handle}.toml. Nothing was written.")
        if result.plan.notes:
            print("Into the notes:\n" + "\n".join(f"  {clean(x)}" for x in result.plan.notes.splitlines()))
        return 0
    print(f"Merged {clean(other.name)} ({other.handle}) into {clean(keep.name)} ({keep.handle}): "
          f"{clean(gained)}{moved}; removed customers/{other.handle}.toml.")
    print(f"To bring {other.handle} back: crmtui restore {other.handle} HEAD~1; see: crmtui history {keep.handle}")
    return 0


COMMANDS = (
    Command("import", "add or update customers from vCard or CSV contacts, or log mail and meetings; one commit",
            cmd_import, import_args,
            description="Add or update customers from contacts kept elsewhere, as one commit.\n\n"
                        "A contact matches a record by email, then phone, then a very close name;\n"
                        "a match is updated (empty fields filled, new emails, phones, tags and links\n"
                        "added), so importing the same file again adds no one twice.\n\n"
                        "examples:\n  crmtui import vcard contacts.vcf\n  crmtui import vcard ~/.contacts/\n"
                        "  crmtui import csv google.csv --dry-run\n"
                        "  crmtui import csv people.csv --map \"Full Name=name,Mail=emails\"\n\n"
                        "import mail and import calendar log interactions instead (see their --help):\n"
                        "  crmtui import mail ~/Maildir/INBOX ~/Maildir/Sent\n"
                        "  crmtui import calendar ~/.calendars/work/"),
    Command("export", "write the book as vCards, CSV, a calendar (ics) or JSON", cmd_export, export_args,
            description="Write the whole book in another format, to --out or to stdout.\n\n"
                        "examples:\n  crmtui export vcard --out ~/.contacts/crm/   (a folder: one .vcf each, "
                        "khard's layout)\n  crmtui export vcard --out everyone.vcf     (one file)\n"
                        "  crmtui export ics --out ~/crm.ics\n  crmtui export json > book.json",
            uses_settings=True, exact_output=True),
    Command("duplicates", "list records that are likely the same person, with a score", cmd_duplicates,
            duplicates_args, json=True),
    Command("merge", "merge OTHER into KEEP, as one commit: nothing is lost", cmd_merge, merge_args,
            description="Merge OTHER into KEEP as one commit. Emails, phones, tags and links are\n"
                        "united, deals, reminders and interactions joined, keys KEEP lacks taken;\n"
                        "where both hold different values KEEP's stays and OTHER's is written into\n"
                        "KEEP's notes. OTHER's file is removed and its referrals point at KEEP.\n\n"
                        "example: crmtui merge ana-lopez ana-lopez-2"),
)
