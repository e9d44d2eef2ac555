"""Render the README's screenshot: the TUI on a fresh demo book, headless.

    .venv/bin/python scripts/screenshot.py [docs/screenshot.svg]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from crmtui.demo import build_demo
from crmtui.tui.app import CrmApp

NOW = datetime(2026, 6, 15, 9, 30)


async def render(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = build_demo(Path(tmp) / "demo", today=NOW.date())
        app = CrmApp(root, now=lambda: NOW, path_label="~/crm", testing=True, poll_interval=None)
        async with app.run_test(size=(120, 34)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            await pilot.press("slash", *"ana", "enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            out.write_text(app.export_screenshot(title="crmtui"), "utf-8")


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshot.svg")
    asyncio.run(render(target))
    print(f"wrote {target}")
