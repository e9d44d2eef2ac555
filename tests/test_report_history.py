"""The report over real git books with a backdated history (tests/backdated.py): every figure
known by construction; the history cache under .git/crmtui/, and commits arriving between runs."""

from __future__ import annotations

import os
import subprocess
from datetime import date, datetime
from pathlib import Path

import pytest

from backdated import add_commits, build_book, create, git, record, scenario_book
from crmtui.domain.report import ABSENT
from crmtui.errors import CrmError
from crmtui.service import Service
from crmtui.storage import history_scan
from crmtui.storage.git_repo import GitRepo

NOW = datetime(2026, 6, 15, 18, 0)


def open_book(root: Path) -> Service:
    return Service.open(root, now=lambda: NOW)


@pytest.fixture(scope="module")
def scenario_template(tmp_path_factory) -> Path:
    return scenario_book(tmp_path_factory.mktemp("scenario") / "book")


@pytest.fixture
def scenario(scenario_template, tmp_path) -> Path:
    root = tmp_path / "scenario"
    subprocess.run(["cp", "-a", str(scenario_template), str(root)], check=True)
    return root


def scan(root: Path) -> history_scan.HistoryScan:
    service = open_book(root)
    return history_scan.HistoryScan(GitRepo(service.book.root), service.book.state_dir())


def figures(report) -> dict:
    """The figures of a report as plain values, to compare two reports."""
    ret, mig, life, att = report.retention, report.migration, report.lifecycle, report.attention
    return {
        "retention": (ret.base, ret.retained, ret.lost, ret.gained, ret.churn_base, ret.churned),
        "migration": (sorted(mig.cells.items()), mig.up, mig.down, mig.same, mig.joined, mig.left),
        "life": (life, report.previous_lifecycle),
        "referrals": (report.referral_tree, report.referrers),
        "attention": att,
        "names": report.names,
    }


# ---- the scenario: each figure by construction ------------------------------------------------


def test_retention_three_of_ten_lost_and_churn(scenario):
    report = open_book(scenario).report()
    ret = report.retention
    assert report.period.start == date(2025, 6, 16) and report.period.end == date(2026, 6, 15)
    assert ret.base == tuple(f"c{i}" for i in range(10))
    assert ret.retained == ("c0", "c1", "c2", "c3", "c4", "c5", "c6")
    assert ret.lost == ("c7", "c8", "c9") and ret.rate == 0.7
    assert ret.gained == ("p1", "p2")
    assert ret.churn_base == (*(f"c{i}" for i in range(9)), "p3")  # c9 was former already
    assert [(c.handle, c.reason) for c in ret.churned] == [("c5", "removed"), ("c6", "former"), ("c7", "silent")]
    assert ret.churned[2].last_contact == date(2024, 9, 10) and ret.churned[2].limit == date(2024, 10, 25)
    assert ret.churn_rate == 0.3


def test_pyramid_two_iron_to_gold_and_a_threshold_change_moves_one_down(scenario):
    mig = open_book(scenario).report().migration
    assert mig.cells == {
        ("iron", "gold"): ("c0", "c1"),
        ("iron", "iron"): ("c2",),
        ("gold", "iron"): ("c3",),  # 18,000 both times; crm.toml raised gold to 20,000 in March
        ("unranked", "unranked"): ("c4", "c6", "c7", "c8", "c9", "p3"),
        ("unranked", ABSENT): ("c5",),
        (ABSENT, "iron"): ("p1",),
        (ABSENT, "unranked"): ("p2", "p4"),
    }
    assert mig.up == ("c0", "c1") and mig.down == ("c3",) and len(mig.same) == 7
    assert mig.joined == ("p1", "p2", "p4") and mig.left == ("c5",)


def test_before_the_threshold_change_the_same_customer_stays_gold(scenario):
    report = open_book(scenario).report("2025-06-16", "2026-02-28")
    assert report.migration.cells[("gold", "gold")] == ("c3",)
    assert open_book(scenario).report(end="2026-02-28").period.start == date(2025, 3, 1)


