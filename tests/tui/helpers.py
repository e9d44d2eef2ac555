"""Small helpers for the Pilot tests."""

from __future__ import annotations

import io

from rich.console import Console


async def settle(app, pilot, rounds: int = 3) -> None:
    """Wait for the workers (and the workers their messages start) to finish."""
    for _ in range(rounds):
        await app.workers.wait_for_complete()
        await pilot.pause()


def plain(renderable, width: int = 100) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None, legacy_windows=False)
    console.print(renderable)
    return console.file.getvalue()


def static_text(widget, width: int = 100) -> str:
    return plain(widget.content, width)


def list_names(app) -> list[str]:
    from crmtui.tui.widgets.customer_list import CustomerList

    table = app.main_screen.query_one(CustomerList)
    return [table.get_row_at(i)[0].plain for i in range(table.row_count)]


def detail_text(app) -> str:
    return static_text(app.main_screen.query_one("#detail-body"))


def status_text(app) -> str:
    return static_text(app.screen.query_one("#status"))


def list_handles(app) -> list[str]:
    from crmtui.tui.widgets.customer_list import CustomerList

    return [row.handle for row in app.main_screen.query_one(CustomerList)._customer_rows]
