"""`crmtui report`: the tables for people, every figure with its names in --json, one sentence
for bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from backdated import scenario_book


@pytest.fixture(scope="module")
def scenario_template(tmp_path_factory):
    return scenario_book(tmp_path_factory.mktemp("scenario-cli") / "book")


@pytest.fixture
def scenario(scenario_template, tmp_path):
    root = tmp_path / "scenario"
    subprocess.run(["cp", "-a", str(scenario_template), str(root)], check=True)
    return root


def test_the_text_report(run_cli, scenario):
    code, out, err = run_cli("--book", scenario, "report")
    assert code == 0, err
    assert out.startswith("Report 2025-06-16 to 2026-06-15 (365 days), against 2024-06-16 to 2025-06-15\n")
    assert "70% retained: 7 of the 10 active in the previous period (an interaction or a won deal) are active again" in out
    assert "lost 3: Cust 7, Cust 8, Cust 9" in out
    assert "churn 30%: 3 of the 10 customers at the start" in out
    assert "moved to former 1: Cust 6" in out and "removed from the book 1: Cust 5" in out
    assert "silent past their cadence's maximum 1: Cust 7" in out
    assert "Pyramid movement (tier on 2025-06-15 → on 2026-06-15)" in out
    assert "Iron → Gold 2: Cust 0, Cust 1" in out and "Gold → Iron 1: Cust 3" in out
    assert "moved up 2, down 1, stayed 7, joined 3, left 1" in out
    assert "converted to customer     2 (median 91.5 days)" in out
    assert "deals won                 5: 66,000 EUR" in out
    assert "open pipeline at the end  2: 17,000 EUR" in out
    assert "Cust 0  (won 22,000 EUR; brought 2, who won 1,000 EUR)" in out
    assert "│  └─ Pros 4" in out and "ghost (not in the book)  (brought 1)" in out
    assert "11 interactions (previous period 11)" in out
    assert "by kind   call 4 · meeting 4 · email 3" in out
    assert "Platinum and Gold within their cadence: 50% (1 of 2)" in out
    assert err == ""


def test_the_migration_table(run_cli, scenario):
    out = run_cli("--book", scenario, "report")[1]
    table = out.split("Pyramid movement")[1].split("moved up")[0].splitlines()[1:]
    rows = {line.split()[0]: line.split()[1:] for line in table if line.strip() and not line.strip().startswith("-")}
    assert rows["from"] == ["\\", "to", "Gold", "Iron", "Unranked", "Absent"]
    assert rows["Gold"] == ["·", "1", "·", "·"]
    assert rows["Iron"] == ["2", "1", "·", "·"]
    assert rows["Unranked"] == ["·", "·", "6", "1"]
    assert rows["Absent"] == ["·", "1", "2", "·"]


def test_json_gives_every_figure_with_its_names(run_cli, scenario):
    code, out, err = run_cli("--book", scenario, "report", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["period"] == {"from": "2025-06-16", "to": "2026-06-15", "days": 365}
    assert data["previous"] == {"from": "2024-06-16", "to": "2025-06-15", "days": 365}
    assert data["book_began"] == "2024-01-10"
    ret = data["retention"]
    assert ret["rate"] == 0.7 and [p["name"] for p in ret["lost"]] == ["Cust 7", "Cust 8", "Cust 9"]
    assert {c["handle"]: c["reason"] for c in ret["churn"]["churned"]} == {"c5": "removed", "c6": "former",
                                                                           "c7": "silent"}
    assert ret["churn"]["customers_at_start"] == 10 and ret["churn"]["rate"] == 0.3
    moves = {(m["from"], m["to"]): [p["handle"] for p in m["customers"]] for m in data["pyramid"]["moves"]}
    assert moves[("iron", "gold")] == ["c0", "c1"] and moves[("gold", "iron")] == ["c3"]
    assert moves[("absent", "unranked")] == ["p2", "p4"]
    assert len(data["pyramid"]["stayed"]) == 7 and [p["handle"] for p in data["pyramid"]["left"]] == ["c5"]
    life = data["lifecycle"]
    assert [c["days"] for c in life["converted"]] == [61, 122] and life["median_days_to_convert"] == 91.5
    assert life["won"]["count"] == 5 and life["won"]["amount"] == 66000
    assert {d["title"]: d["date"] for d in life["won"]["deals"]}["Undated"] == "2026-06-01"
    assert life["open_pipeline"]["amount"] == 17000 and [p["handle"] for p in life["cross_sell"]] == ["c0", "c1", "c2", "c3"]
    assert data["previous_lifecycle"]["won"]["amount"] == 31000
    tree = data["referrals"]["tree"]
    assert tree[0]["handle"] == "c0" and [k["handle"] for k in tree[0]["referred"]] == ["p1", "p2"]
    assert tree[1] == {"handle": "ghost", "name": None, "in_book": False, "value": 0.0,
                       "referred": [{"handle": "c8", "name": "Cust 8", "in_book": True, "value": 0.0, "referred": []}]}
    att = data["attention"]
    assert att["interactions"] == 11 and att["by_tier"]["absent"] == 1 and len(att["weeks"]) == 53
    assert att["weeks"][52] == {"from": "2026-06-15", "count": 1}
    assert att["platinum_gold_within_cadence"] == 0.5
    assert [(c["handle"], c["within_cadence"]) for c in att["platinum_gold"]] == [("c1", False), ("c0", True)]


def test_names_lists_everyone(run_cli, scenario):
    out = run_cli("--book", scenario, "report", "--names")[1]
    assert "Unranked → Absent 1: Cust 5" in out
    assert "Absent → Unranked 2: Pros 2, Pros 4" in out


def test_a_period(run_cli, scenario):
    code, out, _ = run_cli("--book", scenario, "report", "--from", "2025-11-01", "--to", "2026-01-31")
    assert code == 0
    assert out.startswith("Report 2025-11-01 to 2026-01-31 (92 days), against 2025-08-01 to 2025-10-31")


@pytest.mark.parametrize("args, sentence", [
    (["--from", "2026-03-01", "--to", "2026-02-01"],
     "crmtui: --from 2026-03-01 is after --to 2026-02-01; the period starts before it ends\n"),
    (["--from", "2019-05-01"], "crmtui: --from 2019-05-01 is before the book existed (its first commit is of "
                               "2024-01-10); choose a day from 2024-01-10 on\n"),
    (["--from", "yesterdayish"], "crmtui: --from: 'yesterdayish' is not a date; use 2026-12-01, 2026-12-01T14:30, "
                                 "today, tomorrow, 14d, 2w, 3m or 3d ago\n"),
    (["--from", "3m"], "crmtui: --from 2026-09-15 is after today (2026-06-15); a report looks back "
                       "(for three months back write: --from '3m ago')\n"),
])
def test_bad_input_gets_one_sentence(run_cli, scenario, args, sentence):
    code, out, err = run_cli("--book", scenario, "report", *args)
    assert code == 1 and out == "" and err == sentence


def test_three_months_ago(run_cli, scenario):
    code, out, _ = run_cli("--book", scenario, "report", "--from", "3m ago")
    assert code == 0 and out.startswith("Report 2026-03-15 to 2026-06-15")


def test_a_fresh_book_reports_nothing_much(cli):
    code, out, err = cli("report")
    assert code == 0, err
    assert "nobody was active in the previous period" in out
    assert "no referrals" in out and "0 interactions (previous period 0)" in out


def test_help_says_the_rules(run_cli):
    code, out, _ = run_cli("report", "--help")
    assert code == 0
    for words in ("--from WHEN", "--to WHEN", "--json", "--names", "both ends included", "as the records stood"):
        assert words in out
    assert "report" in run_cli("--help")[1]


def test_the_report_reads_without_textual_or_gitpython(scenario):
    code = ("import sys; from crmtui.cli import main; main(['--book', sys.argv[1], 'report', '--json']);"
            "print(sorted(m for m in ('textual', 'git', 'rich') if m in sys.modules), file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code, str(scenario)], capture_output=True, text=True,
                            env={"CRMTUI_NOW": "2026-06-15T09:00:00", "PATH": "/usr/bin:/bin", "HOME": str(scenario)})
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "[]"
