"""The CLI, in-process through crmtui.cli.main, against real books with real git."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmtui.service import Service

COMMANDS = ["init", "demo", "add", "log", "show", "list", "search", "due", "done", "tiers", "history",
            "restore", "edit", "check"]


# ---- helpers ---------------------------------------------------------------------------

def git(book: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(book), *args], check=True, capture_output=True,
                          text=True, encoding="utf-8").stdout


def subjects(book: Path) -> list[str]:
    """Commit subjects, newest first."""
    return git(book, "log", "--format=%s").splitlines()


def status(book: Path) -> str:
    return git(book, "status", "--porcelain", "--untracked-files=all")


def commit_all(book: Path, message: str = "hand edit") -> None:
    git(book, "add", "-A")
    git(book, "-c", "user.name=Tester", "-c", "user.email=t@example.com", "commit", "-q", "-m", message)


def write_record(book: Path, handle: str, text: str) -> Path:
    path = book / "customers" / f"{handle}.toml"
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def user_error(result, code: int | None = None) -> str:
    """A user's mistake: non-zero exit, one line 'crmtui: ...' on stderr, no traceback."""
    exit_code, _, err = result
    assert exit_code != 0, result
    if code is not None:
        assert exit_code == code, result
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("crmtui: "), err
    return lines[0]


def ok(result) -> str:
    exit_code, out, err = result
    assert exit_code == 0, result
    assert "Traceback" not in err
    return out


def as_json(result):
    return json.loads(ok(result))


@pytest.fixture
def people(cli, book):
    """A small book: Ana (gold override, iron by the numbers), Ben (a prospect), Greta."""
    ok(cli("add", "Ana López", "--company", "Acme Corp", "--email", "ana@acme.example",
           "--phone", "+34 600 123 456", "--tag", "fintech", "--tag", "referral",
           "--stage", "customer", "--birthday", "1984-06-20", "--keep-in-touch", "30d"))
    ok(cli("add", "Ben Schmidt", "--company", "Schmidt GmbH", "--email", "ben@schmidt.example"))
    ok(cli("add", "Greta Lindqvist", "--company", "Nordbank", "--tag", "fintech", "--stage", "customer",
           "--tier", "platinum"))
    return book


# ---- help --------------------------------------------------------------------------------

@pytest.mark.parametrize("command", COMMANDS)
def test_help_for_every_command(run_cli, command):
    code, out, err = run_cli(command, "--help")
    assert code == 0
    assert f"usage: crmtui {command}" in out
    assert err == ""


def test_top_level_help(run_cli):
    code, out, _ = run_cli("--help")
    assert code == 0
    for command in COMMANDS:
        assert command in out


# ---- init --------------------------------------------------------------------------------

def test_init_creates_a_committed_book(run_cli, tmp_path):
    target = tmp_path / "new-book"
    out = ok(run_cli("init", target))
    assert "Created a book" in out
    assert (target / "crm.toml").is_file()
    assert (target / "customers").is_dir()
    assert subjects(target) == ["Create the book"]
    assert status(target) == ""
    assert ok(run_cli("--book", target, "check")).strip() == "crm.toml: ok; 0 records, none yet."


def test_init_uses_the_book_location(run_cli, tmp_path, monkeypatch):
    target = tmp_path / "from-env"
    monkeypatch.setenv("CRMTUI_BOOK", str(target))
    ok(run_cli("init"))
    assert (target / "crm.toml").is_file()


def test_init_on_an_existing_book_refuses(run_cli, book):
    before = (book / "crm.toml").read_bytes()
    line = user_error(run_cli("init", book))
    assert "already a crmtui book" in line
    assert (book / "crm.toml").read_bytes() == before
    assert subjects(book) == ["Create the book"]


def test_init_on_a_file_refuses(run_cli, tmp_path):
    target = tmp_path / "a-file"
    target.write_text("x")
    user_error(run_cli("init", target))


# ---- add -----------------------------------------------------------------------------------

def test_add_writes_and_commits(cli, people):
    assert subjects(people)[:3] == ["Add Greta Lindqvist", "Add Ben Schmidt", "Add Ana López"]
    assert status(people) == ""
    record = as_json(cli("show", "ana-lopez", "--json"))
    assert record["name"] == "Ana López"
    assert record["company"] == "Acme Corp"
    assert record["emails"] == ["ana@acme.example"]
    assert record["phones"] == ["+34 600 123 456"]
    assert record["tags"] == ["fintech", "referral"]
    assert record["stage"] == "customer"
    assert record["birthday"] == "1984-06-20"
    assert record["keep_in_touch"] == "30d"
    assert record["tier"] is None
    ben = as_json(cli("show", "ben-schmidt", "--json"))
    assert ben["stage"] == "prospect"  # the default stage for someone new
    greta = as_json(cli("show", "greta-lindqvist", "--json"))
    assert (greta["tier"], greta["tier_override"], greta["computed_tier"]) == ("platinum", "platinum", None)


