"""File names (handles) from names: lowercase ASCII, hyphens, unique."""

from __future__ import annotations

import re

from crmtui.domain.search import fold

HANDLE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", fold(name).encode("ascii", "ignore").decode()).strip("-")
    return slug[:60].rstrip("-") or "customer"


def unique_handle(name: str, taken: set[str]) -> str:
    """slugify(name), with -2, -3 ... when that file name is taken."""
    base = slugify(name)
    handle, n = base, 2
    while handle in taken:
        handle, n = f"{base}-{n}", n + 1
    return handle
