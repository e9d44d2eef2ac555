"""Main screen: start, search, select, detail, status line, hostile text."""

from __future__ import annotations

import sys
from pathlib import Path

from helpers import detail_text, list_handles, list_names, settle, static_text, status_text

from crmtui.tui.widgets.customer_list import CustomerList
from crmtui.tui.widgets.search_box import SearchBox


async def test_start_lists_customers_by_name_with_status(make_app):
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        # by name, as the search index sorts them (a leading "[" sorts first)
        assert list_handles(app) == ["bold-red-x-evil", "ana-lopez", "ben-schmidt", "chen-jing", "dora-lead"]
        assert list_names(app)[1:] == ["Ana López", "Ben Schmidt", "Chen Jing", "Dora Lead"]
        status = status_text(app)
        assert "book" in status and "5 records" in status and "no problems" in status
        assert "all committed" in status
        assert "5 customers" in static_text(app.main_screen.query_one("#list-count"))
        assert app.main_screen.selected == "bold-red-x-evil"
        assert isinstance(app.focused, CustomerList)


async def test_search_filters_live_best_first_and_escape_clears(make_app):
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash")
        assert isinstance(app.focused, SearchBox)
        await pilot.press(*"schm")
        assert list_names(app) == ["Ben Schmidt"]
        assert app.main_screen.selected == "ben-schmidt"
        assert "1 match of 5" in static_text(app.main_screen.query_one("#list-count"))
        await pilot.press("backspace", "backspace", "backspace", "backspace", *"c")
        names = list_names(app)
        assert names[0] == "Chen Jing"  # a word prefix beats a substring
        await pilot.press("down")  # arrows move through the results from the search box
        assert app.main_screen.selected == app.main_screen.query_one(CustomerList).current_handle
        assert app.main_screen.selected != "chen-jing"
        await pilot.press("up", "enter")
        assert isinstance(app.focused, CustomerList)
        assert app.main_screen.selected == "chen-jing"
        await pilot.press("slash", "escape")
        assert app.main_screen.query_one(SearchBox).value == ""
        assert len(list_names(app)) == 5
        assert app.main_screen.selected == "chen-jing"  # the selection survives clearing


async def test_detail_shows_profile_tier_deals_reminders_and_timeline_newest_first(make_app):
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        await pilot.press("down")
        assert app.main_screen.selected == "ana-lopez"
        text = detail_text(app)
        assert "Ana López" in text and "CTO · Acme Corp" in text
        assert "Gold" in text and "computed: Iron" in text  # override and computed tier
        assert "9,000 EUR" in text  # value: 12000 - 3000
        assert "Renewal 2027" in text and "20,000 EUR" in text  # open deal
        assert "Send the signed NDA" in text and "Birthday" in text
        assert text.index("Sent the proposal") < text.index("First call about the audit")


async def test_hostile_text_is_shown_literally(make_app):
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *"evil", "enter")
        await settle(app, pilot)
        assert app.main_screen.selected == "bold-red-x-evil"
        assert list_handles(app) == ["bold-red-x-evil"]
        assert list_names(app)[0].startswith("[bold red]x[/]")
        text = detail_text(app)
        assert "[bold red]x[/] Evil" in text
        assert "[link=file:///etc/passwd]y[/]" in text
        assert "\\x1b[31mred\\x1b[0m" in text and "\x1b" not in text
        svg = app.export_screenshot()
        assert "etc/passwd" in svg and "\x1b" not in svg


def test_nothing_outside_tui_imports_textual():
    src = Path(__file__).resolve().parents[2] / "src" / "crmtui"
    offenders = [
        str(path.relative_to(src))
        for path in src.rglob("*.py")
        if "tui" not in path.relative_to(src).parts[:1]
        and any(line.lstrip().startswith(("import textual", "from textual")) for line in path.read_text().splitlines())
    ]
    assert offenders == []


def test_cli_path_does_not_load_textual(book):
    import subprocess

    code = ("import sys; from crmtui.cli import main; main(['--book', sys.argv[1], 'list']); "
            "assert 'textual' not in sys.modules, 'the CLI imported textual'")
    result = subprocess.run([sys.executable, "-c", code, str(book)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


async def test_a_big_book_shows_at_most_200_rows(make_app, book):
    for i in range(250):
        (book / "customers" / f"zz-person-{i:03d}.toml").write_text(f'name = "Zz Person {i:03d}"\n', "utf-8")
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        assert len(list_handles(app)) == 200
        assert "showing 200 of 255" in static_text(app.main_screen.query_one("#list-count"))
        assert "250 uncommitted outside edits" in status_text(app)
        await pilot.press("slash", *"person 249")
        assert list_handles(app)[0] == "zz-person-249"
        await pilot.press("escape")
        # a customer beyond the first 200 rows is still reachable (the command palette's jump)
        app.jump_to("zz-person-230")
        await pilot.pause()
        assert app.main_screen.selected == "zz-person-230"
        assert "Zz Person 230" in detail_text(app)
