"""The status line: book path, record count, problems, git state."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from crmtui.tui.fmt import safe


class StatusBar(Static):
    def show(self, path_label: str, records: int | None, problems: int,
             git_state: tuple[int | None, int | None, int | None]) -> None:
        pending, ahead, behind = git_state
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(" ▤ ", style="bold")
        line.append(safe(path_label))
        line.append("  ·  ")
        if records is None:
            line.append("reading the book…", style="italic")
        else:
            line.append(f"{records} record{'s' if records != 1 else ''}")
            line.append("  ·  ")
            if problems:
                line.append(f"{problems} problem{'s' if problems != 1 else ''} (p)", style="bold red")
            else:
                line.append("no problems", style="green")
        line.append("  ·  git: ")
        if pending is None:
            line.append("…", style="dim")
        elif pending:
            line.append(f"{pending} uncommitted outside edit{'s' if pending != 1 else ''}", style="bold yellow")
        else:
            line.append("all committed", style="green")
        if ahead:
            line.append(f"  ·  {ahead} to push (s)", style="yellow")
        if behind:
            line.append(f"  ·  {behind} to pull (s)", style="yellow")
        self.update(line)
