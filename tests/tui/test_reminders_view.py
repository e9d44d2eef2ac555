"""The reminders view with the keyboard: d (done), z (snooze) and l (log) on every kind of row,
j to the next section, f to filter, the whole text at 80x24; m adds a reminder; the keep-in-touch
bands in the customer list; crm.toml's default_kind in the log form.

The book (conftest.py), today 2026-06-15, due_within 14 days:
  Losing touch  Chen Jing     keep in touch, 2 weeks (platinum), last 2026-04-02: maximum 04-23
  Overdue       Ana López     Send the signed NDA (06-10)
  Today         Ben Schmidt   Follow up: Quarterly review
  This week     Ana López     Birthday (42) on 06-17; Follow up: Sent the proposal (06-20)
  Later         Ben Schmidt   keep in touch, 2 weeks (platinum by value), last 06-15: 06-29
"""

from __future__ import annotations

from helpers import settle, static_text
from textual.widgets import Input, OptionList, Select

from conftest import git_log, git_status
from crmtui.domain.reminders import BIRTHDAY, KEEP_IN_TOUCH, REMINDER
from crmtui.tui.screens.log_form import LogForm
from crmtui.tui.screens.remind_form import RemindForm
from crmtui.tui.screens.reminders import RemindersScreen
from crmtui.tui.screens.snooze import SnoozeScreen
from crmtui.tui.widgets.customer_list import CustomerList

LONG = ("Send Ana the revised statement of work for the data platform retainer, with the three options "
        "we discussed on Tuesday and the travel costs broken out per quarter")


async def open_view(app, pilot) -> RemindersScreen:
    await settle(app, pilot)
    await pilot.press("r")
    await settle(app, pilot)
    assert isinstance(app.screen, RemindersScreen)
    return app.screen


async def highlight(pilot, screen: RemindersScreen, handle: str, kind: str, text: str | None = None) -> None:
    option_list = screen.query_one(OptionList)
    key = next(k for k, item in screen.items.items()
               if item.handle == handle and item.kind == kind and (text is None or item.text == text))
    option_list.highlighted = option_list.get_option_index(key)
    await pilot.pause()  # the detail line follows the highlight


def headers(screen: RemindersScreen) -> list[str]:
    option_list = screen.query_one(OptionList)
    return [str(option_list.get_option_at_index(i).prompt) for i in range(option_list.option_count)
            if option_list.get_option_at_index(i).disabled]


def rows(screen: RemindersScreen) -> list[tuple[str, str]]:
    return [(item.handle, item.kind) for item in screen.items.values()]


def detail(screen: RemindersScreen, width: int = 200) -> str:
    return " ".join(static_text(screen.query_one("#reminder-detail"), width).split())


def record(book, handle: str) -> str:
    return (book / "customers" / f"{handle}.toml").read_text("utf-8")


# ---- d ---------------------------------------------------------------------------------------

async def test_done_on_a_reminder_marks_it_done(make_app, book):
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_view(app, pilot)
        await highlight(pilot, screen, "ana-lopez", REMINDER, "Send the signed NDA")
        assert "d marks it done" in detail(screen)
        await pilot.press("d")
        await settle(app, pilot)
        assert git_log(book)[0] == "Done: Send the signed NDA (Ana López)"
        assert 'text = "Send the signed NDA"\ndone = 2026-06-15' in record(book, "ana-lopez")
        assert "Send the signed NDA" not in [item.text for item in screen.items.values()]


async def test_done_on_keep_in_touch_logs_that_you_got_in_touch(make_app, book):
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_view(app, pilot)
        assert screen.current_item().kind == KEEP_IN_TOUCH  # losing touch comes first
        assert "Losing touch" in headers(screen)[0]
        assert "d logs how you got in touch" in detail(screen) and "past the maximum" in detail(screen)
        await pilot.press("d")
        form = app.screen
        assert isinstance(form, LogForm)
        assert "Done: log how you got in touch with Chen Jing" in static_text(form.query_one(".form-title"))
        assert form.query_one("#summary", Input).value == "Got in touch"
        assert form.query_one("#kind", Select).value == "call"  # crm.toml's default_kind
        await pilot.press("enter")  # the prefilled summary, as it is
        await settle(app, pilot)
        assert app.screen is screen
        assert git_log(book)[0] == "Log call with Chen Jing"
        assert 'summary = "Got in touch"' in record(book, "chen-jing")
        chen = next(i for i in screen.items.values() if i.handle == "chen-jing")
        assert (chen.due.isoformat(), chen.band, chen.section(screen.today)) == ("2026-06-29", None, "later")
        assert not any("Losing touch" in h for h in headers(screen))  # the clock restarted
        assert git_status(book) == ""


async def test_done_on_keep_in_touch_can_say_how(make_app, book):
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await open_view(app, pilot)
        await pilot.press("d", *"Lunch in Shenzhen", "ctrl+n", "ctrl+n", "enter")  # typing replaces the prefill
        await settle(app, pilot)
        assert git_log(book)[0] == "Log meeting with Chen Jing"
        assert 'summary = "Lunch in Shenzhen"' in record(book, "chen-jing")


