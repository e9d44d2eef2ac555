"""Generate a large, deterministic book with a real git history, for benchmarks.

    .venv/bin/python scripts/gen_book.py typical bench-books/typical
    .venv/bin/python scripts/gen_book.py stress  bench-books/stress
    .venv/bin/python scripts/gen_book.py --customers 500 --interactions 5000 --commits 2000 OUT

Sizes: typical = 1,000 customers, 15,000 interactions, 5,000 commits;
stress = 10,000 / 150,000 / 20,000. The same seed gives the same book byte for
byte. History is written with one `git fast-import` stream: each customer is
added in a commit of its own, and the remaining commits each log one
interaction, so a record's `git log` has a story.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from crmtui.storage.sync import ATTRIBUTES_TEXT

SIZES = {
    "typical": (1_000, 15_000, 5_000),
    "stress": (10_000, 150_000, 20_000),
}
TODAY = date(2026, 6, 15)
START = datetime(2024, 1, 1, 9, 0)

FIRST = ("Ana", "Ben", "Greta", "Jürgen", "Łukasz", "Zoë", "Søren", "Çağla", "Inês", "Hiroshi", "Li", "Wei",
         "Maria", "Pablo", "Lucía", "Katrin", "Felix", "Mette", "Oskar", "Elif", "Emre", "Nikos", "Eleni",
         "Sanne", "Giulia", "Marco", "Siobhán", "Tom", "Tomáš", "Lukas", "Nadine", "Aino", "Javier", "Anja",
         "Maja", "Pierre", "Camille", "Étienne", "João", "Catarina", "Dimitra", "Yuki", "Chen", "Henrik", "Zofia")
LAST = ("López", "Schmidt", "Lindqvist", "Weiß", "Wójcik", "Martin", "Kjær", "Yıldız", "Carvalho", "Tanaka",
        "Na", "Wang", "García", "Fernández", "Romero", "Vogel", "Hartmann", "Berg", "Şahin", "Doğan",
        "Pappas", "Georgiou", "de Vries", "Rossi", "Bianchi", "O'Brien", "Hughes", "Novák", "Gruber", "Frey",
        "Mäkinen", "Ortega", "Müller", "Jensen", "Lambert", "Dubois", "Moreau", "Pereira", "Alves", "Sato")
COMPANY_A = ("Acme", "Nordlicht", "Kestrel", "Hanshan", "Atlântico", "Møllerup", "Wisła", "Métropole", "Piraeus",
             "Kaizen", "Anatolia", "Revontuli", "Petit", "Mercado", "Athena", "Orbit", "Helix", "Quantum", "Aurora")
COMPANY_B = ("Corp", "Energie GmbH", "Pay AB", "Logistics", "Digital", "Health", "S.A.", "Numérique", "Freight",
             "Robotics", "Cloud Labs", "Energy Oy", "Panier", "Verde", "Analytics", "Systems", "Data", "Bank")
TAGS = ("fintech", "health", "retail", "logistics", "energy", "public-sector", "startup", "enterprise", "meetup",
        "referral", "speaker", "investor", "data", "cloud", "security")
KINDS = ("call", "email", "meeting", "message", "note", "feedback")
SUMMARIES = ("Discussed the renewal", "Sent the proposal", "Workshop feedback", "Invoice question",
             "Intro at the meetup", "Quarterly review", "Follow-up on the pilot", "Asked for a referral",
             "Kick-off of phase 2", "Shared the case study", "Budget planning for next year", "Coffee catch-up")


@dataclass
class Person:
    handle: str
    name: str
    company: str
    email: str
    phone: str
    tags: list[str]
    stage: str
    birthday: date | None
    deals: list[tuple[str, int, int | None, str, date]]
    reminders: list[tuple[date, str]]
    interactions: list[tuple[datetime, str, str]] = field(default_factory=list)


def slug(text: str) -> str:
    import unicodedata

    text = text.translate(str.maketrans({"ß": "ss", "ø": "o", "ł": "l", "Ł": "l", "ı": "i", "æ": "ae"}))
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()
    return "-".join("".join(c if c.isalnum() and c.isascii() else " " for c in text).split())


def people(count: int, interactions: int, rng: random.Random) -> list[Person]:
    out, taken = [], set()
    for i in range(count):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        handle = base = slug(name)
        n = 2
        while handle in taken:
            handle, n = f"{base}-{n}", n + 1
        taken.add(handle)
        company = f"{rng.choice(COMPANY_A)} {rng.choice(COMPANY_B)}"
        stage = rng.choices(("customer", "prospect", "former"), (6, 3, 1))[0]
        deals = []
        if stage != "prospect":
            for d in range(rng.randint(1, 4)):
                amount = rng.choice((2000, 5000, 8000, 12000, 20000, 35000))
                cost = rng.choice((None, amount // 4, amount + 1500)) if d == 0 else None
                when = TODAY - timedelta(days=rng.randint(0, 600))
                deals.append((f"Project {d + 1}", amount, cost, rng.choice(("won", "won", "open", "lost")), when))
        reminders = [(TODAY + timedelta(days=rng.randint(-20, 60)), rng.choice(SUMMARIES))
                     for _ in range(rng.randint(0, 2))]
        birthday = date(rng.randint(1960, 1995), rng.randint(1, 12), rng.randint(1, 28)) if rng.random() < 0.5 else None
        out.append(Person(handle, name, company, f"{handle.replace('-', '.')}{i}@{slug(company).split('-')[0]}.example",
                          f"+{rng.randint(30, 49)} {rng.randint(600, 699)} {rng.randint(100, 999)} {rng.randint(100, 999)}",
                          rng.sample(TAGS, rng.randint(0, 3)), stage, birthday, deals, reminders))
    span = int((datetime.combine(TODAY, datetime.min.time()) - START).total_seconds())
    for _ in range(interactions):
        person = out[rng.randrange(count)]
        at = START + timedelta(seconds=rng.randrange(span) // 60 * 60)
        person.interactions.append((at, rng.choice(KINDS), rng.choice(SUMMARIES)))
    for person in out:
        person.interactions.sort()
    return out


def q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def record_text(p: Person, upto: int) -> str:
    """The file as of its first `upto` interactions."""
    lines = [f"# {p.name} — generated for benchmarks", f"name = {q(p.name)}", f"company = {q(p.company)}",
             f"emails = [{q(p.email)}]", f"phones = [{q(p.phone)}]",
             "tags = [" + ", ".join(q(t) for t in p.tags) + "]", f"stage = {q(p.stage)}"]
    if p.birthday:
        lines.append(f"birthday = {p.birthday.isoformat()}")
    for title, amount, cost, status, when in p.deals:
        lines += ["", "[[deals]]", f"title = {q(title)}", f"amount = {amount}"]
        if cost is not None:
            lines.append(f"cost = {cost}")
        lines += [f"status = {q(status)}", f"date = {when.isoformat()}"]
    for due, text in p.reminders:
        lines += ["", "[[reminders]]", f"due = {due.isoformat()}", f"text = {q(text)}"]
    for at, kind, summary in p.interactions[:upto]:
        lines += ["", "[[interactions]]", f"at = {at.isoformat()}", f"kind = {q(kind)}", f"summary = {q(summary)}"]
    return "\n".join(lines) + "\n"


SETTINGS = """currency = "EUR"
owner = "me"

