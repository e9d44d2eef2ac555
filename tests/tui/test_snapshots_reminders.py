"""SVG snapshots of the reminders view (80x24 and 120x35), its filter, and the remind form.

Update the baselines after an intended change with:
pytest --snapshot-update tests/tui/test_snapshots_reminders.py
"""

from __future__ import annotations

from helpers import settle


def _before(*keys: str):
    async def run_before(pilot) -> None:
        app = pilot.app
        await settle(app, pilot)
        for key in keys:
            await pilot.press(key)
            await settle(app, pilot)

    return run_before


def test_reminders_80x24(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_before("r"))


def test_reminders_120x35(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=(120, 35), run_before=_before("r"))


def test_reminders_next_section_80x24(snap_compare, make_app):
    """j twice: the first row of Today, its whole text in the line under the list."""
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_before("r", "j", "j"))


def test_reminders_filtered_80x24(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_before("r", "f", "a", "n", "a"))


def test_remind_form_80x24(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_before("down", "m"))
