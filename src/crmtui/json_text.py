"""JSON that is always JSON, and safe to print: the one writer of `--json` and `export json`."""

from __future__ import annotations

import json
import math
import re
from datetime import date, datetime
from typing import Any

_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2060\u2066-\u2069\ufeff\ud800-\udfff]")


def _json_default(obj):
    if isinstance(obj, (date, datetime)):
        return obj.isoformat()
    return str(obj)


def _finite(value: Any) -> Any:
    """`value` with every float that is not a number (nan, inf, -inf: TOML allows them) as None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def dumps(value: Any, indent: int | None = None) -> str:
    """The one way the CLI writes JSON: always valid JSON. A number that is not finite
    (`amount = nan` or `inf` in a file) is written as null, never as NaN or Infinity; control
    characters, bidi overrides and lone surrogates in strings are written as \\uXXXX escapes,
    so the text is safe on a terminal and parses back to exactly the same strings."""
    options = dict(ensure_ascii=False, default=_json_default, allow_nan=False)
    if indent is None:
        options["separators"] = (",", ":")
    else:
        options["indent"] = indent
    try:
        text = json.dumps(value, **options)
    except ValueError:  # a nan or inf somewhere: rare, so only then walk the value
        text = json.dumps(_finite(value), **options)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