def test_life_cycle(scenario):
    report = open_book(scenario).report()
    life = report.lifecycle
    assert life.added == ("p1", "p2", "p4") and life.prospects_added == ("p1", "p2", "p4")  # c4's restore: no
    assert life.converted == (("p1", 61), ("p2", 122)) and life.median_days_to_convert == 91.5
    assert [(e.handle, e.title, e.amount, e.day) for e in life.won] == [
        ("c0", "Renewal", 22000, date(2026, 1, 15)), ("c1", "Renewal", 22000, date(2026, 1, 15)),
        ("p1", "First", 1000, date(2026, 2, 1)), ("c3", "Big again", 18000, date(2026, 5, 1)),
        ("c2", "Undated", 3000, date(2026, 6, 1)),  # no date: the day of the commit that won it
    ]
    assert life.won_value == 66000
    assert [(e.handle, e.amount) for e in life.lost] == [("c6", 4000)]
    assert life.cross_sell == ("c0", "c1", "c2", "c3")
    assert [(e.handle, e.amount) for e in life.open_deals] == [("p2", 10000), ("c0", 7000)] and life.open_value == 17000
    before = report.previous_lifecycle
    assert before.added == () and before.converted == () and len(before.won) == 4 and before.won_value == 31000
    assert before.cross_sell == () and before.open_deals == ()


def test_referrals(scenario):
    report = open_book(scenario).report()
    c0, ghost = report.referral_tree
    assert (c0.handle, c0.value, [k.handle for k in c0.children]) == ("c0", 22000, ["p1", "p2"])
    assert [k.handle for k in c0.children[0].children] == ["p4"]
    assert (ghost.handle, ghost.in_book, [k.handle for k in ghost.children]) == ("ghost", False, ["c8"])
    assert [(r.handle, r.brought, r.value) for r in report.referrers] == [
        ("c0", ("p1", "p2"), 1000), ("ghost", ("c8",), 0), ("p1", ("p4",), 0)]


def test_attention(scenario):
    att = open_book(scenario).report().attention
    assert (att.total, att.previous_total) == (11, 11)
    assert att.by_kind == {"call": 4, "meeting": 4, "email": 3}
    assert att.by_tier == {"gold": 3, "iron": 4, "unranked": 3, ABSENT: 1}
    weeks = {i: n for i, n in enumerate(att.weeks) if n}
    assert weeks == {0: 1, 2: 1, 6: 1, 15: 1, 24: 1, 28: 1, 41: 1, 45: 1, 46: 1, 50: 1, 52: 1}
    assert len(att.weeks) == 53
    assert [(c.handle, c.within) for c in att.cared] == [("c1", False), ("c0", True)] and att.within_share == 0.5


def test_a_deleted_record_is_absent_in_the_gap_and_back_after_its_restore(scenario):
    service = open_book(scenario)
    gap = service.report("2025-06-16", "2025-10-31")
    assert "c4" in gap.migration.left and ("unranked", ABSENT) in gap.migration.cells
    back = service.report("2025-11-01", "2026-06-15")
    assert "c4" in back.migration.joined and "c4" not in back.lifecycle.added


def test_a_version_that_does_not_parse_is_skipped(scenario):
    history = scan(scenario).update()
    c2 = history.records["c2"]
    assert all(version is not None for _, version in c2.versions)  # the broken one is not there
    assert len(c2.days) == 3


# ---- bad input: one sentence --------------------------------------------------------------------


@pytest.mark.parametrize("start, end, words", [
    ("2026-03-01", "2026-02-01", "--from 2026-03-01 is after --to 2026-02-01"),
    ("2020-01-01", None, "--from 2020-01-01 is before the book existed (its first commit is of 2024-01-10)"),
    ("next tuesday", None, "--from: 'next tuesday' is not a date"),
    (None, "3m", "--to 2026-09-15 is after today (2026-06-15)"),
])
def test_bad_input_is_one_sentence(scenario, start, end, words):
    with pytest.raises(CrmError) as error:
        open_book(scenario).report(start, end)
    assert words in str(error.value) and "\n" not in str(error.value)


