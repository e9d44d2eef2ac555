"""Every key of the app, with an id so a user can remap it.

Remap in ~/.config/crmtui/config.toml (or $XDG_CONFIG_HOME/crmtui/config.toml):

    [keys]
    "crmtui.log" = "ctrl+l"
    "crmtui.reminders" = "D"

The help screen and the command palette read these same tables.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import NamedTuple

from textual.binding import Binding

# Letter keys are priority bindings: the app acts on them as the key arrives, so keys
# typed in one burst ("/ana", or "l" then the summary) reach the widget the previous key
# focused. The app turns them off while a text field has focus (you type the letter) or
# a form or dialog is open (see CrmApp.check_action).
APP_KEYS: list[Binding] = [
    Binding("slash", "focus_search", "Search", id="crmtui.search", priority=True,
            tooltip="Search customers (from anywhere)"),
    Binding("l", "log", "Log", id="crmtui.log", priority=True, tooltip="Log an interaction with the selected customer"),
    Binding("m", "remind", "Remind", id="crmtui.remind", show=False, priority=True,  # in help: the footer is full at 80
            tooltip="Add a reminder for the selected customer (what, when, repeat)"),
    Binding("n", "new_customer", "New", id="crmtui.new", priority=True, tooltip="Add a new customer"),
    Binding("e", "edit", "Edit", id="crmtui.edit", priority=True, tooltip="Edit the selected customer in $EDITOR"),
    Binding("r", "reminders", "Due", id="crmtui.reminders", priority=True,
            tooltip="Reminders: losing touch, overdue, today, this week, later"),
    Binding("t", "tiers", "Tiers", id="crmtui.tiers", priority=True, tooltip="The customer pyramid"),
    # Not in the footer, which is full at 80 columns: the help screen and the palette name it.
    Binding("o", "report", "Report", id="crmtui.report", show=False, priority=True,
            tooltip="The report over time: retention, the pyramid's movement, life cycle, referrals, attention"),
    Binding("h", "history", "History", id="crmtui.history", priority=True,
            tooltip="Git history of the selected customer"),
    Binding("H", "book_history", "Book log", id="crmtui.book_history", show=False, priority=True,
            tooltip="Git history of the whole book"),
    # Help before Problems and Sync: at 80 columns the footer ends after Problems.
    Binding("question_mark,f1", "help", "Help", id="crmtui.help", key_display="?", tooltip="All the keys"),
    Binding("p", "problems", "Problems", id="crmtui.problems", priority=True,
            tooltip="Files that failed to parse or validate"),
    Binding("s", "sync", "Sync", id="crmtui.sync", priority=True, tooltip="Sync with other machines: commit, pull, push"),
    Binding("q", "quit_or_back", "Quit", id="crmtui.quit", show=False, priority=True,
            tooltip="Quit crmtui (in a view: back to the main screen)"),
    # Deals: not in the footer, which is full at 80 columns (at 100 it ends after Sync); the
    # detail pane's deals section and the pipeline view say them where they act.
    Binding("P", "pipeline", "Pipeline", id="crmtui.pipeline", show=False, priority=True,
            tooltip="The pipeline: open deals by stage, totals, what winning each does to the tier"),
    Binding("dollar_sign", "deal_add", "Deal", id="crmtui.deal.add", key_display="$", show=False, priority=True,
            tooltip="Add an open deal to the selected customer"),
    Binding("w", "deal_won", "Won", id="crmtui.deal.won", show=False, priority=True,
            tooltip="Mark the selected customer's open deal won (asks first; picks when there are several)"),
    Binding("L", "deal_lost", "Lost", id="crmtui.deal.lost", show=False, priority=True,
            tooltip="Mark the selected customer's open deal lost (asks first; picks when there are several)"),
    # Reach out: not in the footer either (full at 80 columns); the help screen and the palette name it.
    Binding("M", "mail", "Mail", id="crmtui.mail", show=False, priority=True,
            tooltip="Write to the selected customer in your mailer ($CRMTUI_MAILER, else mailto:), then log it"),
]

# Keys that only work in one view, for the help screen (the views bind them themselves).
VIEW_KEYS: dict[str, list[tuple[str, str]]] = {
    "Main screen": [
        ("/", "focus the search box; type to filter, best match first"),
        ("tier:gold tag:x", "filters in the search box, all must hold: tier stage tag company owner "
                            "last:>90d due:today deal:open value:>10k birthday:<30d; -tag:x negates"),
        ("↑ ↓  Enter", "move through the results; Enter selects and moves to the list"),
        ("Escape", "clear the search"),
    ],
    "Log form": [
        ("Tab / shift+Tab", "next / previous field"),
        ("ctrl+n", "next interaction kind (default_kind in crm.toml; call unless set)"),
        ("Enter / ctrl+s", "save (writes the file and commits)"),
        ("Escape", "cancel"),
    ],
    "Reminders": [
        ("d", "done: a reminder is marked done; on keep-in-touch or a birthday, log how you got in touch"),
        ("z", "snooze any row: type 1d, 1w or a date, then Enter"),
        ("l / m", "log an interaction / add a reminder for the row's customer"),
        ("j", "jump to the next section (losing touch, overdue, today, this week, later)"),
        ("f", "filter the rows: type a name or words; Enter back to the list, Escape clears"),
        ("Enter", "go to the customer"),
    ],
    "Remind form": [
        ("Tab / shift+Tab", "next / previous field: what, when (2w, 2026-07-01), repeat (1m)"),
        ("Enter / ctrl+s", "save (writes the file and commits)"),
    ],
    "Tiers": [
        ("↑ ↓", "choose a tier"),
        ("Tab", "move to the list of the tier's customers"),
        ("Enter", "go to the customer"),
    ],
    "Report": [
        ("[ / ]", "the period before / after (a year at a time; a chosen period by its length)"),
        ("← → ↑ ↓", "a cell of the pyramid's migration table: who moved there is listed below it"),
        ("Enter", "in the list of names or the referrals tree: go to the customer"),
        ("Tab", "next part: the table, its names, the referrals"),
    ],
    "History": [
        ("↑ ↓", "choose a commit; its diff shows on the right"),
        ("R", "restore the record to the chosen version (asks first)"),
        ("b", "switch between the record's history and the whole book's"),
    ],
    "Problems": [
        ("Enter / e", "open the broken file in $EDITOR"),
    ],
    "Pipeline": [
        ("↑ ↓", "choose a deal; stages are in the order of crm.toml's [deals] stages"),
        ("w / L", "mark the chosen deal won / lost (asks first)"),
        ("Enter", "go to the customer"),
    ],
    "Everywhere": [
        ("ctrl+p", "command palette: jump to any customer, run any action"),
        ("Escape / q", "close a view or a form"),
        ("ctrl+q", "quit"),
    ],
}


def config_path() -> Path:
    home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(home) / "crmtui" / "config.toml"


def user_keymap() -> dict[str, str]:
    """The [keys] table of the user's config file, checked (ids -> keys): only the remaps
    that name a binding, give real keys and clash with no other key are in it; every other
    binding keeps its default key. `keymap_problems` says what was left out, and why."""
    return checked_keymap()[0]


def keymap_problems() -> list[str]:
    """One sentence per remap of the config file's [keys] that is not used, naming it."""
    return checked_keymap()[1]


