"""`crmtui demo`: the sample book moved to today, with a git history that tells its story."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from crmtui import demo
from crmtui.demo import build_demo, sample_book_dir, shift_text
from crmtui.errors import CrmError

MINI = Path(__file__).parent / "fixtures" / "demo_mini"
SUBJECTS = re.compile(
    r"Create the book"
    r"|Add .+"
    r"|Log (call|email|meeting|message|note|feedback) with .+"
    r"|Done: .+ \(.+\)"
    r"|Tier of .+: (platinum|gold|iron|lead) -> (platinum|gold|iron|lead)"
    r"|Edit [a-z0-9-]+\.toml outside crmtui"
)


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def commits(root: Path) -> list[tuple[datetime, str, str]]:
    """(author date, author name, subject), oldest first."""
    out = git(root, "log", "--reverse", "--format=%aI%x1f%an%x1f%s")
    return [(datetime.fromisoformat(when), who, subject)
            for when, who, subject in (line.split("\x1f") for line in out.splitlines())]


def every_blob(root: Path) -> dict[str, bytes]:
    """Every version of every file ever committed, by blob id, through one cat-file."""
    listing = git(root, "rev-list", "--objects", "--all").splitlines()
    paths = {sha: path for sha, _, path in (line.partition(" ") for line in listing) if path.endswith(".toml")}
    batch = subprocess.run(["git", "cat-file", "--batch"], cwd=root, check=True, capture_output=True,
                           input="".join(f"{sha}\n" for sha in paths).encode()).stdout
    blobs, at = {}, 0
    for sha in paths:
        header_end = batch.index(b"\n", at)
        size = int(batch[at:header_end].split()[2])
        blobs[f"{paths[sha]}@{sha}"] = batch[header_end + 1 : header_end + 1 + size]
        at = header_end + 1 + size + 1
    return blobs


def use_today(monkeypatch, today: date) -> None:
    monkeypatch.setenv("CRMTUI_NOW", f"{today.isoformat()}T09:00:00")


# ---- the real sample book --------------------------------------------------------------------


@pytest.mark.parametrize("today", [date(2027, 2, 10), date(2026, 3, 1)])
def test_the_sample_book_becomes_a_book_of_today_with_a_long_backdated_history(tmp_path, monkeypatch, run_cli, today):
    use_today(monkeypatch, today)
    root = build_demo(tmp_path / "demo", today)
    assert root == (tmp_path / "demo").resolve()

    # Every file is the sample file with its dates moved, byte for byte otherwise, and parses.
    sample = sample_book_dir()
    delta = today - demo.REFERENCE_DAY
    names = sorted(p.name for p in (sample / "customers").glob("*.toml"))
    assert sorted(p.name for p in (root / "customers").glob("*.toml")) == names
    for rel in ["crm.toml", *(f"customers/{name}" for name in names)]:
        text = (root / rel).read_text("utf-8")
        assert text == shift_text((sample / rel).read_text("utf-8"), delta)
        tomllib.loads(text)
    assert git(root, "status", "--porcelain", "--untracked-files=all") == ""

    # Every version ever committed parses.
    for name, blob in every_blob(root).items():
        try:
            tomllib.loads(blob.decode("utf-8"))
        except tomllib.TOMLDecodeError as error:
            pytest.fail(f"{name} does not parse: {error}")

    # A long history, backdated over months, in crmtui's own words.
    log = commits(root)
    assert len(log) > 100
    assert log[0][2] == "Create the book"
    assert log[0][0].date() < today - timedelta(days=120)
    assert all(a[0] <= b[0] for a, b in zip(log, log[1:]))
    assert log[-1][0].date() <= today
    for _, _, subject in log:
        assert SUBJECTS.fullmatch(subject), subject
    subjects = [s for _, _, s in log]
    assert "Add Ana López" in subjects
    assert any(s.startswith("Log call with Ana López") for s in subjects)
    assert any(s.startswith("Done: ") for s in subjects)
    assert any(s.startswith("Tier of ") and s.endswith(": gold -> platinum") for s in subjects)
    assert any(s.endswith(".toml outside crmtui") for s in subjects)
    lea = {tomllib.loads(p.read_text("utf-8"))["name"] for p in (root / "customers").glob("*.toml")
           if tomllib.loads(p.read_text("utf-8")).get("owner") == "lea"}
    for _, who, subject in log:
        if subject.startswith(("Add ", "Log ")):
            assert (who == "Lea Martin") == any(subject.endswith(f" {name}") for name in lea), subject

    # The CLI tells the story, finds nothing broken, and has something due in every bucket.
    code, out, _ = run_cli("--book", root, "check")
    assert code == 0 and "valid" in out
    code, out, _ = run_cli("--book", root, "history", "ana-lopez", "--json", "--limit", "100")
    entries = json.loads(out)
    assert entries[-1]["subject"] == "Add Ana López" and entries[-1]["changes"] == ["added"]
    assert sum(e["changes"] == ["+1 interaction"] for e in entries) >= 5
    code, out, _ = run_cli("--book", root, "history")
    assert code == 0 and "+1 interaction" in out
    code, out, _ = run_cli("--book", root, "due", "--json")
    items = json.loads(out)
    buckets = {item["bucket"] for item in items}
    assert {"overdue", "today", "week"} <= buckets
    birthdays = [i for i in items if i["kind"] == "birthday"]
    assert birthdays and all(today <= date.fromisoformat(i["due"]) <= today + timedelta(days=7) for i in birthdays)


def test_history_phrases_name_the_hand_made_changes(tmp_path, monkeypatch, run_cli):
    today = date(2027, 2, 10)
    use_today(monkeypatch, today)
    root = build_demo(tmp_path / "demo", today)
    code, out, _ = run_cli("--book", root, "history", "--json", "--limit", "1000")
    entries = json.loads(out)
    changes = {phrase for e in entries for phrase in e["changes"]}
    assert "tier: gold -> platinum" in changes
    assert any(p.startswith("phone added: ") for p in changes)
    assert any(p.startswith("reminder done: ") for p in changes)
    tier = next(e for e in entries if e["subject"].startswith("Tier of "))
    assert today - timedelta(days=75) <= datetime.fromisoformat(tier["when"]).date() <= today - timedelta(days=45)
    outside = next(e for e in entries if e["subject"].endswith("outside crmtui"))
    assert today - timedelta(days=30) <= datetime.fromisoformat(outside["when"]).date() <= today - timedelta(days=14)


# ---- the rules of the target folder ------------------------------------------------------------


def test_a_non_empty_folder_is_refused_and_left_alone(tmp_path, run_cli):
    target = tmp_path / "taken"
    target.mkdir()
    (target / "mine.txt").write_text("keep me")
    code, out, err = run_cli("demo", target, "--no-open")
    assert code == 1
    assert "already exists and is not empty; choose another path" in err
    assert "Traceback" not in err
    assert [p.name for p in target.iterdir()] == ["mine.txt"]
    assert (target / "mine.txt").read_text() == "keep me"


def test_an_empty_existing_folder_is_used(tmp_path):
    target = tmp_path / "empty"
    target.mkdir()
    root = build_demo(target, date(2027, 2, 10), source=MINI)
    assert (root / ".git").is_dir() and (root / "crm.toml").is_file()


def test_no_open_prints_the_path(tmp_path, run_cli):
    target = tmp_path / "demo"
    code, out, err = run_cli("demo", target, "--no-open")
    assert code == 0, err
    assert f"Built a demo book at {target.resolve()}" in out
    assert "crmtui --book" in out


def test_the_default_is_a_new_temporary_folder(tmp_path, monkeypatch):
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    use_today(monkeypatch, date(2027, 2, 10))  # today comes from $CRMTUI_NOW when not given
    first = build_demo(None, source=MINI)
    second = build_demo(None, source=MINI)
    assert first != second
    for root in (first, second):
        assert root.parent == temp.resolve() and root.name.startswith("crmtui-demo-")
        assert "at = 2027-02-09\n" in (root / "customers" / "ada-byron.toml").read_text("utf-8")


def test_the_command_works_as_a_separate_process(tmp_path):
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "crmtui", "demo", "--no-open"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    root = Path(re.search(r"Built a demo book at (\S+)", result.stdout).group(1))
    assert root.parent == tmp_path.resolve() and root.name.startswith("crmtui-demo-")
    history = subprocess.run([sys.executable, "-m", "crmtui", "--book", str(root), "history", "ana-lopez"],
                             env=env, capture_output=True, text=True, timeout=60)
    assert history.returncode == 0, history.stderr
    assert "Add Ana López" in history.stdout and "+1 interaction" in history.stdout


def test_missing_sample_data_is_one_clear_sentence(tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "__file__", str(tmp_path / "site-packages" / "crmtui" / "demo.py"))
    with pytest.raises(CrmError, match=r"\(sample_book/\) is not installed"):
        build_demo(tmp_path / "demo")
    assert not (tmp_path / "demo").exists()


# ---- the mechanics, on a tiny fixture ------------------------------------------------------------


def test_shift_moves_date_values_and_leaves_strings_and_comments_alone():
    text = (MINI / "customers" / "ada-byron.toml").read_text("utf-8")
    moved = shift_text(text, timedelta(days=10))
    assert 'birthday = "06-28"  # yearless' in moved
    assert "due = 2026-06-11\n" in moved and "done = 2026-06-12\n" in moved
    assert "at = 2026-02-11T10:00:00\n" in moved and "at = 2026-06-24\n" in moved
    assert "since = 2026-01-10T23:30:00+01:00  # an unknown key" in moved
    assert "2026-01-01 in a comment stays" in moved
    assert 'Met on 2026-01-05; the date' in moved and 'summary = "First meeting on 2026-02-01"' in moved
    assert moved.replace("2026-06-11", "").count("\n") == text.count("\n")
    assert shift_text(text, timedelta(0)) == text
    assert shift_text('birthday = "02-29"\n', timedelta(days=1)) == 'birthday = "03-01"\n'
    assert shift_text("a = 2024-12-31\n", timedelta(days=-366)) == "a = 2023-12-31\n"


def test_the_story_of_a_small_book(tmp_path, monkeypatch):
    today = date(2027, 2, 10)
    use_today(monkeypatch, today)
    (tmp_path / "home" / ".gitconfig").write_text("[user]\n\tname = Uma User\n\temail = uma@example.com\n")
    root = build_demo(tmp_path / "mini", today, source=MINI)
    delta = today - demo.REFERENCE_DAY
    log = commits(root)
    subjects = [s for _, _, s in log]
    assert subjects[0] == "Create the book"
    # Ada: added, three logs (kind lower-cased), a done reminder, a tier change by hand.
    ada = [s for s in subjects if "Ada" in s]
    assert ada[0] == "Add Ada Byron"
    assert [s for s in ada if s.startswith("Log ")] == [
        "Log meeting with Ada Byron", "Log call with Ada Byron", "Log email with Ada Byron"]
    assert "Done: Send the notes on Bernoulli numbers (Ada Byron)" in ada
    assert "Tier of Ada Byron: gold -> platinum" in ada
    first_log = next(when for when, _, s in log if s == "Log meeting with Ada Byron")
    assert first_log.replace(tzinfo=None) == datetime(2026, 2, 1, 10, 0) + delta
    # Bob's interactions are not in order: they all come with his Add; his phone came from an editor.
    bob = [s for s in subjects if "Bob" in s or "bob" in s]
    assert bob == ["Add Bob Order", "Edit bob-out-of-order.toml outside crmtui"]
    added = git(root, "show", f"HEAD~{len(subjects) - 1 - subjects.index('Add Bob Order')}:customers/bob-out-of-order.toml")
    assert added.count("[[interactions]]") == 2 and "phones" not in added
    # Authors: Lea for her customers, the configured user for the rest.
    for _, who, subject in log:
        assert who == ("Lea Martin" if "Cléo" in subject else "Uma User"), subject
    # Earlier versions of Ada lack later interactions and the done line, and carry the old tier.
    versions = [tomllib.loads(b.decode()) for n, b in every_blob(root).items() if n.startswith("customers/ada")]
    assert sorted(len(v.get("interactions", [])) for v in versions)[0] == 0
    assert any(v["tier"] == "gold" for v in versions) and any("done" not in v["reminders"][0] for v in versions)
    final = (root / "customers" / "ada-byron.toml").read_text("utf-8")
    assert final == shift_text((MINI / "customers" / "ada-byron.toml").read_text("utf-8"), delta)
    assert final.startswith("# Ada: every kind of date") and "# the call that sealed it\n[[interactions]]" in final
    assert git(root, "status", "--porcelain", "--untracked-files=all") == ""


def test_without_a_git_identity_the_fallback_commits(tmp_path, monkeypatch):
    today = date(2027, 2, 10)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-such-gitconfig"))
    root = build_demo(tmp_path / "mini", today, source=MINI)
    authors = {who for _, who, subject in commits(root) if "Cléo" not in subject}
    assert authors == {"crmtui"}
