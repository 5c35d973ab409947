"""Files tpi writes for people (PDFs, exports) and for its store: private, atomic, created exclusively,
and never over an existing file unless the user named it.

A shared folder (a clinic's network drive, /tmp) may hold files planted by someone else, so a temp file
is never opened by a predictable name: on Linux it has no name at all until its content is complete
(O_TMPFILE, then linked in), elsewhere it gets a random name opened with O_EXCL|O_NOFOLLOW. A kill
while writing then leaves no file behind (Linux) or only a swept ``.tpi-*.tmp`` (elsewhere).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Self

from tpi_cli.errors import InputError, StoreError

FILE_MODE = 0o600
TEMP_PREFIX = ".tpi-"
TEMP_SUFFIX = ".tmp"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def why(error: OSError) -> str:
    return error.strerror or str(error)


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | _CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_out(fd: int, data: bytes | Iterable[bytes]) -> None:
    for piece in [data] if isinstance(data, bytes) else data:
        view = memoryview(piece)
        while view:
            written = os.write(fd, view)
            view = view[written:]


def _write_all(fd: int, data: bytes | Iterable[bytes]) -> None:
    _write_out(fd, data)
    os.fsync(fd)


def _new_file(path: Path) -> int:
    """A new 0600 file at PATH, open for writing; replaces a regular file, never follows a link."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
    try:  # usually nothing is there: one call, not a look first (an import makes a file per patient)
        fd = os.open(path, flags, FILE_MODE)
    except FileExistsError:
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISREG(os.lstat(path).st_mode):
                os.unlink(path)
        fd = os.open(path, flags, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _sync_and_close(fd: int) -> None:
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SyncedFiles:
    """New files written at once and fsynced by a few threads meanwhile (as many as a batch writes).

    One fsync after another waited 2-6 ms each on this machine's ext4 (an import's 2,000 files: seconds of
    waiting); side by side the file system commits them together, in a tenth of the time, while the caller
    goes on building the next file. :meth:`wait` returns once every file written is on disk, or raises the
    first OSError: only then may a batch commit. Used as a context manager, it never leaves a thread or an
    open file behind.
    """

    IN_FLIGHT = 64  # files written and not yet synced: open descriptors, well under any limit

    def __init__(self, threads: int = 8):
        from concurrent.futures import ThreadPoolExecutor  # only writes of many files pay for the import

        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="tpi-fsync")
        self._pending: list[Any] = []

    def write(self, path: Path, data: bytes | Iterable[bytes]) -> None:
        """Write DATA to a new 0600 file at PATH (replacing a regular file, never following a link); it is fsynced
        by the time wait() returns."""
        fd = _new_file(path)
        try:
            _write_out(fd, data)
        except BaseException:
            os.close(fd)
            raise
        self._pending.append(self._pool.submit(_sync_and_close, fd))
        if len(self._pending) > self.IN_FLIGHT:
            self._pending.pop(0).result()

    def wait(self) -> None:
        while self._pending:
            self._pending.pop(0).result()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        # on an error every file is still closed (its fsync may fail: the batch is not committed anyway)
        for future in self._pending:
            with contextlib.suppress(OSError):
                future.result()
        self._pending.clear()
        self._pool.shutdown(wait=True)


def _random_temp(folder: Path) -> Path:
    return folder / f"{TEMP_PREFIX}{secrets.token_hex(8)}{TEMP_SUFFIX}"


def _unnamed_file(folder: Path) -> int | None:
    """An open, nameless 0600 file in FOLDER (Linux O_TMPFILE), or None where that is not supported."""
    flag = getattr(os, "O_TMPFILE", 0)
    if not flag or not os.path.isdir("/proc/self/fd"):
        return None
    try:
        return os.open(folder, flag | os.O_WRONLY | _CLOEXEC, FILE_MODE)
    except OSError as error:
        if error.errno in (95, 21, 22):  # EOPNOTSUPP, EISDIR (kernel without it), EINVAL: file system can't
            return None
        raise


def _link_in(fd: int, target: Path) -> None:
    """linkat(/proc/self/fd/FD, TARGET, AT_SYMLINK_FOLLOW): give a nameless file a name; EEXIST if taken.

    os.link uses plain link(2), which would link the /proc entry itself, unless a dir fd is given.
    """
    folder = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY | _CLOEXEC)
    try:
        os.link(f"/proc/self/fd/{fd}", target.name, dst_dir_fd=folder, follow_symlinks=True)
    finally:
        os.close(folder)


