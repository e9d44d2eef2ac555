"""The search box speaks the search language: filters as you type, a bad filter said under
the box, how many match, and the saved views of crm.toml in the command palette."""

from __future__ import annotations

from helpers import list_handles, settle, static_text

from crmtui.tui.widgets.search_box import SearchBox

# The book of tests/tui/conftest.py, on 2026-06-15: Ana (gold by her file, last call 06-01),
# Ben (platinum by the numbers, met today), Chen (platinum by his file, last 04-02),
# Dora (lead, never contacted) and a prospect with a hostile name (last note 06-14).


def count_text(app) -> str:
    return static_text(app.main_screen.query_one("#list-count"))


def problem(app) -> str | None:
    widget = app.main_screen.query_one("#search-problem")
    return static_text(widget).strip() if widget.display else None


async def type_query(app, pilot, text: str) -> None:
    await pilot.press("slash", *text)
    await app.catch_up()
    await pilot.pause()


async def test_filters_apply_as_you_type_and_say_how_many_match(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await type_query(app, pilot, "tier:platinum")
        assert list_handles(app) == ["ben-schmidt", "chen-jing"]
        assert "2 matches of 5" in count_text(app)
        assert problem(app) is None
        await pilot.press(*" chen")
        await pilot.pause()
        assert list_handles(app) == ["chen-jing"]
        assert "1 match of 5" in count_text(app)
        await pilot.press("escape")
        await type_query(app, pilot, "-stage:prospect last:>30d")
        assert list_handles(app) == ["chen-jing", "dora-lead"]  # Dora was never contacted
        await pilot.press("escape")
        await type_query(app, pilot, 'tag:fintech company:"acme corp"')
        assert list_handles(app) == ["ana-lopez"]
        await pilot.press("enter")
        assert app.main_screen.selected == "ana-lopez"


async def test_a_bad_filter_is_said_under_the_box_and_the_rest_still_lists(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await type_query(app, pilot, "tier:platinum teir:x")
        sentence = problem(app)
        assert sentence is not None
        assert "unknown filter 'teir:'" in sentence and "did you mean tier:?" in sentence
        assert list_handles(app) == ["ben-schmidt", "chen-jing"]  # what tier:platinum finds
        assert "bad filter left out" in count_text(app)
        await pilot.press(*["backspace"] * 7)  # back to "tier:platinum"
        await pilot.pause()
        assert problem(app) is None
        assert "2 matches of 5" in count_text(app)
        await pilot.press(*" last:soon")
        await pilot.pause()
        assert "'last:soon' needs > or <" in problem(app)
        await pilot.press("escape")
        assert problem(app) is None
        assert len(list_handles(app)) == 5


async def test_saved_views_are_in_the_command_palette(book, make_app):
    settings = book / "crm.toml"
    settings.write_text(settings.read_text("utf-8")
                        + '\n[views]\n"[b]losing[/b] touch" = "tier:gold,platinum last:>30d"\n', "utf-8")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p", *"losing")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(app, pilot)
        search = app.main_screen.query_one(SearchBox)
        assert search.value == "tier:gold,platinum last:>30d"
        assert app.focused is search  # to refine it
        assert list_handles(app) == ["chen-jing"]
        assert "1 match of 5" in count_text(app)
