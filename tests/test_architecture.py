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


def test_the_tui_does_not_import_the_cli():
    """The CLI opens the TUI, never the other way round (the editor launch is crmtui.editor)."""
    found = []
    for path in (SRC / "tui").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            found += [f"{path.relative_to(SRC)} imports {name}" for name in names
                      if name == "crmtui.cli" or name.startswith(("crmtui.cli.", "crmtui.cli_"))]
    assert found == []


def test_the_cli_modules_import_no_ui_or_heavy_library_until_a_command_runs():
    """Building the parser imports every command module: they keep the service, storage,
    the TUI and heavy libraries inside the command bodies. No module of the package,
    render.py included, imports textual: the TUI is imported only when it is opened."""
    code = (
        "import importlib, pkgutil, sys\n"
        "import crmtui.cli\n"
        "crmtui.cli.app.build_parser()\n"
        "heavy = ('textual', 'rich', 'git', 'tomlkit', 'rapidfuzz', 'crmtui.tui', 'crmtui.service',\n"
        "         'crmtui.storage', 'crmtui.interchange')\n"
        "loaded = lambda: sorted(m for m in sys.modules if any(m == h or m.startswith(h + '.') for h in heavy))\n"
        "print(loaded())\n"
        "for module in pkgutil.iter_modules(crmtui.cli.__path__):\n"
        "    if module.name != '__main__':\n"
        "        importlib.import_module(f'crmtui.cli.{module.name}')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich') or m.startswith('crmtui.tui')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[]", "[]"]


def package_graph() -> dict[str, set[str]]:
    """Which of crmtui's packages (and top-level modules) import which, lazy imports included."""
    graph: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        me = path.relative_to(SRC).parts[0].removesuffix(".py")
        for name in imports_of(path):
            parts = name.split(".")
            if parts[0] == "crmtui" and len(parts) > 1 and parts[1] != me:
                graph.setdefault(me, set()).add(parts[1])
    return graph


def test_no_import_cycles_between_packages():
    graph = package_graph()
    cycles = []

    def walk(node: str, trail: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in trail:
                cycles.append(" -> ".join(trail[trail.index(nxt):] + [nxt]))
            else:
                walk(nxt, trail + [nxt])

    for start in graph:
        walk(start, [start])
    assert cycles == []


def test_the_layers_point_one_way():
    """domain <- storage, interchange <- usecases <- service <- cli, tui: never back."""
    graph = package_graph()
    assert graph.get("domain", set()) <= {"errors"}
    assert graph.get("interchange", set()) <= {"domain", "errors"}
    assert graph.get("storage", set()) <= {"domain", "errors"}
    assert not graph.get("usecases", set()) & {"cli", "tui", "service"}