def _place(fd: int, folder: Path, target: Path, replace: bool) -> None:
    """Give the nameless file FD the name TARGET: linked straight in when TARGET is new, else renamed over it."""
    if not replace:
        _link_in(fd, target)
        return
    while True:
        temp = _random_temp(folder)
        try:
            _link_in(fd, temp)
            break
        except FileExistsError:
            continue
    try:
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _atomic_write(path: Path, data: bytes | Iterable[bytes], replace: bool) -> None:
    folder = path.parent
    fd = _unnamed_file(folder)
    if fd is not None:
        try:
            os.fchmod(fd, FILE_MODE)
            _write_all(fd, data)
            _place(fd, folder, path, replace)
        finally:
            os.close(fd)
    else:
        while True:
            temp = _random_temp(folder)
            try:
                fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, FILE_MODE)
                break
            except FileExistsError:
                continue
        try:
            try:
                os.fchmod(fd, FILE_MODE)
                _write_all(fd, data)
            finally:
                os.close(fd)
            if replace:
                os.replace(temp, path)
            else:
                os.link(temp, path)
                os.unlink(temp)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
    fsync_dir(folder)


def write_private_file(path: Path, data: bytes | Iterable[bytes], *, replace: bool = True) -> None:
    """Write DATA to PATH atomically (nameless or random temp file, fsync, link or rename, fsync folder), 0600.

    A crash leaves the old file or the new one; REPLACE=False refuses to replace anything at PATH.
    """
    try:
        _atomic_write(path, data, replace)
    except OSError as error:
        raise StoreError(f"cannot write {path}: {why(error)}") from None


def free_path(path: Path) -> Path:
    """PATH, or PATH with -2, -3 … before the suffix: never a file that exists."""
    candidate, number = path, 1
    while os.path.lexists(candidate):
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate


def check_output_path(target: Path) -> bool:
    """Whether TARGET exists; InputError unless it is a regular file or a new path in an existing folder."""
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        info = None
    except OSError as error:
        raise StoreError(f"cannot write {target}: {why(error)}") from None
    if info is not None:
        if stat.S_ISLNK(info.st_mode):
            raise InputError(f"-o: {target} is a symbolic link; give the file itself or a new file name")
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"-o: {target} is a folder; give a file name, e.g. {target / 'out.pdf'}")
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"-o: {target} is not a regular file (a device, pipe or socket); give a file name")
        return True
    try:
        folder = os.stat(target.parent)
    except FileNotFoundError:
        raise StoreError(f"cannot write {target}: the folder {target.parent} does not exist") from None
    except OSError as error:
        raise StoreError(f"cannot write {target}: {target.parent}: {why(error)}") from None
    if not stat.S_ISDIR(folder.st_mode):
        raise StoreError(f"cannot write {target}: {target.parent} is not a folder")
    return False


def write_output(data: bytes | Iterable[bytes], chosen: Path | None, default_name: str) -> Path:
    """Write DATA to CHOSEN (replacing a regular file), or to DEFAULT_NAME in the current folder without replacing."""
    if chosen is not None:
        target = Path(chosen)
        exists = check_output_path(target)
        write_private_file(target, data, replace=exists)
        return target
    try:
        folder = Path.cwd()
    except OSError as error:
        raise StoreError(f"cannot write {default_name}: the current folder is not usable ({why(error)})") from None
    for _ in range(100):
        target = free_path(folder / default_name)
        check_output_path(target)
        try:
            write_private_file(target, data, replace=False)
            return target
        except StoreError:
            if not os.path.lexists(target):
                raise
            # another process took the name between the check and the write: take the next free one
    raise StoreError(f"cannot write {folder / default_name}: no free file name")


def read_text_file(path: Path, what: str, encoding: str = "utf-8", *, keep_newlines: bool = False) -> str:
    """The text of a file the user named; bad input (exit 2) when missing or not UTF-8, exit 3 when unreadable.

    KEEP_NEWLINES leaves every CR and CRLF as it is (a CSV cell's text), instead of reading them as LF.
    """
    # newline="" keeps a CSV cell's CR and CRLF as they are instead of reading them as LF
    return "".join(read_text_lines(path, what, encoding, newline="" if keep_newlines else None))


