"""Reading 10,000 vCards: crmtui's own parser against vobject's (the library khard uses).

    .venv/bin/python scripts/bench_vcard.py [--cards 10000] [--runs 5]

Two corpora, made here and deterministic:
  export - 10,000 cards as `crmtui export vcard` writes them (3.0, folded notes,
           links, birthdays): what a round trip through crmtui or khard reads;
  phones - the fixture cards that vobject reads (iPhone 3.0 with a photo, a 4.0
           card, khard's two) repeated with fresh names to 10,000 cards.
For each: seconds to go from text to Contacts (median of --runs), both ways:
  crmtui  - interchange.vcard.read_vcards (split, unfold, parse, map)
  vobject - vobject.readComponents + the same mapping to Contacts (vobject_contacts in
            tests/test_vcard_library.py)
and for reference vobject's parse alone (no mapping); then writing 10,000 cards with
crmtui's writer and with vobject's (the same fields, vobject.vCard().serialize()).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent if (HERE.parent / "pyproject.toml").exists() else HERE.parent / "main"  # scripts/, or notes/
sys.path.insert(0, str(ROOT / "tests"))

from crmtui.interchange import vcard  # noqa: E402
from crmtui.interchange.contact import Contact  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "interchange"
FIRST = ("Ana", "Ben", "Greta", "Jürgen", "Łukasz", "Zoë", "Søren", "Çağla", "Inês", "Hiroshi", "Yuki", "Chen")
LAST = ("López", "Schmidt", "Lindqvist", "Weiß", "Wójcik", "Kjær", "Yıldız", "Tanaka", "de Vries", "O'Brien")


def export_corpus(n: int) -> str:
    rng = random.Random(7)
    out = []
    for i in range(n):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}"
        out.append(vcard.write_vcard(Contact(
            name=name, company=f"Company {i % 300}, Ltd", title="CTO", emails=[f"p{i}@example.com", f"x{i}@mail.example"],
            phones=[f"+49 30 {i:07d}"], tags=["fintech", "referral"][: i % 3],
            birthday="1984-03-12" if i % 2 else "03-12",
            notes="Met at the meetup; likes calls, hates slides.\nSecond line " + "é" * (i % 90),
            links={"linkedin": f"https://www.linkedin.com/in/p{i}"}, uid=f"crmtui-p{i}")))
    return "".join(out)


def phones_corpus(n: int) -> str:
    cards = []
    for name in ("iphone-3.0.vcf", "handwritten-4.0.vcf", "khard/juergen-3.0.vcf", "khard/yuki-4.0.vcf"):
        text = vcard.decode_bytes((FIXTURES / name).read_bytes()).replace("\r\n", "\n").replace("\n", "\r\n")
        for chunk in text.split("BEGIN:VCARD")[1:]:
            cards.append("BEGIN:VCARD" + chunk)
    out = []
    for i in range(n):
        card = cards[i % len(cards)]
        out.append(card.replace("FN:", f"FN:P{i} ", 1))
    return "".join(out)


def vobject_write(contact: Contact) -> str:
    """The card write_vcard writes, built and serialized by vobject."""
    import re

    import vobject

    card = vobject.vCard()
    if contact.uid:
        card.add("uid").value = contact.uid
    card.add("fn").value = contact.name
    family, given = vcard.split_name(contact.name)
    card.add("n").value = vobject.vcard.Name(family=family, given=given)
    if contact.company:
        card.add("org").value = [contact.company]
    if contact.title:
        card.add("title").value = contact.title
    for kind, values, base in (("email", contact.emails, "INTERNET"), ("tel", contact.phones, "VOICE")):
        for i, value in enumerate(values):
            line = card.add(kind)
            line.value = value
            line.type_param = [base, "PREF"] if i == 0 and len(values) > 1 else base
    if contact.birthday:
        card.add("bday").value = contact.birthday if len(contact.birthday) == 10 else f"--{contact.birthday}"
    for name, url in contact.links.items():
        line = card.add("url")
        line.value = url
        line.type_param = re.sub(r"[^A-Za-z0-9-]+", "-", name).strip("-") or "website"
    if contact.tags:
        card.add("categories").value = list(contact.tags)
    if contact.notes:
        card.add("note").value = contact.notes
    return card.serialize()


def timed(fn, text: str, runs: int) -> tuple[float, int]:
    times, count = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        count = fn(text)
        times.append(time.perf_counter() - start)
    return statistics.median(times), count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cards", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    import vobject

    from test_vcard_library import vobject_contacts

    def crmtui_read(text):
        return len(vcard.read_vcards(text)[0])

    def vobject_read(text):
        return len(vobject_contacts(text)[0])

    def vobject_parse_only(text):
        return sum(1 for _ in vobject.readComponents(text, ignoreUnreadable=True))

    print(f"| corpus ({args.cards:,} cards) | crmtui parser | vobject + mapping | vobject parse only |")
    print("|---|---|---|---|")
    for label, make in (("export", export_corpus), ("phones", phones_corpus)):
        text = make(args.cards)
        row = [f"{label} ({len(text.encode()) / 2**20:.1f} MiB)"]
        for fn in (crmtui_read, vobject_read, vobject_parse_only):
            seconds, count = timed(fn, text, args.runs)
            row.append(f"{seconds:.2f} s ({count:,})")
        print("| " + " | ".join(row) + " |")
    contacts = vcard.read_vcards(export_corpus(args.cards))[0]
    print()
    print(f"| writing {len(contacts):,} cards | crmtui writer | vobject writer |")
    print("|---|---|---|")
    row = []
    for fn in (vcard.write_vcard, vobject_write):
        seconds, _ = timed(lambda cs: len("".join(fn(c) for c in cs)), contacts, args.runs)
        row.append(f"{seconds:.2f} s")
    print("| export | " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