async def test_done_on_a_birthday_logs_the_wishes_and_the_row_goes(make_app, book):
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_view(app, pilot)
        await highlight(pilot, screen, "ana-lopez", BIRTHDAY)
        assert "d logs your wishes" in detail(screen)
        await pilot.press("d")
        form = app.screen
        assert isinstance(form, LogForm)
        assert form.query_one("#summary", Input).value == "Birthday wishes"
        assert form.query_one("#kind", Select).value == "message"
        await pilot.press("enter")
        await settle(app, pilot)
        text = record(book, "ana-lopez")
        assert "birthday_snoozed_until = 2026-06-18" in text and 'summary = "Birthday wishes"' in text
        assert git_log(book)[0] == "Log message with Ana López"  # one commit for both
        assert ("ana-lopez", BIRTHDAY) not in rows(screen)


async def test_escape_in_the_done_form_writes_nothing(make_app, book):
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_view(app, pilot)
        before = git_log(book)
        await pilot.press("d", "escape")
        await settle(app, pilot)
        assert app.screen is screen and git_log(book) == before


# ---- z ---------------------------------------------------------------------------------------

async def test_snooze_on_keep_in_touch_writes_the_key_and_hides_the_row(make_app, book):
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_view(app, pilot)
        await pilot.press("z")
        assert isinstance(app.screen, SnoozeScreen)
        assert "keep in touch with Chen Jing" in static_text(app.screen.query_one(".form-title"))
        await pilot.press("1", "w", "enter")
        await settle(app, pilot)
        assert "keep_in_touch_snoozed_until = 2026-06-22\n" in record(book, "chen-jing")
        assert git_log(book)[0] == "Snooze: Keep in touch (Chen Jing) to 2026-06-22"
        assert ("chen-jing", KEEP_IN_TOUCH) not in rows(screen)
        # the customer list no longer colours her as lapsed while snoozed
        await pilot.press("escape")
        await settle(app, pilot)
        bands = {r.handle: r.band for r in app.main_screen.query_one(CustomerList)._customer_rows}
        assert bands["chen-jing"] is None


async def test_snooze_on_a_birthday_and_on_a_reminder(make_app, book):
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_view(app, pilot)
        await highlight(pilot, screen, "ana-lopez", BIRTHDAY)
        await pilot.press("z", *"2026-06-20", "enter")  # after the birthday: refused, said
        await settle(app, pilot)
        assert any("up to the day itself" in str(n.message) for n in app._notifications)
        assert "birthday_snoozed_until" not in record(book, "ana-lopez")
        await highlight(pilot, screen, "ana-lopez", BIRTHDAY)
        await pilot.press("z", "1", "d", "enter")
        await settle(app, pilot)
        assert "birthday_snoozed_until = 2026-06-16" in record(book, "ana-lopez")
        assert ("ana-lopez", BIRTHDAY) not in rows(screen)
        await highlight(pilot, screen, "ben-schmidt", REMINDER)
        await pilot.press("z", "1", "d", "enter")
        await settle(app, pilot)
        assert git_log(book)[0] == "Snooze: Follow up: Quarterly review (Ben Schmidt) to 2026-06-16"


# ---- l and m ---------------------------------------------------------------------------------

async def test_log_on_every_kind_of_row(make_app, book):
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_view(app, pilot)
        for handle, kind, name in (("chen-jing", KEEP_IN_TOUCH, "Chen Jing"), ("ana-lopez", BIRTHDAY, "Ana López"),
                                   ("ben-schmidt", REMINDER, "Ben Schmidt")):
            await highlight(pilot, screen, handle, kind)
            await pilot.press("l")
            await settle(app, pilot)
            assert isinstance(app.screen, LogForm), kind
            assert f"Log an interaction with {name}" in static_text(app.screen.query_one(".form-title"))
            await pilot.press("escape")
        await highlight(pilot, screen, "ben-schmidt", REMINDER)
        await pilot.press("l", *"Called about the review", "enter")
        await settle(app, pilot)
        assert git_log(book)[0] == "Log call with Ben Schmidt" and app.screen is screen


async def test_m_adds_a_reminder_from_the_main_screen_and_the_view(make_app, book):
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *"ben", "enter", "m")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, RemindForm)
        assert "Remind me about Ben Schmidt" in static_text(form.query_one(".form-title"))
        await pilot.press(*"Send the invoice", "enter")  # no date yet: said, nothing written
        assert "Say when" in static_text(form.query_one("#when-error"))
        await pilot.press("tab", *"yesterday", "enter")
        assert "in the past" in static_text(form.query_one("#when-error"))
        form.query_one("#when", Input).value = "2w"
        await pilot.press("tab", *"often", "enter")
        assert "not a duration" in static_text(form.query_one("#every-error"))
        form.query_one("#every", Input).value = "1m"
        await pilot.press("enter")
        await settle(app, pilot)
        assert git_log(book)[0] == "Remind: Send the invoice (Ben Schmidt) on 2026-06-29"
        assert 'text = "Send the invoice"\nevery = "1m"' in record(book, "ben-schmidt")
        screen = await open_view(app, pilot)
        await highlight(pilot, screen, "chen-jing", KEEP_IN_TOUCH)
        await pilot.press("m", *"Ask about the workshop", "tab", *"3d", "enter")
        await settle(app, pilot)
        assert git_log(book)[0] == "Remind: Ask about the workshop (Chen Jing) on 2026-06-18"
        assert ("chen-jing", REMINDER) in rows(screen)