def checked_keymap() -> tuple[dict[str, str], list[str]]:
    config = config_path()
    where = f"{_home_short(config)} [keys]"
    try:
        data = tomllib.loads(config.read_text("utf-8"))
    except FileNotFoundError:
        return {}, []
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        return {}, [f"{_home_short(config)} cannot be read ({error}), so every key is the default one; fix it"]
    keys = data.get("keys", {})
    if not isinstance(keys, dict):
        return {}, [f"{_home_short(config)}: keys should be a table ([keys]), so every key is the default one"]
    if not keys:
        return {}, []
    return check_keymap(keys, where)


_MODIFIERS = ("ctrl", "alt", "shift", "meta", "super", "hyper")


def _key_names() -> frozenset[str]:
    from textual.keys import Keys

    return frozenset(name for key in Keys for name in [key.value.rsplit("+", 1)[-1]]
                     if len(name) > 1 and name.replace("_", "").isalnum())


def normal_key(key: str) -> str | None:
    """One key as Textual names it (`?` -> question_mark, `ctrl+L` stays ctrl+L), or None
    when it is no key a terminal sends: "not a key!!", "", "ctrl+", "hyperspace"."""
    from textual.keys import KEY_ALIASES, REPLACED_KEYS, _character_to_key, key_to_character

    key = key.strip()
    if len(key) == 1:
        return _character_to_key(key) if key.isprintable() else None
    *modifiers, base = key.split("+")
    if any(m not in _MODIFIERS for m in modifiers) or len(set(modifiers)) != len(modifiers):
        return None
    if len(base) == 1 and base.isprintable() and not base.isspace():
        base = _character_to_key(base)
    elif base not in _key_names():
        name = REPLACED_KEYS.get(base, base)  # slash is Unicode's solidus
        character = key_to_character(name) if name.replace("_", "").isalpha() else None
        if character is None or _character_to_key(character) != base:
            return None
    key = "+".join([*modifiers, base])
    aliases = {alias: name for name, names in KEY_ALIASES.items() for alias in names}
    return aliases.get(key, key)  # ctrl+i is tab, ctrl+m is enter


