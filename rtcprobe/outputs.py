"""Writing outputs so that a failed run never replaces a good file and a full disk never leaves half a line.

Every file rtcprobe writes (captures, imported captures, reports) is written under a temporary name
beside its target (`NAME.XXXXXXXX.part`, which `*.jsonl`/`*.html` globs do not match) and renamed
over the target only when it is complete. Captures are written live to that name, one whole line at
a time, so a crash, a kill or a full disk leaves only complete lines; the rename happens when the
session ends, also when it is interrupted.
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

PART_SUFFIX = ".part"

#: Live files not yet finished: what `settle` deals with when a run ends early.
_OPEN: set[LiveFile] = set()


class OutputError(Exception):
    """An output that cannot be written: one line naming the path and the cause (exit status 2)."""

    def __init__(self, path: str | Path, cause: str) -> None:
        super().__init__(f"{path}: {cause}")
        self.path = str(path)
        self.cause = cause

    @classmethod
    def from_os(cls, path: str | Path, exc: OSError, doing: str = "cannot write") -> OutputError:
        if exc.errno == errno.ENOSPC:
            cause = "the disk is full (no space left on device)"
        elif exc.errno == errno.EDQUOT:
            cause = "disk quota exceeded"
        else:
            cause = (exc.strerror or str(exc)).lower() if exc.strerror else str(exc)
        return cls(path, f"{doing}: {cause}")

    @property
    def disk_full(self) -> bool:
        return "disk is full" in self.cause or "quota" in self.cause


def _parent(target: Path) -> Path:
    """The directory the target lives in, created when missing; OutputError when it cannot be."""
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise OutputError(target, f"cannot create it: {_first_file(parent)} is a file, not a directory") from None
    except OSError as exc:
        raise OutputError.from_os(target, exc, f"cannot create its directory {parent}") from None
    return parent


def _first_file(path: Path) -> Path:
    """The first component of `path` that exists but is not a directory (for the message)."""
    for candidate in reversed([path, *path.parents]):
        if candidate.exists() and not candidate.is_dir():
            return candidate
    return path


def resolve_target(path: str | Path) -> Path:
    """The file to replace: refused when it is a directory or not a regular file (`/dev/full`, a FIFO),
    since rtcprobe writes beside it and renames; a symbolic link is followed to the file it names."""
    target = Path(path)
    if target.is_symlink() and target.resolve().is_file():
        target = target.resolve()
    if target.is_dir():
        raise OutputError(target, "is a directory, expected a file name")
    if target.exists() and not target.is_file():
        raise OutputError(target, "not a regular file (rtcprobe writes beside its output and renames it into place)")
    return target


def _open_part(target: Path, flags: int) -> tuple[int, Path]:
    """A new file `TARGET.XXXXXXXX.part` beside the target (permissions as for any new file)."""
    parent = _parent(target)
    for _ in range(100):
        part = parent / f"{target.name}.{secrets.token_hex(4)}{PART_SUFFIX}"
        try:
            return os.open(part, flags | os.O_CREAT | os.O_EXCL, 0o666), part
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError.from_os(target, exc) from None
    raise OutputError(target, "cannot write: no free temporary name beside it")


def check_file(path: str | Path) -> Path:
    """Before any work is done: the output can be created where it is due. Returns the target."""
    target = resolve_target(path)
    fd, part = _open_part(target, os.O_WRONLY)
    os.close(fd)
    part.unlink()
    return target


def check_directory(path: str | Path) -> Path:
    """Before an import: the output directory exists (or is created) and files can be written in it."""
    directory = Path(path)
    if directory.exists() and not directory.is_dir():
        raise OutputError(directory, "is a file, expected a directory for the capture files")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise OutputError(directory, f"cannot create it: {_first_file(directory)} is a file, not a directory") from None
    except OSError as exc:
        raise OutputError.from_os(directory, exc, "cannot create the directory") from None
    check_file(directory / "rtcprobe-write-check")
    return directory


class Checked:
    """A text file whose write errors name the output (not a temporary file) and say what failed."""

    def __init__(self, file: IO[str], target: str | Path, doing: str = "cannot write") -> None:
        self._file, self._target, self._doing = file, target, doing

    def write(self, text: str) -> int:
        try:
            return self._file.write(text)
        except OSError as exc:
            raise OutputError.from_os(self._target, exc, self._doing) from None

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:  # read, seek: the file's own
        return getattr(self._file, name)


@contextmanager
def replacing(path: str | Path, *, encoding: str = "utf-8", newline: str | None = None) -> Iterator[Checked]:
    """Write a whole file beside `path` and rename it over `path` only when the block ends normally;
    on any exception (a full disk, Ctrl-C, bad input) the temporary file is removed and `path` is left
    as it was."""
    target = resolve_target(path)
    fd, part = _open_part(target, os.O_WRONLY)
    file = open(fd, "w", encoding=encoding, newline=newline)  # noqa: SIM115 - closed on both paths below
    try:
        yield Checked(file, target)
        try:
            file.flush()
            os.fsync(file.fileno())
            file.close()
        except OSError as exc:
            raise OutputError.from_os(target, exc) from None
    except BaseException:
        with suppress(OSError):
            file.close()  # what is still buffered may not fit either: the file goes anyway
        with suppress(OSError):
            part.unlink()
        raise
    _rename(part, target)


def _rename(part: Path, target: Path) -> None:
    try:
        os.replace(part, target)
    except OSError as exc:
        raise OutputError.from_os(target, exc, "cannot rename the finished file into place") from None


class LiveFile:
    """An append-only file written whole line by whole line, readable while it is written.

    A new file is written under its own name (a crash or a kill leaves every complete line there).
    When a file of that name exists already, the new one is written beside it under a temporary name
    and renamed over it by `finish`, so that an earlier file is never truncated. A line is written
    whole or not at all: when the disk fills, what was written of the line is cut off again, the
    error is kept in `failure`, and `append` returns False. `keep`: whether a run that ends without
    `finish` or `discard` (an error, a second signal) keeps the file as it stands (a capture) or
    removes it (an import, which is all or nothing)."""

    def __init__(self, path: str | Path, *, keep: bool = True) -> None:
        self.keep = keep
        self.target = resolve_target(path)
        self.existed = self.target.exists()
        self._fd: int | None = None
        flags = os.O_WRONLY | os.O_APPEND
        if not self.existed:
            _parent(self.target)
            try:
                self._fd, self.path = os.open(self.target, flags | os.O_CREAT | os.O_EXCL, 0o666), self.target
            except FileExistsError:  # made meanwhile by someone else: protect it like any earlier file
                self.existed = True
            except OSError as exc:
                raise OutputError.from_os(self.target, exc) from None
        if self._fd is None:
            self._fd, self.path = _open_part(self.target, flags)
        self.size = 0
        self.lines = 0
        self.failure: OutputError | None = None
        _OPEN.add(self)

    @property
    def closed(self) -> bool:
        return self._fd is None

    def append(self, line: bytes) -> bool:
        """Write one whole line; False when it did not fit (the file then ends at the line before)."""
        if self._fd is None:
            return False
        view = memoryview(line)
        try:
            while view:
                view = view[os.write(self._fd, view):]
        except OSError as exc:
            with suppress(OSError):
                os.ftruncate(self._fd, self.size)
            if self.failure is None:
                self.failure = OutputError.from_os(self.target, exc)
            return False
        self.size += len(line)
        self.lines += 1
        return True

    def _close(self) -> None:
        _OPEN.discard(self)
        if self._fd is not None:
            with suppress(OSError):
                os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None

    def finish(self) -> Path:
        """Close, and rename a temporary file into place; the path the file now has.

        A file cut short by a write failure does not replace a file that was there before the run:
        it stays under its temporary name, which is returned."""
        was_open = self._fd is not None
        self._close()
        if self.path == self.target or not was_open:
            return self.path
        if self.failure is not None:
            return self.path
        _rename(self.path, self.target)
        self.path = self.target
        return self.target

    def discard(self) -> None:
        """Close and remove what this run wrote (an earlier file of the same name is untouched)."""
        if self._fd is None:
            return
        self._close()
        with suppress(OSError):
            self.path.unlink()


def settle() -> list[Path]:
    """Live files a run left open: those to `keep` put in place as they stand, the others removed.
    Returns where the kept ones are."""
    kept = []
    for live in list(_OPEN):
        if not live.keep:
            live.discard()
            continue
        with suppress(OutputError):
            kept.append(live.finish())
    return kept
