"""The document cache: each plan's PDF, Word and Markdown files are kept on disk until something
that changes them changes.

A large plan takes WeasyPrint tens of seconds to lay out; downloading it again, unchanged,
should cost a file read.  The cache lives on disk (`PDF_CACHE_DIR`, by default in the
instance folder) rather than in memory, so that every app process on the machine shares it and
a restart keeps it.  When several machines serve the app, each keeps its own copy; none can
serve a stale one, because a changed plan has a new key.

The key (`document_key`) names everything that changes the PDF's bytes:

* the plan's id, its `revision` (moved on in SQL by `store._touch` at every write to the plan
  or its items) and its `updated_at` (set by the same call: a second witness of every write);
* its `created_at`: SQLite may give a deleted plan's id to the next new plan, and the new
  plan must not be handed the old one's PDF;
* the date printed on the cover (`today`), so tomorrow's download says tomorrow;
* the code that draws the PDF (`code_version`): templates, static assets, the app's Python
  source and WeasyPrint's version, hashed once per process.  A deploy starts a new set of keys.

The same key names the plan's Word (`<key>.docx`) and Markdown (`<key>.md`) files, made in the
web process (they take a fraction of a PDF's time, but a long plan's Word file still takes
seconds).  The key doubles as the download's ETag.  Files are written to a temporary name in the
cache directory and renamed into place (`os.replace` is atomic), so a reader sees the whole file
or nothing; a file that is not whole anyway (a crash, a full disk, a hand edit) is thrown away
and rendered again.  Writing a plan's new file deletes its older ones of that format.  Only
names made by `document_key` are ever opened, and each must resolve to a regular file directly
inside the cache directory: no key, however it was made, reads or writes anywhere else.

Besides the files, the directory holds *failure marks*, `<key>.failed`, which say that the
plan's PDF for that key could not be drawn within the render limits ("time", "memory") or at all
("error"): every process sees them, so a plan too long to print is not drawn again and again
until it changes (or the day, or the code, does).  An "error" mark is trusted for
`ERROR_RETRY_SECONDS` only: a passing fault should not outlive a few minutes.  A render limit's
mark records the limits it was made under, and is ignored once that limit is higher.  Such a
failure also leaves `<plan id>.too-long`, kept through pruning until a PDF of the plan is drawn:
the background does not draw that plan ahead (`too_long`), only when someone asks for it.

It also holds what lets processes that share it work together without sharing memory
(`planner/documents/prerender.py` uses them): a lock file per plan and format, held while one
of them draws that plan's file; one lock for the background sweep, so that a machine draws
one PDF ahead at a time; and *wanted marks*, empty files named `<key>.wanted` that say someone
is waiting for that PDF, whichever process's worker sees them first.

A deleted plan's files are deleted with it: the cache listens for `plan_deleted`
(`planner/plans/signals.py`), sent once the deletion is committed.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import io
import math
import os
import re
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

import weasyprint
from flask import Flask, current_app

from planner.documents.fetcher import ASSET_TYPES
from planner.documents.render import render_limits
from planner.plans.signals import plan_deleted

SUFFIX = ".pdf"
WANTED = ".wanted"
FAILED = ".failed"
# The formats kept, by suffix; each has a test of a whole file (see `_is_whole`).
SUFFIXES = (".pdf", ".docx", ".md")
FAILURES = ("time", "memory", "error")
TOO_LONG = ("time", "memory")  # the failures that make a plan too long to print (a render limit)
# A plan whose latest failed revision was too long: "<plan id>.too-long", kept through pruning.
TOO_LONG_MARK = ".too-long"
ERROR_RETRY_SECONDS = 600
# Markdown has no end marker of its own: its file ends with one of ours, the SHA-256 of the text
# before it, and is read back whole (it is small) and checked.
_SEALED = ".md"
_SEAL = b"\n%%planner-sha256:"
_SEAL_BYTES = len(_SEAL) + 64
# "<plan id>-<32 hex digits>": nothing else is a key, so nothing else becomes a file name.
KEY_PATTERN = re.compile(r"[1-9][0-9]{0,18}-[0-9a-f]{32}")
_TEMP_PREFIX = ".tmp-"
# A temporary file this old belongs to a writer that died; a live one finishes in seconds.
_STALE_TEMP_SECONDS = 3600
# Where a whole PDF keeps its end-of-file marker: in its last few bytes (trailing whitespace).
_TAIL_BYTES = 1024


class BadKey(ValueError):
    """A cache key that `document_key` could not have made."""


# ---------------------------------------------------------------- keys


@functools.cache
def _code_version(template_folder: Path, static_folder: Path, package_folder: Path) -> str:
    """A hash of everything besides the plan that decides how its PDF looks."""
    digest = hashlib.sha256(f"weasyprint {weasyprint.__version__}; python {sys.version}".encode())
    sources = (
        ("templates", template_folder, lambda p: True),
        ("static", static_folder, lambda p: p.suffix.lower() in ASSET_TYPES),
        ("planner", package_folder, lambda p: p.suffix == ".py"),
    )
    for label, root, wanted in sources:
        for path in sorted(p for p in root.rglob("*") if p.is_file() and wanted(p)):
            # Relative names, so that two machines running the same release agree on keys.
            digest.update(f"{label}/{path.relative_to(root).as_posix()}\0".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def code_version(app: Flask | None = None) -> str:
    """The version of the PDF-drawing code in this process (computed once, then remembered)."""
    app = app or current_app
    if not app.debug and (known := app.extensions.get("planner_pdf_code_version")):
        return str(known)
    if not app.template_folder or not app.static_folder:
        raise RuntimeError("the PDF cache needs the app's templates and static folders")
    folders = (
        Path(app.root_path, app.template_folder).resolve(),
        Path(app.static_folder).resolve(),
        Path(app.root_path).resolve(),
    )
    # The debug server reloads templates and stylesheets without a restart: look every time.
    if app.debug:
        return _code_version.__wrapped__(*folders)
    app.extensions["planner_pdf_code_version"] = version = _code_version(*folders)
    return version


def document_key(plan: Any, today: date, *, version: str | None = None) -> str:
    """The cache key (and ETag) of `plan`'s PDF as printed on `today`."""
    parts = (
        plan.revision,
        plan.created_at.isoformat() if plan.created_at else "",
        plan.updated_at.isoformat() if plan.updated_at else "",
        today.isoformat(),
        version or code_version(),
    )
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    return f"{int(plan.id)}-{digest}"