def test_add_prints_the_file_and_dedupes_handles(cli, book):
    assert ok(cli("add", "Ana López")).strip() == "Added Ana López as customers/ana-lopez.toml"
    assert ok(cli("add", "ana lopez")).strip() == "Added ana lopez as customers/ana-lopez-2.toml"
    assert sorted(p.name for p in (book / "customers").glob("*.toml")) == ["ana-lopez-2.toml", "ana-lopez.toml"]


def test_add_yearless_birthday_and_referral(cli, people):
    ok(cli("add", "Cleo Park", "--birthday", "03-12", "--referred-by", "ana lopez"))
    cleo = as_json(cli("show", "cleo-park", "--json"))
    assert cleo["birthday"] == "03-12"
    assert cleo["referred_by"] == "ana-lopez"
    assert "Cleo Park" in ok(cli("show", "ana-lopez"))  # shown as someone Ana referred


@pytest.mark.parametrize(
    "option, value, words",
    [
        ("--tier", "bronze", "unknown tier 'bronze'"),
        ("--stage", "client", "unknown stage 'client'"),
        ("--birthday", "13-45", "birthday '13-45'"),
        ("--keep-in-touch", "monthly", "'monthly' is not a duration"),
    ],
)
def test_add_rejects_bad_options(cli, book, option, value, words):
    line = user_error(cli("add", "Dora Diaz", option, value))
    assert words in line
    assert not (book / "customers" / "dora-diaz.toml").exists()
    assert subjects(book) == ["Create the book"]


def test_add_without_a_name(cli):
    user_error(cli("add", "   "))


# ---- log -------------------------------------------------------------------------------------

def test_log_appends_and_commits(cli, people):
    out = ok(cli("log", "ana", "call about renewal", "--kind", "call", "--follow-up", "14d"))
    assert out.strip() == "Logged call with Ana López; follow up on 2026-06-29"
    assert subjects(people)[0] == "Log call with Ana López"
    assert "Follow up on 2026-06-29." in git(people, "log", "-1", "--format=%b")
    record = as_json(cli("show", "ana-lopez", "--json"))
    assert record["interactions"] == [{"at": "2026-06-15T09:00:00", "kind": "call", "summary": "call about renewal"}]
    assert record["reminders"] == [{"due": "2026-06-29", "text": "Follow up: call about renewal",
                                    "every": None, "done": None}]
    assert record["last_interaction"] == "2026-06-15T09:00:00"
    assert status(people) == ""


def test_log_reports_the_follow_up_it_added(cli, people):
    ok(cli("log", "ana", "plan the renewal", "--follow-up", "2026-12-01"))
    out = ok(cli("log", "ana", "quick call", "--follow-up", "3d"))
    assert out.strip() == "Logged call with Ana López; follow up on 2026-06-18"  # crm.toml's default_kind


def test_log_at_a_given_time_and_default_kind(cli, people):
    ok(cli("log", "ben-schmidt", "met at the fair", "--at", "2026-06-01 14:30"))
    ok(cli("log", "ben-schmidt", "sent slides", "--kind", "EMAIL", "--at", "3d ago"))
    assert subjects(people)[:2] == ["Log email with Ben Schmidt", "Log call with Ben Schmidt"]
    record = as_json(cli("show", "ben-schmidt", "--json"))
    assert [(i["at"], i["kind"]) for i in record["interactions"]] == [
        ("2026-06-12T09:00:00", "email"), ("2026-06-01T14:30:00", "call")]  # "3d ago" keeps the time of day


def test_log_at_a_negative_relative_time(cli, people):
    ok(cli("log", "ben", "coffee", "--at=-2w"))
    assert as_json(cli("show", "ben", "--json"))["interactions"][0]["at"] == "2026-06-01T09:00:00"


def test_log_keeps_the_users_comments(cli, people):
    path = people / "customers" / "ben-schmidt.toml"
    path.write_text(path.read_text("utf-8") + "# met him in Berlin\n", encoding="utf-8")
    ok(cli("log", "ben", "hello"))
    assert "# met him in Berlin" in path.read_text("utf-8")
    # the outside edit went in first, in a commit of its own
    assert subjects(people)[:2] == ["Log call with Ben Schmidt", "Edit ben-schmidt.toml outside crmtui"]
    assert status(people) == ""


