"""Views: reminders (done, snooze, jump), tiers, history (diff, restore), problems, palette, help, sync."""

from __future__ import annotations

from helpers import detail_text, list_handles, settle, static_text, status_text
from textual.widgets import DataTable, OptionList

from conftest import git_log, git_status
from crmtui.tui.screens.confirm import ConfirmScreen
from crmtui.tui.screens.help import HelpScreen
from crmtui.tui.screens.history import HistoryScreen
from crmtui.tui.screens.main import MainScreen
from crmtui.tui.screens.problems import ProblemsScreen
from crmtui.tui.screens.reminders import RemindersScreen
from crmtui.tui.screens.snooze import SnoozeScreen
from crmtui.tui.screens.tiers import TiersScreen
from crmtui.tui.widgets.pyramid import Pyramid


def _highlight(screen: RemindersScreen, text: str) -> None:
    option_list = screen.query_one(OptionList)
    key = next(k for k, item in screen.items.items() if item.text == text)
    option_list.highlighted = option_list.get_option_index(key)


async def test_reminders_buckets_and_done(make_app, book):
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        await pilot.press("r")
        screen = app.screen
        assert isinstance(screen, RemindersScreen)
        prompts = [str(screen.query_one(OptionList).get_option_at_index(i).prompt)
                   for i in range(screen.query_one(OptionList).option_count)]
        headers = [p for p in prompts if not p.startswith("  ")]
        assert headers == ["Losing touch · past the maximum, longest first (1)", "Overdue (1)", "Today (1)",
                           "This week (2)", "Later (next 14 days) (1)"]  # crm.toml's due_within: 14 days
        assert screen.current_item().text.startswith("Keep in touch")  # losing touch first
        # d on a keep-in-touch item opens the log form (tests/tui/test_reminders_view.py); Escape: nothing written
        await pilot.press("d")
        await pilot.press("escape")
        assert git_log(book)[0].startswith("Log note")
        _highlight(screen, "Send the signed NDA")
        order = [item.text for item in screen.items.values()]
        following = order[order.index("Send the signed NDA") + 1]
        await pilot.press("d")
        await settle(app, pilot)
        assert screen.current_item().text == following  # the place in the list is kept
        text = (book / "customers" / "ana-lopez.toml").read_text("utf-8")
        assert "done = 2026-06-15" in text
        assert git_log(book)[0] == "Done: Send the signed NDA (Ana López)"
        assert "Send the signed NDA" not in [i.text for i in screen.items.values()]


async def test_snooze_by_a_week_and_to_a_typed_date(make_app, book):
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        await pilot.press("r")
        screen = app.screen
        _highlight(screen, "Follow up: Quarterly review")
        await pilot.press("z")
        assert isinstance(app.screen, SnoozeScreen)
        await pilot.press("1", "w", "enter")
        await settle(app, pilot)
        assert "due = 2026-06-22" in (book / "customers" / "ben-schmidt.toml").read_text("utf-8")
        assert git_log(book)[0] == "Snooze: Follow up: Quarterly review (Ben Schmidt) to 2026-06-22"
        assert app.screen is screen and screen.current_item().text == "Follow up: Quarterly review"
        await pilot.press("z")
        await pilot.press(*"2026-06-01", "enter")  # a past date is refused
        assert "after today" in static_text(app.screen.query_one("#until-error"))
        app.screen.query_one("#until").value = ""
        await pilot.press(*"2026-06-17", "enter")  # typed, 1s and 7s included (within due_within: still listed)
        await settle(app, pilot)
        assert "due = 2026-06-17" in (book / "customers" / "ben-schmidt.toml").read_text("utf-8")
        assert git_log(book)[0].endswith("to 2026-06-17")
        await pilot.press("z", "1", "d", "enter")
        await settle(app, pilot)
        assert "due = 2026-06-16" in (book / "customers" / "ben-schmidt.toml").read_text("utf-8")


async def test_reminder_jumps_to_the_customer(make_app):
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        await pilot.press("r")
        _highlight(app.screen, "Follow up: Quarterly review")  # within due_within (14 days)
        await pilot.press("enter")
        assert isinstance(app.screen, MainScreen)
        assert app.main_screen.selected == "ben-schmidt"
        assert "Ben Schmidt" in detail_text(app)