def plan_id_of(key: str) -> int:
    if not KEY_PATTERN.fullmatch(key):
        raise BadKey(f"not a PDF cache key: {key[:80]!r}")
    return int(key.partition("-")[0])


# ---------------------------------------------------------------- the store


def _is_whole(fh: BinaryIO, size: int, suffix: str) -> bool:
    """Whether the open file holds a whole file of its format: a PDF from its header to its
    end-of-file marker, a Word file (a zip) from its first entry to its central directory's end,
    Markdown that is not empty."""
    fh.seek(0)
    head = fh.read(5)
    fh.seek(max(0, size - _TAIL_BYTES))
    tail = fh.read()
    fh.seek(0)
    if suffix == ".pdf":
        return head == b"%PDF-" and b"%%EOF" in tail
    if suffix == ".docx":
        return head.startswith(b"PK\x03\x04") and b"PK\x05\x06" in tail
    return _unsealed(fh.read()) is not None


def _sealed(data: bytes) -> bytes:
    return data + _SEAL + hashlib.sha256(data).hexdigest().encode("ascii")


def _unsealed(stored: bytes) -> bytes | None:
    """The text a sealed file holds, if its seal matches it."""
    data, seal = stored[:-_SEAL_BYTES], stored[-_SEAL_BYTES:]
    if not seal.startswith(_SEAL) or seal[len(_SEAL) :] != hashlib.sha256(data).hexdigest().encode("ascii"):
        return None
    return data


def _check_suffix(suffix: str) -> str:
    if suffix not in SUFFIXES:
        raise BadKey(f"not a kept format: {suffix[:20]!r}")
    return suffix


