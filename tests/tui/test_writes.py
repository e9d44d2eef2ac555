"""Writes from the TUI: log, new customer, edit in $EDITOR; each checked on disk and in git."""

from __future__ import annotations

from helpers import detail_text, list_handles, settle, static_text

from conftest import git_log, git_status
from crmtui.tui.screens.log_form import LogForm
from crmtui.tui.screens.new_customer import NewCustomerForm
from crmtui.tui.screens.problems import ProblemsScreen
from textual.widgets import Select


async def test_log_a_call_with_follow_up_in_few_keystrokes(make_app, book):
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        before = len(git_log(book))
        summary = "Talked about the renewal"
        # "/" type the name, Enter, "l", type the summary, Tab, type 14d, Enter
        commands = ["slash", "enter", "l", "tab", "enter"]
        assert len(commands) + len("ben") + len("14d") <= 15  # plus the summary's text
        await pilot.press("slash", *"ben", "enter")
        await pilot.press("l")
        assert isinstance(app.screen, LogForm)
        assert app.screen.query_one("#kind", Select).value == "call"  # call is the default kind
        await pilot.press(*summary, "tab", *"14d", "enter")
        await settle(app, pilot)
        assert not isinstance(app.screen, LogForm)
        text = (book / "customers" / "ben-schmidt.toml").read_text("utf-8")
        assert 'summary = "Talked about the renewal"' in text
        assert 'kind = "call"' in text and "at = 2026-06-15T09:00:00" in text
        assert "due = 2026-06-29" in text and 'text = "Follow up: Talked about the renewal"' in text
        log = git_log(book)
        assert len(log) == before + 1 and log[0] == "Log call with Ben Schmidt"
        assert git_status(book) == ""
        # the timeline and reminders update at once
        detail = detail_text(app)
        timeline = detail[detail.index("Timeline (2)"):]
        assert timeline.index("Talked about the renewal") < timeline.index("Quarterly review")
        assert "2026-06-29" in detail


async def test_log_form_kind_key_and_validation(make_app, book):
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *"chen", "enter", "l")
        form = app.screen
        assert isinstance(form, LogForm)
        await pilot.press("enter")  # empty summary
        assert "summary is empty" in static_text(form.query_one("#summary-error"))
        await pilot.press(*"Sent slides", "tab", *"someday", "enter")
        assert "is not a date" in static_text(form.query_one("#follow_up-error"))
        await pilot.press(*["backspace"] * 7, *"3d ago", "enter")
        assert "in the past" in static_text(form.query_one("#follow_up-error"))
        assert isinstance(app.screen, LogForm)
        await pilot.press("ctrl+n")
        assert form.query_one("#kind", Select).value == "email"
        await pilot.press(*["backspace"] * 6, "enter")
        await settle(app, pilot)
        assert not isinstance(app.screen, LogForm)
        assert git_log(book)[0] == "Log email with Chen Jing"
        assert 'summary = "Sent slides"' in (book / "customers" / "chen-jing.toml").read_text("utf-8")


async def test_log_something_that_happened_earlier(make_app, book):
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *"chen", "enter", "l")
        form = app.screen
        form.query_one("#summary").value = "Met at the fair"
        form.query_one("#at").value = "tomorrow"
        await pilot.press("ctrl+s")
        assert "in the future" in static_text(form.query_one("#at-error"))
        form.query_one("#at").value = "2d ago"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert not isinstance(app.screen, LogForm)
        text = (book / "customers" / "chen-jing.toml").read_text("utf-8")
        assert 'at = 2026-06-13T09:00:00\nkind = "call"\nsummary = "Met at the fair"' in text


async def test_log_failure_from_the_service_shows_in_the_form(make_app, book):
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *"dora", "enter", "l")
        (book / "customers" / "dora-lead.toml").unlink()  # gone behind the app's back
        await pilot.press(*"Called", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, LogForm)
        assert "no longer exists" in static_text(app.screen.query_one("#form-error"))
        await pilot.press("escape")
        assert not isinstance(app.screen, LogForm)  # and the app keeps running