@pytest.mark.parametrize(
    "args, words",
    [
        (["--at", "someday"], "'someday' is not a date"),
        (["--follow-up", "next week"], "'next week' is not a date"),
        (["--follow-up", "2026-01-01"], "in the past"),
        (["--follow-up", "9999y"], "beyond the calendar"),
        (["--at", "99999999d"], "beyond the calendar"),
        (["--kind", "telegram"], "unknown kind 'telegram'"),
    ],
)
def test_log_rejects_bad_options(cli, people, args, words):
    before = (people / "customers" / "ana-lopez.toml").read_bytes()
    line = user_error(cli("log", "ana-lopez", "hello", *args))
    assert words in line
    assert (people / "customers" / "ana-lopez.toml").read_bytes() == before
    assert subjects(people)[0] == "Add Greta Lindqvist"


def test_log_with_an_empty_summary(cli, people):
    user_error(cli("log", "ana-lopez", "  "))


# ---- WHO ----------------------------------------------------------------------------------------

def test_unknown_who(cli, people):
    line = user_error(cli("show", "zzyzx qqq"))
    assert "no customer matches 'zzyzx qqq'" in line
    user_error(cli("log", "zzyzx qqq", "hello"))
    user_error(cli("done", "zzyzx qqq"))


def test_ambiguous_who_lists_the_candidates(cli, people):
    ok(cli("add", "Anabel Ruiz"))
    for argv in (["show", "ana"], ["log", "ana", "hi"], ["edit", "ana"]):
        line = user_error(cli(*argv), code=2)
        assert "ana-lopez (Ana López)" in line
        assert "anabel-ruiz (Anabel Ruiz)" in line
    assert subjects(people)[0] == "Add Anabel Ruiz"


@pytest.mark.parametrize("who", ["ana-lopez", "customers/ana-lopez.toml", "ana-lopez.toml", "Ana López",
                                 "ana lopez", "lopez", "ana@acme.example", "600123", "acme"])
def test_who_forms(cli, people, who):
    assert as_json(cli("show", who, "--json"))["handle"] == "ana-lopez"


def test_who_with_a_typo(cli, people):
    assert as_json(cli("show", "gretta lindkvist", "--json"))["handle"] == "greta-lindqvist"


# ---- show ------------------------------------------------------------------------------------

def test_show_text(cli, people):
    out = ok(cli("show", "greta"))
    assert out.startswith("Greta Lindqvist\nNordbank\n")
    assert "customers/greta-lindqvist.toml" in out
    assert "platinum* (computed unranked)" in out


def test_show_with_deals_and_unknown_keys(cli, book):
    write_record(book, "dan-wu", """
        name = "Dan Wu"
        stage = "customer"
        tier = "iron"
        favourite_color = "teal"

        [[deals]]
        title = "Audit"
        amount = 20000
        cost = 2000
        status = "won"
        date = 2026-03-01

        [[deals]]
        title = "Upsell"
        amount = 5000
        status = "open"
    """)
    commit_all(book)
    record = as_json(cli("show", "dan-wu", "--json"))
    assert record["value"] == 18000
    assert (record["tier"], record["computed_tier"], record["tier_override"]) == ("iron", "gold", "iron")
    assert record["extra"] == {"favourite_color": "teal"}
    assert record["deals"][0] == {"title": "Audit", "amount": 20000, "cost": 2000, "status": "won",
                                  "date": "2026-03-01", "stage": None, "close": None}
    out = ok(cli("show", "dan-wu"))
    assert "iron* (computed gold)" in out
    assert "18,000 EUR" in out
    assert "favourite_color" in out and "teal" in out
    assert "Upsell: 5,000 EUR" in out


# ---- list ------------------------------------------------------------------------------------

def test_list_json(cli, people):
    rows = as_json(cli("list", "--json"))
    assert [r["handle"] for r in rows] == ["ana-lopez", "ben-schmidt", "greta-lindqvist"]
    ana = rows[0]
    assert ana["next_reminder"] == {"due": "2026-06-20", "text": "Birthday (42)", "kind": "birthday"}


@pytest.mark.parametrize(
    "args, handles",
    [
        (["--tag", "fintech"], ["ana-lopez", "greta-lindqvist"]),
        (["--tag", "FINTECH"], ["ana-lopez", "greta-lindqvist"]),
        (["--stage", "prospect"], ["ben-schmidt"]),
        (["--stage", "customer"], ["ana-lopez", "greta-lindqvist"]),
        (["--tier", "platinum"], ["greta-lindqvist"]),
        (["--tier", "unranked"], ["ana-lopez", "ben-schmidt"]),
        (["--tier", "gold"], []),
        (["--tag", "fintech", "--stage", "customer", "--tier", "unranked"], ["ana-lopez"]),
    ],
)
def test_list_filters(cli, people, args, handles):
    assert [r["handle"] for r in as_json(cli("list", *args, "--json"))] == handles


