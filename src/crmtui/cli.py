"""The command line: argument parsing and printing. The work is in service.py."""

from __future__ import annotations

import argparse
import gc
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from crmtui import __version__
from crmtui.errors import CrmError

DESCRIPTION = """\
A customer-relationship manager for solo consultants, in the terminal.
Your book is a git repository with one TOML file per customer.
Run without a command to open the TUI."""

EPILOG = """\
The book is found from --book, then $CRMTUI_BOOK, then `book = "..."` in
~/.config/crmtui/config.toml, then ~/crm.
WHO is a file name (ana-lopez) or any words that clearly match one customer.
WHEN is 2026-12-01, 2026-12-01T14:30, today, tomorrow, 14d, 2w, 3m, or 3d ago."""


def default_book() -> Path:
    env = os.environ.get("CRMTUI_BOOK")
    if env:
        return Path(env).expanduser()
    config_home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    config = config_home / "crmtui" / "config.toml"
    if config.exists():
        try:
            book = tomllib.loads(config.read_text("utf-8")).get("book")
        except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as error:
            raise CrmError(f"{config} is not valid TOML ({error}); fix or remove it") from None
        if isinstance(book, str) and book:
            return Path(book).expanduser()
    return Path.home() / "crm"


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--book", type=Path, default=argparse.SUPPRESS, metavar="PATH",
                        help="the book folder (default: $CRMTUI_BOOK, the config file, or ~/crm)")
    listing = argparse.ArgumentParser(add_help=False)
    listing.add_argument("--json", action="store_true", help="print JSON for scripts")

    parser = argparse.ArgumentParser(prog="crmtui", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter, parents=[common])
    parser.add_argument("--version", action="version", version=f"crmtui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help: str, *parents, description: str | None = None):
        return sub.add_parser(name, help=help, description=description or help, parents=[common, *parents],
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    p = command("init", "create a book: folder, settings, git repository, first commit")
    p.add_argument("path", nargs="?", type=Path, help="where (default: the book location)")

    p = command("demo", "build a demo book with a realistic history, then open it")
    p.add_argument("path", nargs="?", type=Path, help="where (default: a new folder under the temp dir)")
    p.add_argument("--no-open", action="store_true", help="only build it and say where it is")

    p = command("add", "add a customer (committed)")
    p.add_argument("name")
    p.add_argument("--company", default="")
    p.add_argument("--title", default="")
    p.add_argument("--email", action="append", default=[], help="repeat for several")
    p.add_argument("--phone", action="append", default=[], help="repeat for several")
    p.add_argument("--tag", action="append", default=[], help="repeat for several")
    p.add_argument("--tier", help="override the computed tier: platinum, gold, iron, lead")
    p.add_argument("--stage", help="prospect (default), customer, former")
    p.add_argument("--birthday", help="1984-03-12, or 03-12 without the year")
    p.add_argument("--keep-in-touch", metavar="CADENCE", help="how often to get in touch: 30d, 2w, 3m, 1y")
    p.add_argument("--referred-by", metavar="WHO", help="the customer who referred them")

    p = command("log", "log an interaction (and a follow-up reminder), committed",
                description="Log an interaction with a customer, committed.\n\nexample: crmtui log ana \"call about renewal\" --kind call --follow-up 14d")
    p.add_argument("who", metavar="WHO")
    p.add_argument("summary", metavar="SUMMARY")
    p.add_argument("--kind", default="note", help="call, email, meeting, message, note (default), feedback")
    p.add_argument("--at", metavar="WHEN", help="when it happened (default: now)")
    p.add_argument("--follow-up", metavar="WHEN", help="add a reminder to follow up then (14d, 2026-12-01, ...)")

    p = command("show", "one record with its tier, value and what is due", listing)
    p.add_argument("who", metavar="WHO")

    p = command("list", "list customers", listing)
    p.add_argument("--tier", help="platinum, gold, iron, lead or unranked")
    p.add_argument("--tag")
    p.add_argument("--stage", help="prospect, customer or former")

    p = command("search", "fuzzy search, best match first", listing)
    p.add_argument("query", nargs="+")
    p.add_argument("--limit", type=int, default=20)

    p = command("due", "what is due: reminders, birthdays, keep-in-touch; overdue first", listing)
    p.add_argument("--within", type=int, default=7, metavar="DAYS", help="look this many days ahead (default 7)")

    p = command("done", "mark a reminder done (a recurring one moves forward)")
    p.add_argument("who", metavar="WHO")
    p.add_argument("text", nargs="*", help="words of the reminder (default: the earliest open one)")

    command("tiers", "the customer pyramid: counts and value per tier", listing)

    p = command("history", "git history of one record, or of the whole book", listing)
    p.add_argument("who", nargs="?", metavar="WHO")
    p.add_argument("--patch", action="store_true", help="show the diffs")
    p.add_argument("--limit", type=int, default=30, help="how many commits (default 30)")

    p = command("restore", "bring a record back to an earlier version, as a new commit")
    p.add_argument("who", metavar="WHO", help="a customer, or the file name of a deleted one")
    p.add_argument("rev", metavar="REV", help="a commit id from crmtui history")

    p = command("edit", "open a record in $EDITOR, validate, commit")
    p.add_argument("who", metavar="WHO")

    command("sync", "commit, pull with the record-aware merge, push",
            description="Sync the book with its git remote: commit pending valid edits, fetch, merge the other "
                        "side's changes record by record, push.\n\nFirst time: git -C BOOK remote add origin URL")

    p = command("resolve", "settle a sync conflict: keep one side's value of a key (committed)",
                description="Settle a [[conflicts]] entry left by a sync (see crmtui check), as one commit.\n\n"
                            "example: crmtui resolve ana company --theirs")
    p.add_argument("who", metavar="WHO")
    p.add_argument("key", nargs="?", metavar="KEY", help="the conflicting key (default: every conflict of the record)")
    side = p.add_mutually_exclusive_group(required=True)
    side.add_argument("--ours", dest="side", action="store_const", const="ours",
                      help="keep the value the record has now")
    side.add_argument("--theirs", dest="side", action="store_const", const="theirs",
                      help="take the other side's value")

    p = command("import", "add or update customers from vCard or CSV contacts, as one commit",
                description="Add or update customers from contacts kept elsewhere, as one commit.\n\n"
                            "A contact matches a record by email, then phone, then a very close name;\n"
                            "a match is updated (empty fields filled, new emails, phones, tags and links\n"
                            "added), so importing the same file again adds no one twice.\n\n"
                            "examples:\n  crmtui import vcard contacts.vcf\n  crmtui import vcard ~/.contacts/\n"
                            "  crmtui import csv google.csv --dry-run\n"
                            "  crmtui import csv people.csv --map \"Full Name=name,Mail=emails\"")
    formats = p.add_subparsers(dest="format", metavar="FORMAT", required=True)
    importing = argparse.ArgumentParser(add_help=False)
    importing.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    importing.add_argument("--stage", default="prospect", help="stage of the customers it adds (default prospect)")
    importing.add_argument("--tag", action="append", default=[], help="tag everyone in the file; repeat for several")
    importing.add_argument("--overwrite", action="store_true",
                           help="where the file and the book differ (company, title, birthday), take the file's")
    q = formats.add_parser("vcard", help="vCard 2.1, 3.0 or 4.0: one .vcf with many cards, or a folder of them",
                           description="Import a .vcf file (any number of cards) or a folder of .vcf files.",
                           parents=[common, importing])
    q.add_argument("path", type=Path, metavar="FILE|FOLDER")
    q = formats.add_parser("csv", help="Google Contacts, LinkedIn Connections, Outlook, or any CSV with --map",
                           description="Import a CSV file. Google Contacts, LinkedIn Connections, Outlook and\n"
                                       "crmtui's own export are recognised by their header row, as is a file\n"
                                       "whose columns are plainly named (Name, Email, Phone, Company...).\n"
                                       "Otherwise say which column is what with --map.\n\n"
                                       "fields for --map: name, first_name, middle_name, last_name, company,\n"
                                       "title, emails, phones, tags, birthday, notes, links, skip",
                           parents=[common, importing], formatter_class=argparse.RawDescriptionHelpFormatter)
    q.add_argument("path", type=Path, metavar="FILE")
    q.add_argument("--map", action="append", default=[], metavar="COLUMN=FIELD,...",
                   help="which column is which field, e.g. \"Full Name=name,Mail=emails\"")

    p = command("export", "write the book as vCards, CSV, a calendar (ics) or JSON",
                description="Write the whole book in another format, to --out or to stdout.\n\n"
                            "examples:\n  crmtui export vcard --out ~/.contacts/crm/   (a folder: one .vcf each, "
                            "khard's layout)\n  crmtui export vcard --out everyone.vcf     (one file)\n"
                            "  crmtui export ics --out ~/crm.ics\n  crmtui export json > book.json")
    formats = p.add_subparsers(dest="format", metavar="FORMAT", required=True)
    out = argparse.ArgumentParser(add_help=False)
    out.add_argument("--out", type=Path, metavar="PATH", help="where to write (default: stdout)")
    formats.add_parser("vcard", parents=[common, out], help="vCard 3.0: to a folder (one .vcf per customer), "
                       "a .vcf file, or stdout",
                       description="vCard 3.0 cards. --out DIR (a folder, or a path not ending in .vcf) writes\n"
                                   "one <handle>.vcf per customer and removes the cards it wrote before for\n"
                                   "customers no longer in the book; --out FILE.vcf writes one file.",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    formats.add_parser("csv", parents=[common, out], help="one row per customer, for spreadsheets",
                       description="One row per customer, for spreadsheets (crmtui import csv reads it back).")
    formats.add_parser("ics", parents=[common, out], help="open reminders and birthdays as calendar events",
                       description="Open reminders and birthdays as iCalendar events with stable UIDs:\n"
                                   "importing or subscribing again updates the events instead of copying them.",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    formats.add_parser("json", parents=[common, out], help="every record in full",
                       description="Every record in full, with its computed tier and value.")

    p = command("duplicates", "list records that are likely the same person, with a score", listing)
    p.add_argument("--min-score", type=int, default=50, metavar="N", help="leave out pairs scoring below N "
                   "(0-100, default 50)")

    p = command("merge", "merge OTHER into KEEP, as one commit: nothing is lost",
                description="Merge OTHER into KEEP as one commit. Emails, phones, tags and links are\n"
                            "united, deals, reminders and interactions joined, keys KEEP lacks taken;\n"
                            "where both hold different values KEEP's stays and OTHER's is written into\n"
                            "KEEP's notes. OTHER's file is removed and its referrals point at KEEP.\n\n"
                            "example: crmtui merge ana-lopez ana-lopez-2")
    p.add_argument("keep", metavar="KEEP")
    p.add_argument("other", metavar="OTHER")
    p.add_argument("--dry-run", action="store_true", help="show what KEEP would gain; write nothing")

    command("check", "validate every file; exit 1 when any is broken", listing)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Errors a user can meet end as one sentence on stderr and a non-zero exit: CrmError
    (1, or 2 for an ambiguous WHO) and any OSError from the system (1: a full disk, a
    read-only folder...). With CRMTUI_DEBUG=1 the traceback is printed first. Anything
    else is a bug and keeps its traceback."""
    parser = build_parser()
    args = parser.parse_args(argv)
    collecting = gc.isenabled()
    stdout = sys.stdout
    try:
        if not _opens_tui(args):
            from crmtui.cli_render import Output

            # guarded for people: the last line of defence, see cli_render.clean
            sys.stdout = Output(stdout, guard=not (args.command == "export" or getattr(args, "json", False)))
        code = run(args, parser)
        sys.stdout.flush()  # a full disk under `> file` is said here, not as a traceback at exit
        return code
    except CrmError as error:  # AmbiguousError too, with its own exit code
        from crmtui.cli_render import clean

        _debug_traceback()
        print(f"crmtui: {clean(error)}", file=sys.stderr)  # names in it come from files: no escapes obeyed
        return error.exit_code
    except KeyboardInterrupt:
        print("crmtui: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), stdout.fileno())
        return 0
    except OSError as error:
        from crmtui.cli_render import clean

        _debug_traceback()
        print(f"crmtui: {clean(os_error_sentence(error, getattr(args, 'book_root', None)))}", file=sys.stderr)
        return 1
    finally:
        sys.stdout = stdout
        if collecting:
            gc.enable()  # main() also runs in-process (tests, scripts)


def _opens_tui(args: argparse.Namespace) -> bool:
    """The TUI owns the terminal (and escapes what it shows by itself)."""
    return args.command is None or (args.command == "demo" and not args.no_open)


def _debug_traceback() -> None:
    if os.environ.get("CRMTUI_DEBUG", "") not in ("", "0"):
        import traceback

        traceback.print_exc()


def os_error_sentence(error: OSError, book: Path | None = None) -> str:
    """What the system refused, where, and what to do, in one sentence."""
    import errno

    from crmtui.cli_render import OutputError

    path = _shown_path(error.filename)
    where = f" {path}" if path else (f" in the book at {book}" if book else "")
    if isinstance(error, OutputError):
        where = " the output"
    code = error.errno
    if code in (errno.ENOSPC, errno.EDQUOT):
        full = "the disk is full" if code == errno.ENOSPC else "your disk quota is used up"
        return f"{full}: could not write{where}; free some space and run the command again"
    if code in (errno.EACCES, errno.EPERM):
        return _permission_sentence(path, where)
    if code == errno.EROFS:
        return f"{path or 'the book'} is on a read-only file system; remount it read-write or use a copy of the book"
    if code == errno.ENOTDIR and path:
        blocker = next((p for p in [path, *path.parents] if p.exists() and not p.is_dir()), None)
        if blocker is not None:
            return f"{blocker} is a file, not a folder; choose another path"
    if code == errno.ENOENT and path and path.parent.is_dir():
        return (f"the system refused to create {path} ({error.strerror.lower()}); "
                "choose a folder of your own, e.g. under your home")
    if code == errno.EIO:
        return f"input/output error{where}: the disk may be failing or was unplugged; check it, then try again"
    if code in (errno.EMFILE, errno.ENFILE):
        return "too many files are open; close some programs and run the command again"
    if code == errno.ENAMETOOLONG:
        return f"a file name is too long{where}; use a shorter path"
    reason = (error.strerror or str(error) or type(error).__name__).rstrip(".")
    return f"{reason[:1].lower()}{reason[1:]}{':' if where else ''}{where}; CRMTUI_DEBUG=1 shows where it happened"


def _shown_path(filename) -> Path | None:
    """The path to tell the user: a temporary file of an atomic save (.ana.toml.k2j4.tmp)
    stands for the file it was saving."""
    if filename is None or isinstance(filename, int):
        return None
    path = Path(os.fsdecode(filename))
    match = re.fullmatch(r"\.(.+)\.[^.]+\.tmp", path.name)
    return path.with_name(match.group(1)) if match else path


def _permission_sentence(path: Path | None, where: str) -> str:
    if path is None:
        return f"permission denied{where}; check the book's permissions (ls -l)"
    def mode(p: Path) -> int:
        try:
            return p.stat().st_mode
        except OSError:
            return 0o777

    target = path if path.exists() else path.parent
    # A file is saved by writing a new one beside it: its folder must be writable too.
    for candidate in [target, target.parent] if target == path and path.is_file() else [target]:
        if not os.access(candidate, os.W_OK) or not mode(candidate) & 0o222:
            return (f"permission denied: {candidate} is read-only; make it writable "
                    f"(chmod u+w {shlex.quote(str(candidate))}) and run the command again")
    if not os.access(target, os.R_OK) or not mode(target) & 0o444:
        return f"permission denied: {target} cannot be read; fix its permissions (chmod u+r) and try again"
    return f"permission denied on {path}; check who owns it (ls -ld {shlex.quote(str(target))})"


# Short commands that only read: reference counting frees what they make, and the
# cycle collector's passes over a big book's objects cost ~4% of `list --json`.
READ_ONLY = {"list", "show", "search", "due", "tiers", "history", "check"}


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    command = args.command
    if command in READ_ONLY:
        gc.disable()
    book_path = getattr(args, "book", None)
    if command == "init":
        return cmd_init(args.path or book_path or default_book())
    if command == "demo":
        return cmd_demo(args)
    from crmtui.service import Service

    try:
        service = Service.open(book_path or default_book())
    except CrmError:
        here = Path.cwd()
        if book_path is None and (here / "crm.toml").exists():
            raise CrmError(f"no book at {default_book()}, but this folder is one: "
                           "use crmtui --book . (or set CRMTUI_BOOK)") from None
        raise
    args.book_root = service.book.root  # for an error without a path: "the disk is full ... in the book at"
    if command is None:
        return open_tui(service.book.root)
    service.progress = _progress_bar("Reading the book")  # a first run of a big book takes a while
    service.on_wait = lambda text: print(f"crmtui: {text}", file=sys.stderr, flush=True)
    handler = globals()[f"cmd_{command}"]
    from crmtui.cli_render import clean

    try:
        return handler(service, args)
    finally:
        if command in USES_SETTINGS:
            _warn_settings(service)
        for notice in service.notices():
            print(f"crmtui: {clean(notice)}", file=sys.stderr)


# Commands whose output depends on crm.toml (tiers, values, cadences, kinds): they go on
# with the default settings when it is broken, and say so on stderr.
USES_SETTINGS = {"show", "list", "due", "tiers", "log", "export"}


def _warn_settings(service) -> None:
    from crmtui.cli_render import cell

    problem = service.book.read_settings()[1]  # cheap, and list --json may never load the snapshot
    if problem is not None:
        print(f"crmtui: {cell(problem)}; crm.toml is broken, so the default settings are used "
              "(tiers, keep-in-touch, kinds) until it is fixed; see: crmtui check", file=sys.stderr)


def open_tui(root: Path) -> int:
    try:
        from crmtui.tui.app import run_app
    except ImportError:
        print(f"The book is at {root}. The TUI is not built yet; try: crmtui --book {shlex.quote(str(root))} due")
        return 0
    return run_app(root)


def cmd_init(path: Path) -> int:
    from crmtui.service import init_book

    notices: list[str] = []
    try:
        book = init_book(path, notices)
    except OSError as error:
        raise CrmError(f"cannot create a book at {path}: {os_error_sentence(error)}") from None
    print(f"Created a book at {book.root}")
    for notice in notices:
        print(f"crmtui: {notice}", file=sys.stderr)
    print(f"Add your first customer: crmtui --book {shlex.quote(str(book.root))} add \"Ana López\" --company Acme")
    return 0


def cmd_demo(args) -> int:
    from crmtui.demo import build_demo

    root = build_demo(args.path)
    quoted = shlex.quote(str(root))
    print(f"Built a demo book at {root}")
    if args.no_open:
        print(f"Try: crmtui --book {quoted} due   ·   crmtui --book {quoted} history   ·   crmtui --book {quoted}")
        return 0
    return open_tui(root)


def _emit_json(value) -> int:
    from crmtui.cli_render import to_json

    print(to_json(value))
    return 0


def cmd_add(service, args) -> int:
    customer = service.add_customer(
        args.name, company=args.company, title=args.title, emails=args.email, phones=args.phone, tags=args.tag,
        tier=args.tier, stage=args.stage, birthday=args.birthday, keep_in_touch=args.keep_in_touch,
        referred_by=args.referred_by,
    )
    from crmtui.cli_render import clean

    print(f"Added {clean(customer.name)} as customers/{customer.handle}.toml")
    return 0


def cmd_log(service, args) -> int:
    from crmtui.cli_render import clean

    customer = service.resolve(args.who)
    saved = service.log_interaction(customer.handle, args.summary, kind=args.kind, at=args.at,
                                    follow_up=args.follow_up)
    # the follow-up is the reminder just appended: the last in the file, not the latest due
    follow = f"; follow up on {max(saved.reminders, key=lambda r: r.index).due}" if args.follow_up else ""
    print(f"Logged {args.kind.lower()} with {clean(saved.name)}{follow}")
    return 0


def _next_due(service, customer):
    from crmtui.domain.reminders import customer_due
    from datetime import date

    items = customer_due(customer, service.today(), service.snapshot.settings, date.max)
    items.sort(key=lambda item: item.due)
    return items


def cmd_show(service, args) -> int:
    from crmtui import cli_render as r
    from datetime import timedelta

    customer = service.resolve(args.who)
    st = service.standing(customer)
    due = _next_due(service, customer)
    if args.json:
        return _emit_json(r.customer_full(customer, st, due))
    horizon = service.today() + timedelta(days=60)
    shown = [d for d in due if d.due <= horizon][:8]
    referrer = service.snapshot.customer(customer.referred_by) if customer.referred_by else None
    print(r.show_text(customer, st, shown, service.snapshot.settings.currency, service.today(),
                      service.referrals(customer.handle), referrer))
    return 0


def cmd_list(service, args) -> int:
    from crmtui import cli_render as r
    from crmtui.domain.record import STAGES, TIERS

    if args.tier and args.tier.lower() not in (*TIERS, "unranked"):
        raise CrmError(f"unknown tier '{args.tier}'; use one of {', '.join(TIERS)}, unranked")
    if args.stage and args.stage.lower() not in STAGES:
        raise CrmError(f"unknown stage '{args.stage}'; use one of {', '.join(STAGES)}")
    if args.json and not sys.stdout.isatty():
        return _list_json(service, args)
    from crmtui.domain.reminders import next_due
    from crmtui.domain.search import sort_key
    from crmtui.domain.tiers import standing

    rows = []
    today, settings = service.today(), service.snapshot.settings
    for customer in sorted(service.customers, key=lambda c: sort_key(c.name)):
        st = standing(customer, today, settings)
        if args.tier and (st.tier or "unranked") != args.tier.lower():
            continue
        if args.stage and customer.stage != args.stage.lower():
            continue
        if args.tag and args.tag.lower() not in (t.lower() for t in customer.tags):
            continue
        rows.append((customer, st, next_due(customer, today, settings, st.tier)))
    if args.json:
        return _emit_json([r.customer_summary(c, st, d) for c, st, d in rows])
    if not rows:
        print("No customers match." if service.customers else "The book is empty. Add someone: crmtui add NAME")
        return 0
    print(r.table(
        [[r.clip(r.clean(c.name), 28), r.clip(r.clean(c.company), 24), r.tier_label(st).split(" ")[0], c.stage,
          r.clip(f"{d.due} {r.clean(d.text)}", 34) if d else ""] for c, st, d in rows],
        ["NAME", "COMPANY", "TIER", "STAGE", "NEXT"],
    ))
    _warn_problems(service)
    return 0


def _list_json(service, args) -> int:
    """`list --json` for scripts: each customer's row is a pure function of its file, today
    and crm.toml, so rows are kept in the book's state (Book.read_rows) and a warm run
    prints them without building a single record (10,000 customers: ~0.4 s -> ~0.15 s)."""
    book = service.book
    key = (service.today().isoformat(), book.settings_stamp(), 2)  # 2: rows made by cli_render.dumps
    rows = book.read_rows("list-json", key)
    if rows is None:
        rows = _list_rows(service)
        book.save_rows("list-json", key, service.snapshot, rows)
    tier, stage, tag = (args.tier or "").lower(), (args.stage or "").lower(), (args.tag or "").lower()
    chosen = [text for text, row_tier, row_stage, row_tags in rows
              if (not tier or row_tier == tier) and (not stage or row_stage == stage) and (not tag or tag in row_tags)]
    sys.stdout.write("[" + ",".join(chosen) + "]\n")
    return 0


def _list_rows(service) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """Every customer as (compact JSON, tier, stage, lower-case tags), in name order."""
    from crmtui import cli_render as r
    from crmtui.domain.reminders import next_due
    from crmtui.domain.search import sort_key
    from crmtui.domain.tiers import standing

    today, settings = service.today(), service.snapshot.settings
    rows = []
    for customer in sorted(service.customers, key=lambda c: sort_key(c.name)):
        st = standing(customer, today, settings)
        summary = r.customer_summary(customer, st, next_due(customer, today, settings, st.tier))
        rows.append((r.dumps(summary),
                     st.tier or "unranked", customer.stage, tuple(t.lower() for t in customer.tags)))
    return rows


def _warn_problems(service) -> None:
    from crmtui.storage.book import SETTINGS

    problems = [p for p in service.problems if p.path != SETTINGS]  # crm.toml: _warn_settings
    if problems:
        troubles = [r.trouble for r in service.snapshot.records.values() if r.problem]
        count = len(problems) - troubles.count("conflict") - troubles.count("invalid")
        if count > 0:
            print(f"crmtui: {count} file{'s' if count > 1 else ''} could not be read; see: crmtui check", file=sys.stderr)
        for kind, what in (("conflict", "a sync conflict to resolve"), ("invalid", "a value to fix")):
            n = troubles.count(kind)
            if n:
                print(f"crmtui: {n} record{'s' if n > 1 else ''} ha{'ve' if n > 1 else 's'} {what}; "
                      f"see: crmtui check", file=sys.stderr)


def cmd_search(service, args) -> int:
    from crmtui import cli_render as r

    if args.limit < 1:
        raise CrmError("--limit must be at least 1")
    results = service.search(" ".join(args.query), limit=args.limit)
    if args.json:
        return _emit_json([{"handle": c.handle, "name": c.name, "company": c.company, "emails": c.emails,
                            "score": round(h.rank, 1)} for c, h in results])
    if not results:
        print("No match.")
        return 1
    for customer, hit in results:
        print(f"{r.pad(r.cell(customer.handle), 28)} {r.pad(r.cell(customer.name), 28)} {r.cell(customer.company)}")
    return 0


def cmd_due(service, args) -> int:
    from crmtui import cli_render as r

    if args.within < 0:
        raise CrmError("--within must be 0 or more days")
    items = service.due(args.within)
    if args.json:
        return _emit_json([r.due_json(i) | {"bucket": i.bucket(service.today())} for i in items])
    print(r.due_text(items, service.today()))
    _warn_problems(service)
    return 0


def cmd_done(service, args) -> int:
    from crmtui.cli_render import clean

    customer = service.resolve(args.who)
    reminder = service.find_reminder(customer, " ".join(args.text) or None)
    saved, reminder, next_due = service.mark_done(customer.handle, reminder.index)
    if next_due:
        print(f"Done: {clean(reminder.text)} ({clean(saved.name)}); next due {next_due}")
    else:
        print(f"Done: {clean(reminder.text)} ({clean(saved.name)})")
    return 0


def cmd_tiers(service, args) -> int:
    from crmtui import cli_render as r

    rows = service.tiers()
    if args.json:
        return _emit_json({"currency": service.snapshot.settings.currency,
                           "tiers": [{"tier": row.tier, "count": row.count, "value": row.value,
                                      "customers": list(row.handles)} for row in rows]})
    width = shutil.get_terminal_size().columns
    print(r.pyramid_text(rows, service.snapshot.settings.currency, width, sys.stdout.isatty()))
    return 0


def cmd_history(service, args) -> int:
    from crmtui import cli_render as r

    handle = None
    if args.who:
        handle = _history_handle(service, args.who)
    if args.limit < 1:
        raise CrmError("--limit must be at least 1")
    entries = service.history(handle, limit=args.limit)
    if args.json:
        return _emit_json([{"commit": e.commit.sha, "when": e.commit.when, "author": e.commit.author,
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


def cmd_restore(service, args) -> int:
    from crmtui.cli_render import clean

    handle = _history_handle(service, args.who)
    customer, sha = service.restore(handle, args.rev)
    print(f"Restored {clean(customer.name)} to {sha[:8]} (a new commit; nothing was lost)")
    return 0


def cmd_edit(service, args) -> int:
    customer_handle = _edit_handle(service, args.who)
    path = service.book.root / service.book.rel(customer_handle)
    # The file about to be edited is the user's to fix now: its "left uncommitted" notice would be stale.
    rel = service.book.rel(customer_handle)
    service.git.notices.extend(n for n in service.settle_outside_edits() if not n.startswith(f"{rel}:"))
    before = path.read_text("utf-8", errors="replace") if path.exists() else None  # a file may not be UTF-8 yet
    while True:
        run_editor(path)
        subject, problem = service.commit_edit(customer_handle, before)
        if problem is None:
            print(f"Committed: {subject}" if subject else "No change.")
            return 0
        from crmtui.cli_render import clean

        print(f"crmtui: {clean(problem)}", file=sys.stderr)
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            raise CrmError(f"{path.name} is left as you wrote it, uncommitted; fix it with: crmtui edit {customer_handle}")
        answer = input("Edit again? [Y/n] ").strip().lower()
        if answer in ("n", "no"):
            raise CrmError(f"{path.name} is left as you wrote it, uncommitted; fix it with: crmtui edit {customer_handle}")


def _edit_handle(service, who: str) -> str:
    handle = who.removesuffix(".toml").rsplit("/", 1)[-1]
    if handle in service.snapshot.records:  # broken files can be edited too
        return handle
    return service.resolve(who).handle


def editor_command() -> list[str]:
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or ("vi" if shutil.which("vi") else "nano")
    try:
        command = shlex.split(editor)
    except ValueError as error:
        raise CrmError(f"cannot read the editor command '{editor}' ({error}); check $VISUAL/$EDITOR") from None
    if not command:
        raise CrmError("$EDITOR is empty; set it to your editor, e.g. export EDITOR=vim")
    return command


def run_editor(path: Path) -> None:
    command = editor_command()
    try:
        result = subprocess.run([*command, str(path)])
    except FileNotFoundError:
        raise CrmError(f"cannot run the editor '{command[0]}'; set $EDITOR") from None
    if result.returncode != 0:
        raise CrmError(f"the editor exited with status {result.returncode}; nothing was committed")


def cmd_check(service, args) -> int:
    """Every file of the book, crm.toml and the records counted apart, and the [keys] of the
    user's config file (the TUI refuses a bad or clashing remap the same way)."""
    from crmtui.storage.book import SETTINGS

    problems = service.problems
    records = service.snapshot.records
    count = len(records)
    settings = "missing" if not (service.book.root / SETTINGS).exists() else \
        "broken" if any(p.path == SETTINGS for p in problems) else "ok"
    keys = _key_problems()
    if args.json:
        _emit_json({"settings": settings, "records": count, "problems": [
            {"path": p.path, "line": p.line, "col": p.col, "message": p.message} for p in problems], "keys": keys})
        return 1 if problems or keys else 0
    from crmtui.cli_render import clean

    for problem in problems:
        print(clean(problem))
    for problem in keys:
        print(clean(problem))
    troubles = [r.trouble for r in records.values() if r.problem]
    broken, conflicted, invalid = (troubles.count(kind) for kind in ("broken", "conflict", "invalid"))
    others = len(problems) - len(troubles) - (settings == "broken")
    summary = [f"crm.toml: {'missing, the defaults are used' if settings == 'missing' else settings}",
               f"{count} record{'s' if count != 1 else ''}, "
               + (", ".join(part for part in (f"{broken} broken" if broken else "",
                                              f"{conflicted} with a sync conflict" if conflicted else "",
                                              f"{invalid} with a value to fix" if invalid else "") if part)
                  or ("all valid" if count else "none yet"))]
    if others > 0:
        summary.append(f"{others} other file{'s' if others > 1 else ''} with a problem")
    if keys:
        summary.append(f"{len(keys)} key remap{'s' if len(keys) > 1 else ''} refused")
    if problems or keys:
        print("; ".join(summary) + ".", file=sys.stderr)
        return 1
    print("; ".join(summary) + ".")
    return 0


def _key_problems() -> list[str]:
    """What the TUI would refuse in the [keys] of the user's config file (Textual is only
    loaded when there is such a table)."""
    config_home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    try:
        data = tomllib.loads((config_home / "crmtui" / "config.toml").read_text("utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        data = {"keys": None}  # keymap_problems says what is wrong with the file
    if "keys" not in data:
        return []
    try:
        from crmtui.tui.keys import keymap_problems
    except ImportError:
        return []
    return keymap_problems()


def cmd_sync(service, args) -> int:
    from crmtui.cli_render import clean

    report = service.sync(interactive=sys.stdin.isatty())
    print(clean(report.summary))
    for line in report.details:
        print(f"  {clean(line)}")
    return 0


def cmd_resolve(service, args) -> int:
    from crmtui.cli_render import clean

    handle = _edit_handle(service, args.who)
    saved, keys = service.resolve_conflict(handle, args.key, args.side)
    how = "kept the record's value" if args.side == "ours" else "took the other side's value"
    left = len(saved.conflicts)
    more = f"; {left} more conflict{'s' if left > 1 else ''} to resolve (crmtui check)" if left else ""
    print(f"Resolved {', '.join(keys)} of {clean(saved.name)}: {how}{more}")
    return 0


# ---- interchange: import, export, duplicates, merge ----------------------------------

def _progress_bar(label: str, at_least: int = 500):
    """A one-line bar on stderr for long work (`show(done, total)`), when stderr is a terminal;
    None otherwise. Totals under `at_least` show nothing: they finish before anyone waits."""
    if not sys.stderr.isatty():
        return None
    finished = []

    def show(done: int, total: int) -> None:
        if finished or total < at_least:
            return
        width = 30
        filled = min(width, int(width * done / max(total, 1)))
        end = "\n" if done >= total else ""
        if end:
            finished.append(True)
        sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}{end}")
        sys.stderr.flush()

    return show


def cmd_import(service, args) -> int:
    from crmtui.cli_render import clean
    from crmtui.interchange import service_ops as ops

    if args.format == "vcard":
        contacts, problems = ops.read_vcard_source(args.path)
        kind = "vCard"
    else:
        result = ops.read_csv_source(args.path, args.map)
        contacts, problems = result.contacts, result.problems
        kind = result.format.name if result.format else "CSV"
        if args.dry_run and result.format:
            from crmtui.cli_render import clean as _clean

            print(f"Columns read: {_clean(result.format.describe(result.headers).split(' (', 1)[-1].rstrip(')'))}")
    source = Path(args.path).name or str(args.path)
    if not contacts:
        detail = f": {problems[0]}" if problems else ""
        raise CrmError(f"no contact could be read from {source}{detail}")
    progress = _progress_bar("Importing")
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
    from crmtui.cli_render import clip, pad

    return pad(clip(text, cells), cells)


def cmd_export(service, args) -> int:
    from crmtui.interchange import service_ops as ops

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


def cmd_duplicates(service, args) -> int:
    from crmtui import cli_render as r
    from crmtui.interchange import service_ops as ops

    pairs = [d for d in ops.duplicates(service) if d.score >= args.min_score]
    name = lambda handle: service.snapshot.customer(handle).name  # noqa: E731
    if args.json:
        return _emit_json([{"score": d.score, "a": d.a, "a_name": name(d.a), "b": d.b, "b_name": name(d.b),
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


def cmd_merge(service, args) -> int:
    from crmtui.cli_render import clean
    from crmtui.interchange import service_ops as ops

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


if __name__ == "__main__":
    raise SystemExit(main())
