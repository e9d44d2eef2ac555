"""SVG snapshots of the report's dashboard at 80x24 (as it opens, and with the migration table
focused, its names beside it) and at 120x35 (two columns), on the backdated book of
tests/backdated.py, with a fixed now.

Update the baselines after an intended change with:
pytest --snapshot-update tests/tui/test_snapshots_dashboard.py
"""

from __future__ import annotations

from helpers import settle

from test_dashboard import dashboard_app, scenario, scenario_template  # noqa: F401 - the fixtures


def _before(*keys: str):
    async def run_before(pilot) -> None:
        app = pilot.app
        await settle(app, pilot)
        for key in ("o", *keys):
            await pilot.press(key)
            await settle(app, pilot)

    return run_before


def test_dashboard_80x24(snap_compare, dashboard_app):  # noqa: F811
    assert snap_compare(dashboard_app(), terminal_size=(80, 24), run_before=_before())


def test_dashboard_80x24_migration_table(snap_compare, dashboard_app):  # noqa: F811
    assert snap_compare(dashboard_app(), terminal_size=(80, 24), run_before=_before("tab", "down", "left"))


def test_dashboard_120x35(snap_compare, dashboard_app):  # noqa: F811
    assert snap_compare(dashboard_app(), terminal_size=(120, 35), run_before=_before())
