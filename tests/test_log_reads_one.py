"""`crmtui log FILE SUMMARY` reads that record and crm.toml, never the whole book: on a big
book reading every summary is most of a write's cost."""

from __future__ import annotations

import pytest

from crmtui.storage.book import Book


def test_log_by_file_name_reads_only_that_record(cli, book, monkeypatch):
    assert cli("add", "Ana López", "--company", "Acme")[0] == 0
    settings = book / "crm.toml"
    settings.write_text(settings.read_text("utf-8").replace('default_kind = "call"', 'default_kind = "meeting"'), "utf-8")
    monkeypatch.setattr(Book, "load", lambda *a, **k: pytest.fail("the whole book was read"))
    code, out, err = cli("log", "ana-lopez.toml", "Workshop")
    assert (code, err) == (0, "")
    # crm.toml's default kind was used, read from crm.toml alone
    assert out.strip() == "Logged meeting with Ana López"
    text = (book / "customers" / "ana-lopez.toml").read_text("utf-8")
    assert 'kind = "meeting"' in text and 'summary = "Workshop"' in text


def test_log_by_file_name_still_ends_a_keep_in_touch_snooze(cli, book, monkeypatch):
    assert cli("add", "Ana López", "--keep-in-touch", "30d")[0] == 0
    path = book / "customers" / "ana-lopez.toml"
    path.write_text(path.read_text("utf-8") + "keep_in_touch_snoozed_until = 2026-07-01\n", "utf-8")
    monkeypatch.setattr(Book, "load", lambda *a, **k: pytest.fail("the whole book was read"))
    code, _, err = cli("log", "ana-lopez", "Coffee")
    assert (code, err.count("Traceback")) == (0, 0)
    # the contact ends the snooze, in the same commit as the interaction
    assert "keep_in_touch_snoozed_until" not in path.read_text("utf-8")
