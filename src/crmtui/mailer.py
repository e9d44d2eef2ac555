"""The user's mailer, to write to a customer: $CRMTUI_MAILER (a terminal mail client, run in
the terminal and waited for), else a mailto: link opened with xdg-open (or macOS's open), else
nothing (the caller shows the address). Run without a shell, like the editor (editor.py)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from typing import NamedTuple
from urllib.parse import quote

from crmtui.errors import CrmError


class Mailer(NamedTuple):
    command: list[str]
    waits: bool  # True: a terminal program (the TUI suspends for it); False: a desktop opener


def mailer_for(address: str) -> Mailer | None:
    """How to open a message to `address`. In $CRMTUI_MAILER, %s stands for the address and
    %u for a mailto: link (`mutt %s`, `aerc %u`, `neomutt`); without either the address is
    added at the end."""
    mailto = "mailto:" + quote(address, safe="@+")
    configured = os.environ.get("CRMTUI_MAILER", "").strip()
    if configured:
        try:
            words = shlex.split(configured)
        except ValueError as error:
            raise CrmError(f"cannot read $CRMTUI_MAILER '{configured}' ({error})") from None
        if not any("%s" in w or "%u" in w for w in words):
            words.append(address)
        return Mailer([w.replace("%s", address).replace("%u", mailto) for w in words], True)
    opener = "open" if sys.platform == "darwin" else "xdg-open"
    if shutil.which(opener):
        return Mailer([opener, mailto], False)
    return None


def run_mailer(mailer: Mailer, **options) -> None:
    """Run it: wait for a terminal mailer, start a desktop opener and go on. A CrmError when it
    cannot start or fails. `options` go to subprocess (the TUI's tests run it with no terminal)."""
    name = mailer.command[0]
    try:
        if mailer.waits:
            result = subprocess.run(mailer.command, **options)
            if result.returncode != 0:
                raise CrmError(f"the mailer '{name}' exited with status {result.returncode}")
        else:
            subprocess.Popen(mailer.command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
    except FileNotFoundError:
        raise CrmError(f"cannot run the mailer '{name}'; check $CRMTUI_MAILER") from None
    except OSError as error:
        raise CrmError(f"cannot run the mailer '{name}': {error.strerror}") from None
