"""Remapped keys ([keys] in ~/.config/crmtui/config.toml): a bad or clashing remap is refused
with one sentence naming the binding, the binding keeps its default key, and `crmtui check`
says the same. The TUI runs for real (Textual's run_test) on a real book."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from crmtui.tui.keys import APP_KEYS, check_keymap, checked_keymap, normal_key

NOW = datetime(2026, 6, 15, 9, 0)


def write_config(text: str) -> Path:
    import os

    config = Path(os.environ["XDG_CONFIG_HOME"]) / "crmtui" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(text, "utf-8")
    return config


def app_keys(app) -> dict[str, str]:
    """binding id -> the key(s) the running app acts on for it (after the keymap)."""
    found: dict[str, list[str]] = {}
    for _node, bindings_map in app.screen._binding_chain:
        for key, bindings in bindings_map.key_to_bindings.items():
            for binding in bindings:
                if binding.id:
                    found.setdefault(binding.id, []).append(key)
    return {bid: ",".join(sorted(keys)) for bid, keys in found.items()}


# ---- the check itself ----------------------------------------------------------------------------

@pytest.mark.parametrize("key, normal", [
    ("l", "l"), ("L", "L"), ("?", "question_mark"), ("/", "slash"), ("slash", "slash"), ("ctrl+l", "ctrl+l"),
    ("f2", "f2"), ("shift+tab", "shift+tab"), ("enter", "enter"), ("ctrl+i", "tab"), ("é", "é"),
    ("not a key!!", None), ("", None), ("ctrl+", None), ("hyperspace", None), ("ctrl+ctrl+x", None),
    ("latin_small_letter_a", None),
])
def test_normal_key(key, normal):
    assert normal_key(key) == normal


def test_a_remap_to_a_key_in_use_is_refused_and_names_both():
    keymap, problems = check_keymap({"crmtui.tiers": "l"})
    assert keymap == {}
    assert problems == ['[keys] "crmtui.tiers" = "l": l is already the key of Log (crmtui.log); Tiers keeps t']


def test_a_non_key_is_refused():
    keymap, problems = check_keymap({"crmtui.log": "not a key!!", "crmtui.new": 3})
    assert keymap == {}
    assert problems[0].startswith('[keys] "crmtui.log" = "not a key!!" is not a key')
    assert problems[0].endswith("Log keeps l")
    assert problems[1].startswith('[keys] "crmtui.new" = 3 is not a key')


def test_good_remaps_and_a_swap_are_kept():
    assert check_keymap({"crmtui.log": "ctrl+l", "crmtui.reminders": "D"}) == (
        {"crmtui.log": "ctrl+l", "crmtui.reminders": "D"}, [])
    # R is Restore in the history view, where the app's letter would act first
    assert "Restore (crmtui.history.restore) in the History view" in check_keymap({"crmtui.reminders": "R"})[1][0]
    assert check_keymap({"crmtui.tiers": "l", "crmtui.log": "t"}) == ({"crmtui.tiers": "l", "crmtui.log": "t"}, [])


def test_two_remaps_to_one_key_are_both_refused():
    keymap, problems = check_keymap({"crmtui.log": "x", "crmtui.new": "x", "crmtui.sync": "ctrl+y"})
    assert keymap == {"crmtui.sync": "ctrl+y"}
    assert len(problems) == 2 and all("remapped to it too" in p for p in problems)


def test_a_remap_that_would_shadow_a_view_key_is_refused():
    # The app's letter keys act before a view's: t in the reminders view would open the tiers.
    _, problems = check_keymap({"crmtui.reminders.done": "t"})
    assert problems == ['[keys] "crmtui.reminders.done" = "t": t is already the key of Tiers (crmtui.tiers) '
                        'in the Reminders view; Done keeps d']
    _, problems = check_keymap({"crmtui.tiers": "d"})
    assert "in the Reminders view" in problems[0]
    _, problems = check_keymap({"crmtui.help": "ctrl+p"})
    assert "the command palette" in problems[0]


def test_an_unknown_id_is_said():
    keymap, problems = check_keymap({"crmtui.tirs": "z"})
    assert keymap == {} and "no binding has that id" in problems[0] and "crmtui.tiers" in problems[0]


def test_the_default_keys_do_not_clash():
    assert check_keymap({}) == ({}, [])
    assert check_keymap({b.id: b.key for b in APP_KEYS if b.id}) == (
        {b.id: ",".join(normal_key(k) for k in b.key.split(",")) for b in APP_KEYS if b.id}, [])


def test_a_broken_config_file_is_said():
    write_config("[keys\n")
    assert checked_keymap()[0] == {}
    assert "cannot be read" in checked_keymap()[1][0]


# ---- the TUI: starts, says it, and keeps every action on a key -------------------------------------

@pytest.fixture
def tui_book(book):
    from crmtui.service import Service

    Service.open(book, now=lambda: NOW).add_customer("Ana López", company="Acme")
    return book


async def test_the_tui_refuses_a_clashing_remap_and_keeps_log_on_l(tui_book):
    from crmtui.tui.app import create_app

    write_config('[keys]\n"crmtui.tiers" = "l"\n"crmtui.reminders" = "ctrl+r"\n')
    app = create_app(tui_book, now=lambda: NOW, path_label="book", testing=True, poll_interval=None)
    async with app.run_test(size=(100, 32)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        keys = app_keys(app)
        assert keys["crmtui.log"] == "l" and keys["crmtui.tiers"] == "t"
        assert keys["crmtui.reminders"] == "ctrl+r"  # the good remap is used
        messages = [n.message for n in app._notifications]
        assert any('"crmtui.tiers" = "l": l is already the key of Log (crmtui.log); Tiers keeps t' in m
                   for m in messages), messages
        await pilot.press("l")  # still opens the log form
        await pilot.pause()
        assert type(app.screen).__name__ == "LogForm"


async def test_the_tui_refuses_a_non_key(tui_book):
    from crmtui.tui.app import create_app

    write_config('[keys]\n"crmtui.log" = "not a key!!"\n')
    app = create_app(tui_book, now=lambda: NOW, path_label="book", testing=True, poll_interval=None)
    async with app.run_test(size=(100, 32)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app_keys(app)["crmtui.log"] == "l"
        assert any('"crmtui.log" = "not a key!!" is not a key' in n.message for n in app._notifications)


# ---- crmtui check says it too ---------------------------------------------------------------------

def test_check_reports_a_bad_remap(run_cli, book):
    config = write_config('[keys]\n"crmtui.tiers" = "l"\n')
    code, out, err = run_cli("--book", book, "check")
    assert code == 1
    assert '[keys] "crmtui.tiers" = "l": l is already the key of Log (crmtui.log)' in out
    assert str(config) in out or "config.toml" in out
    assert err.strip() == "crm.toml: ok; 0 records, none yet; 1 key remap refused."
    code, out, _ = run_cli("--book", book, "check", "--json")
    assert code == 1 and "crmtui.tiers" in out


def test_check_as_a_real_command(book, tmp_path):
    write_config('[keys]\n"crmtui.log" = "not a key!!"\n')
    crmtui = Path(sys.executable).with_name("crmtui")
    result = subprocess.run([str(crmtui), "--book", str(book), "check"], capture_output=True, text=True)
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    assert '"crmtui.log" = "not a key!!" is not a key' in result.stdout


def test_check_without_a_keys_table_does_not_load_textual(book):
    write_config('book = "/somewhere"\n')
    code = ("import sys; from crmtui.cli import main; main(['--book', sys.argv[1], 'check']);"
            "print('textual' in sys.modules, file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code, str(book)], capture_output=True, text=True)
    assert result.stderr.strip().splitlines()[-1] == "False", result.stderr
