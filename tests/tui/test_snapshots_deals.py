"""SVG snapshots of the deals screens: the pipeline at 80x24 and 120x35, the new-deal form at 80x24.
A fixed now (conftest.NOW) and fixed git dates keep them stable.

Update the baselines after an intended change with: pytest --snapshot-update tests/tui/test_snapshots_deals.py
"""

from __future__ import annotations

from helpers import settle

from conftest import NOW
from crmtui.service import Service


def _before(*keys: str):
    async def run_before(pilot) -> None:
        app = pilot.app
        await settle(app, pilot)
        for key in keys:
            await pilot.press(key)
            await settle(app, pilot)

    return run_before


def _deals(book) -> None:
    """Open deals in every stage, one past its expected close, one at a stage crm.toml does not list."""
    s = Service.open(book, now=lambda: NOW)
    s.add_deal("ben-schmidt", "Data platform phase 2", 45000, cost=5000, stage="proposal", close="2026-09-30")
    s.add_deal("chen-jing", "Factory data lake design (Nagoya)", 38000, stage="negotiation", close="2026-07-15")
    s.add_deal("dora-lead", "Cost review", 12000, stage="lead", close="2026-06-20")
    path = book / "customers" / "dora-lead.toml"
    path.write_text(path.read_text("utf-8").replace("close = 2026-06-20", "close = 2026-06-01"), "utf-8")
    s.add_deal("ana-lopez", "Pilot", 2500, stage="lead")
    path = book / "customers" / "ana-lopez.toml"
    path.write_text(path.read_text("utf-8").replace('stage = "lead"', 'stage = "pilot phase"'), "utf-8")
    s.settle_outside_edits()


def test_pipeline_80x24(snap_compare, make_app, book):
    _deals(book)
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_before("P"))


def test_pipeline_120x35(snap_compare, make_app, book):
    _deals(book)
    assert snap_compare(make_app(), terminal_size=(120, 35), run_before=_before("P", "down"))


def test_deal_form_80x24(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=(80, 24),
                        run_before=_before("down", "dollar_sign", "X", "tab", "n", "a", "n", "enter"))
