"""The report's dashboard (o, or the palette): retention, attention, the migration table and the
names of each cell, life cycle, referrals; on the backdated book of tests/backdated.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from helpers import plain, settle, static_text
from textual.widgets import DataTable, OptionList, Sparkline, Tree

from conftest import HOSTILE_NAME, NOW

sys.path.append(str(Path(__file__).parents[1]))  # tests/: the backdated books
from backdated import add_commits, record, scenario_book  # noqa: E402

from crmtui.tui.commands import ACTIONS  # noqa: E402
from crmtui.tui.screens.dashboard import DashboardScreen  # noqa: E402
from crmtui.tui.screens.main import MainScreen  # noqa: E402


@pytest.fixture(scope="session")
def scenario_template(tmp_path_factory) -> Path:
    root = scenario_book(tmp_path_factory.mktemp("dashboard") / "book")
    add_commits(root, [("2026-06-02T09:00:00", {"customers/hostile.toml": record(
        HOSTILE_NAME, stage="customer", referred_by="c2", interactions=[("2026-06-02T08:00:00", "note")])})])
    return root


@pytest.fixture
def scenario(scenario_template, tmp_path) -> Path:
    import shutil

    root = tmp_path / "scenario"
    shutil.copytree(scenario_template, root, symlinks=True)
    return root


@pytest.fixture
def dashboard_app(scenario):
    from crmtui.tui.app import create_app

    def factory():
        return create_app(scenario, now=lambda: NOW, path_label="book", testing=True, poll_interval=None)

    return factory


async def open_dashboard(app, pilot) -> DashboardScreen:
    await settle(app, pilot)
    await pilot.press("o")
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, DashboardScreen)
    assert screen.report is not None
    return screen


def cell_names(screen) -> list[str]:
    names = screen.query_one("#dash-names", OptionList)
    return [str(names.get_option_at_index(i).prompt) for i in range(names.option_count)]


async def test_the_dashboard_draws_every_part(dashboard_app):
    app = dashboard_app()
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await open_dashboard(app, pilot)
        title = static_text(screen.query_one("#view-title"), 120)
        assert "Report 2025-06-16 → 2026-06-15 · against 2024-06-16 → 2025-06-15" in title
        retention = static_text(screen.query_one("#dash-retention"), 120)
        assert "Retention 70%" in retention and "7 of 10 still active" in retention
        assert "lost 3: Cust 7, Cust 8, Cust 9" in retention
        assert "churn 30%  3 of 10 customers (1 former, 1 removed, 1 silent)" in retention
        assert list(screen.query_one("#dash-spark", Sparkline).data)[:3] == [1, 0, 1]
        attention = static_text(screen.query_one("#dash-attention"), 120)
        assert "call 4  meeting 4  email 3  note 1" in attention and "Platinum & Gold in touch 50%" in attention
        life = static_text(screen.query_one("#dash-lifecycle"), 120)
        assert "5 · 66,000 EUR" in life and "2 ~91.5d" in life
        table = screen.query_one("#dash-migration", DataTable)
        assert [str(c) for c in table.ordered_columns[1].label.plain.split()] == ["Gold"]
        rows = [[plain(cell).strip() for cell in table.get_row_at(i)] for i in range(table.row_count)]
        assert rows == [["Gold", "·", "1", "·", "·"], ["Iron", "2", "1", "·", "·"],
                        ["Unranked", "·", "·", "6", "1"], ["Absent", "·", "1", "3", "·"]]


async def test_a_cell_gives_its_names_and_enter_goes_to_the_customer(dashboard_app):
    app = dashboard_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_dashboard(app, pilot)
        assert cell_names(screen) == ["Gold → Iron: 1", "Cust 3"]  # the first move is shown at once
        await pilot.press("tab")
        assert app.focused is screen.query_one("#dash-migration")
        await pilot.press("down", "left")  # Iron → Gold
        assert cell_names(screen) == ["Iron → Gold: 2", "Cust 0", "Cust 1"]
        await pilot.press("right")
        assert cell_names(screen) == ["Iron stayed: 1", "Cust 2"]
        await pilot.press("left", "enter")
        assert app.focused is screen.query_one("#dash-names")
        await pilot.press("down", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, MainScreen) and app.main_screen.selected == "c1"


async def test_referrals_as_a_tree_with_names_escaped(dashboard_app):
    app = dashboard_app()
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await open_dashboard(app, pilot)
        tree = screen.query_one("#dash-referrals", Tree)
        labels = []

        def walk(node, depth=0):
            for child in node.children:
                labels.append("  " * depth + child.label.plain)
                walk(child, depth + 1)

        walk(tree.root)
        assert labels == [
            "Cust 0  won 22,000 EUR  brought 2", "  Pros 1  won 1,000 EUR  brought 1", "    Pros 4", "  Pros 2",
            "Cust 2  won 3,000 EUR  brought 1", f"  {HOSTILE_NAME}",
            "ghost (not in the book)  brought 1", "  Cust 8",
        ]
        tree.focus()
        await pilot.pause()
        tree.move_cursor(tree.root.children[0].children[1])  # Pros 2
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, MainScreen) and app.main_screen.selected == "p2"


async def test_earlier_and_later_periods(dashboard_app):
    app = dashboard_app()
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_dashboard(app, pilot)
        await pilot.press("left_square_bracket")
        await settle(app, pilot)
        assert (str(screen.report.period.start), str(screen.report.period.end)) == ("2024-06-16", "2025-06-15")
        assert screen.report.retention.base == ()  # nobody before June 2023: the book began in 2024
        await pilot.press("left_square_bracket")
        await settle(app, pilot)
        assert str(screen.report.period.start) == "2024-01-10"  # not before the book began
        await pilot.press("right_square_bracket", "right_square_bracket")
        await settle(app, pilot)
        assert str(screen.report.period.end) == "2026-06-15"
        await pilot.press("right_square_bracket")
        await settle(app, pilot)
        assert str(screen.report.period.end) == "2026-06-15"
        assert any("latest period" in str(n.message) for n in app._notifications)


async def test_a_write_while_open_updates_the_figures(dashboard_app):
    app = dashboard_app()
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_dashboard(app, pilot)
        assert screen.report.attention.total == 12
        app.write("Logging", lambda service: service.log_interaction("c9", "back", kind="call",
                                                                      at="2026-06-15T08:00"))
        await settle(app, pilot, rounds=5)
        assert screen.report.attention.total == 13
        assert "c9" in screen.report.retention.retained


async def test_the_palette_and_the_help_name_it(dashboard_app):
    assert ("report", "(o)") == next((a, h[-3:]) for _, a, h in ACTIONS if a == "report")
    app = dashboard_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        await app.run_action("report")
        await settle(app, pilot)
        assert isinstance(app.screen, DashboardScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        from crmtui.tui.screens.help import help_table

        assert "The report over time" in plain(help_table(), 160)