class PdfCache:
    """PDF (and Word and Markdown) files in one directory, named by their keys.

    Files are handed out as open files rather than paths: a plan's newer PDF, written by
    another process a moment later, deletes this one's name, and an open file survives that.
    """

    def __init__(self, directory: str | os.PathLike[str], limits: tuple[float, float] | None = None) -> None:
        self.directory = Path(directory).resolve()
        # The render limits now (CPU seconds, memory MB; `render.render_limits`): a too-long mark
        # records those it was made under, and one made under a lower limit than now is ignored.
        self.limits = limits

    def path(self, key: str, suffix: str = SUFFIX) -> Path:
        """Where the file for `key` lives; BadKey for anything but a key `document_key` makes."""
        plan_id_of(key)
        path = self.directory / f"{key}{_check_suffix(suffix)}"
        # The pattern already rules out separators and dots; this is the second wall.
        if path.parent != self.directory:
            raise BadKey("a key must name a file directly inside the cache directory")
        return path

    def open(self, key: str, suffix: str = SUFFIX) -> BinaryIO | None:
        """The cached file for `key`, open for reading, if there is a whole one.

        A file that is not whole is deleted.  A symlink is neither followed nor served: this
        cache never makes one.
        """
        path = self.path(key, suffix)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            return None
        except OSError:  # ELOOP: a symlink sits where the PDF should be
            self._discard(path)
            return None
        fh = os.fdopen(fd, "rb")
        try:
            info = os.fstat(fd)
            if stat.S_ISREG(info.st_mode) and info.st_size and _is_whole(fh, info.st_size, suffix):
                if suffix != _SEALED:
                    return fh
                with fh:
                    fh.seek(0)
                    return io.BytesIO(_unsealed(fh.read()) or b"")
        except BaseException:
            fh.close()
            raise
        fh.close()
        self._discard(path)
        return None

    def put(self, key: str, data: bytes, suffix: str = SUFFIX) -> BinaryIO:
        """Store `data` as the file for `key`, atomically, and forget the plan's older ones.

        Returns the stored file, open for reading.
        """
        path = self.path(key, suffix)
        if suffix == _SEALED:
            self._write(path, _sealed(data)).close()
            fh: BinaryIO = io.BytesIO(data)
        else:
            fh = self._write(path, data)
        self.prune(plan_id_of(key), keep=key, suffix=suffix)
        if suffix == SUFFIX:
            self._discard(self._too_long_path(plan_id_of(key)))  # it printed: drawn ahead again
        return fh

    def _write(self, path: Path, data: bytes) -> BinaryIO:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(dir=self.directory, prefix=_TEMP_PREFIX, suffix=path.suffix)
        fh = os.fdopen(fd, "w+b")
        try:
            fh.write(data)
            fh.flush()
            os.fsync(fd)
            # Readers never see a half-written file: the name appears only once the bytes are in.
            os.replace(temp_name, path)
        except BaseException:
            fh.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)
            raise
        fh.seek(0)
        return fh

    def prune(self, plan_id: int, *, keep: str | None = None, suffix: str | None = None) -> None:
        """Delete the plan's files other than `keep`'s (of `suffix`'s format, or of every format
        and the failure marks), and temporary files that writers left behind."""
        if not self.directory.is_dir():
            return
        suffixes = (suffix, FAILED) if suffix == SUFFIX else (suffix,) if suffix else (*SUFFIXES, FAILED)
        for kind in suffixes:
            keep_name = f"{keep}{kind}" if keep else None
            for path in self.directory.glob(f"{int(plan_id)}-*{kind}"):
                if path.name != keep_name:
                    self._discard(path)
        cutoff = time.time() - _STALE_TEMP_SECONDS
        for path in self.directory.glob(f"{_TEMP_PREFIX}*"):
            with contextlib.suppress(FileNotFoundError):
                if path.lstat().st_mtime < cutoff:
                    path.unlink()

    def forget(self, plan_id: int) -> None:
        """Delete every file of a plan (when the plan is deleted)."""
        self.prune(plan_id)
        for path in self.directory.glob(f"{int(plan_id)}-*{WANTED}"):
            self._discard(path)
        for path in self.directory.glob(f"{int(plan_id)}.*lock"):
            self._discard(path)
        self._discard(self._too_long_path(plan_id))

    def has(self, key: str) -> bool:
        """Whether a whole PDF for `key` is stored."""
        fh = self.open(key)
        if fh is None:
            return False
        fh.close()
        return True

    # ------------------------------------------------------------ failure marks

    def fail(self, key: str, limit: str) -> None:
        """Remember, for every process, that the PDF for `key` could not be drawn (`limit`).

        A render limit ("time", "memory") is written with the limits it was reached under
        ("time 120 1536"), and marks the plan as too long (`too_long`) as well as this key."""
        if limit not in FAILURES:
            raise ValueError(f"not a failure: {limit!r}")
        text = limit if limit not in TOO_LONG or self.limits is None else "{} {:g} {:g}".format(limit, *self.limits)
        self._write(self.path(key).with_suffix(FAILED), text.encode("ascii")).close()
        if limit in TOO_LONG:
            self._write(self._too_long_path(plan_id_of(key)), text.encode("ascii")).close()
        self.prune(plan_id_of(key), keep=key, suffix=SUFFIX)

    def failure(self, key: str) -> str | None:
        """Why the PDF for `key` could not be drawn ("time", "memory", "error"), if it could not."""
        path = self.path(key).with_suffix(FAILED)
        mark = self._read_mark(path)
        if mark is None:
            return None
        limit, age = mark
        if limit == "error" and age > ERROR_RETRY_SECONDS:
            self._discard(path)
            return None
        return limit

    def too_long(self, plan_id: int) -> bool:
        """Whether the plan's latest failed revision was too long to print, and no PDF of it has
        been drawn since: drawing ahead leaves it alone, a download still asks for it."""
        return self._read_mark(self._too_long_path(plan_id)) is not None

    def _too_long_path(self, plan_id: int) -> Path:
        return self.directory / f"{int(plan_id)}{TOO_LONG_MARK}"

    def _read_mark(self, path: Path) -> tuple[str, float] | None:
        """A failure mark's failure and age in seconds; None if there is none, or it is a render
        limit's made under a lower limit than now (an operator raised it: try again)."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            return None
        except OSError:
            self._discard(path)
            return None
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fh.fileno())
            text = fh.read(64).decode("ascii", "replace") if stat.S_ISREG(info.st_mode) else ""
        limit, *under = text.split() or [""]
        if limit not in FAILURES:
            self._discard(path)
            return None
        if limit in TOO_LONG and self.limits is not None and len(under) == 2:
            index = TOO_LONG.index(limit)
            try:
                then = float(under[index])
            except ValueError:
                then = math.inf
            now = self.limits[index]
            if limit == "memory":  # 0 is no ceiling at all
                then, now = (value if value > 0 else math.inf for value in (then, now))
            if now > then:
                return None
        return limit, time.time() - info.st_mtime

    # ------------------------------------------------------------ wanted marks

    def want(self, key: str) -> None:
        """Mark `key` as waited for (a no-op if it is already marked)."""
        path = self.path(key).with_suffix(WANTED)
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))

    def wanted(self) -> list[str]:
        """The keys someone waits for, longest-waiting first."""
        if not self.directory.is_dir():
            return []
        marks = []
        for path in self.directory.glob(f"*{WANTED}"):
            key = path.name.removesuffix(WANTED)
            with contextlib.suppress(FileNotFoundError):
                if KEY_PATTERN.fullmatch(key):
                    marks.append((path.lstat().st_mtime, key))
        return [key for _, key in sorted(marks)]

    def unwant(self, key: str) -> None:
        self._discard(self.path(key).with_suffix(WANTED))

    @staticmethod
    def _discard(path: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()

    # ------------------------------------------------------------ locks

    @contextlib.contextmanager
    def _locked(self, name: str, *, wait: bool) -> Iterator[bool]:
        """Hold the lock file `name` (an flock: any thread or process sharing the directory).

        Yields whether the lock is held: with `wait`, always, once it is; without, False at once
        when someone else holds it.  The kernel drops the lock when its holder dies.
        """
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.directory / name, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
            else:
                yield True
        finally:
            os.close(fd)  # closing the file releases the lock

    @contextlib.contextmanager
    def _rendering(self, plan_id: int, suffix: str = SUFFIX) -> Iterator[None]:
        """One render of a plan's file at a time, across every thread and process sharing the
        directory.  Each format has its own lock: a Word download does not wait for a PDF."""
        name = f"{int(plan_id)}.lock" if suffix == SUFFIX else f"{int(plan_id)}{_check_suffix(suffix)}.lock"
        with self._locked(name, wait=True):
            yield

    def try_rendering(self, plan_id: int) -> contextlib.AbstractContextManager[bool]:
        """The plan's render lock if it is free now (yields True), else yields False at once."""
        return self._locked(f"{int(plan_id)}.lock", wait=False)

    def try_sweeping(self) -> contextlib.AbstractContextManager[bool]:
        """The one background sweep of this directory, if none is under way (yields True)."""
        return self._locked(".sweep.lock", wait=False)

    def open_or_render(self, key: str, render: Callable[[], bytes], suffix: str = SUFFIX) -> BinaryIO:
        """The cached file for `key`, open for reading, rendered and stored first if there is none.

        Two requests for the same new file (a double click, two colleagues) render it once: the
        second waits for the first and then reads its file.
        """
        fh = self.open(key, suffix)
        if fh is not None:
            return fh
        with self._rendering(plan_id_of(key), suffix):
            fh = self.open(key, suffix)
            if fh is None:
                fh = self.put(key, render(), suffix)
        return fh


_CACHE_EXTENSION = "planner_pdf_cache"


def pdf_cache(app: Flask | None = None) -> PdfCache | None:
    """The app's document cache, or None when `PDF_CACHE_DIR` is empty (caching switched off).

    Made once per setting and kept (resolving the directory's path costs system calls that a
    cached download would otherwise pay two or three times): the object holds nothing but its
    directory and limits, so every thread may share it; a changed setting makes a new one."""
    app = app or current_app
    directory = app.config.get("PDF_CACHE_DIR")
    if not directory:
        return None
    limits = render_limits(app)
    known = app.extensions.get(_CACHE_EXTENSION)
    if known is not None and known[0] == (directory, limits):
        return known[1]
    made = PdfCache(directory, limits)
    app.extensions[_CACHE_EXTENSION] = ((directory, limits), made)
    return made


@plan_deleted.connect
def _forget_deleted(app: Flask | None, plan_id: int) -> None:
    """A deleted plan's files would never be served again: don't keep them on disk."""
    if app is not None and (cache := pdf_cache(app)) is not None:
        cache.forget(plan_id)
