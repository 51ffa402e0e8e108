"""Durable output: atomic writes, the run journal, the manifest of files a run wrote, the lock.

Every file theorycheck writes goes through :func:`atomic_write_bytes` /
:func:`atomic_write_text`: the bytes go to a temporary file in the target's own folder
(same file system), are flushed and synced, and only then replace the target with
``os.replace``. A write that fails (a full disk, a signal) leaves the previous file as
it was and no temporary file behind.

A run that writes a folder (``verify all --out DIR``) additionally

* appends each finished claim to ``results.jsonl`` (:class:`Journal`, one JSON object a
  line, flushed per claim) and rewrites ``results.json`` after each claim, marked
  ``"complete": false`` until the run ends;
* records the files it wrote in ``.theorycheck-manifest.json`` (:class:`Manifest`), so a
  later run deletes only files a theorycheck run wrote there, never a user's own;
* holds ``.theorycheck.lock`` (:class:`RunLock`) while it runs, so a second run into the
  same folder stops with a clear message instead of interleaving its files.

Examples
--------
>>> import os, tempfile
>>> folder = tempfile.mkdtemp()
>>> path = atomic_write_text(os.path.join(folder, "a.txt"), "hello")
>>> open(path).read()
'hello'
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from typing import Any, Iterable

from .._validation import fail

__all__ = ["atomic_write_bytes", "atomic_write_text", "Journal", "Manifest", "RunLock", "RunLockedError",
           "check_writable_file", "check_out_folder", "read_journal", "MANIFEST_NAME", "LOCK_NAME",
           "JOURNAL_NAME"]

MANIFEST_NAME = ".theorycheck-manifest.json"
LOCK_NAME = ".theorycheck.lock"
JOURNAL_NAME = "results.jsonl"


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, sync: bool = True) -> str:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder, then rename).

    The parent folder is created if needed. On any error the temporary file is removed and
    the previous content of ``path`` (if any) is untouched; the error propagates.
    ``sync=False`` skips the ``fsync`` (the rename is still atomic, but a power cut may
    lose the new content).
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if sync:
                os.fsync(fh.fileno())
        try:  # mkstemp makes 0600; a report is an ordinary file (umask applies)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        except OSError:  # pragma: no cover - e.g. a file system without modes
            pass
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str, *, sync: bool = True) -> str:
    """:func:`atomic_write_bytes` of ``text`` encoded as UTF-8."""
    return atomic_write_bytes(path, text.encode("utf-8"), sync=sync)


class Journal:
    """An append-only JSON Lines file: one object per finished claim.

    Each :meth:`append` writes one complete line and flushes it, so after a crash the
    file holds every claim appended before it (a torn last line, if any, is skipped by
    :func:`read_journal`).
    """

    def __init__(self, path: str | os.PathLike, *, truncate: bool = True, sync: bool = True):
        self.path = os.fspath(path)
        self.sync = sync
        os.makedirs(os.path.dirname(os.path.abspath(self.path)) or ".", exist_ok=True)
        self._fh = open(self.path, "w" if truncate else "a", encoding="utf-8")

    def append(self, record: Any) -> None:
        self._fh.write(json.dumps(record, allow_nan=False, ensure_ascii=False) + "\n")
        self._fh.flush()
        if self.sync:
            os.fsync(self._fh.fileno())

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()


def read_journal(path: str | os.PathLike) -> list:
    """The records of a journal; a torn (unparsable) last line is left out."""
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                break
    return out


class Manifest:
    """The files theorycheck runs wrote into a folder (``.theorycheck-manifest.json``).

    Paths are stored relative to the folder. :meth:`owned` tells whether a file was
    written by a theorycheck run, so cleaning up never touches a user's file.
    """

    def __init__(self, folder: str | os.PathLike):
        self.folder = os.fspath(folder)
        self.path = os.path.join(self.folder, MANIFEST_NAME)
        self.files: list[str] = []
        try:
            with open(self.path, encoding="utf-8") as fh:
                data = json.load(fh)
            files = data.get("files", []) if isinstance(data, dict) else []
            self.files = [f for f in files if isinstance(f, str) and not os.path.isabs(f)
                          and ".." not in f.split("/")]
        except (OSError, ValueError):
            self.files = []

    def _rel(self, path: str | os.PathLike) -> str:
        return os.path.relpath(os.path.abspath(path), os.path.abspath(self.folder)).replace(os.sep, "/")

    def owned(self, path: str | os.PathLike) -> bool:
        return self._rel(path) in self.files

    def add(self, paths: Iterable[str | os.PathLike]) -> None:
        for p in paths:
            rel = self._rel(p)
            if rel not in self.files:
                self.files.append(rel)
        self.save()

    def discard(self, rel: str) -> None:
        if rel in self.files:
            self.files.remove(rel)

    def save(self) -> None:
        atomic_write_text(self.path, json.dumps({"written_by": "theorycheck", "files": self.files}, indent=1)
                          + "\n", sync=False)

    def remove_owned(self, keep: Iterable[str] = ()) -> list[str]:
        """Delete every file of the manifest (except ``keep``, relative names); returns those deleted."""
        keep = set(keep)
        removed = []
        for rel in list(self.files):
            if rel in keep:
                continue
            full = os.path.join(self.folder, *rel.split("/"))
            try:
                if os.path.isfile(full):
                    os.remove(full)
                    removed.append(rel)
            except OSError:
                continue
            self.files.remove(rel)
        return removed


class RunLockedError(Exception):
    """Another live theorycheck run holds the folder's lock."""


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    except OSError:
        return False
    return True