def test_list_text(cli, people):
    out = ok(cli("list"))
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "COMPANY", "TIER", "STAGE", "NEXT"]
    assert any(line.startswith("Greta Lindqvist") and "platinum*" in line for line in lines)
    assert ok(cli("list", "--tier", "gold")).strip() == "No customers match."


def test_list_empty_book(cli):
    assert "The book is empty" in ok(cli("list"))
    assert as_json(cli("list", "--json")) == []


@pytest.mark.parametrize("args, words", [(["--tier", "bronze"], "unknown tier 'bronze'"),
                                         (["--stage", "client"], "unknown stage 'client'")])
def test_list_rejects_unknown_tier_and_stage(cli, people, args, words):
    assert words in user_error(cli("list", *args))


# ---- search ---------------------------------------------------------------------------------

def test_search_json_best_first(cli, people):
    ok(cli("add", "Anabel Ruiz"))
    hits = as_json(cli("search", "ana", "lopez", "--json"))
    assert hits[0]["handle"] == "ana-lopez"
    assert hits[0]["emails"] == ["ana@acme.example"]
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert [h["handle"] for h in as_json(cli("search", "ana", "--limit", "1", "--json"))] in (
        ["ana-lopez"], ["anabel-ruiz"])
    assert as_json(cli("search", "gretta", "lindkvist", "--json"))[0]["handle"] == "greta-lindqvist"


def test_search_text_and_no_match(cli, people):
    out = ok(cli("search", "nordbank"))
    assert out.split()[0] == "greta-lindqvist"
    code, out, _ = cli("search", "zzyzx")
    assert code == 1 and out.strip() == "No match."
    assert as_json(cli("search", "zzyzx", "--json")) == []
    user_error(cli("search", "ana", "--limit", "0"))


# ---- due and done -----------------------------------------------------------------------------

def test_due(cli, people):
    ok(cli("log", "ana", "call about renewal", "--kind", "call", "--at", "2026-05-01T10:00", "--follow-up", "tomorrow"))
    ok(cli("log", "ben", "intro", "--follow-up", "2026-06-25"))
    assert as_json(cli("due", "--json"))[-1]["due"] == "2026-06-25"  # crm.toml's due_within: 14 days
    items = as_json(cli("due", "--within", "7", "--json"))
    assert [(i["handle"], i["kind"], i["due"], i["bucket"]) for i in items] == [
        ("ana-lopez", "keep-in-touch", "2026-05-31", "overdue"),
        ("ana-lopez", "reminder", "2026-06-16", "week"),
        ("ana-lopez", "birthday", "2026-06-20", "week"),
    ]
    assert items[2]["text"] == "Birthday (42)"
    later = as_json(cli("due", "--within", "10", "--json"))
    assert [(i["handle"], i["due"], i["bucket"]) for i in later][-1] == ("ben-schmidt", "2026-06-25", "later")
    assert as_json(cli("due", "--within", "0", "--json"))[0]["bucket"] == "overdue"
    out = ok(cli("due"))
    assert out.index("Overdue (1)") < out.index("This week (2)")
    assert "Follow up: call about renewal" in out
    user_error(cli("due", "--within", "-1"))
    assert len(as_json(cli("due", "--within", "99999999", "--json"))) == 4


def test_a_far_future_interaction_does_not_break_the_book(cli, people):
    path = people / "customers" / "ana-lopez.toml"  # a typo in the year, written by hand
    path.write_text(path.read_text("utf-8") + '\n[[interactions]]\nat = 9999-12-31T00:00:00\nsummary = "typo"\n', "utf-8")
    ok(cli("due"))
    assert as_json(cli("show", "ana", "--json"))["last_interaction"] == "9999-12-31T00:00:00"
    assert len(as_json(cli("list", "--json"))) == 3


def test_logging_in_the_future_is_refused(cli, people):
    assert "in the future" in user_error(cli("log", "ana", "call", "--at", "2w"))
    ok(cli("log", "ana", "call", "--at", "2w ago"))


def test_due_nothing(cli, book):
    assert ok(cli("due")).strip() == "Nothing due. Enjoy the quiet."
    assert as_json(cli("due", "--json")) == []


