"""Deals: the pipeline and the what-if tier (pure domain), and `crmtui deal add|won|lost` and
`crmtui pipeline` on a real book with real git (in-process through crmtui.cli.main)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import tomllib
from datetime import date
from pathlib import Path

import pytest

from crmtui.domain import validate
from crmtui.domain.deals import (added_message, lost_message, money_text, open_deals, pipeline, what_if_won,
                                 won_message)
from crmtui.domain.record import Customer, Deal, RecordError, customer_from_data
from crmtui.domain.settings import DEFAULT_DEAL_STAGES, DEFAULT_SETTINGS_TOML, Settings, settings_from_data

TODAY = date(2026, 6, 15)  # the tests' fixed now (conftest.FIXED_NOW)
SETTINGS = Settings()  # platinum 50000, gold 15000, iron 0; stages lead, proposal, negotiation


def customer(handle: str, *deals: Deal, name: str | None = None, tier: str | None = None) -> Customer:
    return Customer(handle=handle, name=name or handle.title(), deals=list(deals), tier_override=tier)


# ---- domain: what winning would do ------------------------------------------------------------------

def test_what_if_won_moves_the_computed_tier():
    ana = customer("ana", Deal("Workshop", 5000, "won", date=date(2026, 3, 1)), Deal("Q1 audit", 12000, "open"))
    w = what_if_won(ana, 1, TODAY, SETTINGS)
    assert (w.before, w.after, w.value_before, w.value_after) == ("iron", "gold", 5000, 17000)
    assert w.changes and w.phrase() == "iron → gold"
    assert ana.deals[1].status == "open"  # the customer itself is untouched


def test_what_if_won_for_a_prospect_and_when_nothing_changes():
    prospect = customer("pia", Deal("First job", 3000, "open"))
    assert what_if_won(prospect, 0, TODAY, SETTINGS).phrase() == "unranked → iron"
    big = customer("big", Deal("Platform", 60000, "won", date=date(2026, 1, 1)), Deal("Extra", 1000, "open"))
    assert what_if_won(big, 1, TODAY, SETTINGS).phrase() == "stays platinum"
    # a cost counts: amount minus cost
    lossy = customer("lossy", Deal("Fixed price", 5000, "open", cost=9000))
    assert what_if_won(lossy, 0, TODAY, SETTINGS).phrase() == "unranked → lead"
    # an override in the file stays in force, and is carried along to be shown
    assert what_if_won(customer("o", Deal("X", 1, "open"), tier="gold"), 0, TODAY, SETTINGS).override == "gold"


def test_messages_say_what_happened():
    deal = Deal("Q1 audit", 12000, "open")
    ana = customer("ana", Deal("Workshop", 5000, "won", date=date(2026, 3, 1)), deal, name="Ana López")
    assert added_message(deal, "Ana López", "EUR") == "Add deal Q1 audit (12,000 EUR) for Ana López"
    assert (won_message(deal, "Ana López", "EUR", what_if_won(ana, 1, TODAY, SETTINGS))
            == "Won Q1 audit (12,000 EUR) with Ana López; tier iron → gold")
    assert lost_message(deal, "Ana López") == "Lost Q1 audit with Ana López"
    assert money_text(1250.5, "EUR") == "1,250.50 EUR"


# ---- domain: the pipeline ----------------------------------------------------------------------------

def test_pipeline_groups_open_deals_by_the_configured_stages_and_keeps_other_stages():
    people = [
        customer("ana", Deal("Late one", 1000, "open", stage="proposal", close=date(2026, 6, 1)),
                 Deal("Soon", 2000, "open", stage="proposal", close=date(2026, 7, 1)),
                 Deal("Done", 9000, "won", date=date(2026, 5, 1))),
        customer("ben", Deal("No stage", 3000, "open"), Deal("Lost one", 4000, "lost")),
        customer("cy", Deal("Pilot", 500, "open", stage="Pilot phase".lower())),
        customer("dee", Deal("Unsure", 700, "open", stage="proposal")),
    ]
    pipe = pipeline(people, TODAY, SETTINGS)
    assert [row.stage for row in pipe.stages] == ["lead", "proposal", "negotiation", "pilot phase"]
    lead, proposal, negotiation, other = pipe.stages
    assert [d.deal.title for d in lead.deals] == ["No stage"]  # no stage: the first one
    # soonest close first, no close last
    assert [d.deal.title for d in proposal.deals] == ["Late one", "Soon", "Unsure"]
    assert [d.overdue for d in proposal.deals] == [True, False, False]
    assert negotiation.count == 0 and negotiation.configured
    assert other.configured is False and other.deals[0].deal.title == "Pilot"  # shown, not dropped
    assert (proposal.total, pipe.total, pipe.count, pipe.overdue) == (3700, 7200, 5, 1)
    assert proposal.deals[0].index == 0 and proposal.deals[0].handle == "ana"
    assert proposal.deals[0].what_if.phrase() == "stays iron"


def test_open_deals_keep_their_place_in_the_file():
    c = customer("x", Deal("a", 1, "won"), Deal("b", 2, "open"), Deal("c", 3, "lost"), Deal("d", 4, "open"))
    assert [(i, d.title) for i, d in open_deals(c)] == [(1, "b"), (3, "d")]


# ---- domain: settings, values, the record -------------------------------------------------------------

def test_default_settings_carry_the_stages_with_a_comment():
    assert "[deals]" in DEFAULT_SETTINGS_TOML and "# The stages of an open deal" in DEFAULT_SETTINGS_TOML
    assert settings_from_data(tomllib.loads(DEFAULT_SETTINGS_TOML)).deal_stages == DEFAULT_DEAL_STAGES
    assert settings_from_data({}).deal_stages == ("lead", "proposal", "negotiation")
    custom = settings_from_data({"deals": {"stages": ["Qualified", "Quote sent", "Verbal yes"]}})
    assert custom.deal_stages == ("qualified", "quote sent", "verbal yes")


@pytest.mark.parametrize("deals, words", [
    ({"stages": []}, "should be a list of words"),
    ({"stages": "lead"}, "should be a list of words"),
    ({"stages": ["lead", 3]}, "should be a list of words"),
    ({"stages": ["lead", "won"]}, "'won' is a deal's status"),
    ({"stages": ["lead", "Lead"]}, "names the stage 'lead' twice"),
    ("lead", "deals should be a table"),
])
def test_bad_stages_are_refused_with_a_sentence(deals, words):
    with pytest.raises(RecordError) as error:
        settings_from_data({"deals": deals})
    assert words in str(error.value)


@pytest.mark.parametrize("text, value", [("12000", 12000), ("1250.50", 1250.5), ("12_000", 12000), ("0", 0),
                                         (" 7 ", 7), (3000, 3000)])
def test_amounts(text, value):
    assert validate.amount(text) == value


@pytest.mark.parametrize("text, words", [("nan", "not a number a book can hold"), ("inf", "not a number"),
                                         ("-1", "is negative"), ("12,000", "without thousands separators"),
                                         ("a lot", "is not a number"), ("1e999", "not a number a book can hold")])
def test_bad_amounts_are_refused_with_a_sentence(text, words):
    with pytest.raises(validate.InvalidValue) as error:
        validate.amount(text)
    assert words in str(error.value)


def test_the_record_reads_a_deals_stage_and_close():
    c = customer_from_data("ana", {"name": "Ana", "deals": [
        {"title": "Q1", "amount": 1, "status": "open", "stage": "Proposal", "close": date(2026, 12, 20)},
        {"title": "Old", "amount": 1, "status": "won", "date": date(2026, 1, 1)}]})
    assert (c.deals[0].stage, c.deals[0].close) == ("proposal", date(2026, 12, 20))
    assert (c.deals[1].stage, c.deals[1].close) == (None, None)
    with pytest.raises(RecordError, match="'close'"):
        customer_from_data("ana", {"name": "Ana", "deals": [{"title": "Q1", "amount": 1, "close": "soon"}]})
    late = customer_from_data("ana", {"name": "Ana", "deals": [{"title": "Q1", "amount": 1,
                                                                   "close": date(9999, 12, 31)}]})
    assert late.issues and late.issues[0].path == ("deals", 0, "close")


# ---- the CLI ----------------------------------------------------------------------------------------

def git(book: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(book), *args], check=True, capture_output=True, text=True,
                          encoding="utf-8").stdout


def subjects(book: Path) -> list[str]:
    return git(book, "log", "--format=%s").splitlines()


def ok(result) -> str:
    code, out, err = result
    assert code == 0, result
    assert "Traceback" not in err
    return out


def refused(result, code: int = 1) -> str:
    """One sentence on stderr, the given exit code, nothing committed."""
    exit_code, _, err = result
    assert exit_code == code, result
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("crmtui: "), err
    return lines[0]


def deals_of(book: Path, handle: str) -> list[dict]:
    return tomllib.loads((book / "customers" / f"{handle}.toml").read_text("utf-8")).get("deals", [])


@pytest.fixture
def ana(cli, book):
    """Ana López: iron by the numbers (a won 5,000 EUR workshop this year)."""
    ok(cli("add", "Ana López", "--company", "Acme Corp", "--stage", "customer"))
    path = book / "customers" / "ana-lopez.toml"
    path.write_text(path.read_text("utf-8") + textwrap.dedent("""
        # the deals she has given me
        [[deals]]
        title = "Workshop"
        amount = 5000
        status = "won"
        date = 2026-03-01
        """), "utf-8")
    git(book, "add", "-A")
    git(book, "-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-q", "-m", "deal by hand")
    return "ana-lopez"


def test_add_a_deal_then_win_it(cli, book, ana):
    out = ok(cli("deal", "add", "ana", "Q1 audit", "12000", "--close", "2026-12-20"))
    assert "Q1 audit" in out and "stage lead" in out and "2026-12-20" in out
    assert subjects(book)[0] == "Add deal Q1 audit (12,000 EUR) for Ana López"
    assert deals_of(book, ana)[1] == {"title": "Q1 audit", "amount": 12000, "status": "open", "stage": "lead",
                                      "close": date(2026, 12, 20)}
    text = (book / "customers" / f"{ana}.toml").read_text("utf-8")
    assert "# the deals she has given me" in text  # the user's comment survives

    out = ok(cli("deal", "won", "ana"))  # her one open deal: no title needed
    assert out.strip() == "Won Q1 audit (12,000 EUR) with Ana López; tier iron → gold"
    assert subjects(book)[0] == "Won Q1 audit (12,000 EUR) with Ana López; tier iron → gold"
    won = deals_of(book, ana)[1]
    assert (won["status"], won["date"], won["close"]) == ("won", date(2026, 6, 15), date(2026, 12, 20))
    assert git(book, "status", "--porcelain") == ""
    shown = json.loads(ok(cli("show", "ana", "--json")))
    assert (shown["tier"], shown["value"]) == ("gold", 17000)


def test_add_with_cost_stage_and_a_relative_close(cli, book, ana):
    ok(cli("deal", "add", ana, "Retainer 2027", "30000.50", "--cost", "2000", "--close", "3m", "--stage", "Proposal"))
    deal = deals_of(book, ana)[1]
    assert (deal["amount"], deal["cost"], deal["stage"], deal["close"]) == (30000.5, 2000, "proposal",
                                                                            date(2026, 9, 15))
    assert subjects(book)[0] == "Add deal Retainer 2027 (30,000.50 EUR) for Ana López"


@pytest.mark.parametrize("args, words", [
    (["nan"], "not a number a book can hold"),
    (["inf"], "not a number a book can hold"),
    (["-5"], "is negative"),
    (["12,000"], "without thousands separators"),
    (["12000", "--cost", "nan"], "the cost nan"),
    (["12000", "--cost", "-1"], "the cost -1 is negative"),
    (["12000", "--close", "2026-01-01"], "the expected close 2026-01-01 is in the past"),
    (["12000", "--close", "someday"], "not a date"),
    (["12000", "--close", "9999-12-31"], "more than 100 years ahead"),
    (["12000", "--stage", "closing"], "unknown stage 'closing'; use one of lead, proposal, negotiation"),
])
def test_add_refuses_bad_values_with_a_sentence(cli, book, ana, args, words):
    before = subjects(book)
    assert words in refused(cli("deal", "add", ana, "Q1 audit", *args))
    assert subjects(book) == before and len(deals_of(book, ana)) == 1


def test_add_refuses_an_empty_title_and_a_second_open_deal_of_the_same_title(cli, book, ana):
    assert "needs a title" in refused(cli("deal", "add", ana, "  ", "100"))
    ok(cli("deal", "add", ana, "Q1 audit", "100"))
    assert "already has an open deal 'Q1 audit'" in refused(cli("deal", "add", ana, "q1 AUDIT", "200"))


def test_won_and_lost_find_the_deal_by_title_and_list_them_when_unclear(cli, book, ana):
    ok(cli("deal", "add", ana, "Q1 audit", "12000"))
    ok(cli("deal", "add", ana, "Data platform retainer", "30000", "--stage", "negotiation"))
    line = refused(cli("deal", "won", ana), code=2)
    assert "Ana López has 2 open deals" in line
    assert "Q1 audit (12,000 EUR)" in line and "Data platform retainer (30,000 EUR)" in line
    line = refused(cli("deal", "lost", ana, "zzz"), code=2)
    assert "'zzz' does not name one open deal of Ana López" in line and "Q1 audit" in line

    assert ok(cli("deal", "lost", ana, "retainer")).strip() == "Lost Data platform retainer with Ana López"
    assert subjects(book)[0] == "Lost Data platform retainer with Ana López"
    lost = deals_of(book, ana)[2]
    assert (lost["status"], lost["date"]) == ("lost", date(2026, 6, 15))
    # the one left is found without a title; the tier does not change when the file says so
    out = ok(cli("deal", "won", ana, "audit", "--date", "3d ago"))
    assert out.startswith("Won Q1 audit (12,000 EUR) with Ana López; tier iron → gold")
    assert deals_of(book, ana)[1]["date"] == date(2026, 6, 12)
    line = refused(cli("deal", "won", ana))
    assert "Ana López has no open deal" in line and "crmtui deal add ana-lopez" in line


def test_won_refuses_a_future_date(cli, book, ana):
    ok(cli("deal", "add", ana, "Q1 audit", "12000"))
    assert "in the future" in refused(cli("deal", "won", ana, "--date", "tomorrow"))
    assert deals_of(book, ana)[1]["status"] == "open"


def test_won_says_when_the_file_sets_the_tier(cli, book):
    ok(cli("add", "Bo Chen", "--tier", "platinum"))
    ok(cli("deal", "add", "bo-chen", "Tiny", "100"))
    out = ok(cli("deal", "won", "bo-chen"))
    assert "tier unranked → iron" in out.splitlines()[0]
    assert "sets the tier to platinum" in out.splitlines()[1]
    body = git(book, "log", "-1", "--format=%b")
    assert "sets the tier to platinum" in body


def test_deal_help_and_an_unknown_who(cli, book, ana):
    code, out, _ = cli("deal", "--help")
    assert code == 0 and "deal add ana" in out and "[deals] stages" in out
    code, out, _ = cli("deal", "add", "--help")
    assert code == 0 and "--close WHEN" in out and "--cost N" in out and "--stage STAGE" in out
    assert "no customer matches" in refused(cli("deal", "won", "nobody-at-all"))
    code, out, _ = cli("--help")
    names = [line.split()[0] for line in out.splitlines() if line.startswith("    ") and line.split()]
    assert names.index("tiers") < names.index("deal") < names.index("pipeline") < names.index("history")


# ---- crmtui pipeline -------------------------------------------------------------------------------

@pytest.fixture
def pipe_book(cli, book, ana):
    ok(cli("add", "Ben Schmidt"))
    ok(cli("deal", "add", ana, "Q1 audit", "12000", "--close", "2026-12-20", "--stage", "proposal"))
    ok(cli("deal", "add", "ben", "First project", "3000", "--close", "1d"))
    path = book / "customers" / "ben-schmidt.toml"
    path.write_text(path.read_text("utf-8") + textwrap.dedent("""
        [[deals]]
        title = "Pilot"
        amount = 800
        status = "open"
        stage = "pilot"
        close = 2026-06-01
        """), "utf-8")
    return book


def test_pipeline_text(cli, pipe_book):
    out = ok(cli("pipeline"))
    assert out.startswith("Pipeline: 3 open deals, 15,800 EUR, 1 overdue")
    lines = out.splitlines()
    stages = [line.split("  ·  ")[0] for line in lines if "  ·  " in line]
    assert stages == ["Lead", "Proposal", "Negotiation", "Pilot"]  # an unlisted stage under its own name
    assert "Proposal  ·  1 deal  ·  12,000 EUR" in out and "Negotiation  ·  0 deals  ·  0 EUR" in out
    ana_line = next(line for line in lines if "Ana López" in line)
    assert "Q1 audit" in ana_line and "12,000 EUR" in ana_line and "2026-12-20" in ana_line
    assert ana_line.endswith("iron → gold")
    ben_line = next(line for line in lines if "Pilot" in line and "Ben" in line)
    assert "2026-06-01!" in ben_line and ben_line.endswith("unranked → iron")
    assert "! the expected close has passed (1 deal)" in out
    assert all(len(line) <= 80 for line in lines)


def test_pipeline_json(cli, pipe_book):
    data = json.loads(ok(cli("pipeline", "--json")))
    assert (data["currency"], data["count"], data["total"], data["overdue"]) == ("EUR", 3, 15800, 1)
    assert [(s["stage"], s["configured"], s["count"], s["total"]) for s in data["stages"]] == [
        ("lead", True, 1, 3000), ("proposal", True, 1, 12000), ("negotiation", True, 0, 0), ("pilot", False, 1, 800)]
    deal = data["stages"][1]["deals"][0]
    assert deal == {"handle": "ana-lopez", "name": "Ana López", "company": "Acme Corp", "title": "Q1 audit",
                    "amount": 12000, "cost": None, "stage": "proposal", "close": "2026-12-20", "overdue": False,
                    "tier": "iron", "tier_if_won": "gold", "value": 5000, "value_if_won": 17000,
                    "tier_override": None}


def test_pipeline_follows_the_stages_in_crm_toml(cli, book, pipe_book):
    settings = book / "crm.toml"
    settings.write_text(settings.read_text("utf-8").replace(
        'stages = ["lead", "proposal", "negotiation"]', 'stages = ["proposal", "pilot"]'), "utf-8")
    data = json.loads(ok(cli("pipeline", "--json")))
    assert [(s["stage"], s["configured"]) for s in data["stages"]] == [
        ("proposal", True), ("pilot", True), ("lead", False)]
    # a deal without a stage is at the first; a new deal starts there too
    ok(cli("deal", "add", "ben", "Second", "10"))
    assert deals_of(book, "ben-schmidt")[-1]["stage"] == "proposal"


def test_a_broken_stages_setting_is_said_and_the_defaults_are_used(cli, book, pipe_book):
    settings = book / "crm.toml"
    settings.write_text(settings.read_text("utf-8").replace(
        'stages = ["lead", "proposal", "negotiation"]', 'stages = ["lead", "won"]'), "utf-8")
    code, out, err = cli("pipeline")
    assert code == 0 and "'won' is a deal's status" in err and "crm.toml is broken" in err
    assert "Lead  ·  1 deal" in out
    code, out, err = cli("check")
    assert code != 0 and "'won' is a deal's status" in out + err


def test_an_empty_pipeline_says_how_to_add_a_deal(cli, book):
    out = ok(cli("pipeline"))
    assert out.startswith("No open deals. Add one: crmtui deal add WHO TITLE AMOUNT")
    assert json.loads(ok(cli("pipeline", "--json")))["count"] == 0


def test_the_cli_as_a_process_refuses_nan_in_one_sentence(book, ana):
    env = dict(os.environ)
    result = subprocess.run([sys.executable, "-m", "crmtui", "--book", str(book), "deal", "add", ana, "X", "nan"],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip() == ("crmtui: the amount nan is not a number a book can hold; "
                                     "write an amount like 12000")
