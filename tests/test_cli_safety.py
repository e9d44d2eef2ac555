"""The CLI when the system says no, when crm.toml is broken, and when a file carries hostile
text: one sentence and a non-zero exit instead of a traceback, a warning from every command
that uses the settings, valid JSON, and nothing from a file obeyed by the terminal.

Real books in tmp_path, the real `crmtui` command as a subprocess where the condition can be
made for real (/proc, a file in the way, /dev/full, a read-only folder), cli.main in-process
where it cannot (a full disk under the book)."""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from crmtui import cli
from crmtui.cli import render as cli_render

CRMTUI = Path(sys.executable).with_name("crmtui")


def crmtui(*args, **options) -> subprocess.CompletedProcess:
    options.setdefault("stdout", subprocess.PIPE)
    options.setdefault("stderr", subprocess.PIPE)
    return subprocess.run([str(CRMTUI), *map(str, args)], text=True, **options)


def one_sentence(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("crmtui: "), stderr
    return lines[0]


def git(book: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(book), *args], check=True, capture_output=True, text=True).stdout


def commit_all(book: Path) -> None:
    git(book, "add", "-A")
    git(book, "-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-qm", "by hand")


def write(book: Path, rel: str, text: str) -> Path:
    path = book / rel
    path.write_text(textwrap.dedent(text).lstrip(), "utf-8")
    return path


# ---- 1. the system says no: one sentence, no traceback -------------------------------------------

@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs Linux /proc")
def test_init_where_no_folder_can_be_made():
    result = crmtui("init", "/proc/x")
    assert result.returncode == 1
    line = one_sentence(result.stderr)
    assert line.startswith("crmtui: cannot create a book at /proc/x:") and "choose a folder" in line


def test_init_under_a_file(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    result = crmtui("init", tmp_path / "notes.txt" / "sub")
    assert result.returncode == 1
    assert one_sentence(result.stderr) == (f"crmtui: cannot create a book at {tmp_path}/notes.txt/sub: "
                                           f"{tmp_path}/notes.txt is a file, not a folder; choose another path")
    assert (tmp_path / "notes.txt").read_text() == "hello"


def _enospc(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_log_on_a_full_disk(run_cli, book, monkeypatch):
    assert run_cli("--book", book, "add", "Ana López")[0] == 0
    record = book / "customers" / "ana-lopez.toml"
    before, head = record.read_bytes(), git(book, "rev-parse", "HEAD")
    monkeypatch.setattr(os, "fsync", _enospc)  # every save syncs its new file before it is swapped in
    code, out, err = run_cli("--book", book, "log", "ana", "a call", "--follow-up", "2w")
    monkeypatch.undo()
    assert code == 1 and out == ""
    assert one_sentence(err) == (f"crmtui: the disk is full: could not write in the book at {book}; "
                                 "free some space and run the command again")
    assert record.read_bytes() == before and git(book, "rev-parse", "HEAD") == head


def test_the_traceback_is_there_for_whoever_asks(run_cli, book, monkeypatch):
    assert run_cli("--book", book, "add", "Ana López")[0] == 0
    monkeypatch.setenv("CRMTUI_DEBUG", "1")
    monkeypatch.setattr(os, "fsync", _enospc)
    code, _, err = run_cli("--book", book, "log", "ana", "a call")
    monkeypatch.undo()
    assert code == 1
    assert err.startswith("Traceback") and "OSError: [Errno 28]" in err
    assert err.strip().splitlines()[-1].startswith("crmtui: the disk is full")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["list"], ["list", "--json"], ["export", "json"]])
def test_output_to_a_full_disk(book, args):
    with open("/dev/full", "w") as full:
        result = crmtui("--book", book, *args, stdout=full, stderr=subprocess.PIPE)
    assert result.returncode == 1
    assert one_sentence(result.stderr) == ("crmtui: the disk is full: could not write the output; "
                                           "free some space and run the command again")


