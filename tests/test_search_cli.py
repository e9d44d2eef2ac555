"""`crmtui search QUERY` and `crmtui list --where/--view` on a real book with real git."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

# now is 2026-06-15T09:00 (tests/conftest.py)
RECORDS = {
    "ana-lopez": """
        name = "Ana López"
        company = "Acme Corp"
        tags = ["fintech", "NYC"]
        stage = "customer"
        tier = "gold"
        owner = "me"

        [[deals]]
        title = "Audit"
        amount = 12000
        cost = 3000
        status = "won"
        date = 2026-03-01

        [[deals]]
        title = "Renewal"
        amount = 20000
        status = "open"

        [[reminders]]
        due = 2026-06-15
        text = "Send the NDA"

        [[interactions]]
        at = 2026-05-01T10:00:00
        kind = "call"
        summary = "first call"

        [[interactions]]
        at = 2026-06-10T10:00:00
        kind = "call"
        summary = "second call"
        """,
    "ben-schmidt": """
        name = "Ben Schmidt"
        company = "Schmidt Data"
        tags = ["fintech"]
        stage = "customer"

        [[deals]]
        title = "Platform"
        amount = 60000
        status = "won"
        date = 2026-02-01

        [[interactions]]
        at = 2026-01-01T09:00:00
        kind = "email"
        summary = "happy new year"
        """,
    "cleo-park": """
        name = "Cleo Park"
        company = "Acme Corporation"
        stage = "prospect"
        birthday = 1990-07-01
        """,
    "dora-lead": """
        name = "Dora Lead"
        company = "Loss Makers"
        tags = ["former"]
        stage = "former"

        [[interactions]]
        at = 2026-03-01T18:00:00
        kind = "note"
        summary = "parted ways"
        """,
}
VIEWS = """
[views]
losing-touch = "tier:gold,platinum last:>45d"
fintech = "tag:fintech -stage:former"
"""


def git(book: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(book), *args], check=True, capture_output=True, text=True).stdout


def commit_all(book: Path, message: str = "hand edit") -> None:
    git(book, "add", "-A")
    git(book, "-c", "user.name=Tester", "-c", "user.email=t@example.com", "commit", "-q", "-m", message)


def ok(result) -> str:
    code, out, err = result
    assert code == 0, result
    assert "Traceback" not in err
    return out


def as_json(result):
    return json.loads(ok(result))


def handles(result) -> list[str]:
    return [row["handle"] for row in as_json(result)]


def user_error(result) -> str:
    code, _, err = result
    assert code != 0, result
    assert "Traceback" not in err
    lines = err.splitlines()
    assert lines and lines[0].startswith("crmtui: "), err
    return lines[0]


@pytest.fixture
def people(cli, book):
    for handle, text in RECORDS.items():
        (book / "customers" / f"{handle}.toml").write_text(textwrap.dedent(text).lstrip(), "utf-8")
    commit_all(book, "four people")
    return book


def with_views(book: Path, views: str = VIEWS) -> None:
    path = book / "crm.toml"
    path.write_text(path.read_text("utf-8") + views, "utf-8")
    commit_all(book, "views")


# ---- crmtui search ------------------------------------------------------------------------------

@pytest.mark.parametrize("query, expected", [
    (["tier:gold"], ["ana-lopez"]),
    (["tag:fintech tag:nyc"], ["ana-lopez"]),
    (["tag:fintech", "tag:nyc"], ["ana-lopez"]),  # several arguments are one query
    (["last:>90d"], ["ben-schmidt", "cleo-park", "dora-lead"]),  # never contacted counts as long ago
    (["last:<7d"], ["ana-lopez"]),
    (["due:today"], ["ana-lopez", "ben-schmidt"]),  # a reminder today; a platinum's 2-week cadence ran out
    (["deal:open"], ["ana-lopez"]),
    (["value:>10000"], ["ben-schmidt"]),
    (["birthday:<30d"], ["cleo-park"]),
    (['company:"acme corp"'], ["ana-lopez", "cleo-park"]),
    (["-tag:former -stage:prospect"], ["ana-lopez", "ben-schmidt"]),
    (["-tag:fintech"], ["cleo-park", "dora-lead"]),  # not taken for an option
    (["-tag:fintech", "-stage:former"], ["cleo-park"]),
    (["owner:me"], ["ana-lopez"]),
])
def test_search_takes_filters(cli, people, query, expected):
    assert handles(cli("search", *query, "--json")) == expected


def test_search_words_rank_among_the_filtered(cli, people):
    assert handles(cli("search", "acme", "--json"))[:2] == ["ana-lopez", "cleo-park"]
    assert handles(cli("search", "acme stage:prospect", "--json")) == ["cleo-park"]
    assert handles(cli("search", "acme -tier:gold", "--json")) == ["cleo-park"]
    hits = as_json(cli("search", "acme tag:fintech", "--json"))
    assert [h["handle"] for h in hits] == ["ana-lopez"]
    assert set(hits[0]) == {"handle", "name", "company", "emails", "score"}  # the shape it always had
    assert handles(cli("search", "tag:fintech", "--limit", "1", "--json")) == ["ana-lopez"]


def test_a_query_after_double_dash(cli, people):
    assert handles(cli("search", "--json", "--", "-tag:fintech")) == ["cleo-park", "dora-lead"]
    assert "unrecognized arguments: -x" in cli("search", "ana", "-x")[2]  # a real unknown option still is one


def test_search_text_output_and_no_match(cli, people):
    out = ok(cli("search", "tier:gold,platinum"))
    assert [line.split()[0] for line in out.splitlines()] == ["ana-lopez", "ben-schmidt"]
    code, out, _ = cli("search", "tag:nobody")
    assert code == 1 and out.strip() == "No match."


@pytest.mark.parametrize("query, words", [
    ("teir:gold", "unknown filter 'teir:' (did you mean tier:?) — filters: tier, stage, tag"),
    ("tier:bronze", "unknown tier 'bronze' in 'tier:bronze' — tiers: platinum, gold, iron, lead, unranked"),
    ("last:90d", "'last:90d' needs > or <"),
    ("ana value:>lots", "'lots' in 'value:>lots' is not an amount"),
])
def test_search_refuses_a_bad_filter_in_one_sentence(cli, people, query, words):
    message = user_error(cli("search", query))
    assert words in message
    assert words in user_error(cli("search", query, "--json"))


def test_search_help_explains_the_language(cli):
    out = ok(cli("search", "--help"))
    for words in ("tier:gold", "last:>90d", "-tag:former", "crmtui search 'tier:gold last:>90d'"):
        assert words in out
    out = ok(cli("list", "--help"))
    for words in ("--where QUERY", "--view NAME", "last:>90d", "[views]"):
        assert words in out


# ---- crmtui list --where ------------------------------------------------------------------------

def test_list_where_keeps_the_json_shape_of_list(cli, people):
    everyone = as_json(cli("list", "--json"))
    chosen = as_json(cli("list", "--where", "tag:fintech", "--json"))
    assert chosen == [row for row in everyone if row["handle"] in ("ana-lopez", "ben-schmidt")]


@pytest.mark.parametrize("args, expected", [
    (["--where", "last:>90d"], ["ben-schmidt", "cleo-park", "dora-lead"]),
    (["--where", "last:>90d", "--stage", "customer"], ["ben-schmidt"]),
    (["--where", "-stage:former", "--tag", "fintech"], ["ana-lopez", "ben-schmidt"]),
    (["--where", "acme", "--tier", "unranked"], ["cleo-park"]),
    (["--where", "acme"], ["ana-lopez", "cleo-park"]),  # words find, the list stays in name order
    (["--where=-tag:fintech"], ["cleo-park", "dora-lead"]),
    (["--where", "-tag:fintech"], ["cleo-park", "dora-lead"]),
    (["--where", ""], ["ana-lopez", "ben-schmidt", "cleo-park", "dora-lead"]),
    (["--where", "tier:lead"], []),
])
def test_list_where(cli, people, args, expected):
    assert handles(cli("list", *args, "--json")) == expected


def test_list_where_text(cli, people):
    lines = ok(cli("list", "--where", "tag:fintech tag:nyc")).splitlines()
    assert lines[0].split()[:2] == ["NAME", "COMPANY"] and len(lines) == 3 and lines[2].startswith("Ana López")
    assert ok(cli("list", "--where", "tier:lead")).strip() == "No customers match."
    assert "unknown filter 'tga:'" in user_error(cli("list", "--where", "tga:x"))


def test_list_where_is_right_after_the_stored_rows_and_after_changes(cli, people):
    assert len(handles(cli("list", "--json"))) == 4  # stores the rows of everyone
    assert handles(cli("list", "--where", "tag:nyc", "--json")) == ["ana-lopez"]
    assert handles(cli("list", "--where", "last:<7d", "--json")) == ["ana-lopez"]
    ok(cli("log", "ben", "catch-up call", "--kind", "call", "--at", "2026-06-14T10:00"))
    assert handles(cli("list", "--where", "last:<7d", "--json")) == ["ana-lopez", "ben-schmidt"]
    assert handles(cli("search", "last:>90d", "--json")) == ["cleo-park", "dora-lead"]
    assert len(handles(cli("list", "--json"))) == 4


# ---- saved views ----------------------------------------------------------------------------

def test_list_view(cli, people, book):
    with_views(book)
    assert handles(cli("list", "--view", "losing-touch", "--json")) == ["ben-schmidt"]
    assert handles(cli("list", "--view", "fintech", "--json")) == ["ana-lopez", "ben-schmidt"]
    assert handles(cli("list", "--view", "fintech", "--where", "tier:gold", "--json")) == ["ana-lopez"]
    assert handles(cli("list", "--view", "fintech", "--tier", "platinum", "--json")) == ["ben-schmidt"]
    assert "Ben Schmidt" in ok(cli("list", "--view", "losing-touch"))


def test_an_unknown_view_lists_the_views(cli, people, book):
    assert "no view 'losing-touch': crm.toml has no [views] yet" in user_error(cli("list", "--view", "losing-touch"))
    with_views(book)
    message = user_error(cli("list", "--view", "losing"))
    assert message == "crmtui: unknown view 'losing' — views in crm.toml: fintech, losing-touch"


def test_a_view_that_does_not_parse_is_a_settings_problem_with_its_line(cli, people, book):
    with_views(book, '\n[views]\ngood = "tag:fintech"\nbad = "teir:gold last:>45d"\n')
    line = next(i for i, text in enumerate((book / "crm.toml").read_text("utf-8").splitlines(), 1)
                if text.startswith("bad ="))
    code, out, err = cli("check")
    assert code == 1
    assert f"crm.toml:{line}:1: views.bad: unknown filter 'teir:' (did you mean tier:?)" in out
    code, out, err = cli("list", "--view", "good")
    assert code == 1 and "crm.toml is broken" in err and "Traceback" not in err
    code, out, err = cli("list", "--where", "tag:fintech", "--json")  # the rest of the book still works
    assert code == 0 and [r["handle"] for r in json.loads(out)] == ["ana-lopez", "ben-schmidt"]
    assert "crm.toml is broken" in err


# ---- the service under the TUI ------------------------------------------------------------------

def test_the_tui_reader_counts_and_keeps_the_filters_work(people):
    from crmtui.service import Service

    first = Service.open(people)
    found = first.find("tag:fintech", limit=1)
    assert [c.handle for c, _ in found.hits] == ["ana-lopez"] and found.total == 2  # all that match
    assert first.find("ana", limit=1).total is None  # a plain search cut short does not know
    assert first.find("due:today").total == 2
    second = Service.open(people)  # the next reader, after a load or a write
    second.keep_search_work(first)
    context = second.query_context()
    assert set(context._next) == {"ana-lopez", "ben-schmidt", "cleo-park", "dora-lead"}  # worked out before
    assert second.find("due:today").total == 2