def test_a_book_without_git_is_refused_in_a_sentence(tmp_path):
    root = tmp_path / "plain"
    (root / "customers").mkdir(parents=True)
    (root / "crm.toml").write_text("", "utf-8")
    with pytest.raises(CrmError, match="no git repository"):
        open_book(root).report()


# ---- the cache ----------------------------------------------------------------------------------


def test_the_history_is_cached_under_the_git_directory(scenario):
    first = scan(scenario)
    first.update()
    assert first.read_commits == len(git(scenario, "rev-list", "HEAD").split())
    assert (scenario / ".git" / "crmtui" / history_scan.FILE_NAME).is_file()
    again = scan(scenario)
    again.update()
    assert again.read_commits == 0
    assert git(scenario, "status", "--porcelain") == ""  # nothing in the working tree


def test_a_commit_arriving_between_two_runs_is_read_alone(scenario):
    service = open_book(scenario)
    before = service.report()
    assert "c7" in before.retention.lost
    add_commits(scenario, [("2026-06-10T09:00:00", {"customers/c7.toml": record(
        "Cust 7", stage="customer", keep_in_touch="30d",
        interactions=[("2024-09-10T10:00:00", "call"), ("2026-06-10T08:00:00", "call")])})])
    incremental = scan(scenario)
    incremental.update()
    assert incremental.read_commits == 1
    after = open_book(scenario).report()
    assert after.retention.lost == ("c8", "c9") and "c7" in after.retention.retained
    assert "c7" not in [c.handle for c in after.retention.churned]
    assert after.attention.total == before.attention.total + 1
    (scenario / ".git" / "crmtui" / history_scan.FILE_NAME).unlink()
    (scenario / ".git" / "crmtui" / history_scan.REPORT_NAME).unlink()
    cold = open_book(scenario).report()
    assert figures(cold) == figures(after)


def test_a_commit_made_by_crmtui_itself_is_picked_up(scenario):
    service = open_book(scenario)
    assert service.report().attention.total == 11
    service.log_interaction("c9", "back in touch", kind="call", at="2026-06-15T12:00")
    assert open_book(scenario).report().attention.total == 12


def test_a_rewritten_history_is_read_again_from_scratch(scenario):
    open_book(scenario).report()
    git(scenario, "reset", "-q", "--hard", "HEAD~1")  # the last-day email of c0 is gone
    again = scan(scenario)
    again.update()
    assert again.read_commits == len(git(scenario, "rev-list", "HEAD").split())
    report = open_book(scenario).report()
    assert report.attention.total == 10
    (scenario / ".git" / "crmtui" / history_scan.FILE_NAME).unlink()
    (scenario / ".git" / "crmtui" / history_scan.REPORT_NAME).unlink()
    assert figures(open_book(scenario).report()) == figures(report)


def test_a_corrupt_cache_is_rebuilt(scenario):
    good = figures(open_book(scenario).report())
    for name in (history_scan.FILE_NAME, history_scan.REPORT_NAME):
        (scenario / ".git" / "crmtui" / name).write_bytes(b"not a pickle")
    assert figures(open_book(scenario).report()) == good


def test_the_progress_is_told_on_a_cold_read(scenario):
    seen = []
    open_book(scenario).report(progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1][0] == seen[-1][1]
    assert all(a[0] <= b[0] for a, b in zip(seen, seen[1:]))
    seen.clear()
    open_book(scenario).report(end="2026-06-01", progress=lambda done, total: seen.append((done, total)))
    assert seen == []  # warm: nothing to read