def test_done_marks_the_earliest_or_the_named_reminder(cli, people):
    ok(cli("log", "ana", "call", "--follow-up", "1w"))
    ok(cli("log", "ana", "sent the proposal", "--follow-up", "2w"))
    out = ok(cli("done", "ana", "proposal"))
    assert out.strip() == "Done: Follow up: sent the proposal (Ana López)"
    assert subjects(people)[0] == "Done: Follow up: sent the proposal (Ana López)"
    out = ok(cli("done", "ana-lopez"))
    assert out.strip() == "Done: Follow up: call (Ana López)"
    reminders = as_json(cli("show", "ana-lopez", "--json"))["reminders"]
    assert [r["done"] for r in reminders] == ["2026-06-15", "2026-06-15"]
    assert "has no open reminder" in user_error(cli("done", "ana-lopez"))
    assert status(people) == ""


def test_done_moves_a_recurring_reminder(cli, people):
    path = people / "customers" / "ben-schmidt.toml"
    path.write_text(path.read_text("utf-8") + '\n[[reminders]]\ndue = 2026-06-01\ntext = "Send invoice"\nevery = "1m"\n',
                    encoding="utf-8")
    out = ok(cli("done", "ben"))
    assert out.strip() == "Done: Send invoice (Ben Schmidt); next due 2026-07-01"
    assert subjects(people)[:2] == ["Done: Send invoice (Ben Schmidt)", "Edit ben-schmidt.toml outside crmtui"]
    [reminder] = as_json(cli("show", "ben", "--json"))["reminders"]
    assert reminder == {"due": "2026-07-01", "text": "Send invoice", "every": "1m", "done": None}


# ---- tiers ---------------------------------------------------------------------------------------

def test_tiers(cli, book):
    for handle, amount, cost in (("pat", 60000, 0), ("gus", 20000, 0), ("ivy", 500, 100), ("leo", 100, 900)):
        write_record(book, handle, f"""
            name = "{handle.title()}"
            [[deals]]
            amount = {amount}
            cost = {cost}
            status = "won"
            date = 2026-02-01
        """)
    write_record(book, "pia", 'name = "Pia"\ntier = "gold"\n')
    write_record(book, "pax", 'name = "Pax"\n')
    commit_all(book)
    data = as_json(cli("tiers", "--json"))
    assert data["currency"] == "EUR"
    assert [(t["tier"], t["count"], t["value"], t["customers"]) for t in data["tiers"]] == [
        ("platinum", 1, 60000, ["pat"]),
        ("gold", 2, 20000, ["gus", "pia"]),
        ("iron", 1, 400, ["ivy"]),
        ("lead", 1, -800, ["leo"]),
        ("unranked", 1, 0, ["pax"]),
    ]
    lines = ok(cli("tiers")).splitlines()
    assert lines[0].split() == ["Platinum", "1", "customer", "60,000", "EUR"]
    assert lines[3].split() == ["Lead", "1", "customer", "-800", "EUR"]
    assert lines[4].split() == ["Unranked", "1", "customer", "no", "won", "deal", "yet"]


# ---- history, restore, edit ----------------------------------------------------------------------

@pytest.fixture
def editor(tmp_path, monkeypatch):
    """Set $EDITOR to a small Python script that rewrites the file with `change(text)`."""

    def use(body: str) -> Path:
        script = tmp_path / "ed.py"
        script.write_text(
            "import sys\npath = sys.argv[1]\ntext = open(path, encoding='utf-8').read()\n"
            + textwrap.dedent(body)
            + "\nopen(path, 'w', encoding='utf-8').write(text)\n",
            encoding="utf-8",
        )
        monkeypatch.setenv("EDITOR", f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}")
        return script

    return use


def test_edit_changes_the_tier(cli, people, editor):
    ok(cli("add", "Dan Wu", "--tier", "iron"))
    editor("text = text.replace('tier = \"iron\"', 'tier = \"gold\"')")
    out = ok(cli("edit", "dan"))
    assert out.strip() == "Committed: Tier of Dan Wu: iron -> gold"
    assert subjects(people)[0] == "Tier of Dan Wu: iron -> gold"
    assert as_json(cli("show", "dan-wu", "--json"))["tier"] == "gold"
    assert status(people) == ""


def test_edit_several_changes(cli, people, editor):
    editor("text = text.replace('Acme Corp', 'Acme Inc') + 'notes = \"likes tea\"\\n'")
    ok(cli("edit", "ana-lopez"))
    assert subjects(people)[0] == "Edit Ana López: company: Acme Corp -> Acme Inc, notes changed"


def test_edit_without_change(cli, people, editor):
    editor("pass")
    assert ok(cli("edit", "ana-lopez")).strip() == "No change."
    assert subjects(people)[0] == "Add Greta Lindqvist"


