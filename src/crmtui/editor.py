"""The user's editor, run on one file without a shell: $VISUAL, then $EDITOR, then vi or
nano. The CLI's `crmtui edit` and the TUI's edit key both start it from here."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

from crmtui.errors import CrmError


def editor_command() -> list[str]:
    """The editor as an argument list ($VISUAL or $EDITOR split as a shell would, never run by one)."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or ("vi" if shutil.which("vi") else "nano")
    try:
        command = shlex.split(editor)
    except ValueError as error:
        raise CrmError(f"cannot read the editor command '{editor}' ({error}); check $VISUAL/$EDITOR") from None
    if not command:
        raise CrmError("$EDITOR is empty; set it to your editor, e.g. export EDITOR=vim")
    return command


def run_editor(path: Path, **options) -> None:
    """Edit `path` and wait; a CrmError when the editor cannot start or fails. `options`
    go to subprocess.run (the TUI's tests run it with no terminal)."""
    command = editor_command()
    try:
        result = subprocess.run([*command, str(path)], **options)
    except FileNotFoundError:
        raise CrmError(f"cannot run the editor '{command[0]}'; set $EDITOR") from None
    except OSError as error:
        raise CrmError(f"cannot run the editor '{command[0]}': {error.strerror}") from None
    if result.returncode != 0:
        raise CrmError(f"the editor exited with status {result.returncode}; nothing was committed")
