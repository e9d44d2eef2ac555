"""Nothing lost, ever: several writer processes at once, an outside editor racing
them, and writers killed with SIGKILL at random moments. Real processes, a real
book, real git; counts what each writer reported against the file and HEAD."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from crmtui.service import Service, init_book
from crmtui.storage.record_file import check_text
from crmtui.storage.toml_text import decode

WRITER = textwrap.dedent("""
    import sys
    from crmtui.errors import CrmError
    from crmtui.service import Service
    book, name, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    for i in range(rounds):
        label = f"{name}-{i}"
        try:
            Service.open(book).log_interaction("ana-lopez", label, kind="call")
            print("ok", label, flush=True)
        except CrmError as error:
            print("failed", label, error, flush=True)
""")

# An editor saving the record from outside, as editors do (write a copy, rename it
# over), with the exchange that tells it what it replaced, so it never drops
# crmtui's lines itself; what is tested is that crmtui never drops its lines.
EDITOR = textwrap.dedent("""
    import random, sys, time
    from pathlib import Path
    from crmtui.storage.atomic import swap_write
    path, stop = Path(sys.argv[1]), Path(sys.argv[2])
    n = 0
    while not stop.exists():
        line = f"# outside edit {n}\\n".encode()
        swap_write(path, lambda raw: raw + line, lambda raw: line in raw)
        print(n, flush=True)
        n += 1
        time.sleep(random.uniform(0.005, 0.05))
""")


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(HOME=str(tmp_path / "home"), GIT_AUTHOR_NAME="T", GIT_AUTHOR_EMAIL="t@example.com",
               GIT_COMMITTER_NAME="T", GIT_COMMITTER_EMAIL="t@example.com", PYTHONDONTWRITEBYTECODE="1")
    (tmp_path / "home").mkdir(exist_ok=True)
    return env


def _book(tmp_path: Path) -> Path:
    root = tmp_path / "book"
    init_book(root)
    Service.open(root).add_customer("Ana Lopez", company="Acme")
    return root


def _summaries(text: str) -> list[str]:
    data, _, problem = check_text("customers/ana-lopez.toml", "ana-lopez", text)
    assert problem is None, problem
    return [i["summary"] for i in data.get("interactions", [])]


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout


def test_four_writers_and_an_outside_editor_lose_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_AUTHOR_NAME", "T")
    root = _book(tmp_path)
    env = _env(tmp_path)
    rounds = int(os.environ.get("CRMTUI_STRESS_ROUNDS", "50"))
    record = root / "customers" / "ana-lopez.toml"
    stop = tmp_path / "stop"
    editor = subprocess.Popen([sys.executable, "-c", EDITOR, str(record), str(stop)], env=env,
                              stdout=subprocess.PIPE, text=True)
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(root), f"w{w}", str(rounds)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for w in range(4)]
    outputs = [w.communicate(timeout=240) for w in writers]
    stop.touch()
    edits = editor.communicate(timeout=30)[0].split()
    reported_ok, reported_failed = set(), set()
    for out, err in outputs:
        assert "Traceback" not in err, err
        for line in out.splitlines():
            verdict, label = line.split()[:2]
            (reported_ok if verdict == "ok" else reported_failed).add(label)
    assert len(reported_ok) + len(reported_failed) == 4 * rounds
    in_file = _summaries(decode(record.read_bytes()))
    in_head = _summaries(_git(root, "show", "HEAD:customers/ana-lopez.toml"))
    assert sorted(reported_ok - set(in_file)) == []  # lost from the file
    assert sorted(reported_ok - set(in_head)) == []  # reported done but not committed
    failures = [line for out, _ in outputs for line in out.splitlines() if line.startswith("failed")]
    assert sorted(set(in_file) & reported_failed) == [], failures[:5]  # ghosts: written but reported failed
    assert len(in_file) == len(set(in_file))  # nothing written twice
    text = record.read_text()
    lost_edits = [n for n in edits if f"# outside edit {n}\n" not in text]
    assert lost_edits == []
    assert len(edits) > 10  # the editor really raced the writers
    assert len(reported_ok) >= 4 * rounds * 0.9  # the writers waited for each other, not failed


KILLED = textwrap.dedent("""
    import sys
    from crmtui.service import Service
    book, start = sys.argv[1], int(sys.argv[2])
    for i in range(start, start + 1000):
        if i % 3 == 2:
            Service.open(book).add_customer(f"Person {i}")
        else:
            Service.open(book).log_interaction("ana-lopez", f"k{i}", kind="call")
        print(i, flush=True)