[tiers]
platinum = 50000
gold = 15000
iron = 0
"""


def build(out: Path, customers: int, interactions: int, commits: int, seed: int = 7) -> None:
    if out.exists() and any(out.iterdir()):
        sys.exit(f"{out} exists and is not empty")
    rng = random.Random(seed)
    t0 = time.perf_counter()
    folks = people(customers, interactions, rng)
    logs = max(0, commits - customers - 1)
    # Which interactions get a commit of their own: spread over people who have some.
    pool = [(i, j) for i, p in enumerate(folks) for j in range(len(p.interactions))]
    chosen = set(rng.sample(pool, min(logs, len(pool))))
    events = []  # (when, order, person index, upto, subject)
    for i, p in enumerate(folks):
        own = sorted(j for j in range(len(p.interactions)) if (i, j) in chosen)
        first = min(own) if own else len(p.interactions)
        added = (p.interactions[0][0] if p.interactions else START) - timedelta(days=1)
        events.append((added, 0, i, first, f"Add {p.name}"))
        for j in own:
            at, kind, _ = p.interactions[j]
            events.append((at, 1, i, j + 1, f"Log {kind} with {p.name}"))
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(out)], check=True)
    stream = []

    def commit(when: datetime, subject: str, files: dict[str, str]) -> None:
        ts = int(when.timestamp())
        msg = subject.encode()
        stream.append(b"commit refs/heads/main\n")
        stream.append(f"committer Bench <bench@example.com> {ts} +0000\n".encode())
        stream.append(b"data %d\n%s\n" % (len(msg), msg))
        for path, text in files.items():
            data = text.encode()
            stream.append(f"M 100644 inline {path}\n".encode())
            stream.append(b"data %d\n%s\n" % (len(data), data))

    commit(START - timedelta(days=30), "Create the book",
           {"crm.toml": SETTINGS, "customers/.gitkeep": "", ".gitattributes": ATTRIBUTES_TEXT})
    committed = {}  # person index -> how many interactions their last commit holds
    for when, _, i, upto, subject in events:
        p = folks[i]
        committed[i] = upto  # a log commit also carries the uncommitted interactions before it
        commit(when, subject, {f"customers/{p.handle}.toml": record_text(p, upto)})
    rest = {f"customers/{p.handle}.toml": record_text(p, len(p.interactions))
            for i, p in enumerate(folks) if committed[i] < len(p.interactions)}
    if rest:
        commit(datetime.combine(TODAY, datetime.min.time()), f"Log the latest interactions of {len(rest)} records", rest)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=out, input=b"".join(stream), check=True)
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=out, check=True)
    subprocess.run(["git", "commit-graph", "write", "--reachable", "--changed-paths"], cwd=out, check=True,
                   capture_output=True)
    count = subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=out, capture_output=True, text=True).stdout
    print(f"{out}: {customers} customers, {sum(len(p.interactions) for p in folks)} interactions, "
          f"{count.strip()} commits, in {time.perf_counter() - t0:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("size", nargs="?", choices=sorted(SIZES), help="a preset size")
    parser.add_argument("out", type=Path)
    parser.add_argument("--customers", type=int)
    parser.add_argument("--interactions", type=int)
    parser.add_argument("--commits", type=int)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    customers, interactions, commits = SIZES.get(args.size, (None, None, None))
    customers = args.customers or customers
    interactions = args.interactions or interactions
    commits = args.commits or commits
    if not (customers and interactions is not None and commits):
        parser.error("give a size (typical, stress) or --customers, --interactions and --commits")
    build(args.out, customers, interactions, commits, args.seed)


if __name__ == "__main__":
    main()
