"""Generate a deterministic Maildir of mail to and from a book's customers, for benchmarks.

    .venv/bin/python scripts/gen_book.py stress /tmp/stress-book
    .venv/bin/python scripts/gen_mail.py /tmp/stress-book /tmp/stress-mail --messages 50000
    /usr/bin/time -v .venv/bin/crmtui --book /tmp/stress-book import mail /tmp/stress-mail/INBOX /tmp/stress-mail/Sent

Writes OUT/INBOX and OUT/Sent (cur/, new/, tmp/), one file per message, with the
headers real mail carries (Received chains, DKIM signatures, encoded-word subjects)
and a body of a few kilobytes that the import must never read. Of the messages:
about 70% are from or to a customer of the book (a third of those sent by you),
12% involve only people who are not in the book, 10% are mailing-list or bulk
mail, 5% come from noreply addresses, and 3% are copies of a sent message that
also reached the Inbox (a Cc to yourself). "You" are me@example.com: add
`me = ["me@example.com"]` at the top of the book's crm.toml (the script does).
"""

from __future__ import annotations

import argparse
import random
import tomllib
from datetime import datetime, timedelta, timezone
from email.header import Header
from pathlib import Path

ME = "me@example.com"
SUBJECTS = ("Renewal for next year", "Proposal v2", "Re: invoice 2026-{n}", "Workshop slides", "Quick question",
            "Kick-off notes", "Café next week?", "Über das Angebot", "Re: Re: the pilot", "Contract draft",
            "Numéro de commande {n}", "Follow-up from the meetup", "Agenda for Thursday", "Budget {n}")
START = datetime(2024, 1, 1, tzinfo=timezone.utc)
SPAN = timedelta(days=2 * 365 + 160)


def customer_addresses(book: Path) -> list[tuple[str, str]]:
    people = []
    for path in sorted((book / "customers").glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            continue
        emails = data.get("emails") or []
        for email in emails[:1] if isinstance(emails, list) else [emails]:
            people.append((str(data.get("name", "")), str(email)))
    return people


def encoded(text: str) -> str:
    return Header(text, "utf-8").encode() if not text.isascii() else text


def message(rng: random.Random, number: int, sender: tuple[str, str], to: list[tuple[str, str]],
            extra: list[str], when: datetime) -> bytes:
    def addr(person):
        name, email = person
        return f"{encoded(name)} <{email}>" if name else email

    subject = rng.choice(SUBJECTS).format(n=number % 97)
    lines = [f"Return-Path: <{sender[1]}>"]
    for hop in range(rng.randint(2, 5)):
        lines.append(f"Received: from mx{hop}.relay.example (mx{hop}.relay.example [192.0.2.{hop + 1}])\n"
                     f"\tby mail.example.com with ESMTPS id {rng.getrandbits(40):x}\n"
                     f"\tfor <{ME}>; {when.strftime('%a, %d %b %Y %H:%M:%S +0000')}")
    lines.append("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=relay.example; s=s1;\n"
                 "\th=from:to:subject:date:message-id; bh=" + "%x" % rng.getrandbits(160) + ";\n"
                 "\tb=" + "\n\t ".join("%x" % rng.getrandbits(240) for _ in range(4)))
    lines += [f"From: {addr(sender)}", f"To: {', '.join(addr(p) for p in to)}",
              f"Subject: {encoded(subject)}", f"Date: {when.strftime('%a, %d %b %Y %H:%M:%S +0000')}",
              f"Message-ID: <gen-{number}.{rng.getrandbits(32):x}@mail.example>", "MIME-Version: 1.0",
              "Content-Type: text/plain; charset=utf-8", *extra]
    body = "\n".join("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor." for _ in
                     range(rng.randint(5, 60)))
    return ("\n".join(lines) + "\n\n" + body + "\n").encode("utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("book", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    customers = customer_addresses(args.book)
    if not customers:
        raise SystemExit(f"{args.book} has no customers with an email")
    settings = args.book / "crm.toml"
    text = settings.read_text("utf-8")
    if "\nme = " not in "\n" + text:
        settings.write_text(f'me = ["{ME}"]\n' + text, "utf-8")
    strangers = [(f"Stranger {n}", f"stranger{n}@elsewhere.example") for n in range(400)]
    folders = {}
    for name in ("INBOX", "Sent"):
        for sub in ("cur", "new", "tmp"):
            (args.out / name / sub).mkdir(parents=True, exist_ok=True)
        folders[name] = args.out / name
    me = ("Me Myself", ME)
    # a customer's share of the mail follows a long tail: a few write a lot
    weights = [1 / (1 + i) ** 0.8 for i in range(len(customers))]
    written = 0
    number = 0
    while written < args.messages:
        number += 1
        when = START + timedelta(seconds=rng.randrange(int(SPAN.total_seconds())))
        roll = rng.random()
        extra: list[str] = []
        copies = ["INBOX"]
        if roll < 0.70:
            person = rng.choices(customers, weights)[0]
            if rng.random() < 0.33:
                sender, to, copies = me, [person], ["Sent"]
                if rng.random() < 0.1:
                    to.append(rng.choices(customers, weights)[0])
            else:
                sender, to = person, [me]
        elif roll < 0.82:
            sender, to = rng.choice(strangers), [me]
        elif roll < 0.92:
            sender, to = rng.choice(customers), [me]
            extra = ["List-Id: <news.list.example>" if rng.random() < 0.7 else "Precedence: bulk"]
        elif roll < 0.97:
            sender, to = ("Notifications", "noreply@service.example"), [me]
        else:
            sender, to, copies = me, [rng.choice(customers), me], ["Sent", "INBOX"]
        data = message(rng, number, sender, to, extra, when)
        for folder in copies:
            if written >= args.messages:
                break
            sub = "new" if rng.random() < 0.05 else "cur"
            stamp = int(when.timestamp())
            name = f"{stamp}.M{number}P{len(copies)}.gen" + (":2,S" if sub == "cur" else "")
            (folders[folder] / sub / name).write_bytes(data)
            written += 1
    print(f"Wrote {written} messages to {args.out}/INBOX and {args.out}/Sent "
          f"({len(customers)} customer addresses)")


if __name__ == "__main__":
    main()
