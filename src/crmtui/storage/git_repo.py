"""The one place that runs git for a book.

Commands go through GitPython's command wrapper (`git.cmd.Git`), which runs the
git binary: measured ~80 ms a commit, against ~480 ms through GitPython's
pure-Python index. Everything here blocks; the TUI calls it from workers.
"""

from __future__ import annotations

from typing import Callable, Iterator, NamedTuple

import os
import re
import subprocess
import tempfile
import threading
from datetime import datetime
from pathlib import Path

from crmtui.errors import CrmError

FALLBACK_NAME = "crmtui"
FALLBACK_EMAIL = "crmtui@localhost"
IDENTITY_HINT = (
    "git has no user.name/user.email here, so crmtui commits as "
    f"'{FALLBACK_NAME} <{FALLBACK_EMAIL}>'. Set yours with: "
    "git config --global user.name 'Your Name'; git config --global user.email you@example.com"
)
ZERO = "0" * 40
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


class FileChange(NamedTuple):
    path: str
    status: str  # A, M, D (renames are split into D + A)
    old_blob: str | None
    new_blob: str | None


class Commit(NamedTuple):
    sha: str
    when: datetime
    author: str
    subject: str
    changes: tuple[FileChange, ...] = ()

    @property
    def short(self) -> str:
        return self.sha[:8]