def test_edit_that_fixes_a_broken_file_says_so_without_the_old_error(cli, people, editor):
    path = people / "customers" / "ana-lopez.toml"
    good = path.read_text("utf-8")
    path.write_text(good.replace('stage = "customer"', 'stage = "client"'), "utf-8")  # broken by hand
    editor("text = text.replace('stage = \"client\"', 'stage = \"customer\"')")  # the editor fixes it
    code, out, err = cli("edit", "ana-lopez")
    assert code == 0, err
    assert out.strip() == "No change."  # back to exactly the committed version
    assert "stage" not in err  # the problem it had before the editor ran is not repeated
    assert status(people) == ""
    assert ok(cli("check"))


def test_edit_visual_wins_over_editor(cli, people, editor, tmp_path, monkeypatch):
    script = editor("text = text.replace('Nordbank', 'Sydbank')")
    monkeypatch.setenv("EDITOR", "false")
    monkeypatch.setenv("VISUAL", f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}")
    ok(cli("edit", "greta"))
    assert subjects(people)[0] == "Edit Greta Lindqvist: company: Nordbank -> Sydbank"


def test_edit_that_breaks_the_file_is_not_committed(cli, people, editor):
    path = people / "customers" / "ana-lopez.toml"
    editor("text = text.replace('stage = \"customer\"', 'stage = \"client\"')")
    code, out, err = cli("edit", "ana-lopez")
    assert code != 0
    assert "Traceback" not in err
    lines = err.splitlines()
    assert all(line.startswith("crmtui: ") for line in lines)
    assert any("customers/ana-lopez.toml:" in line and "stage" in line for line in lines)
    assert "left as you wrote it" in lines[-1]
    assert 'stage = "client"' in path.read_text("utf-8")  # as the user wrote it
    assert subjects(people)[0] == "Add Greta Lindqvist"
    assert status(people).strip() == "M customers/ana-lopez.toml"
    # and the next write elsewhere does not commit it either
    ok(cli("log", "ben", "hello"))
    assert status(people).strip() == "M customers/ana-lopez.toml"
    assert "ana-lopez.toml" not in git(people, "show", "--stat", "--format=", "HEAD")


def test_edit_fixes_a_broken_file(cli, broken, editor):
    editor("text = text.replace('status = \"won\"', 'status = \"won\"\\namount = 100')")
    out = ok(cli("edit", "carl-broken"))
    assert out.strip() == "Committed: Edit Carl Broken: 1 deal changed"
    assert ok(cli("check")).strip() == "crm.toml: ok; 4 records, all valid."
    assert as_json(cli("show", "carl-broken", "--json"))["value"] == 100


def test_edit_invalid_toml(cli, people, editor):
    path = people / "customers" / "ben-schmidt.toml"
    editor("text = text + 'this is = = not toml\\n'")
    code, _, err = cli("edit", "ben")
    assert code != 0 and "Traceback" not in err
    assert path.read_text("utf-8").endswith("this is = = not toml\n")
    assert subjects(people)[0] == "Add Greta Lindqvist"


def test_edit_with_a_failing_editor(cli, people, monkeypatch):
    monkeypatch.setenv("EDITOR", "false")
    assert "editor exited with status 1" in user_error(cli("edit", "ana-lopez"))
    monkeypatch.setenv("EDITOR", "no-such-editor-xyz")
    assert "cannot run the editor" in user_error(cli("edit", "ana-lopez"))


def test_history_of_a_record(cli, people, editor):
    ok(cli("log", "ana", "call about renewal", "--kind", "call"))
    entries = as_json(cli("history", "ana", "--json"))
    assert [e["subject"] for e in entries] == ["Log call with Ana López", "Add Ana López"]
    assert entries[0]["changes"] == ["+1 interaction"]
    assert entries[1]["changes"] == ["added"]
    assert {e["handle"] for e in entries} == {"ana-lopez"}
    assert all(re.fullmatch(r"[0-9a-f]{40}", e["commit"]) for e in entries)
    out = ok(cli("history", "ana-lopez"))
    assert "Log call with Ana López" in out and "+1 interaction" in out


def test_history_patch_shows_the_diff(cli, people):
    ok(cli("log", "ana", "call about renewal", "--kind", "call"))
    out = ok(cli("history", "ana", "--patch"))
    assert "diff --git a/customers/ana-lopez.toml b/customers/ana-lopez.toml" in out
    assert '+summary = "call about renewal"' in out
    assert "+[[interactions]]" in out


