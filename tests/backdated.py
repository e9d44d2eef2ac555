"""Books with a backdated git history, for the report's tests: every figure known by construction.

`build_book(root, commits)` writes the commits with `git fast-import` (author and committer
dates as given), then checks the last one out. `record(...)` writes a customer file.
`scenario_book(root)` is the book test_report_history.py and test_report_cli.py describe.
"""

from __future__ import annotations

import subprocess
from datetime import datetime, timezone
from pathlib import Path

from crmtui.domain.settings import DEFAULT_SETTINGS_TOML
from crmtui.storage.sync import ATTRIBUTES_TEXT

WHO = "Test Consultant <me@example.test>"


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def record(name: str, *, stage: str | None = None, deals=(), interactions=(), **extra) -> str:
    """A customer file. deals: (title, amount, status, date or None[, cost]); interactions: (at, kind)."""
    lines = [f"name = {_q(name)}"]
    if stage:
        lines.append(f"stage = {_q(stage)}")
    for key, value in extra.items():
        lines.append(f"{key} = {_q(value) if isinstance(value, str) else value}")
    for deal in deals:
        title, amount, status, day, *cost = deal
        lines += ["", "[[deals]]", f"title = {_q(title)}", f"amount = {amount}", f"status = {_q(status)}"]
        if day:
            lines.append(f"date = {day}")
        if cost:
            lines.append(f"cost = {cost[0]}")
    for at, kind in interactions:
        lines += ["", "[[interactions]]", f"at = {at}", f"kind = {_q(kind)}", f"summary = \"talked\""]
    return "\n".join(lines) + "\n"


def settings(gold: int = 15000, platinum: int = 50000) -> str:
    return DEFAULT_SETTINGS_TOML.replace("gold = 15000", f"gold = {gold}").replace(
        "platinum = 50000", f"platinum = {platinum}")


def fast_import(commits: list[tuple[str, dict[str, str | None]]], start: int = 1, parent: str | None = None) -> bytes:
    out = []
    for number, (when, files) in enumerate(commits, start):
        stamp = int(datetime.fromisoformat(when).replace(tzinfo=timezone.utc).timestamp())
        ident = f"{WHO} {stamp} +0000".encode()
        message = f"Commit {number}\n".encode()
        out += [b"commit refs/heads/main\n", f"mark :{number}\n".encode(), b"author " + ident + b"\n",
                b"committer " + ident + b"\n", b"data %d\n" % len(message), message]
        if number > start:
            out.append(f"from :{number - 1}\n".encode())
        elif parent:
            out.append(f"from {parent}\n".encode())
        for path, text in files.items():
            if text is None:
                out.append(f"D {path}\n".encode())
            else:
                data = text.encode("utf-8")
                out += [f"M 100644 inline {path}\n".encode(), b"data %d\n" % len(data), data, b"\n"]
        out.append(b"\n")
    return b"".join(out)


def git(root: Path, *args: str, **kwargs) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True,
                          **kwargs).stdout