def _keys_of(spec: str) -> list[str] | None:
    """"l" -> ["l"]; "question_mark,f1" -> ["question_mark", "f1"]; None if any is not a key."""
    parts = [normal_key(part) for part in spec.split(",")]
    return None if not parts or None in parts else list(dict.fromkeys(parts))


def _shown(keys) -> str:
    keys = [keys] if isinstance(keys, str) else keys
    return " or ".join({"slash": "/", "question_mark": "?", "dollar_sign": "$"}.get(key, key) for key in keys)


class _Slot(NamedTuple):
    """One binding for the clash check: who (an id, or a name for Textual's own keys) and what."""

    id: str | None
    what: str
    default: tuple[str, ...]


def _scopes() -> list[tuple[str, bool, list[_Slot]]]:
    """(where, modal, bindings) for the whole app and for each screen or widget of crmtui
    that binds keys of its own (with the ones it inherits from crmtui classes)."""
    import importlib
    import pkgutil

    from textual.screen import ModalScreen

    import crmtui.tui.screens
    import crmtui.tui.widgets

    def slots(bindings) -> list[_Slot]:
        out = []
        for b in bindings:
            keys = _keys_of(b.key) or [b.key]
            out.append(_Slot(b.id, b.description or b.tooltip or b.action, tuple(keys)))
        return out

    app_wide = slots(APP_KEYS) + [
        _Slot(None, "Quit (Textual's own key)", ("ctrl+q",)), _Slot(None, "copy / quit (Textual's own key)", ("ctrl+c",)),
        _Slot(None, "the command palette", ("ctrl+p",)),
        _Slot(None, "moving between fields (Textual's own key)", ("tab",)),
        _Slot(None, "moving between fields (Textual's own key)", ("shift+tab",)),
    ]
    scopes: list[tuple[str, bool, list[_Slot]]] = [("", False, app_wide)]
    seen: set[type] = set()
    for package in (crmtui.tui.screens, crmtui.tui.widgets):
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            for cls in vars(module).values():
                if not (isinstance(cls, type) and cls.__module__ == module.__name__ and "BINDINGS" in vars(cls)):
                    continue
                if cls in seen:
                    continue
                seen.add(cls)
                own = [b for c in cls.__mro__ if c.__module__.startswith("crmtui.") and "BINDINGS" in vars(c)
                       for b in vars(c)["BINDINGS"] if isinstance(b, Binding)]
                name = cls.__name__.removesuffix("Screen") or cls.__name__
                label = f" in the {name} view" if name != cls.__name__ else f" in {name}"
                label = " in every view" if name == "View" else label
                scopes.append((label, issubclass(cls, ModalScreen), slots(own)))
    return scopes