# ---- moving, filtering -----------------------------------------------------------------------

async def test_j_jumps_to_the_first_row_of_the_next_section(make_app):
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_view(app, pilot)
        seen = [screen.current_item().section(screen.today)]
        for _ in range(5):
            await pilot.press("j")
            seen.append(screen.current_item().section(screen.today))
        assert seen == ["losing-touch", "overdue", "today", "week", "later", "losing-touch"]
        await pilot.press("j", "j", "j")
        assert (screen.current_item().handle, screen.current_item().kind) == ("ana-lopez", BIRTHDAY)


async def test_f_filters_the_rows_as_you_type(make_app, book):
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_view(app, pilot)
        everything = rows(screen)
        await pilot.press("f", *"ana")  # letters that are keys elsewhere (a, n) are text here
        assert {handle for handle, _ in rows(screen)} == {"ana-lopez"}
        assert headers(screen) == ["Overdue (1)", "This week (2)"]
        assert "3 of 6 match" in static_text(screen.query_one("#view-title"))
        await pilot.press("space", *"birthday")
        assert rows(screen) == [("ana-lopez", BIRTHDAY)]
        await pilot.press("enter", "d")  # back on the list: d acts on the row left
        assert isinstance(app.screen, LogForm) and app.screen.query_one("#summary", Input).value == "Birthday wishes"
        await pilot.press("escape")
        await pilot.press("f", "ctrl+u", *"lapsed")  # the band's word
        assert rows(screen) == [("chen-jing", KEEP_IN_TOUCH)]
        await pilot.press("ctrl+u", *"zzz")
        assert rows(screen) == []
        assert "Nothing matches 'zzz'" in str(screen.query_one(OptionList).get_option_at_index(0).prompt)
        await pilot.press("escape")  # clears the filter, back to the list; a second Escape leaves the view
        assert rows(screen) == everything and screen.query_one("#reminder-filter", Input).value == ""
        assert isinstance(screen.focused, OptionList)
        await pilot.press("escape")
        assert app.screen is app.main_screen
        assert git_log(book)[0].startswith("Log note")  # nothing written on the way


async def test_f_and_the_filter_in_one_burst(make_app, book):
    """A fast typist: "flog" lands in the box, the l does not open the log form."""
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_view(app, pilot)
        await pilot.press("f", "l", "a", "p", "s")
        assert app.screen is screen and screen.query_one("#reminder-filter", Input).value == "laps"


# ---- 80x24 -----------------------------------------------------------------------------------

async def test_at_80x24_the_whole_text_is_in_the_detail_line(make_app, book):
    path = book / "customers" / "ana-lopez.toml"
    path.write_text(path.read_text("utf-8") + f'\n[[reminders]]\ndue = 2026-06-12\ntext = "{LONG}"\n', "utf-8")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_view(app, pilot)
        await highlight(pilot, screen, "ana-lopez", REMINDER, LONG)
        await pilot.pause()
        assert LONG in detail(screen, width=78)  # wrapped over lines, every word there
        option_list = screen.query_one(OptionList)
        row = option_list.get_option_at_index(option_list.highlighted).prompt
        assert row.cell_len <= option_list.content_region.width  # the row itself: one line, clipped
        assert "…" in row.plain
        # every row, down to the last, is reachable and shows its text in full below
        for key, item in screen.items.items():
            option_list.highlighted = option_list.get_option_index(key)
            await pilot.pause()
            assert " ".join(item.text.split()) in detail(screen, width=78)


# ---- bands and defaults elsewhere ------------------------------------------------------------

async def test_the_customer_list_colours_names_by_band(make_app):
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        table = app.main_screen.query_one(CustomerList)
        bands = {r.handle: r.band for r in table._customer_rows}
        assert bands["chen-jing"] == "lapsed" and bands["ben-schmidt"] is None
        row = next(i for i, r in enumerate(table._customer_rows) if r.handle == "chen-jing")
        assert "red" in str(table.get_row_at(row)[0].style)


async def test_the_log_form_uses_crm_toml_default_kind(make_app, book):
    path = book / "crm.toml"
    path.write_text(path.read_text("utf-8").replace('default_kind = "call"', 'default_kind = "email"'), "utf-8")
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *"ben", "enter", "l")
        await settle(app, pilot)
        assert app.screen.query_one("#kind", Select).value == "email"
        await pilot.press(*"Sent the deck", "enter")
        await settle(app, pilot)
        assert git_log(book)[0] == "Log email with Ben Schmidt"
