"""The PDF cache: each plan's PDF is kept on disk until something that changes it changes.

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

The key doubles as the download's ETag.  Files are written to a temporary name in the cache
directory and renamed into place (`os.replace` is atomic), so a reader sees the whole PDF or
nothing; a file that is not a whole PDF anyway (a crash, a full disk, a hand edit) is thrown
away and rendered again.  Writing a plan's new PDF deletes its older ones.  Only names made by
`document_key` are ever opened, and each must resolve to a regular file directly inside the cache
directory: no key, however it was made, reads or writes anywhere else.

Besides the PDFs, the directory holds what lets processes that share it work together without
sharing memory (`planner/documents/prerender.py` uses them): a lock file per plan, held while
one of them draws that plan's PDF; one lock for the background sweep, so that a machine draws
one PDF ahead at a time; and *wanted marks*, empty files named `<key>.wanted` that say someone
is waiting for that PDF, whichever process's worker sees them first.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
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

SUFFIX = ".pdf"
WANTED = ".wanted"
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


def _is_whole_pdf(fh: BinaryIO, size: int) -> bool:
    """Whether the open file holds a PDF from its header to its end-of-file marker."""
    fh.seek(0)
    head = fh.read(5)
    fh.seek(max(0, size - _TAIL_BYTES))
    tail = fh.read()
    fh.seek(0)
    return head == b"%PDF-" and b"%%EOF" in tail


class PdfCache:
    """PDF files in one directory, named by their keys.

    PDFs are handed out as open files rather than paths: a plan's newer PDF, written by
    another process a moment later, deletes this one's name, and an open file survives that.
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory).resolve()

    def path(self, key: str) -> Path:
        """Where the PDF for `key` lives; BadKey for anything but a key `document_key` makes."""
        plan_id_of(key)
        path = self.directory / f"{key}{SUFFIX}"
        # The pattern already rules out separators and dots; this is the second wall.
        if path.parent != self.directory:
            raise BadKey("a key must name a file directly inside the cache directory")
        return path

    def open(self, key: str) -> BinaryIO | None:
        """The cached PDF for `key`, open for reading, if there is a whole one.

        A file that is not a whole PDF is deleted.  A symlink is neither followed nor served:
        this cache never makes one.
        """
        path = self.path(key)
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
            if stat.S_ISREG(info.st_mode) and info.st_size and _is_whole_pdf(fh, info.st_size):
                return fh
        except BaseException:
            fh.close()
            raise
        fh.close()
        self._discard(path)
        return None

    def put(self, key: str, data: bytes) -> BinaryIO:
        """Store `data` as the PDF for `key`, atomically, and forget the plan's older PDFs.

        Returns the stored file, open for reading.
        """
        path = self.path(key)
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(dir=self.directory, prefix=_TEMP_PREFIX, suffix=SUFFIX)
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
        self.prune(plan_id_of(key), keep=key)
        return fh

    def prune(self, plan_id: int, *, keep: str | None = None) -> None:
        """Delete the plan's PDFs other than `keep`, and temporary files that writers left behind."""
        if not self.directory.is_dir():
            return
        keep_name = f"{keep}{SUFFIX}" if keep else None
        for path in self.directory.glob(f"{int(plan_id)}-*{SUFFIX}"):
            if path.name != keep_name:
                self._discard(path)
        cutoff = time.time() - _STALE_TEMP_SECONDS
        for path in self.directory.glob(f"{_TEMP_PREFIX}*"):
            with contextlib.suppress(FileNotFoundError):
                if path.lstat().st_mtime < cutoff:
                    path.unlink()

    def forget(self, plan_id: int) -> None:
        """Delete every PDF of a plan (when the plan is deleted)."""
        self.prune(plan_id)
        for path in self.directory.glob(f"{int(plan_id)}-*{WANTED}"):
            self._discard(path)
        self._discard(self.directory / f"{int(plan_id)}.lock")

    def has(self, key: str) -> bool:
        """Whether a whole PDF for `key` is stored."""
        fh = self.open(key)
        if fh is None:
            return False
        fh.close()
        return True

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
    def _rendering(self, plan_id: int) -> Iterator[None]:
        """One render of a plan at a time, across every thread and process sharing the directory."""
        with self._locked(f"{int(plan_id)}.lock", wait=True):
            yield

    def try_rendering(self, plan_id: int) -> contextlib.AbstractContextManager[bool]:
        """The plan's render lock if it is free now (yields True), else yields False at once."""
        return self._locked(f"{int(plan_id)}.lock", wait=False)

    def try_sweeping(self) -> contextlib.AbstractContextManager[bool]:
        """The one background sweep of this directory, if none is under way (yields True)."""
        return self._locked(".sweep.lock", wait=False)

    def open_or_render(self, key: str, render: Callable[[], bytes]) -> BinaryIO:
        """The cached PDF for `key`, open for reading, rendered and stored first if there is none.

        Two requests for the same new PDF (a double click, two colleagues) render it once: the
        second waits for the first and then reads its file.
        """
        fh = self.open(key)
        if fh is not None:
            return fh
        with self._rendering(plan_id_of(key)):
            fh = self.open(key)
            if fh is None:
                fh = self.put(key, render())
        return fh


def pdf_cache(app: Flask | None = None) -> PdfCache | None:
    """The app's PDF cache, or None when `PDF_CACHE_DIR` is empty (caching switched off)."""
    directory = (app or current_app).config.get("PDF_CACHE_DIR")
    return PdfCache(directory) if directory else None