def check_keymap(keymap: dict, where: str = "[keys]") -> tuple[dict[str, str], list[str]]:
    """The remaps of `keymap` that can be used, and a sentence for each one that cannot:
    an id no binding has, a value that is no key, or a key another binding already has
    (where both act: app-wide, or in the same view). A refused remap leaves that binding
    on its default key, so no action is ever left without one."""
    scopes = _scopes()
    slots = {slot.id: slot for _, _, group in scopes for slot in group if slot.id}
    problems: list[str] = []
    accepted: dict[str, list[str]] = {}
    for binding_id, spec in keymap.items():
        binding_id = str(binding_id)
        slot = slots.get(binding_id)
        if slot is None:
            near = ", ".join(sorted(b.id for b in APP_KEYS if b.id))
            problems.append(f"{where} \"{binding_id}\": no binding has that id (the app's are {near}); it is ignored")
            continue
        keys = _keys_of(spec) if isinstance(spec, str) else None
        if keys is None:
            problems.append(f"{where} \"{binding_id}\" = {_toml(spec)} is not a key (write l, L, ctrl+l, f2, "
                            f"slash or question_mark); {slot.what} keeps {_shown(slot.default)}")
            continue
        accepted[binding_id] = keys
    while True:
        clash = _first_clash(scopes, accepted)
        if clash is None:
            break
        key, scope, a, b = clash
        for mine, other in ((a, b), (b, a)):
            if mine.id not in accepted:
                continue
            others = f"{other.what} ({other.id})" if other.id else other.what
            if other.id in accepted:
                others += ", remapped to it too"
            problems.append(f"{where} \"{mine.id}\" = {_toml(keymap[mine.id])}: {_shown(key)} is already the key "
                            f"of {others}{scope}; {mine.what} keeps {_shown(mine.default)}")
        for slot in (a, b):
            accepted.pop(slot.id, None)
    return {binding_id: ",".join(keys) for binding_id, keys in accepted.items()}, problems


def _first_clash(scopes, accepted: dict[str, list[str]]):
    """(key, where, slot, slot) of two bindings that would share a key, one of them remapped
    (the defaults share some on purpose: e is Edit, and in the problems view edits the file)."""
    def keys(slot: _Slot) -> list[str]:
        return accepted.get(slot.id, list(slot.default)) if slot.id else list(slot.default)

    defaults = {slot.id: list(slot.default) for _, _, group in scopes for slot in group if slot.id}
    moved = {binding_id for binding_id, keys_ in accepted.items() if keys_ != defaults.get(binding_id)}

    app_wide = scopes[0][2]
    for where, modal, group in scopes:
        # A view's keys meet the app's: its own win over the app's plain ones, the app's
        # priority ones (letters) win over its own; in a dialog the app's letters are off.
        pool = list(group) if where else list(app_wide)
        if where:
            pool += [s for s in app_wide if not modal or s.id is None]
        owner: dict[str, _Slot] = {}
        for slot in pool:
            for key in keys(slot):
                first = owner.setdefault(key, slot)
                if first is slot or first.id == slot.id and first.id is not None:
                    continue
                if first.id in moved or slot.id in moved:
                    return key, where, first, slot
    return None


def _toml(value) -> str:
    return f"\"{value}\"" if isinstance(value, str) else repr(value)


def _home_short(path: Path) -> str:
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)