def test_history_of_the_book(cli, people):
    ok(cli("log", "ben", "intro"))
    entries = as_json(cli("history", "--json"))
    # one entry per file a commit touched; "Create the book" wrote two
    assert list(dict.fromkeys(e["subject"] for e in entries)) == [
        "Log call with Ben Schmidt", "Add Greta Lindqvist", "Add Ben Schmidt", "Add Ana López", "Create the book"]
    assert {"ana-lopez", "ben-schmidt", "greta-lindqvist"} <= {e["handle"] for e in entries}
    assert {e["file"] for e in entries if e["subject"] == "Create the book"} == {"crm.toml", "customers/.gitkeep",
                                                                                 ".gitattributes"}
    out = ok(cli("history"))
    assert "ben-schmidt: +1 interaction" in out
    assert "greta-lindqvist: added" in out
    assert len(as_json(cli("history", "--limit", "2", "--json"))) == 2


def test_restore_an_earlier_version(cli, people, editor):
    path = people / "customers" / "ana-lopez.toml"
    original = path.read_bytes()
    ok(cli("log", "ana", "call", "--follow-up", "1w"))
    editor("text = text.replace('Acme Corp', 'Acme Inc')")
    ok(cli("edit", "ana"))
    added = as_json(cli("history", "ana", "--json"))[-1]
    assert added["subject"] == "Add Ana López"
    out = ok(cli("restore", "ana", added["commit"][:10]))
    assert out.startswith("Restored Ana López to " + added["commit"][:8])
    assert path.read_bytes() == original
    assert subjects(people)[0].startswith("Restore Ana López to the version of ")
    assert subjects(people)[0].endswith(f"({added['commit'][:8]})")
    assert status(people) == ""
    # the restore is a new commit: the edit is still in the history
    assert "Edit Ana López: company: Acme Corp -> Acme Inc" in subjects(people)
    assert "already as it was" in user_error(cli("restore", "ana", added["commit"]))


def test_restore_a_deleted_record(cli, people):
    (people / "customers" / "ben-schmidt.toml").unlink()
    commit_all(people, "remove ben")
    first = as_json(cli("history", "ben-schmidt", "--json"))[-1]["commit"]
    ok(cli("restore", "ben-schmidt", first))
    assert as_json(cli("show", "ben-schmidt", "--json"))["name"] == "Ben Schmidt"


@pytest.mark.parametrize("rev", ["deadbeef", "no-such-branch", "HEAD~99"])
def test_restore_to_a_bad_rev(cli, people, rev):
    assert "is not a commit in this book" in user_error(cli("restore", "ana", rev))
    assert subjects(people)[0] == "Add Greta Lindqvist"


def test_restore_to_a_rev_before_the_record(cli, people):
    root = git(people, "rev-list", "--max-parents=0", "HEAD").strip()
    assert "did not exist" in user_error(cli("restore", "ana", root))


# ---- check and broken files -------------------------------------------------------------------------

def test_check(cli, people):
    assert ok(cli("check")).strip() == "crm.toml: ok; 3 records, all valid."
    data = as_json(cli("check", "--json"))
    assert data == {"settings": "ok", "records": 3, "problems": [], "keys": []}


@pytest.fixture
def broken(people):
    path = write_record(people, "carl-broken", """
        name = "Carl Broken"
        stage = "customer"

        [[deals]]
        title = "Thing"
        status = "won"
    """)
    commit_all(people, "add carl by hand")
    return path


def test_check_reports_a_broken_file(cli, broken):
    code, out, err = cli("check")
    assert code == 1
    assert out.strip().startswith("customers/carl-broken.toml:4:1: 'amount' is missing")
    assert "crm.toml: ok; 4 records, 1 broken." in err
    code, out, _ = cli("check", "--json")
    assert code == 1
    assert json.loads(out)["problems"] == [
        {"path": "customers/carl-broken.toml", "line": 4, "col": 1, "message": "'amount' is missing"}]


def test_show_a_broken_file(cli, broken):
    line = user_error(cli("show", "carl-broken"))
    assert "customers/carl-broken.toml:4:1" in line
    assert "crmtui edit carl-broken" in line


def test_log_to_a_broken_file_refuses(cli, broken):
    before = broken.read_bytes()
    head = subjects(broken.parent.parent)[0]
    user_error(cli("log", "carl-broken", "hello", "--follow-up", "1w"))
    assert broken.read_bytes() == before
    assert subjects(broken.parent.parent)[0] == head


def test_the_rest_of_the_book_works_beside_a_broken_file(cli, broken):
    code, out, err = cli("list", "--json")
    assert code == 0
    assert [r["handle"] for r in json.loads(out)] == ["ana-lopez", "ben-schmidt", "greta-lindqvist"]
    code, out, err = cli("list")
    assert code == 0 and "could not be read" in err
    ok(cli("log", "ben", "still works"))


