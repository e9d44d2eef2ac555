"""crmtui's benchmark: every quality target of the product, on generated books.

    .venv/bin/python scripts/bench.py                  # typical and stress books
    .venv/bin/python scripts/bench.py --sizes typical  # just the small one
    .venv/bin/python scripts/bench.py --runs 7 --books /tmp/bench-books

Builds the books with scripts/gen_book.py the first time (the stress book takes
a minute or two) and reuses them after. Whole-process figures are the median of
--runs runs after one warm-up; in-process figures are medians (and p95) over
many calls. `khard list` runs on the same people exported by `crmtui export vcard`, when
khard is installed (it is in the `test` extra). Prints a Markdown table for the README.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYTHON = sys.executable


def whole_process(argv: list[str], runs: int, env: dict | None = None, before=None) -> tuple[float, float]:
    """Median wall seconds and the largest peak RSS (MiB) of running argv `runs` times."""
    times, peaks = [], []
    for i in range(runs + 1):
        if before:
            before()
        start = time.perf_counter()
        usage_before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
                       env={**os.environ, **(env or {})})
        elapsed = time.perf_counter() - start
        peaks.append(max(usage_before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024)
        if i:  # the first run warms caches and is not counted
            times.append(elapsed)
    return statistics.median(times), max(peaks)


def ensure_book(books: Path, size: str) -> Path:
    book = books / size
    if not (book / "crm.toml").exists():
        print(f"building the {size} book in {book} (once) ...", file=sys.stderr)
        subprocess.run([PYTHON, str(HERE / "gen_book.py"), size, str(book)], check=True)
    return book


IN_PROCESS = textwrap.dedent("""
    import json, random, statistics, sys, time, resource
    from crmtui.service import Service
    book, scratch = sys.argv[1], sys.argv[2]
    s = Service.open(book)
    s.customers
    index = s.index
    rng = random.Random(1)
    times = []
    for c in rng.sample(s.customers, min(40, len(s.customers))):
        for k in range(1, min(len(c.name), 10) + 1):
            t = time.perf_counter(); index.search(c.name[:k], limit=200); times.append(time.perf_counter() - t)
    times.sort()
    out = {"search_median_ms": statistics.median(times) * 1000, "search_p95_ms": times[int(len(times) * .95)] * 1000,
           "keystrokes": len(times)}
    # the same keystrokes after a filter, through the TUI's entry point (the search language)
    s.find("tier:gold")  # a filter is worked out once per book, then kept
    filtered = []
    for c in random.Random(2).sample(s.customers, min(40, len(s.customers))):
        for k in range(1, min(len(c.name), 10) + 1):
            t = time.perf_counter(); s.find("tier:gold " + c.name[:k], limit=200); filtered.append(time.perf_counter() - t)
    filtered.sort()
    out["filtered_median_ms"] = statistics.median(filtered) * 1000
    out["filtered_p95_ms"] = filtered[int(len(filtered) * .95)] * 1000
    s.history(s.customers[0].handle)  # builds the history index once
    hist = []
    for c in rng.sample(s.customers, min(20, len(s.customers))):
        t = time.perf_counter(); s.history(c.handle); hist.append(time.perf_counter() - t)
    out["history_ms"] = statistics.median(hist) * 1000
    out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    w = Service.open(scratch)
    target = w.customers[len(w.customers) // 2].handle
    w.log_interaction(target, "warm-up", kind="call")
    logs = []
    for i in range(7):
        t = time.perf_counter(); w.log_interaction(target, f"benchmark call {i}", kind="call"); logs.append(time.perf_counter() - t)
    out["log_ms"] = statistics.median(logs) * 1000
    print(json.dumps(out))
""")


def in_process(book: Path) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp) / "scratch"
        subprocess.run(["git", "clone", "-q", "--local", str(book), str(scratch)], check=True)
        result = subprocess.run([PYTHON, "-c", IN_PROCESS, str(book), str(scratch)], capture_output=True,
                                text=True, check=True)
    import json

    return json.loads(result.stdout.strip().splitlines()[-1])


def tui_start(book: Path, runs: int) -> tuple[float, float]:
    """Whole process: start, load the book, show the first interactive screen, exit."""
    code = ("import sys; from pathlib import Path; from crmtui.tui.app import CrmApp;"
            "CrmApp(Path(sys.argv[1]), exit_when_ready=True).run(headless=True, size=(120, 35))")
    return whole_process([PYTHON, "-c", code, str(book)], runs)


def khard_list(book: Path, runs: int) -> float | None:
    khard = shutil.which("khard") or str(Path(PYTHON).with_name("khard"))
    if not Path(khard).exists():
        return None
    cards = book.parent / f"{book.name}-vcards"
    if not cards.is_dir():  # the same people, as `crmtui export vcard` writes them (one .vcf each)
        subprocess.run([PYTHON, "-m", "crmtui", "--book", str(book), "export", "vcard", "--out", str(cards)],
                       check=True, stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "khard"
        config.mkdir()
        (config / "khard.conf").write_text(
            f"[addressbooks]\n[[bench]]\npath = {cards}\n\n[general]\ndefault_action = list\n", "utf-8")
        return whole_process([khard, "list"], runs, env={"XDG_CONFIG_HOME": tmp})[0]


def versions() -> str:
    from importlib.metadata import version

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    git = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.split()[-1]
    packages = ", ".join(f"{name} {version(name)}" for name in ("crmtui", "textual", "rtoml", "rapidfuzz", "GitPython"))
    khard = ""
    try:
        khard = f", khard {version('khard')}"
    except Exception:
        pass
    return (f"{date.today()}, {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
            f"git {git}, {packages}{khard}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--books", type=Path, default=ROOT / "bench-books", help="where the books are built")
    parser.add_argument("--sizes", nargs="+", default=["typical", "stress"], choices=["typical", "stress"])
    parser.add_argument("--runs", type=int, default=5, help="counted runs per whole-process figure")
    args = parser.parse_args()
    crmtui = [PYTHON, "-m", "crmtui"]
    rows: dict[str, dict[str, str]] = {}
    for size in args.sizes:
        book = ensure_book(args.books, size)
        state = book / ".git" / "crmtui"

        def forget_caches() -> None:  # a first run: no summaries, no stored rows
            for cache in [state / "summary-cache.pickle", *state.glob("rows-*.pickle")]:
                cache.unlink(missing_ok=True)

        print(f"measuring {size} ...", file=sys.stderr)
        warm, warm_peak = whole_process([*crmtui, "--book", str(book), "list", "--json"], args.runs)
        cold, _ = whole_process([*crmtui, "--book", str(book), "list", "--json"], args.runs,
                                before=forget_caches)
        start, tui_peak = tui_start(book, args.runs)
        inner = in_process(book)
        khard = khard_list(book, args.runs)
        ratio = f"{khard / warm:.1f}x ({khard:.2f} s)" if khard else "khard not installed"
        rows[size] = {
            "`crmtui list --json`, warm": f"{warm:.2f} s",
            "`crmtui list --json`, first run (no cache)": f"{cold:.2f} s",
            "vs `khard list` on the same people": ratio,
            "TUI start to first interactive screen": f"{start:.2f} s",
            "one search keystroke (median / p95)": f"{inner['search_median_ms']:.1f} / {inner['search_p95_ms']:.1f} ms",
            "one keystroke after a filter, `tier:gold ana` (median / p95)":
                f"{inner['filtered_median_ms']:.1f} / {inner['filtered_p95_ms']:.1f} ms",
            "one record's history, warm": f"{inner['history_ms']:.0f} ms",
            "log an interaction (write + commit)": f"{inner['log_ms']:.0f} ms",
            "resident memory, TUI with the book open": f"{tui_peak:.0f} MiB",
        }
    targets = {
        "`crmtui list --json`, warm": "≤ 0.4 s", "`crmtui list --json`, first run (no cache)": "≤ 1.5 s",
        "vs `khard list` on the same people": "≥ 15x", "TUI start to first interactive screen": "≤ 1.0 s",
        "one search keystroke (median / p95)": "≤ 16 / 30 ms",
        "one keystroke after a filter, `tier:gold ana` (median / p95)": "≤ 16 / 30 ms",
        "one record's history, warm": "≤ 50 ms",
        "log an interaction (write + commit)": "≤ 150 ms", "resident memory, TUI with the book open": "≤ 250 MiB",
    }
    print(f"\n{versions()}\n")
    print("| what | " + " | ".join(args.sizes) + " | target (stress) |")
    print("|---|" + "---|" * len(args.sizes) + "---|")
    for what, target in targets.items():
        print(f"| {what} | " + " | ".join(rows[s][what] for s in args.sizes) + f" | {target} |")


if __name__ == "__main__":
    main()
