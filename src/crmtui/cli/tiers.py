"""The customer pyramid: tiers."""

from __future__ import annotations

import shutil
import sys

from crmtui.cli.command import Command, emit_json


def cmd_tiers(service, args) -> int:
    from crmtui.cli import render as r

    rows = service.tiers()
    if args.json:
        return emit_json({"currency": service.snapshot.settings.currency,
                          "tiers": [{"tier": row.tier, "count": row.count, "value": row.value,
                                     "customers": list(row.handles)} for row in rows]})
    width = shutil.get_terminal_size().columns
    print(r.pyramid_text(rows, service.snapshot.settings.currency, width, sys.stdout.isatty()))
    return 0


COMMANDS = (
    Command("tiers", "the customer pyramid: counts and value per tier", cmd_tiers,
            json=True, reads_only=True, uses_settings=True),
)