async def test_tiers_pyramid_members_and_disagreement(make_app):
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        await pilot.press("t")
        screen = app.screen
        assert isinstance(screen, TiersScreen)
        pyramid = screen.query_one(Pyramid)
        drawing = str(pyramid.render())
        assert "Platinum" in drawing and "64,000 EUR" in drawing and "-4,000 EUR" in drawing
        lines = drawing.splitlines()
        width = {name: next(l for l in lines if name in l).count("█") for name in ("Platinum", "Gold", "Lead")}
        assert width["Platinum"] > width["Gold"] == width["Lead"] > 0  # to scale: 2, 1 and 1 customers
        assert "Unranked (no won deal yet): 1" in drawing
        table = screen.query_one("#tier-members", DataTable)
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        assert [r[0] for r in rows] == ["Ben Schmidt", "Chen Jing"]
        assert rows[1][3].startswith("⚠ Platinum, computed Iron")
        await pilot.press("down")  # gold
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        assert [r[0] for r in rows] == ["Ana López"] and rows[0][3].startswith("⚠ Gold, computed")
        await pilot.press("tab", "enter")
        assert isinstance(app.screen, MainScreen) and app.main_screen.selected == "ana-lopez"


async def test_history_diff_and_restore(make_app, book):
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *"ana", "enter", "h")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        subjects = [e.commit.subject for e in screen.entries]
        assert subjects == ["Edit Ana López: +1 reminder, +2 deals", "Log email with Ana López",
                            "Log call with Ana López", "Add Ana López"]
        assert screen.entries[0].phrases == ("+1 reminder", "+2 deals")
        diff = static_text(screen.query_one("#diff"), width=120)
        assert "+title = \"Q1 audit\"" in diff
        await pilot.press("down", "down")  # "Log call": the version with one interaction
        await settle(app, pilot)
        assert '+summary = "First call about the audit"' in static_text(screen.query_one("#diff"), width=120)
        await pilot.press("R")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert app.screen is screen and git_log(book)[0].startswith("Log note")
        await pilot.press("R", "y")
        await settle(app, pilot)
        assert git_log(book)[0].startswith("Restore Ana López to the version of 2026-06-15 09:00")
        text = (book / "customers" / "ana-lopez.toml").read_text("utf-8")
        assert "First call about the audit" in text and "Sent the proposal" not in text
        assert git_status(book) == ""
        assert screen.entries[0].commit.subject.startswith("Restore Ana López")
        await pilot.press("b")  # the whole book's feed
        await settle(app, pilot)
        assert len({e.path for e in screen.entries}) > 2


async def test_problems_view_and_external_changes(make_app, book):
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *"ben", "enter")
        (book / "customers" / "broken.toml").write_text('name = "Broken"\ntags = [oops\n', "utf-8")
        path = book / "customers" / "chen-jing.toml"
        path.write_text(path.read_text("utf-8").replace("Lianhe Electronics", "Lianhe Group"), "utf-8")
        app.check_for_changes()
        await settle(app, pilot)
        assert "1 problem" in status_text(app) and "2 uncommitted outside edits" in status_text(app)
        assert app.main_screen.selected == "ben-schmidt"  # selection and search survive
        assert app.main_screen.query_one("#search").value == "ben"
        assert list_handles(app) == ["ben-schmidt"]
        await pilot.press("p")
        screen = app.screen
        assert isinstance(screen, ProblemsScreen)
        assert screen.paths == ["customers/broken.toml"]
        problem = app.reader.problems[0]
        assert (problem.line, problem.col) == (2, 9) or problem.line == 2
        prompt = str(screen.query_one(OptionList).get_option_at_index(0).prompt)
        assert f"line {problem.line}, column {problem.col}" in prompt


async def test_external_change_appears_by_itself_within_two_seconds(make_app, book):
    app = make_app(poll_interval=0.2)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *"chen", "enter")
        first = app.reader
        path = book / "customers" / "chen-jing.toml"
        path.write_text(path.read_text("utf-8").replace("Lianhe Electronics", "Lianhe Group"), "utf-8")
        for _ in range(40):  # up to 2 s, checked every 50 ms
            await pilot.pause(0.05)
            if app.reader is not first and "Lianhe Group" in detail_text(app):
                break
        assert "Lianhe Group" in detail_text(app)
        assert app.main_screen.selected == "chen-jing"


async def test_command_palette_jumps_to_a_customer_and_runs_actions(make_app):
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p", *"dora")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.main_screen.selected == "dora-lead"
        await pilot.press("ctrl+p", *"reminders")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, RemindersScreen)


async def test_help_sync_and_view_switching(make_app):
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape", "f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape", "s")
        await settle(app, pilot)
        assert any("Syncing with the remote" in n.message for n in app._notifications)  # then its result
        await pilot.press("r", "t", "p")  # a view replaces another view
        assert isinstance(app.screen, ProblemsScreen) and len(app.screen_stack) == 2
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_keys_can_be_remapped_by_id(make_app, tmp_path):
    config = tmp_path / "home" / ".config" / "crmtui"
    config.mkdir(parents=True)
    (config / "config.toml").write_text('[keys]\n"crmtui.tiers" = "T"\n', "utf-8")
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        await pilot.press("t")
        assert isinstance(app.screen, MainScreen)
        await pilot.press("T")
        assert isinstance(app.screen, TiersScreen)