def test_a_file_that_is_not_toml(cli, people):
    path = write_record(people, "bad-syntax", 'name = "Unclosed\n')
    code, out, _ = cli("check")
    assert code == 1 and out.startswith("customers/bad-syntax.toml:1:")
    user_error(cli("show", "bad-syntax"))
    ok(cli("log", "ana", "hello"))
    assert path.read_text("utf-8") == 'name = "Unclosed\n'
    assert "?? customers/bad-syntax.toml" in status(people)


# ---- where the book is -------------------------------------------------------------------------------

def test_missing_book(run_cli, tmp_path):
    line = user_error(run_cli("--book", tmp_path / "nope", "list"))
    assert "no book at" in line and "crmtui init" in line


def test_default_book_under_home_is_missing(run_cli, tmp_path):
    line = user_error(run_cli("list"))
    assert str(tmp_path / "home" / "crm") in line


def test_a_folder_that_is_not_a_book(run_cli, tmp_path):
    folder = tmp_path / "just-a-folder"
    folder.mkdir()
    (folder / "notes.txt").write_text("hi")
    assert "is not a crmtui book" in user_error(run_cli("--book", folder, "list"))
    assert "is a file" in user_error(run_cli("--book", folder / "notes.txt", "list"))


def test_book_location_precedence(run_cli, tmp_path, monkeypatch):
    books = {}
    for name in ("flag", "env", "config"):
        books[name] = tmp_path / f"{name}-book"
        ok(run_cli("init", books[name]))
        ok(run_cli("--book", books[name], "add", f"In {name.title()}"))

    def names(*argv):
        return [r["name"] for r in as_json(run_cli(*argv, "list", "--json"))]

    config = tmp_path / "config" / "crmtui" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'book = "{books["config"].as_posix()}"\n', encoding="utf-8")
    assert names() == ["In Config"]
    monkeypatch.setenv("CRMTUI_BOOK", str(books["env"]))
    assert names() == ["In Env"]
    assert names("--book", books["flag"]) == ["In Flag"]
    # subcommand-level --book works too
    assert [r["name"] for r in as_json(run_cli("list", "--book", books["flag"], "--json"))] == ["In Flag"]


def test_a_broken_config_file(run_cli, tmp_path):
    config = tmp_path / "config" / "crmtui" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("book = \n", encoding="utf-8")
    assert "is not valid TOML" in user_error(run_cli("list"))


def test_color_follows_the_current_stdout(monkeypatch):
    """The stream is looked up when printing, not when cli_render was imported."""
    import contextlib
    import io

    from crmtui.cli import render as cli_render

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    with contextlib.redirect_stdout(Terminal()):
        assert cli_render.style("x", "1") == "\x1b[1mx\x1b[0m"
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli_render.style("x", "1") == "x"


# ---- property: what add writes reads back the same --------------------------------------------------

_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)
_word = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=1, max_size=15)
_email = st.builds(lambda user, host: f"{user}@{host}.example",
                   st.from_regex(r"[a-z0-9._+-]{1,12}", fullmatch=True),
                   st.from_regex(r"[a-z0-9-]{1,12}", fullmatch=True))


@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=_text.filter(lambda s: s.split()), company=_text, emails=st.lists(_email, max_size=3),
       tags=st.lists(_word, max_size=3))
def test_add_then_read_back(run_cli, book, name, company, emails, tags):
    argv = ["--book", str(book), "add", f"--company={company}"]
    argv += [f"--email={e}" for e in emails] + [f"--tag={t}" for t in tags] + ["--", name]
    code, out, err = run_cli(*argv)
    assert code == 0, err
    assert "Traceback" not in err
    handle = re.search(r"as customers/(\S+)\.toml$", out.strip()).group(1)
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", handle)
    path = book / "customers" / f"{handle}.toml"
    assert path.is_file() and path.parent == book / "customers"
    customer = Service.open(book).resolve(handle)
    assert customer.name == " ".join(name.split())
    assert customer.company == company
    assert customer.emails == emails
    assert customer.tags == [t.strip() for t in tags if t.strip()]
    # Control characters are kept in the file but never reach a commit message.
    assert subjects(book)[0] == re.sub(r"[\x00-\x1f\x7f-\x9f]", "", f"Add {customer.name}").strip()
    assert status(book) == ""



def test_output_never_obeys_escapes_from_files(cli, people):
    write_record(people, "evil", 'name = "Ana \\u001b[2J Evil"\ncompany = "\\u001b]0;pwned\\u0007Corp"\n')
    commit_all(people)
    line = user_error(cli("show", "ana"), code=2)  # ambiguous: the names go into the error
    assert "Ana \\x1b[2J Evil" in line
    for argv in (["show", "evil"], ["list"], ["search", "evil"], ["history"]):
        code, out, err = cli(*argv)
        assert code == 0
        assert "\x1b" not in out + err and "\x07" not in out + err
