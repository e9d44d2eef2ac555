"""How fast `crmtui report` is: cold (no cache), warm (the same report again), warm for another
period (the history from the cache, the figures computed), and after one new commit.

    .venv/bin/python scripts/bench_report.py BOOK [BOOK...] [--runs 3]

BOOK is a book made by scripts/gen_book.py (typical or stress). Each figure is the median of
--runs whole-process runs; the one-new-commit case commits to a throwaway clone. Prints a
Markdown table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CRMTUI = [sys.executable, "-m", "crmtui"]
ENV = {**os.environ, "CRMTUI_NOW": "2026-06-15T18:00:00"}


def run(book: Path, *args: str) -> float:
    start = time.perf_counter()
    subprocess.run([*CRMTUI, "--book", str(book), "report", *args], stdout=subprocess.DEVNULL, check=True, env=ENV)
    return time.perf_counter() - start


def forget(book: Path) -> None:
    for name in ("report-history.pickle", "report-last.pickle"):
        (book / ".git" / "crmtui" / name).unlink(missing_ok=True)


def median(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s"


def bench(book: Path, runs: int) -> list[str]:
    cold, warm, other, one_more = [], [], [], []
    for i in range(runs):
        forget(book)
        cold.append(run(book))
        warm.append(run(book))
        other.append(run(book, "--from", f"2026-0{1 + i % 5}-01"))
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "book"
        shutil.copytree(book, clone, symlinks=True)
        run(clone)
        who = sorted((clone / "customers").glob("*.toml"))[0].stem
        for i in range(runs):
            subprocess.run([*CRMTUI, "--book", str(clone), "log", who, f"call {i}", "--at", "2026-06-15T10:00"],
                           check=True, capture_output=True, env=ENV)
            one_more.append(run(clone))
    commits = subprocess.run(["git", "-C", str(book), "rev-list", "--count", "HEAD"], capture_output=True,
                             text=True).stdout.strip()
    records = len(list((book / "customers").glob("*.toml")))
    return [f"| {book.name} ({records:,} records, {int(commits):,} commits) | {median(cold)} | {median(warm)} | "
            f"{median(other)} | {median(one_more)} |"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("books", nargs="+", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print("| book | cold | warm, same report | warm, another period | after one new commit |")
    print("|---|---|---|---|---|")
    for book in args.books:
        for row in bench(book, args.runs):
            print(row, flush=True)


if __name__ == "__main__":
    main()