def test_a_long_history_is_read_in_spans_old_versions_without_interactions_same_result(tmp_path, monkeypatch):
    commits = [create()]
    for i in range(120):
        talks = [(f"2025-01-{1 + j % 28:02d}T09:00:00", "call") for j in range(i // 7 + 1)]
        text = record(f"R {i % 7}", deals=[("D", 1000 * (i + 1), "won", "2025-01-01")], interactions=talks)
        commits.append((f"2025-{1 + i // 28:02d}-{1 + i % 28:02d}T10:00:00", {f"customers/r{i % 7}.toml": text}))
    commits.append(("2025-06-01T10:00:00", {"customers/r0.toml": None}))  # deleted: its interactions still count
    commits.append(("2025-06-02T10:00:00", {"customers/r1.toml": 'name = "R 1"\nstage = [\n'}))  # broken at HEAD
    root = build_book(tmp_path / "long", commits)
    whole = scan(root).update()  # short: every version read whole
    (root / ".git" / "crmtui" / history_scan.FILE_NAME).unlink()
    monkeypatch.setattr(history_scan, "SPAN_AT_LEAST", 10)
    monkeypatch.setattr(history_scan, "_cores", lambda: 4)
    split = scan(root).update()
    assert split.times == whole.times and split.records == whole.records and split.settings == whole.settings
    assert len(split.records["r0"].days) == 18 and split.records["r0"].versions[-1][1] is None
    assert len(split.records["r1"].days) == 17


# ---- merges: the main line -------------------------------------------------------------------


def test_work_merged_from_another_machine_counts_from_the_merge(tmp_path):
    root = build_book(tmp_path / "m", [create(), ("2025-01-10T09:00:00", {
        "customers/a.toml": record("A", stage="customer"), "customers/b.toml": record("B", stage="customer")})])
    env = {**os.environ, "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "T",
           "GIT_COMMITTER_EMAIL": "t@x"}

    def commit(when: str, message: str, *args: str) -> None:
        stamp = {"GIT_AUTHOR_DATE": f"{when}+00:00", "GIT_COMMITTER_DATE": f"{when}+00:00"}
        subprocess.run(["git", "-C", str(root), *args, "-q", "-m", message], check=True, env={**env, **stamp})

    git(root, "checkout", "-q", "-b", "laptop")
    (root / "customers" / "a.toml").write_text(record("A", stage="former"), "utf-8")
    commit("2025-08-01T09:00:00", "a leaves", "commit", "-a")
    git(root, "checkout", "-q", "main")
    (root / "customers" / "b.toml").write_text(record("B", stage="former"), "utf-8")
    commit("2025-09-01T09:00:00", "b leaves", "commit", "-a")
    commit("2025-12-01T09:00:00", "merge the laptop", "merge", "--no-ff", "laptop")
    service = open_book(root)
    churned = {c.handle for c in service.report("2025-06-16", "2025-10-31").retention.churned}
    assert churned == {"b"}  # a's change was on the other line until the merge
    churned = {c.handle for c in service.report("2025-06-16", "2025-12-31").retention.churned}
    assert churned == {"a", "b"}


# ---- old versions are read without their interactions -------------------------------------------


def test_old_versions_are_read_without_their_interactions_unless_tables_follow_them():
    from crmtui.storage.history_scan import _version, _without_interactions

    text = record("A", deals=[("D", 5, "won", "2025-01-01")], interactions=[("2025-01-02T10:00:00", "call")])
    assert _without_interactions(text) == text.split("[[interactions]]")[0]
    version, days, kinds = _version(text.encode(), whole=False)
    assert [d.title for d in version.deals] == ["D"] and days is None and kinds is None
    later = text + '\n[[deals]]\ntitle = "After"\namount = 1\nstatus = "won"\n'
    assert _without_interactions(later) == later
    version, days, kinds = _version(later.encode(), whole=False)
    assert [d.title for d in version.deals] == ["D", "After"]
    assert _version(later.encode())[1] == (date(2025, 1, 2),)


def test_a_record_broken_at_head_stands_as_its_last_readable_version(tmp_path):
    good = record("A", stage="customer", interactions=[("2025-09-01T10:00:00", "call")])
    root = build_book(tmp_path / "b", [create(), ("2025-01-10T09:00:00", {"customers/a.toml": good}),
                                       ("2025-09-01T12:00:00", {"customers/a.toml": good}),
                                       ("2026-01-01T09:00:00", {"customers/a.toml": 'name = "A"\nstage = [\n'})])
    report = open_book(root).report()
    assert report.attention.total == 1 and report.migration.cells == {("unranked", "unranked"): ("a",)}
