"""SyncedFiles: many new files written at once, each fsynced by the time wait() returns (an import's staging)."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from tpi_cli.files import SyncedFiles


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_every_file_is_written_whole_and_private_and_no_descriptor_stays_open(tmp_path):
    before = open_files()
    with SyncedFiles() as synced:
        for number in range(3 * SyncedFiles.IN_FLIGHT):  # more than are ever in flight at once
            synced.write(tmp_path / f"f{number}", [b"patient ", str(number).encode()])
        synced.wait()
    assert open_files() == before
    for number in range(3 * SyncedFiles.IN_FLIGHT):
        path = tmp_path / f"f{number}"
        assert path.read_bytes() == f"patient {number}".encode()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_regular_file_is_replaced_and_a_link_is_never_followed(tmp_path):
    (tmp_path / "old").write_bytes(b"old content, longer than the new")
    target = tmp_path / "elsewhere"
    target.write_bytes(b"not ours")
    (tmp_path / "link").symlink_to(target)
    with SyncedFiles() as synced:
        synced.write(tmp_path / "old", b"new")
        with pytest.raises(FileExistsError):
            synced.write(tmp_path / "link", b"planted")
        synced.wait()
    assert (tmp_path / "old").read_bytes() == b"new"
    assert target.read_bytes() == b"not ours"


def test_an_error_half_way_leaves_no_thread_and_no_open_file(tmp_path):
    before = open_files()
    with pytest.raises(RuntimeError), SyncedFiles() as synced:
        for number in range(10):
            synced.write(tmp_path / f"f{number}", b"x")
        raise RuntimeError("a refused line")
    assert open_files() == before
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("tpi-fsync")]