def read_text_lines(path: Path, what: str, encoding: str = "utf-8", newline: str | None = None) -> Iterator[str]:
    """The lines of a file the user named, read as they come (a large file is never in memory at once); errors
    as read_text_file's."""
    with _reading(path, what), open(path, encoding=encoding, newline=newline) as handle:
        yield from handle


@contextlib.contextmanager
def _reading(path: Path, what: str) -> Iterator[None]:
    """Errors reading PATH, a file the user named as WHAT: bad input (exit 2) when it is missing, a folder or not
    UTF-8 text; exit 3 when it cannot be read."""
    try:
        yield
    except FileNotFoundError:
        raise InputError(f"{what}: {path} does not exist") from None
    except IsADirectoryError:
        raise InputError(f"{what}: {path} is a folder; give a file") from None
    except UnicodeDecodeError:
        raise InputError(f"{what}: {path} is not UTF-8 text") from None
    except OSError as error:
        raise StoreError(f"cannot read {path}: {why(error)}") from None


class TextLines:
    """A UTF-8 file the user named, read a line at a time as text mode reads it ("\n", "\r\n" and "\r" each end a
    line, read as "\n"), each line with where it lies in the file, so that a caller may let go of a line's text and
    read it again (:meth:`again`): an import of 50,000 lines then holds none of them. Open until closed; errors as
    read_text_file's.

    A file that cannot be read again at a place (a pipe) gives no places: its caller keeps the text.
    """

    def __init__(self, path: Path, what: str) -> None:
        self.path, self._what = path, what
        with _reading(path, what):
            self._handle = open(path, "rb")  # noqa: SIM115 - open until close()
            self._seekable = stat.S_ISREG(os.fstat(self._handle.fileno()).st_mode)

    def __iter__(self) -> Iterator[tuple[int, str, tuple[int, int, int] | None]]:
        """(line number from 1, text, where) of each line: WHERE is (start, end, hash of its bytes) or None."""
        offset, number = 0, 0
        with _reading(self.path, self._what):
            for raw in self._handle:
                for start, piece in _pieces(raw):
                    number += 1
                    where = (offset + start, offset + start + len(piece), hash(piece)) if self._seekable else None
                    yield number, self._text(piece), where
                offset += len(raw)

    def again(self, where: tuple[int, int, int]) -> str | None:
        """The text of the line at WHERE, read again; None when the file no longer holds the same bytes there."""
        start, end, digest = where
        try:
            piece = os.pread(self._handle.fileno(), end - start, start)
        except OSError as error:
            raise StoreError(f"cannot read {self.path}: {why(error)}") from None
        return self._text(piece) if hash(piece) == digest else None

    def _text(self, piece: bytes) -> str:
        try:
            text = piece.decode()
        except UnicodeDecodeError:
            raise InputError(f"{self._what}: {self.path} is not UTF-8 text") from None
        if text.endswith("\r\n"):
            return text[:-2] + "\n"
        return text[:-1] + "\n" if text.endswith("\r") else text

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _pieces(raw: bytes) -> Iterator[tuple[int, bytes]]:
    """(start, bytes) of each line text mode reads in RAW, a line read in binary up to its b"\n" (or the file's end):
    a b"\r" ends a line too, except as b"\r\n"."""
    if b"\r" not in raw:
        yield 0, raw
        return
    start = 0
    while start < len(raw):
        cr = raw.find(b"\r", start)
        if cr == -1 or raw[cr + 1:cr + 2] == b"\n":
            yield start, raw[start:]
            return
        yield start, raw[start:cr + 1]
        start = cr + 1


def parse_json(text: str | bytes) -> Any:
    """JSON TEXT as Python values; ValueError with a plain reason for anything that is not usable JSON.

    json.loads raises more than JSONDecodeError on hostile input: RecursionError for deep nesting,
    ValueError for integers over Python's digit limit. Both are a malformed file, not a crash.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"not valid JSON ({error.msg} at line {error.lineno} column {error.colno})") from None
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    except RecursionError:
        raise ValueError("not usable JSON (nested too deeply)") from None
    except ValueError as error:  # e.g. "Exceeds the limit (4300 digits) for integer string conversion"
        raise ValueError(f"not usable JSON ({error})") from None
