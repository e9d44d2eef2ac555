"""The record-aware three-way merge of one customer file (storage/merge.py), on text."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from crmtui.storage.merge import Unmergeable, merge_texts, run_driver

BASE = """\
# customers/ana-lopez.toml — written by hand
name = "Ana López"              # the only required key
company = "Acme Corp"
title = "CTO"
emails = ["ana@acme.example"]
tags = ["fintech"]
stage = "customer"

[links]
linkedin = "https://www.linkedin.com/in/ana"

[[deals]]
title = "Q1 audit"
amount = 12000
status = "open"
date = 2026-01-10

[[reminders]]
due = 2026-07-01
text = "Send renewal proposal"

[[interactions]]
at = 2026-05-20T14:30:00
kind = "call"
summary = "Discussed the Q1 renewal"
"""


def edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def data(text: str) -> dict:
    return tomllib.loads(text.removeprefix("\ufeff"))


INTERACTION = '\n[[interactions]]\nat = {at}\nkind = "{kind}"\nsummary = "{summary}"\n'


def log(text: str, at: str, summary: str, kind: str = "note") -> str:
    return text + INTERACTION.format(at=at, kind=kind, summary=summary)


def test_different_keys_changed_on_each_side_are_both_kept():
    ours = edit(BASE, 'title = "CTO"', 'title = "CEO"')
    theirs = edit(BASE, 'stage = "customer"', 'stage = "former"')
    result = merge_texts(BASE, ours, theirs)
    assert not result.conflicts
    merged = data(result.text)
    assert merged["title"] == "CEO" and merged["stage"] == "former"
    assert "# the only required key" in result.text and result.text.startswith("# customers/ana-lopez.toml")


def test_interactions_added_on_both_sides_are_all_kept_once():
    ours = log(BASE, "2026-06-01T10:00:00", "here")
    theirs = log(log(BASE, "2026-06-02T10:00:00", "there"), "2026-06-03T10:00:00", "there again")
    result = merge_texts(BASE, ours, theirs)
    summaries = [i["summary"] for i in data(result.text)["interactions"]]
    assert sorted(summaries) == ["Discussed the Q1 renewal", "here", "there", "there again"]
    # git's line merge cannot do this (both appended at the end): the record-aware merge did
    assert result.how == "fields"
    # the same addition made on both sides is not doubled
    both = merge_texts(BASE, ours, ours)
    assert [i["summary"] for i in data(both.text)["interactions"]].count("here") == 1


def test_a_removal_on_one_side_is_respected_and_an_addition_on_the_other_kept():
    ours = edit(BASE, '[[reminders]]\ndue = 2026-07-01\ntext = "Send renewal proposal"\n\n', "")
    theirs = BASE + '\n[[reminders]]\ndue = 2026-08-01\ntext = "Birthday card"\n'
    result = merge_texts(BASE, ours, theirs)
    assert [r["text"] for r in data(result.text)["reminders"]] == ["Birthday card"]
    assert not result.conflicts


def test_an_entry_changed_on_both_sides_merges_field_by_field():
    ours = edit(BASE, 'text = "Send renewal proposal"', 'text = "Send renewal proposal"\ndone = 2026-06-10')
    theirs = edit(BASE, "due = 2026-07-01", "due = 2026-07-15")  # snoozed there, done here
    result = merge_texts(BASE, ours, theirs)
    assert data(result.text)["reminders"] == [
        {"due": data(theirs)["reminders"][0]["due"], "text": "Send renewal proposal",
         "done": data(ours)["reminders"][0]["done"]}]
    won = edit(BASE, 'status = "open"', 'status = "won"')
    priced = edit(BASE, "amount = 12000", "amount = 14000")
    deal = data(merge_texts(BASE, won, priced).text)["deals"]
    assert deal == [{"title": "Q1 audit", "amount": 14000, "status": "won", "date": deal[0]["date"]}]


def test_a_deal_renamed_differently_on_both_sides_is_one_conflict_not_two_deals():
    ours = edit(BASE, 'title = "Q1 audit"', 'title = "Q1 audit (security)"')
    theirs = edit(BASE, 'title = "Q1 audit"', 'title = "Q1 compliance audit"')
    result = merge_texts(BASE, ours, theirs)
    merged = data(result.text)
    assert [d["title"] for d in merged["deals"]] == ["Q1 audit (security)"]  # the value is not doubled
    assert [c.key for c in result.conflicts] == ["deals"]
    # Renamed on one side only: the rename stands, still one deal.
    one = data(merge_texts(BASE, ours, BASE).text)["deals"]
    assert [d["title"] for d in one] == ["Q1 audit (security)"]
    # A genuinely new deal added there is still added.
    added = BASE + '\n[[deals]]\ntitle = "Workshop"\namount = 3000\nstatus = "won"\ndate = 2026-02-01\n'
    both = data(merge_texts(BASE, ours, added).text)["deals"]
    assert sorted(d["title"] for d in both) == ["Q1 audit (security)", "Workshop"]


def test_lists_of_texts_and_tables_merge_by_item_and_key():
    ours = edit(edit(BASE, 'tags = ["fintech"]', 'tags = ["fintech", "vip"]'),
                'linkedin = "https://www.linkedin.com/in/ana"',
                'linkedin = "https://www.linkedin.com/in/ana"\ngithub = "https://github.com/ana"')
    theirs = edit(edit(BASE, 'tags = ["fintech"]', 'tags = ["referral"]'),
                  'emails = ["ana@acme.example"]', 'emails = ["ana@acme.example", "ana@home.example"]')
    merged = data(merge_texts(BASE, ours, theirs).text)
    assert merged["tags"] == ["vip", "referral"]  # fintech removed there, vip added here
    assert merged["emails"] == ["ana@acme.example", "ana@home.example"]
    assert merged["links"] == {"linkedin": "https://www.linkedin.com/in/ana", "github": "https://github.com/ana"}


def test_the_same_key_changed_differently_is_a_conflict_that_keeps_both_values():
    ours = edit(BASE, 'company = "Acme Corp"', 'company = "Acme Inc"')
    theirs = edit(BASE, 'company = "Acme Corp"', 'company = "ACME Holding"')
    result = merge_texts(BASE, ours, theirs, handle="ana-lopez")
    merged = data(result.text)
    assert merged["company"] == "Acme Inc"  # ours stays in place: the record still reads
    assert merged["conflicts"] == [{"key": "company", "ours": "Acme Inc", "theirs": "ACME Holding"}]
    assert "crmtui resolve ana-lopez company --ours (or --theirs)" in result.text
    assert "<<<<<<<" not in result.text
    # a removal against a change: the removed side has no value
    gone = edit(BASE, 'title = "CTO"\n', "")
    changed = edit(BASE, 'title = "CTO"', 'title = "CEO"')
    assert data(merge_texts(BASE, gone, changed).text)["conflicts"] == [{"key": "title", "theirs": "CEO"}]


def test_comments_and_layout_of_both_sides_survive_a_line_merge():
    ours = edit(BASE, 'title = "CTO"', 'title = "CEO"          # since May')
    theirs = edit(BASE, 'stage = "customer"', 'stage = "customer"  # renewed\n# met at the fintech meetup')
    result = merge_texts(BASE, ours, theirs, line_merge=_git_merge(BASE, ours, theirs))
    assert result.how == "lines"
    assert "# since May" in result.text and "# met at the fintech meetup" in result.text


def test_crlf_and_bom_are_kept():
    base = "\ufeff" + BASE.replace("\n", "\r\n")
    ours = log(base.replace("\r\n", "\n"), "2026-06-01T10:00:00", "here").replace("\n", "\r\n")
    theirs = edit(base, 'title = "CTO"', 'title = "CEO"')
    result = merge_texts(base, ours, theirs)
    assert result.text.startswith("\ufeff") and "\n" not in result.text.replace("\r\n", "")
    assert data(result.text)["title"] == "CEO"


def test_a_record_added_on_both_sides_merges_against_an_empty_base():
    ours = 'name = "Ben"\ncompany = "B GmbH"\n'
    theirs = 'name = "Ben"\nphones = ["+49 1"]\n'
    merged = data(merge_texts("", ours, theirs).text)
    assert merged == {"name": "Ben", "company": "B GmbH", "phones": ["+49 1"]}


def test_a_side_that_does_not_parse_cannot_be_merged_by_meaning():
    with pytest.raises(Unmergeable):
        merge_texts(BASE, BASE + "\nbroken = \n", BASE)


def test_the_driver_writes_markers_and_fails_when_it_cannot_merge(tmp_path: Path):
    files = {}
    for side, text in (("base", BASE), ("ours", edit(BASE, 'title = "CTO"', 'title = ')),
                       ("theirs", edit(BASE, 'title = "CTO"', 'title = "CEO"'))):
        files[side] = tmp_path / side
        files[side].write_text(text, "utf-8")
    assert run_driver(str(files["base"]), str(files["ours"]), str(files["theirs"]), "customers/ana.toml") == 1
    assert "<<<<<<< ours" in files["ours"].read_text("utf-8")


def test_the_driver_runs_as_git_would_run_it(tmp_path: Path):
    paths = []
    for side, text in (("O", BASE), ("A", log(BASE, "2026-06-01T10:00:00", "here")),
                       ("B", log(BASE, "2026-06-02T10:00:00", "there"))):
        path = tmp_path / side
        path.write_text(text, "utf-8")
        paths.append(str(path))
    done = subprocess.run([sys.executable, "-m", "crmtui.storage.merge", *paths, "customers/ana-lopez.toml"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert len(data((tmp_path / "A").read_text("utf-8"))["interactions"]) == 3


def _git_merge(base: str, ours: str, theirs: str) -> str | None:
    from crmtui.storage.merge import git_line_merge
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        names = []
        for side, text in (("base", base), ("ours", ours), ("theirs", theirs)):
            path = Path(folder) / side
            path.write_text(text, "utf-8")
            names.append(str(path))
        return git_line_merge(*names)


def test_a_key_added_there_lands_where_that_side_wrote_it():
    ours = edit(BASE, 'stage = "customer"', 'stage = "former"')
    theirs = edit(BASE, 'company = "Acme Corp"\n', 'company = "Acme Corp"\npronouns = "she/her"\n')
    text = merge_texts(BASE, ours, theirs).text
    assert 'company = "Acme Corp"\npronouns = "she/her"\ntitle = "CTO"' in text
