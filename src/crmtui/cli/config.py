"""The user's config file (~/.config/crmtui/config.toml) and where the book is."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from crmtui.errors import CrmError


def config_path() -> Path:
    config_home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return config_home / "crmtui" / "config.toml"


def default_book() -> Path:
    """The book when --book is not given: $CRMTUI_BOOK, then `book = "..."` in the config
    file, then ~/crm."""
    env = os.environ.get("CRMTUI_BOOK")
    if env:
        return Path(env).expanduser()
    config = config_path()
    if config.exists():
        try:
            book = tomllib.loads(config.read_text("utf-8")).get("book")
        except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as error:
            raise CrmError(f"{config} is not valid TOML ({error}); fix or remove it") from None
        if isinstance(book, str) and book:
            return Path(book).expanduser()
    return Path.home() / "crm"