def _unprivileged() -> list[str] | None:
    """A prefix that runs a command without the power to ignore file permissions, or None."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search"]
    return prefix if subprocess.run([*prefix, "true"], capture_output=True).returncode == 0 else None


@pytest.mark.skipif(_unprivileged() is None, reason="cannot drop root's power over permissions here")
@pytest.mark.parametrize("args", [["add", "Ben Schmidt"], ["log", "ana", "a call"]])
def test_a_read_only_customers_folder(run_cli, book, args):
    assert run_cli("--book", book, "add", "Ana López")[0] == 0
    customers = book / "customers"
    customers.chmod(0o555)
    try:
        result = subprocess.run([*_unprivileged(), str(CRMTUI), "--book", str(book), *args],
                                capture_output=True, text=True)
    finally:
        customers.chmod(0o755)
    assert result.returncode == 1
    assert one_sentence(result.stderr) == (f"crmtui: permission denied: {customers} is read-only; make it "
                                           f"writable (chmod u+w {customers}) and run the command again")


def test_the_sentences(tmp_path):
    folder = tmp_path / "customers"
    folder.mkdir()
    (tmp_path / "afile").write_text("x")
    folder.chmod(0o555)
    try:
        temp = PermissionError(errno.EACCES, "Permission denied", str(folder / ".ana.toml.k2j4x9_q.tmp"))
        assert cli.os_error_sentence(temp) == (f"permission denied: {folder} is read-only; make it writable "
                                               f"(chmod u+w {folder}) and run the command again")
    finally:
        folder.chmod(0o755)
    assert cli.os_error_sentence(OSError(errno.ENOSPC, "No space left on device", str(folder / "ana.toml"))) \
        == f"the disk is full: could not write {folder}/ana.toml; free some space and run the command again"
    assert cli.os_error_sentence(OSError(errno.EROFS, "Read-only file system", "/mnt/x")).startswith(
        "/mnt/x is on a read-only file system")
    assert cli.os_error_sentence(NotADirectoryError(errno.ENOTDIR, "Not a directory", str(tmp_path / "afile/b"))) \
        == f"{tmp_path}/afile is a file, not a folder; choose another path"
    odd = cli.os_error_sentence(OSError(errno.ENXIO, "No such device or address", "/dev/x"))
    assert odd == "no such device or address: /dev/x; CRMTUI_DEBUG=1 shows where it happened"


def test_a_real_bug_keeps_its_traceback(run_cli, book, monkeypatch):
    from crmtui.service import Service

    monkeypatch.setattr(Service, "tiers", lambda self: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        run_cli("--book", book, "tiers")


# ---- 2. a broken crm.toml: said by every command that uses it; check counts apart -----------------

# where init writes `platinum = 50000` in crm.toml (the lines above it grow as settings are added)
from crmtui.domain.settings import DEFAULT_SETTINGS_TOML  # noqa: E402

PLATINUM = f"crm.toml:{DEFAULT_SETTINGS_TOML.splitlines().index('platinum = 50000') + 1}:1"


@pytest.fixture
def broken_settings(run_cli, book):
    assert run_cli("--book", book, "add", "Ana López", "--stage", "customer")[0] == 0
    write(book, "customers/ben.toml", """
        name = "Ben"
        [[deals]]
        title = "Audit"
        amount = 30000
        status = "won"
        date = 2026-05-01
        """)
    settings = book / "crm.toml"
    settings.write_text(settings.read_text("utf-8").replace("platinum = 50000", 'platinum = "lots"'), "utf-8")
    commit_all(book)
    return book


@pytest.mark.parametrize("args", [["tiers"], ["tiers", "--json"], ["show", "ben"], ["show", "ben", "--json"],
                                  ["list"], ["list", "--json"], ["due"], ["log", "ana", "hello"],
                                  ["export", "csv"]])
def test_every_command_that_uses_the_settings_says_they_are_broken(run_cli, broken_settings, args):
    code, out, err = run_cli("--book", broken_settings, *args)
    assert code == 0, err
    assert (f"crmtui: {PLATINUM}: tiers.platinum should be a number; crm.toml is broken, so the default "
            "settings are used (tiers, keep-in-touch, kinds) until it is fixed; see: crmtui check") in err
    assert "could not be read" not in err  # said once, by name


def test_the_tiers_pyramid_still_draws_with_a_warning(broken_settings):
    result = crmtui("--book", broken_settings, "tiers")
    assert result.returncode == 0 and "Gold" in result.stdout
    assert one_sentence(result.stderr).startswith(f"crmtui: {PLATINUM}: tiers.platinum should be a number")


def test_check_counts_the_settings_and_the_records_apart(run_cli, broken_settings):
    code, out, err = run_cli("--book", broken_settings, "check")
    assert code == 1
    assert out.splitlines() == [f"{PLATINUM}: tiers.platinum should be a number"]
    assert err.strip() == "crm.toml: broken; 2 records, all valid."
    write(broken_settings, "customers/carl.toml", 'name = "Carl"\n[[deals]]\ntitle = "x"\nstatus = "won"\n')
    code, out, err = run_cli("--book", broken_settings, "check")
    assert code == 1 and err.strip() == "crm.toml: broken; 3 records, 1 broken."
    code, out, _ = run_cli("--book", broken_settings, "check", "--json")
    data = json.loads(out)
    assert data["settings"] == "broken" and data["records"] == 3 and len(data["problems"]) == 2


def test_check_of_a_good_book_and_one_without_settings(run_cli, book):
    assert run_cli("--book", book, "check")[1].strip() == "crm.toml: ok; 0 records, none yet."
    (book / "crm.toml").unlink()
    code, out, _ = run_cli("--book", book, "check")
    assert code == 0 and out.strip() == "crm.toml: missing, the defaults are used; 0 records, none yet."


# ---- 3. output safety: valid JSON, nothing obeyed, one row per record -----------------------------

HOSTILE = {
    "name": "Eve \\u001b]0;pwned\\u0007 \\u202eRTL\\u202c",
    "company": "Evil \\u001b[2J\\u001b[31mRed\\nCorp\\tLtd",
}


@pytest.fixture
def hostile(run_cli, book):
    settings = book / "crm.toml"
    settings.write_text(settings.read_text("utf-8").replace('currency = "EUR"', 'currency = "EUR\\u001b[5m"'),
                        "utf-8")
    write(book, "customers/eve.toml", f"""
        name = "{HOSTILE['name']}"
        company = "{HOSTILE['company']}"
        stage = "customer"
        notes = "line one\\nline \\u009b2J two"

        [[deals]]
        title = "Won \\u001b[8mhidden"
        amount = nan
        status = "won"
        date = 2026-05-01

        [[deals]]
        title = "Open"
        amount = inf
        cost = -inf
        status = "open"

        [[reminders]]
        due = 2026-06-16
        text = "Call \\u001b[31mnow\\u202e"

        [[interactions]]
        at = 2026-06-01T10:00:00
        kind = "call"
        summary = "two\\nlines \\u001b[1m"
        """)
    write(book, "customers/ana.toml", 'name = "Ana"\ncompany = "Acme"\n')
    commit_all(book)
    return book


UNSAFE = ["\x1b", "\x07", "\x9b", "\u202e", "\u202c"]


def assert_safe(text: str) -> None:
    for ch in UNSAFE:
        assert ch not in text, (repr(ch), text)


@pytest.mark.parametrize("args", [["show", "eve"], ["list"], ["search", "eve"], ["due"], ["tiers"],
                                  ["history"], ["history", "eve", "--patch"], ["check"]])
def test_human_output_shows_escape_codes_instead_of_obeying_them(run_cli, hostile, args):
    code, out, err = run_cli("--book", hostile, *args)
    assert code == 0, err
    assert_safe(out)
    assert_safe(err)


def test_what_the_escapes_look_like(run_cli, hostile):
    out = run_cli("--book", hostile, "show", "eve")[1]
    assert "Eve \\x1b]0;pwned\\x07 \\u202eRTL\\u202c" in out
    assert "Evil \\x1b[2J\\x1b[31mRed Corp Ltd" in out  # one line: the newline and the tab are spaces
    assert "two lines \\x1b[1m" in out and "line \\x9b2J two" in out
    assert "EUR\\x1b[5m" in run_cli("--book", hostile, "tiers")[1]


def test_a_newline_in_a_company_keeps_one_row_per_record(run_cli, hostile):
    out = run_cli("--book", hostile, "list")[1]
    lines = out.splitlines()
    assert len(lines) == 4  # header, rule, Ana, Eve
    assert lines[3].startswith("Eve \\x1b]0;pwned\\x07") and "Evil \\x1b[2J\\x1b[31mRed" in lines[3]
    assert run_cli("--book", hostile, "search", "evil")[1].splitlines()[0].endswith("Red Corp Ltd")


def _no_nan(text: str):
    def fail(constant):
        raise AssertionError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=fail)


@pytest.mark.parametrize("args", [["show", "eve", "--json"], ["list", "--json"], ["tiers", "--json"],
                                  ["due", "--json"], ["search", "eve", "--json"], ["check", "--json"]])
def test_json_is_valid_and_exact(run_cli, hostile, args):
    code, out, _ = run_cli("--book", hostile, *args)
    assert code == 0
    data = _no_nan(out)
    assert_safe(out)  # written as \\u escapes...
    if args[0] == "show":  # ...which read back as exactly what the file holds
        assert data["name"] == "Eve \x1b]0;pwned\x07 \u202eRTL\u202c"
        assert data["company"] == "Evil \x1b[2J\x1b[31mRed\nCorp\tLtd"
        assert [d["amount"] for d in data["deals"]] == [None, None] and data["deals"][1]["cost"] is None
        assert data["value"] is None
    if args[0] == "list":
        eve = next(row for row in data if row["handle"] == "eve")
        assert eve["company"] == "Evil \x1b[2J\x1b[31mRed\nCorp\tLtd" and eve["value"] is None


def test_json_from_the_real_command_twice(hostile):
    # the second run prints the rows list --json keeps between runs
    for _ in range(2):
        result = crmtui("--book", hostile, "list", "--json")
        assert result.returncode == 0 and "NaN" not in result.stdout
        assert next(r for r in _no_nan(result.stdout) if r["handle"] == "eve")["value"] is None


def test_dumps():
    assert cli_render.dumps({"a": float("nan"), "b": [float("inf"), -float("inf"), 1.5]}) == \
        '{"a":null,"b":[null,null,1.5]}'
    assert cli_render.dumps("\x1b\u202e\x9b\udc80é") == '"\\u001b\\u202e\\u009b\\udc80é"'
    assert json.loads(cli_render.dumps("\u2028\x9b")) == "\u2028\x9b"


def test_the_last_line_of_defence():
    """Text that reached a print without clean is still shown, not obeyed; styles pass."""
    sink = io.StringIO()
    out = cli_render.Output(sink, guard=True)
    out.write("a\x1b[31mb\x1b]0;t\x07c\u202ed\udc80\n\tok")
    assert sink.getvalue() == "a\\x1b[31mb\\x1b]0;t\\x07c\\u202ed\\udc80\n\tok"
    cli_render._STYLES.update(("\x1b[1m", "\x1b[0m"))
    sink.truncate(0), sink.seek(0)
    out.write("\x1b[1mbold\x1b[0m")
    assert sink.getvalue() == "\x1b[1mbold\x1b[0m"
    exact = io.StringIO()
    cli_render.Output(exact, guard=False).write("\x1b[31m")
    assert exact.getvalue() == "\x1b[31m"


def test_cell_and_clean():
    assert cli_render.cell("a\nb\r\n\tc\u2028d") == "a b c d"
    assert cli_render.clean("a\nb\tc\x1b") == "a\nb\tc\\x1b"
    assert cli_render.clean("👩\u200d💻 Mehr\u200cdad") == "👩\u200d💻 Mehr\u200cdad"  # ZWJ, ZWNJ kept
    assert cli_render.clean(cli_render.clean("\x1b\u202e")) == "\\x1b\\u202e"