async def test_new_customer_with_validation(make_app, book):
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        form = app.screen
        assert isinstance(form, NewCustomerForm)
        await pilot.press("enter")
        assert "needs a name" in static_text(form.query_one("#name-error"))
        await pilot.press(*"Greta Lindqvist", "tab", *"Kestrel Partners", "tab", *"Head of Data")
        await pilot.press("tab", *"greta@kestrel")  # no domain ending: not plausible
        await pilot.press("tab", "tab", "tab", *"sometime", "enter")
        assert "does not look like an email" in static_text(form.query_one("#email-error"))
        assert "1984-03-12, or 03-12" in static_text(form.query_one("#birthday-error"))
        await pilot.press("backspace")  # editing a field clears its error
        assert static_text(form.query_one("#birthday-error")).strip() == ""
        form.query_one("#email").value = "greta@kestrel.example"
        form.query_one("#birthday").value = "03-12"
        form.query_one("#keep_in_touch").value = "2w"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert not isinstance(app.screen, NewCustomerForm)
        text = (book / "customers" / "greta-lindqvist.toml").read_text("utf-8")
        assert 'name = "Greta Lindqvist"' in text and 'company = "Kestrel Partners"' in text
        assert 'title = "Head of Data"' in text
        assert 'emails = ["greta@kestrel.example"]' in text and 'keep_in_touch = "2w"' in text
        assert git_log(book)[0] == "Add Greta Lindqvist"
        assert app.main_screen.selected == "greta-lindqvist"
        assert "greta-lindqvist" in list_handles(app)


async def test_edit_in_editor_commits_with_a_summary(make_app, book, editor):
    editor("path.write_text(text.replace('company = \"Acme Corp\"', 'company = \"Acme Global\"'), 'utf-8')\n")
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *"ana", "enter", "e")
        await settle(app, pilot)
        assert 'company = "Acme Global"' in (book / "customers" / "ana-lopez.toml").read_text("utf-8")
        assert git_log(book)[0] == "Edit Ana López: company: Acme Corp -> Acme Global"
        assert git_status(book) == ""
        assert "CTO · Acme Global" in detail_text(app)


async def test_edit_producing_a_broken_file_goes_to_problems_and_is_not_committed(make_app, book, editor):
    editor("path.write_text(text.replace('stage = \"customer\"', 'stage = customer oops'), 'utf-8')\n")
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        head = git_log(book)[0]
        await pilot.press("slash", *"ana", "enter", "e")
        await settle(app, pilot)
        assert isinstance(app.screen, ProblemsScreen)
        problems = app.reader.problems
        assert [p.path for p in problems] == ["customers/ana-lopez.toml"]
        assert problems[0].line > 1 and problems[0].col >= 1
        assert app.screen.current_path() == "customers/ana-lopez.toml"
        assert git_log(book)[0] == head
        assert git_status(book).strip() == "M customers/ana-lopez.toml"
        assert "1 problem" in static_text(app.screen.query_one("#status"))
        # the main screen keeps the broken record in view and says why
        await pilot.press("escape")
        assert app.main_screen.selected == "ana-lopez"
        assert "ana-lopez.toml does not parse" in detail_text(app)
        await pilot.press("p")
        assert app.screen.current_path() == "customers/ana-lopez.toml"
        # the offer to edit again: fix it from the problems view
        editor("path.write_text(text.replace('stage = customer oops', 'stage = \"former\"'), 'utf-8')\n")
        await pilot.press("e")
        await settle(app, pilot)
        assert app.reader.problems == []
        assert git_log(book)[0] == "Edit Ana López: stage: customer -> former"
        assert git_status(book) == ""
        await pilot.press("escape")
        assert app.main_screen.selected == "ana-lopez" and "stage" not in detail_text(app).split("Stage")[0]
        assert "former" in detail_text(app)


def _burst(text: str):
    from textual import events

    names = {"/": "slash", " ": "space", "\t": "tab", "\r": "enter"}
    return [events.Key(names.get(ch, ch), None if ch in "\t\r" else ch) for ch in text]


async def test_log_typed_in_one_burst_lands_where_it_should(make_app, book):
    """A paste or a very fast typist: every key arrives before the app has reacted to the first."""
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        await pilot.press("r")  # start from a view: "/" comes back to the main screen
        for key in _burst("/ben\rlCoffee at the meetup\t2w\r"):
            app.post_message(key)
        await settle(app, pilot, rounds=5)
        text = (book / "customers" / "ben-schmidt.toml").read_text("utf-8")
        assert 'summary = "Coffee at the meetup"' in text and "due = 2026-06-29" in text
        assert git_log(book)[0] == "Log call with Ben Schmidt"
