"""SVG snapshots of every screen at 100x32 (and the main screen at 80x24), with a fixed now.

Update the baselines after an intended change with: pytest --snapshot-update tests/tui
"""

from __future__ import annotations

from helpers import settle

SIZE = (100, 32)


def _before(*keys: str, setup=None):
    async def run_before(pilot) -> None:
        app = pilot.app
        await settle(app, pilot)
        if setup is not None:
            setup(app)
        for key in keys:
            await pilot.press(key)
            await settle(app, pilot)

    return run_before


def test_main_screen(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_before("down"))


def test_main_screen_80x24(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_before("down"))


def test_main_screen_hostile_text(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_before())


def test_search(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_before("slash", "c", "h"))


def test_log_form(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=SIZE,
                        run_before=_before("slash", "b", "e", "n", "enter", "l", "H", "i", "tab", "1", "4", "d"))


def test_log_form_80x24(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_before("down", "l", "enter"))


def test_new_customer_form_with_errors(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=SIZE,
                        run_before=_before("n", "tab", "tab", "x", "tab", "tab", "tab", "9", "9", "enter"))


def test_reminders(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_before("r"))


def test_tiers(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_before("t"))


def test_tiers_80x24(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_before("t", "down"))


def test_history(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_before("down", "h"))


def test_problems(snap_compare, make_app, book):
    (book / "customers" / "broken.toml").write_text('name = "Broken"\ntags = [oops\n', "utf-8")
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_before("p"))


def test_help(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_before("question_mark"))


def test_main_screen_120x35(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=(120, 35), run_before=_before("down"))


def test_tiers_120x35(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=(120, 35), run_before=_before("t", "down"))
