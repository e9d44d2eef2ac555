"""What changed between two versions of a record, in words a person reads."""

from __future__ import annotations

from typing import Any

_SCALARS = ("name", "company", "title", "stage", "tier", "owner", "birthday", "keep_in_touch", "referred_by")
_LISTS = {"emails": "email", "phones": "phone", "tags": "tag"}
_TABLES = {"interactions": "interaction", "reminders": "reminder", "deals": "deal"}


def _show(value: Any) -> str:
    return "none" if value is None else str(value)


def _plural(word: str, count: int) -> str:
    return word if count == 1 else word + "s"


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def describe_change(old: dict | None, new: dict | None) -> list[str]:
    """Phrases like 'tier: iron -> gold', '+1 interaction', 'email added: a@b'."""
    if old is None and new is None:
        return []
    if old is None:
        return ["added"]
    if new is None:
        return ["deleted"]
    phrases: list[str] = []
    for key in _SCALARS:
        if old.get(key) != new.get(key):
            phrases.append(f"{key}: {_show(old.get(key))} -> {_show(new.get(key))}")
    for key, word in _LISTS.items():
        before, after = _as_list(old.get(key)), _as_list(new.get(key))
        phrases += [f"{word} added: {v}" for v in after if v not in before]
        phrases += [f"{word} removed: {v}" for v in before if v not in after]
    if old.get("notes") != new.get("notes"):
        phrases.append("notes changed")
    before_links, after_links = old.get("links") or {}, new.get("links") or {}
    if isinstance(before_links, dict) and isinstance(after_links, dict):
        for label in after_links:
            if label not in before_links:
                phrases.append(f"link added: {label}")
            elif before_links[label] != after_links[label]:
                phrases.append(f"link changed: {label}")
        phrases += [f"link removed: {label}" for label in before_links if label not in after_links]
    for key, word in _TABLES.items():
        phrases += _describe_tables(_as_list(old.get(key)), _as_list(new.get(key)), word)
    known = set(_SCALARS) | set(_LISTS) | set(_TABLES) | {"notes", "links"}
    for key in sorted((set(old) | set(new)) - known):
        if old.get(key) != new.get(key):
            phrases.append(f"{key} changed")
    return phrases


def _describe_tables(before: list, after: list, word: str) -> list[str]:
    phrases = []
    # Done reminders and won deals are worth naming; count the rest.
    if word == "reminder":
        for old_row, new_row in zip(before, after):
            if isinstance(old_row, dict) and isinstance(new_row, dict):
                if "done" in new_row and "done" not in old_row:
                    phrases.append(f"reminder done: {new_row.get('text', '')}")
                elif old_row.get("due") != new_row.get("due") and old_row.get("text") == new_row.get("text"):
                    phrases.append(f"reminder moved to {new_row.get('due')}: {new_row.get('text', '')}")
    if word == "deal":
        for old_row, new_row in zip(before, after):
            if isinstance(old_row, dict) and isinstance(new_row, dict) and old_row.get("status") != new_row.get("status"):
                phrases.append(f"deal {new_row.get('status')}: {new_row.get('title', '')}")
    named = len(phrases)
    net = len(after) - len(before)
    if net >= 2 and word == "interaction":  # several of one kind (an import of mail): "+3 emails"
        kinds = {row.get("kind") for row in after if isinstance(row, dict) and row not in before}
        kind = next(iter(kinds)) if len(kinds) == 1 else None
        if isinstance(kind, str) and kind.isalpha():
            word = kind.lower()
    if net:
        phrases.append(f"{net:+d} {_plural(word, abs(net))}")
    modified = min(sum(row not in before for row in after), sum(row not in after for row in before))
    if modified > named:
        count = modified - named
        phrases.append(f"{count} {_plural(word, count)} changed")
    return phrases


def edit_subject(name: str, phrases: list[str], outside: str | None = None) -> str:
    """A commit subject for an edit: 'Tier of Ana López: iron -> gold' when that is all."""
    if outside:
        return f"Edit {outside} outside crmtui"
    if len(phrases) == 1 and phrases[0].startswith("tier: "):
        return f"Tier of {name}: {phrases[0][len('tier: '):]}"
    if not phrases:
        return f"Edit {name}"
    summary = ", ".join(phrases[:3]) + (f", and {len(phrases) - 3} more" if len(phrases) > 3 else "")
    return f"Edit {name}: {summary}"