def build_book(root: Path, commits: list[tuple[str, dict[str, str | None]]]) -> Path:
    """A book whose history is `commits`: (ISO time, {path: text, or None to delete it})."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    subprocess.run(["git", "-C", str(root), "fast-import", "--quiet"], input=fast_import(commits), check=True)
    git(root, "reset", "-q", "--hard", "main")
    return root


def add_commits(root: Path, commits: list[tuple[str, dict[str, str | None]]]) -> None:
    """More backdated commits on top of HEAD (as if they had arrived by a sync), checked out."""
    head = git(root, "rev-parse", "HEAD").strip()
    subprocess.run(["git", "-C", str(root), "fast-import", "--quiet", "--force"],
                   input=fast_import(commits, start=1, parent=head), check=True)
    git(root, "reset", "-q", "--hard", "main")


def create(when: str = "2024-01-10T09:00:00") -> tuple[str, dict[str, str | None]]:
    return (when, {"crm.toml": settings(), "customers/.gitkeep": "", ".gitattributes": ATTRIBUTES_TEXT})


# ---- the scenario ---------------------------------------------------------------------------
#
# today 2026-06-15; the period 2025-06-16 .. 2026-06-15, the previous 2024-06-16 .. 2025-06-15.
# c0..c9: customers added 2024-02-01, all active in the previous period.
#   c0, c1: iron at the start (5,000 won 2025-03-01), won 22,000 in January: gold at the end.
#   c2: iron -> iron; its second deal has no date: it counts on the day of its commit (2026-06-01).
#       A version of 2025-07-10 does not parse (fixed in the next commit): it is skipped.
#   c3: gold at the start (18,000), 18,000 again in May, but crm.toml raised gold to 20,000 on
#       2026-03-01: iron at the end.
#   c4: deleted 2025-09-01, restored 2025-12-01: in the book at both ends, not added again.
#   c5: active in August, then deleted for good on 2026-02-01: removed (churn), left the pyramid.
#   c6: moved to former on 2026-04-01 (churn); a deal lost in November; talked on 2025-06-16, the first day.
#   c7: silent since 2024-09-10 with keep_in_touch = "30d": lost, and churned (silent).
#   c8: last talked 2025-06-15, the previous period's last day: lost; no cadence, so not churned.
#       referred_by "ghost", a file that is not in the book.
#   c9: former since 2025-01-01: lost, but not a customer at the start.
# p1..p4: prospects. p1 added 2025-08-01, customer 2025-10-01 (61 days), won 1,000 in February,
#   referred by c0. p2 added 2025-09-01, customer 2026-01-01 (122 days), an open deal of 10,000,
#   referred by c0. p3 added 2024-03-01, converted 2024-05-01 (not in either period).
#   p4 added 2026-05-01, still a prospect, referred by p1.

GOLD_UP_ON = "2026-03-01T09:00:00"


def scenario_commits() -> list[tuple[str, dict[str, str | None]]]:
    c = {}
    old = [("Q1", 5000, "won", "2025-03-01")]
    c["c0"] = dict(deals=old, interactions=[("2024-09-01T10:00:00", "call")])
    c["c1"] = dict(deals=old, interactions=[("2024-09-02T10:00:00", "email")])
    c["c2"] = dict(deals=[("Small", 3000, "won", "2025-06-01")], interactions=[("2024-09-03T10:00:00", "call")])
    c["c3"] = dict(deals=[("Big", 18000, "won", "2025-05-01")], interactions=[("2024-09-04T10:00:00", "meeting")])
    for i in (4, 5, 6, 8, 9):
        c[f"c{i}"] = dict(interactions=[(f"2024-09-1{i}T10:00:00", "note")])
    c["c7"] = dict(interactions=[("2024-09-10T10:00:00", "call")], keep_in_touch="30d")
    c["c8"]["referred_by"] = "ghost"
    names = {f"c{i}": f"Cust {i}" for i in range(10)} | {f"p{i}": f"Pros {i}" for i in range(1, 5)}

    def rec(handle: str, **changes) -> dict[str, str]:
        c.setdefault(handle, {}).update(changes)
        return {f"customers/{handle}.toml": record(names[handle], **c[handle])}

    def log(handle: str, at: str, kind: str = "call") -> dict[str, str]:
        return rec(handle, interactions=[*c[handle].get("interactions", ()), (at, kind)])

    commits = [create()]
    for i in range(10):
        commits.append((f"2024-02-01T1{i}:00:00", rec(f"c{i}", stage="customer")))
    commits.append(("2024-03-01T09:00:00", rec("p3", stage="prospect")))
    commits.append(("2024-05-01T09:00:00", rec("p3", stage="customer")))
    commits.append(("2025-01-01T09:00:00", rec("c9", stage="former")))
    commits.append(("2025-06-15T12:00:00", log("c8", "2025-06-15T11:00:00")))
    # --- the period starts
    commits.append(("2025-06-16T10:00:00", log("c6", "2025-06-16T09:00:00", "meeting")))
    commits.append(("2025-08-01T09:00:00", rec("p1", stage="prospect", referred_by="c0")))
    commits.append(("2025-07-10T09:00:00", {"customers/c2.toml": 'name = "Cust 2"\nstage = [oops\n'}))  # broken
    commits.append(("2025-08-02T09:00:00", log("c5", "2025-08-02T08:00:00")))
    commits.append(("2025-08-15T09:00:00", log("c2", "2025-07-01T10:00:00", "email")))  # logged late
    commits.append(("2025-09-01T09:00:00", {"customers/c4.toml": None}))
    commits.append(("2025-09-01T10:00:00", rec("p2", stage="prospect", referred_by="c0")))
    commits.append(("2025-10-01T09:00:00", rec("p1", stage="customer")))
    commits.append(("2025-10-02T09:00:00", log("p1", "2025-10-02T08:00:00", "meeting")))
    commits.append(("2025-11-01T09:00:00", rec("c6", deals=[("Lost one", 4000, "lost", "2025-11-01")])))
    commits.append(("2025-12-01T09:00:00", rec("c4")))  # restored as it was
    commits.append(("2025-12-05T09:00:00", log("c4", "2025-12-05T08:00:00")))
    commits.append(("2026-01-01T09:00:00", rec("p2", stage="customer", deals=[("Pilot", 10000, "open", None)])))
    commits.append(("2026-01-02T09:00:00", log("p2", "2026-01-02T08:00:00", "email")))
    commits.append(("2026-01-15T09:00:00", rec("c0", deals=[*old, ("Renewal", 22000, "won", "2026-01-15"),
                                                            ("Upsell", 7000, "open", None)])))
    commits.append(("2026-01-15T10:00:00", rec("c1", deals=[*old, ("Renewal", 22000, "won", "2026-01-15")])))
    commits.append(("2026-02-01T09:00:00", {"customers/c5.toml": None}))
    commits.append(("2026-02-01T10:00:00", rec("p1", deals=[("First", 1000, "won", "2026-02-01")])))
    commits.append((GOLD_UP_ON, {"crm.toml": settings(gold=20000)}))
    commits.append(("2026-04-01T09:00:00", rec("c6", stage="former")))
    commits.append(("2026-04-02T09:00:00", log("c3", "2026-04-02T08:00:00", "meeting")))
    commits.append(("2026-05-01T09:00:00", rec("c3", deals=[*c["c3"]["deals"], ("Big again", 18000, "won", "2026-05-01")])))
    commits.append(("2026-05-01T10:00:00", rec("p4", stage="prospect", referred_by="p1")))
    commits.append(("2026-05-02T09:00:00", log("c2", "2026-05-02T08:00:00")))
    commits.append(("2026-05-10T09:00:00", log("c1", "2026-05-10T08:00:00")))
    commits.append(("2026-06-01T09:00:00", rec("c2", deals=[*c["c2"]["deals"], ("Undated", 3000, "won", None)])))
    commits.append(("2026-06-01T10:00:00", log("c0", "2026-06-01T09:00:00", "meeting")))
    commits.append(("2026-06-15T17:30:00", log("c0", "2026-06-15T17:00:00", "email")))  # the last day
    return commits


def scenario_book(root: Path) -> Path:
    return build_book(root, scenario_commits())
