"""Deals from the keyboard: $ adds one, w wins and L loses the selected customer's deal (a picker
when several are open), P opens the pipeline; each write checked on disk and in git."""

from __future__ import annotations

import tomllib

from helpers import detail_text, settle, static_text
from textual.widgets import OptionList

from conftest import NOW, git_log, git_status
from crmtui.service import Service
from crmtui.tui.screens.confirm import ConfirmScreen
from crmtui.tui.screens.deal_form import DealForm
from crmtui.tui.screens.deal_picker import DealPicker
from crmtui.tui.screens.pipeline import PipelineScreen


def add_greta(book) -> None:
    """Greta: iron by the numbers (a won workshop), with one open deal worth gold."""
    s = Service.open(book, now=lambda: NOW)
    s.add_customer("Greta Lindqvist", company="Kestrel Pay AB", stage="customer")
    s.add_deal("greta-lindqvist", "Fraud-detection workshop", 7500, cost=1800)
    s.win_deal("greta-lindqvist", 0, "2026-02-18")
    s.add_deal("greta-lindqvist", "Streaming fraud features", 28000, stage="negotiation", close="2026-08-15")


def deals_of(book, handle: str) -> list[dict]:
    return tomllib.loads((book / "customers" / f"{handle}.toml").read_text("utf-8")).get("deals", [])


def prompts(screen) -> list[str]:
    option_list = screen.query_one(OptionList)
    return [str(option_list.get_option_at_index(i).prompt) for i in range(option_list.option_count)]


async def test_find_greta_and_mark_her_deal_won_in_few_keys(make_app, book):
    add_greta(book)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        before = len(git_log(book))
        # "/" greta Enter, w (her one open deal), y (yes): 4 keys beyond the search text
        keys = ["slash", "enter", "w", "y"]
        assert len(keys) <= 6
        await pilot.press("slash", *"greta", "enter")
        assert "Streaming fraud features" in detail_text(app)
        await pilot.press("w")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Tier iron → gold" in static_text(app.screen.query_one(".form-hint"))
        await pilot.press("y")
        await settle(app, pilot)
        log = git_log(book)
        assert len(log) == before + 1
        assert log[0] == "Won Streaming fraud features (28,000 EUR) with Greta Lindqvist; tier iron → gold"
        won = deals_of(book, "greta-lindqvist")[1]
        assert (won["status"], str(won["date"]), str(won["close"])) == ("won", "2026-06-15", "2026-08-15")
        assert git_status(book) == ""
        detail = detail_text(app)
        assert "Gold" in detail and "33,700 EUR" in detail  # 5,700 + 28,000: the value and tier at once


async def test_several_open_deals_ask_which_and_escape_changes_nothing(make_app, book):
    Service.open(book, now=lambda: NOW).add_deal("ana-lopez", "Training days", 4000, stage="proposal")
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        before = git_log(book)
        await pilot.press("slash", *"ana", "enter", "w")
        picker = app.screen
        assert isinstance(picker, DealPicker)
        lines = prompts(picker)
        assert [line.split("  ")[0] for line in lines] == ["Renewal 2027", "Training days"]
        assert "tier" in lines[0] and "→" in lines[0]
        await pilot.press("escape")
        assert not isinstance(app.screen, DealPicker) and git_log(book) == before
        await pilot.press("L")
        assert isinstance(app.screen, DealPicker)
        await pilot.press("down", "enter")  # choosing is the answer
        await settle(app, pilot)
        assert git_log(book)[0] == "Lost Training days with Ana López"
        deals = deals_of(book, "ana-lopez")
        assert [d["status"] for d in deals] == ["won", "open", "lost"]
        # one open deal left: w asks yes/no, and n says no
        await pilot.press("w")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(app, pilot)
        assert git_log(book)[0] == "Lost Training days with Ana López"