class RunLock:
    """``.theorycheck.lock`` in a folder: created exclusively, holding the owner's pid.

    A lock whose process is gone (a run killed with SIGKILL) is stale and taken over.
    Use as a context manager, or :meth:`acquire` / :meth:`release`.
    """

    def __init__(self, folder: str | os.PathLike, *, option: str = "--out", caller: str = "theorycheck"):
        self.folder = os.fspath(folder)
        self.path = os.path.join(self.folder, LOCK_NAME)
        self.option, self.caller = option, caller
        self.held = False

    def acquire(self) -> "RunLock":
        os.makedirs(self.folder, exist_ok=True)
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                try:
                    with open(self.path, encoding="utf-8") as fh:
                        pid = int(fh.read().split()[0])
                except (OSError, ValueError, IndexError):
                    pid = -1
                if pid > 0 and pid != os.getpid() and _pid_alive(pid):
                    raise RunLockedError(
                        f"theorycheck: error: another theorycheck run (pid {pid}) is writing into {self.folder}; "
                        f"wait for it to finish or choose another {self.option} (remove {self.path} if that "
                        f"process is not theorycheck)") from None
                try:  # stale: its process is gone
                    os.remove(self.path)
                except FileNotFoundError:
                    pass
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(f"{os.getpid()}\n")
            self.held = True
            return self
        raise RunLockedError(f"theorycheck: error: cannot take the lock {self.path}")  # pragma: no cover

    def release(self) -> None:
        if self.held:
            self.held = False
            try:
                os.remove(self.path)
            except OSError:
                pass

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()


def _probe_folder(folder: str, option: str, caller: str) -> None:
    """Check that a file can be created in ``folder`` without creating anything a failed run
    would leave behind: an existing folder gets a real probe file (``os.access`` is wrong for
    root and for read-only mounts); a missing one needs its nearest existing ancestor to be a
    writable folder (it is created when the first file is written)."""
    if not os.path.isdir(folder):
        ancestor = os.path.dirname(os.path.abspath(folder))
        while not os.path.exists(ancestor):
            ancestor = os.path.dirname(ancestor)
        if not os.path.isdir(ancestor):
            raise fail(option, caller, f"a path that can be created ({ancestor} is a file)", folder)
        if not os.access(ancestor, os.W_OK | os.X_OK):
            raise fail(option, caller, f"a path that can be created ({ancestor} is not writable)", folder)
        return
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".theorycheck-probe.")
        os.close(fd)
        os.remove(probe)
    except OSError as exc:
        reason = "full" if exc.errno == errno.ENOSPC else exc.strerror
        raise fail(option, caller, f"a writable folder ({reason})", folder) from None


def check_writable_file(path: str | os.PathLike, option: str, caller: str = "theorycheck") -> str:
    """Check before a run that ``path`` can be written (its folder created and writable, the
    path not a folder, an existing file writable); returns the path."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise fail(option, caller, "a file path (it is a folder)", path)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise fail(option, caller, f"a path in a folder ({folder} is a file)", path)
    _probe_folder(folder, option, caller)
    if os.path.exists(path) and not os.access(path, os.W_OK) and not os.access(folder, os.W_OK):
        raise fail(option, caller, "a writable file", path)
    return path


def check_out_folder(folder: str | os.PathLike, option: str = "--out", caller: str = "theorycheck verify all"
                     ) -> str:
    """Check before a run that ``folder`` is (or can be created as) a writable folder."""
    folder = os.fspath(folder)
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise fail(option, caller, "a folder (it exists as a file)", folder)
    _probe_folder(folder, option, caller)
    return folder
