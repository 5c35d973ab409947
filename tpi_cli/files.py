"""Files tpi writes for people (PDFs, exports): private, atomic, and never over an existing file
unless the user named it."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path

from tpi_cli.errors import InputError, StoreError

FILE_MODE = 0o600


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_synced(path: Path, data: bytes | Iterable[bytes]) -> None:
    """Write DATA (bytes, or pieces of it) to a new file at PATH (mode 0600) and fsync it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        for piece in [data] if isinstance(data, bytes) else data:
            view = memoryview(piece)
            while view:
                written = os.write(fd, view)
                view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)


def write_private_file(path: Path, data: bytes | Iterable[bytes]) -> None:
    """Write DATA to PATH atomically (temp file, fsync, rename, fsync folder), mode 0600."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write_synced(tmp, data)
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except BaseException as error:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(error, OSError):
            raise StoreError(f"cannot write {path}: {error.strerror or error}") from None
        raise


def free_path(path: Path) -> Path:
    """PATH, or PATH with -2, -3 … before the suffix: never a file that exists."""
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate


def write_output(data: bytes | Iterable[bytes], chosen: Path | None, default_name: str) -> Path:
    """Write DATA to CHOSEN (replacing it), or to DEFAULT_NAME in the current folder without replacing."""
    if chosen is not None:
        target = chosen
        if target.is_dir():
            raise StoreError(f"cannot write {target}: it is a folder; give a file name")
    else:
        target = free_path(Path.cwd() / default_name)
    if not target.parent.exists():
        raise StoreError(f"cannot write {target}: the folder {target.parent} does not exist")
    write_private_file(target, data)
    return target


def read_text_file(path: Path, what: str, encoding: str = "utf-8") -> str:
    """The text of a file the user named; bad input (exit 2) when missing or not UTF-8, exit 3 when unreadable."""
    try:
        return path.read_text(encoding=encoding)
    except FileNotFoundError:
        raise InputError(f"{what}: {path} does not exist") from None
    except UnicodeDecodeError:
        raise InputError(f"{what}: {path} is not UTF-8 text") from None
    except OSError as error:
        raise StoreError(f"cannot read {path}: {error.strerror or error}") from None