async def test_add_a_deal_from_the_form(make_app, book):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        before = git_log(book)[0]
        await pilot.press("slash", *"ben", "enter", "dollar_sign")
        form = app.screen
        assert isinstance(form, DealForm)
        await pilot.press(*"Phase 2", "tab", *"nan", "enter")
        assert "not a number a book can hold" in static_text(form.query_one("#amount-error"))
        await pilot.press("backspace", "backspace", "backspace", *"45000", "tab", "tab", *"yesterday", "enter")
        assert "in the past" in static_text(form.query_one("#close-error"))
        assert isinstance(app.screen, DealForm) and git_log(book)[0] == before
        form.query_one("#close").value = "2026-09-30"
        form.query_one("#cost").value = "5000"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert not isinstance(app.screen, DealForm)
        assert git_log(book)[0] == "Add deal Phase 2 (45,000 EUR) for Ben Schmidt"
        deal = deals_of(book, "ben-schmidt")[-1]
        assert deal == {"title": "Phase 2", "amount": 45000, "cost": 5000, "status": "open",
                        "stage": "lead", "close": tomllib.loads("d = 2026-09-30")["d"]}
        detail = detail_text(app)
        assert "Deals (1 open)" in detail and "Phase 2" in detail and "45,000 EUR" in detail


async def test_a_customer_without_deals_says_how_to_add_one(make_app, book):
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *"ben", "enter")
        assert "no deals yet; press $ to add one" not in detail_text(app)  # Ben has a won deal
        assert "Data platform" in detail_text(app) and "won 2026-02-01" in detail_text(app)
        await pilot.press("w")
        assert not isinstance(app.screen, ConfirmScreen)
        assert any("Ben Schmidt has no open deal" in str(n.message) for n in app._notifications)
        Service.open(book, now=lambda: NOW).add_customer("Nia New")
        app.load_book()
        await settle(app, pilot)
        await pilot.press("slash", *"nia", "enter")
        assert "no deals yet; press $ to add one" in detail_text(app)


async def test_the_pipeline_view_wins_the_chosen_deal_and_goes_to_the_customer(make_app, book):
    add_greta(book)
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        await pilot.press("P")
        screen = app.screen
        assert isinstance(screen, PipelineScreen)
        lines = prompts(screen)
        headers = [line.split("  ")[0] for line in lines if not line.startswith("  ")]
        assert headers == ["Lead", "Proposal", "Negotiation"]
        assert "Lead  1 deal · 20,000 EUR" in lines
        greta = next(line for line in lines if "Greta" in line)
        assert "Streaming fraud features" in greta and "28,000 EUR" in greta and "2026-08-15" in greta
        assert "IRON" in greta and "GOLD" in greta  # the tier now and if won
        assert "16,000" not in static_text(screen.query_one("#view-title"))
        assert "2 open deals · 48,000 EUR" in static_text(screen.query_one("#view-title"))
        # the cursor starts on the first deal (Ana's renewal, lead); down to Greta's
        assert screen.current_deal() == ("ana-lopez", 1)
        await pilot.press("down")
        assert screen.current_deal() == ("greta-lindqvist", 1)
        await pilot.press("w")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(app, pilot)
        assert git_log(book)[0].startswith("Won Streaming fraud features (28,000 EUR) with Greta Lindqvist")
        assert app.screen is screen and not any("Greta" in line for line in prompts(screen))
        assert screen.current_deal() == ("ana-lopez", 1)
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen is app.main_screen and app.main_screen.selected == "ana-lopez"


async def test_the_palette_opens_the_pipeline(make_app):
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p", *"pipeline")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, PipelineScreen)


async def test_text_from_files_in_deals_is_shown_not_obeyed(make_app, book):
    Service.open(book, now=lambda: NOW).add_deal("ana-lopez", "[bold red]x[/] \x1b[31mdeal", 10, stage="proposal")
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *"ana", "enter")
        assert "[bold red]x[/] \\x1b[31mdeal" in detail_text(app)
        await pilot.press("P")
        assert any("[bold red]x[/] \\x1b[31mdeal" in line for line in prompts(app.screen))
