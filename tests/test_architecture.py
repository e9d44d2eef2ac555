"""The shape of the house: who may import what."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).parents[1] / "src" / "crmtui"


def imports_of(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def offenders(folder: Path, forbidden: tuple[str, ...], skip: str | None = None) -> list[str]:
    found = []
    for path in folder.rglob("*.py"):
        if skip and skip in path.relative_to(SRC).parts:
            continue
        for name in imports_of(path):
            if name.split(".")[0] in forbidden or any(name.startswith(f + ".") or name == f for f in forbidden):
                found.append(f"{path.relative_to(SRC)} imports {name}")
    return found


def test_only_the_tui_imports_textual():
    assert offenders(SRC, ("textual", "rich"), skip="tui") == []


def test_the_domain_touches_no_files_git_or_ui():
    forbidden = ("os", "pathlib", "io", "subprocess", "shutil", "tempfile", "git", "tomlkit", "tomllib",
                 "textual", "crmtui.storage", "crmtui.service", "crmtui.cli", "crmtui.tui")
    assert offenders(SRC / "domain", forbidden) == []


def test_storage_knows_nothing_of_the_uis():
    assert offenders(SRC / "storage", ("textual", "crmtui.cli", "crmtui.tui", "crmtui.service")) == []


def test_reading_commands_do_not_load_textual_or_gitpython(tmp_path: Path):
    from crmtui.service import init_book

    init_book(tmp_path / "book")
    code = (
        "import sys; from crmtui.cli import main; main(['--book', sys.argv[1], 'list', '--json']);"
        "print(sorted(m for m in ('textual', 'git', 'rich') if m in sys.modules), file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "book")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "[]"