class GitRepo:
    def __init__(self, root: Path):
        self.root = root
        self._git = None
        self._identity: list[str] | None = None
        self.notices: list[str] = []  # things to tell the user once (the CLI prints them)

    @property
    def git(self):
        if self._git is None:
            import git  # imported on first use: read-only commands never pay for it

            self._git = git.cmd.Git(str(self.root))
        return self._git

    def _execute(self, args: list[str], env: dict[str, str] | None, timeout: float | None = None
                 ) -> tuple[int, str, str]:
        """Run the git binary in the book (git speaks English here: sync reads its words)."""
        full_env = {**os.environ, "LC_ALL": "C", "LANGUAGE": "C", **(env or {})}
        try:
            done = subprocess.run(["git", *args], cwd=self.root, env=full_env, capture_output=True,
                                  stdin=subprocess.DEVNULL, timeout=timeout)
        except FileNotFoundError:
            raise CrmError("git is not installed or not on PATH; crmtui needs it to keep the book's history") from None
        except subprocess.TimeoutExpired as error:
            out = (error.stdout or b"").decode("utf-8", "replace")
            return 124, out, f"git {args[0]} did not finish within {timeout:.0f} s"
        return (done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace"))

    def run(self, *args: str, env: dict[str, str] | None = None, strip: bool = True) -> str:
        # core.quotePath=false: paths like customers/josé.toml come back as written, not "jos\303\251".
        status, out, err = self._execute(["-c", "core.quotePath=false", *args], env)
        if status != 0:
            detail = (err or out).strip().splitlines()
            message = detail[-1] if detail else f"exit status {status}"
            raise CrmError(f"git {args[0]} failed: {message.strip(chr(39))}")
        return out[:-1] if strip and out.endswith("\n") else out

    # ---- setup -------------------------------------------------------------------

    def is_repo(self) -> bool:
        return (self.root / ".git").exists()

    def init(self) -> None:
        self.run("init", "-q", "-b", "main")

    def identity_args(self) -> list[str]:
        """`-c user.name=… -c user.email=…` when git has no identity configured."""
        if self._identity is None:
            self._identity = []
            env_identity = all(os.environ.get(f"GIT_{who}_{what}") for who in ("AUTHOR", "COMMITTER")
                               for what in ("NAME", "EMAIL"))
            missing = [] if env_identity else self._missing_identity()  # the environment wins over config
            if missing:
                self._identity = ["-c", f"user.name={FALLBACK_NAME}", "-c", f"user.email={FALLBACK_EMAIL}"]
                marker = self.root / ".git" / "crmtui" / "identity-noted"
                if not marker.exists():
                    self.notices.append(IDENTITY_HINT)
                    try:
                        marker.parent.mkdir(parents=True, exist_ok=True)
                        marker.touch()
                    except OSError:  # .git is a file (a worktree): say it again next time rather than fail
                        pass
        return self._identity

    def _missing_identity(self) -> list[str]:
        _, out, _ = self.attempt("config", "--get-regexp", r"^user\.(name|email)$")  # one git run for both
        have = {key for key, _, value in (line.partition(" ") for line in out.splitlines()) if value.strip()}
        return [key for key in ("user.name", "user.email") if key not in have]

    def _config(self, key: str) -> str:
        try:
            return self.run("config", "--get", key)
        except CrmError:
            return ""

    # ---- writing -----------------------------------------------------------------

    def commit(self, paths: list[str], message: str, when: datetime | None = None) -> str | None:
        """Commit exactly `paths` (added, changed or deleted) as one commit; None if unchanged."""
        self.run("add", "-A", "--", *paths)
        message = _CONTROL.sub("", message)  # a name with escape codes must not colour `git log`
        env = None
        if when is not None:
            stamp = when.strftime("%Y-%m-%dT%H:%M:%S")
            env = {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
        status, out, err = self.attempt(*self.identity_args(), "-c", "core.quotePath=false", "commit", "-q",
                                        "--no-verify", "-m", message, "--", *paths, env=env)
        if status != 0:
            if self.head() is not None and not self.run("diff", "--cached", "--name-only", "HEAD", "--", *paths):
                return None  # nothing to commit for these paths
            detail = (err or out).strip().splitlines()
            raise CrmError(f"git commit failed: {(detail[-1] if detail else f'exit status {status}').strip(chr(39))}")
        return self.head()

    def pending(self, *pathspecs: str) -> list[tuple[str, str]]:
        """Uncommitted changes as (status, path): 'M', 'A' (new file) or 'D'."""
        out = self.run("status", "--porcelain=v1", "-z", "--untracked-files=all", "--", *pathspecs, strip=False)
        result, parts, i = [], out.split("\0"), 0
        while i < len(parts):
            entry = parts[i]
            i += 1
            if len(entry) < 4:
                continue
            code, path = entry[:2], entry[3:]
            if code[0] == "R":
                i += 1  # the old name follows
            status = "D" if "D" in code else "A" if code in ("??", "A ") or code[0] in "AR" else "M"
            result.append((status, path))
        return result

    def attempt(self, *args: str, env: dict[str, str] | None = None, timeout: float | None = None
                ) -> tuple[int, str, str]:
        """Run git without raising: (exit status, stdout, stderr), for callers that read git's own words
        (sync classifies fetch, merge and push failures from them). git speaks English here (LC_ALL=C)."""
        status, out, err = self._execute(list(args), env, timeout)
        return status, out[:-1] if out.endswith("\n") else out, err[:-1] if err.endswith("\n") else err

    # ---- reading history ---------------------------------------------------------

    def head(self) -> str | None:
        """HEAD's commit id, read from .git's files when they are plain (no subprocess:
        history calls this on every request); asks git otherwise."""
        git_dir = self.root / ".git"
        try:
            ref = (git_dir / "HEAD").read_text().strip()
            if ref.startswith("ref: "):
                name = ref[5:]
                loose = git_dir / name
                if loose.exists():
                    return loose.read_text().strip()
                for line in (git_dir / "packed-refs").read_text().splitlines():
                    if line.endswith(" " + name):
                        return line.split()[0]
                return None  # no commit yet on this branch
            if len(ref) == 40:
                return ref
        except OSError:
            pass
        try:
            return self.run("rev-parse", "--verify", "-q", "HEAD")
        except CrmError:
            return None

    def has_commits(self) -> bool:
        try:
            self.run("rev-parse", "--verify", "-q", "HEAD")
            return True
        except CrmError:
            return False

    def log(self, path: str | None = None, limit: int = 50, rev: str = "HEAD") -> list[Commit]:
        """Commits newest first, each with the files it changed (old and new blob ids)."""
        if not self.has_commits():
            return []
        args = ["log", rev, f"--max-count={limit}", *_RAW_ARGS]
        if path:
            args += ["--", path]
        return _parse_raw_log(self.run(*args))

    def commits(self, shas: list[str], path: str) -> list[Commit]:
        """These commits (newest first), with what each changed in `path`."""
        if not shas:
            return []
        return _parse_raw_log(self.run("show", *_RAW_ARGS, *shas, "--", path))

    def blob(self, sha: str | None) -> str | None:
        """A blob's text by id, through git's persistent cat-file process."""
        if sha is None:
            return None
        _, _, _, stream = self.git.stream_object_data(sha)
        return stream.read().decode("utf-8", errors="replace")

    def iter_parallel(self, commands: list[list[str]], seen: Callable[[int, bytes], None] | None = None,
                      waiting: Callable[[], None] | None = None) -> Iterator[str]:
        """Several read-only git commands run at once (a long `git log` split in spans, to use
        every core); their outputs, in order, each as soon as it and those before it are done,
        so the caller can work on the first while the others still run. `seen(i, chunk)` is told
        of each piece of output as it comes (from a reader thread); `waiting()` is called about
        ten times a second, from the caller's thread, while an output is awaited."""
        env = {**os.environ, "LC_ALL": "C", "LANGUAGE": "C"}
        outputs: list[list[bytes]] = [[] for _ in commands]
        errors = [tempfile.TemporaryFile() for _ in commands]
        processes: list[subprocess.Popen] = []
        readers: list[threading.Thread] = []
        try:
            try:
                for i, args in enumerate(commands):
                    processes.append(subprocess.Popen(["git", "-c", "core.quotePath=false", *args], cwd=self.root,
                                                      env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                                      stderr=errors[i]))
            except FileNotFoundError:
                raise CrmError("git is not installed or not on PATH; crmtui needs it to keep the book's history") from None

            def drain(i: int) -> None:
                stream = processes[i].stdout
                while chunk := stream.read(1 << 20):
                    outputs[i].append(chunk)
                    if seen is not None:
                        seen(i, chunk)

            readers += [threading.Thread(target=drain, args=(i,), daemon=True) for i in range(len(commands))]
            for reader in readers:
                reader.start()
            for i, (reader, process) in enumerate(zip(readers, processes)):
                while reader.is_alive():
                    reader.join(0.1)
                    if waiting is not None:
                        waiting()
                if process.wait() != 0:
                    errors[i].seek(0)
                    detail = errors[i].read().decode("utf-8", "replace").strip().splitlines()
                    message = detail[-1] if detail else f"exit status {process.returncode}"
                    raise CrmError(f"git {commands[i][0]} failed: {message.strip(chr(39))}")
                yield b"".join(outputs[i]).decode("utf-8", "replace")
                outputs[i] = []
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                process.wait()
            for reader in readers:
                reader.join()  # at the end of its output, now that every git has ended
            for process in processes:
                process.stdout.close()
            for handle in errors:
                handle.close()

    def read_blobs(self, shas: list[str]) -> Iterator[tuple[str, bytes | None]]:
        """(id, bytes) of many blobs, in the order asked, through one `git cat-file --batch`
        (None for an id git does not have). A thread feeds the ids, so neither side waits."""
        if not shas:
            return
        try:
            process = subprocess.Popen(["git", "cat-file", "--batch"], cwd=self.root, stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=1 << 16)
        except FileNotFoundError:
            raise CrmError("git is not installed or not on PATH; crmtui needs it to keep the book's history") from None

        def feed() -> None:
            try:
                process.stdin.write("".join(f"{sha}\n" for sha in shas).encode("ascii"))
                process.stdin.close()
            except (BrokenPipeError, OSError):
                pass

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        out = process.stdout
        try:
            for _ in shas:
                header = out.readline().split()
                if not header:
                    raise CrmError("git cat-file stopped before every version of the book was read")
                if len(header) < 3 or header[1] == b"missing":
                    yield header[0].decode("ascii", "replace"), None
                    continue
                size = int(header[2])
                data = out.read(size)
                out.read(1)  # the newline after each object
                yield header[0].decode("ascii"), data
        finally:
            out.close()
            process.kill()
            process.wait()
            feeder.join()

    def show_file(self, rev: str, path: str, stage: int | None = None) -> str | None:
        """A file's text at a commit, or (stage=1/2/3) as base/ours/theirs of a merge in progress."""
        spec = f":{stage}:{path}" if stage else f"{rev}:{path}"
        try:
            return self.run("show", spec, strip=False)
        except CrmError:
            return None

    def patch(self, sha: str, path: str | None = None) -> str:
        args = ["show", "--format=", "--patch", "--no-color", sha]
        if path:
            args += ["--", path]
        return self.run(*args)

    def resolve(self, rev: str) -> str:
        try:
            return self.run("rev-parse", "--verify", "-q", f"{rev}^{{commit}}")
        except CrmError:
            raise CrmError(f"'{rev}' is not a commit in this book; see crmtui history for the ids") from None

    def commit_time(self, sha: str) -> datetime:
        return datetime.fromisoformat(self.run("show", "-s", "--format=%aI", sha))


_RAW_ARGS = ("--no-renames", "--raw", "--no-abbrev", "--diff-merges=cc", "--format=%x1e%H%x1f%aI%x1f%an%x1f%s")


def _parse_raw_log(out: str) -> list[Commit]:
    commits = []
    for block in out.split("\x1e"):
        if not block.strip():
            continue
        head, _, raw = block.partition("\n")
        sha, when, author, subject = head.split("\x1f", 3)
        changes = []
        for line in raw.splitlines():
            if not line.startswith(":"):
                continue
            meta, _, file_path = line.partition("\t")
            parents = len(meta) - len(meta.lstrip(":"))  # "::" for a merge of two
            parts = meta.lstrip(":").split()
            blobs = parts[parents + 1: 2 * parents + 2]
            old, new = blobs[0], blobs[-1]
            changes.append(FileChange(file_path, parts[-1][0], None if old == ZERO else old,
                                      None if new == ZERO else new))
        commits.append(Commit(sha, datetime.fromisoformat(when), author, subject, tuple(changes)))
    return commits