""")


def test_writers_killed_at_random_leave_a_book_the_next_command_can_use(tmp_path):
    root = _book(tmp_path)
    env = _env(tmp_path)
    rng = random.Random(int(os.environ.get("CRMTUI_KILL_SEED", "7")))
    kills = int(os.environ.get("CRMTUI_KILLS", "30"))
    start = 0
    for round_ in range(kills):
        process = subprocess.Popen([sys.executable, "-c", KILLED, str(root), str(start)], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # The first write after a kill must work with no manual step: wait for it.
        deadline = time.monotonic() + 30
        first = process.stdout.readline()
        assert first.strip(), process.stderr.read()
        assert time.monotonic() < deadline
        time.sleep(rng.uniform(0, 0.15))
        process.send_signal(signal.SIGKILL)
        out, err = process.communicate()
        done = [first.strip(), *out.split()]
        start = int(done[-1]) + 1 if done[-1] else start + 1
        assert "Traceback" not in err, err
    # Every file parses, and one more write settles whatever a killed writer left on disk.
    service = Service.open(root)
    service.log_interaction("ana-lopez", "after the kills")
    assert [p for p in service.reload().problems] == []
    for path in (root / "customers").glob("*.toml"):
        assert check_text(f"customers/{path.name}", path.stem, decode(path.read_bytes()))[2] is None
    assert not (root / ".git" / "index.lock").exists()
    assert _git(root, "status", "--porcelain", "--", "customers") == ""


@pytest.mark.parametrize("state", ["rebase", "detached", "cherry-pick"])
def test_unsafe_git_states_are_refused_before_writing(tmp_path, state):
    from crmtui.errors import CrmError

    root = _book(tmp_path)
    record = root / "customers" / "ana-lopez.toml"
    before = record.read_bytes()
    head = _git(root, "rev-parse", "HEAD").strip()
    if state == "rebase":
        (root / ".git" / "rebase-merge").mkdir()
    elif state == "detached":
        _git(root, "checkout", "-q", "--detach", head)
    else:
        (root / ".git" / "CHERRY_PICK_HEAD").write_text(head + "\n")
    with pytest.raises(CrmError, match="nothing was written"):
        Service.open(root).log_interaction("ana-lopez", "during " + state)
    assert record.read_bytes() == before
    assert _git(root, "rev-parse", "HEAD").strip() == head


def test_a_failed_commit_puts_the_file_back_so_a_retry_adds_once(tmp_path):
    from crmtui.errors import CrmError

    root = _book(tmp_path)
    record = root / "customers" / "ana-lopez.toml"
    before = record.read_bytes()
    _git(root, "config", "commit.gpgsign", "true")
    _git(root, "config", "gpg.program", "false")  # signing fails: the commit fails after the write
    with pytest.raises(CrmError):
        Service.open(root).log_interaction("ana-lopez", "first try")
    assert record.read_bytes() == before
    assert _git(root, "status", "--porcelain") == ""  # nothing left staged either
    _git(root, "config", "commit.gpgsign", "false")
    Service.open(root).log_interaction("ana-lopez", "first try")
    assert _summaries(record.read_text()).count("first try") == 1
    with pytest.raises(CrmError):
        _git(root, "config", "commit.gpgsign", "true")
        Service.open(root).add_customer("Ben Schmidt")
    assert not (root / "customers" / "ben-schmidt.toml").exists()


def test_a_stale_index_lock_is_removed_with_a_notice(tmp_path):
    root = _book(tmp_path)
    (root / ".git" / "index.lock").write_text("")
    service = Service.open(root)
    service.log_interaction("ana-lopez", "after a crash")
    assert any("stale .git/index.lock" in n for n in service.notices())
    assert "after a crash" in (root / "customers" / "ana-lopez.toml").read_text()


def test_a_live_git_holding_the_index_lock_is_named(tmp_path):
    from crmtui.errors import CrmError
    from crmtui.storage import lock

    root = _book(tmp_path)
    index_lock = root / ".git" / "index.lock"
    index_lock.write_text("")
    # A process named git, working in the book, holding the lock open.
    fake_git = tmp_path / "bin" / "git"  # a process the kernel calls "git"
    fake_git.parent.mkdir()
    fake_git.symlink_to(shutil.which("sleep"))
    holder = subprocess.Popen(["bash", "-c", f"exec {fake_git} 30 3<{index_lock}"], cwd=root)
    try:
        time.sleep(0.2)
        if lock._git_using(root, root / ".git", index_lock) is None:
            pytest.skip("no /proc here to see the live git")
        with pytest.raises(CrmError, match="git is busy"):
            lock.clear_stale_index_lock(root, wait=0.2)
        assert index_lock.exists()
    finally:
        holder.kill()
        holder.wait()


def test_a_second_writer_waits_then_names_the_holder(tmp_path):
    from crmtui.errors import CrmError
    from crmtui.storage.lock import book_lock

    root = _book(tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        sys.argv = ["crmtui", "log", "ana"]
        from crmtui.storage.lock import book_lock
        with book_lock(__import__("pathlib").Path({str(root)!r})):
            print("held", flush=True)
            time.sleep(30)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        said = []
        started = time.monotonic()
        with pytest.raises(CrmError, match=r"the book is busy: 'crmtui log ana' \(process \d+"):
            with book_lock(root, wait=1.5, say=said.append):
                pass
        assert 1.4 < time.monotonic() - started < 5
        assert said and "waiting for 'crmtui log ana'" in said[0]
    finally:
        holder.kill()
        holder.wait()
    with book_lock(root, wait=1):  # the kernel released it with the process
        pass


def test_a_book_without_its_own_git_inside_another_repository_is_refused(tmp_path):
    from crmtui.errors import CrmError

    outer = tmp_path / "outer"
    outer.mkdir()
    _git(outer, "init", "-q")
    root = outer / "book"
    init_book(root)
    Service.open(root).add_customer("Ana Lopez")
    import shutil

    shutil.rmtree(root / ".git")
    with pytest.raises(CrmError, match="its own git repository"):
        Service.open(root).log_interaction("ana-lopez", "x")
    assert _git(outer, "log", "--oneline", "--all") == ""
