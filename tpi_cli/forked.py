"""Work shared with a forked copy of this process: the second core checks some of an import's patients (reads some
of a listing's files, makes some of an export's rows) while this process does the rest and writes everything.

A copy made by fork(2) has everything already read (the lines, the settings, the store) without sending any of it.
The two take the items one at a time, in order, from a counter they share, so whichever is less busy takes more;
the copy sends back only its results, in order, through a pipe. It writes nothing, prints nothing and never takes or
lets go of a lock of tpi's (it leaves by os._exit, which runs no cleanup of this process's). Whatever the copy
cannot give, this process works out itself: an item whose work raised there is worked on here, where it raises the
same way, and so is every item after it, so a failure reads exactly as it would without the copy.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# the largest pipe an unprivileged process may ask Linux for (/proc/sys/fs/pipe-max-size): the copy can run a few
# patients ahead of this process while it writes a file, instead of waiting for each read
_PIPE_BYTES = 1 << 20


def can_share() -> bool:
    """Whether a forked copy can work beside this process: Linux (fork after threads is unsafe with macOS's system
    libraries; Windows has no fork) with a second core to run it on."""
    return sys.platform.startswith("linux") and len(os.sched_getaffinity(0)) > 1


class _Counter:
    """The index of the next item nobody has taken, shared by this process and its copy."""

    def __init__(self) -> None:
        import multiprocessing  # only shared work pays for its import (~20 ms)

        self._value = multiprocessing.get_context("fork").Value("q", 1)  # item 0 is this process's (see below)

    def take(self) -> int:
        with self._value.get_lock():
            index = self._value.value
            self._value.value = index + 1
        return index


def shared_map(work: Callable[[T], R], items: Sequence[T], *, sent: Callable[[R], Any] | None = None,
               share: bool = True) -> Iterator[tuple[bool, Any]]:
    """(False, work(item)) for each of ITEMS, in order, or (True, sent(work(item))) for an item the forked copy
    worked on. SENT (by default the result itself) turns a result into what the pipe carries (it is pickled), which
    may take less to send than the result. SHARE=False, or no second core: every item is worked on here.

    An exception in WORK is raised here, from here: see the module's doc.
    """
    if not (share and can_share() and len(items) > 1):
        for item in items:
            yield False, work(item)
        return
    # the first item is worked on before the copy is made: what work loads on first use (a code list, a table,
    # a module) is then loaded once, into memory the two processes share
    yield False, work(items[0])
    started = _start(work, items, sent)
    if started is None:  # no counter, pipe or process to be had: this process works on every item alone
        for item in items[1:]:
            yield False, work(item)
        return
    import pickle

    child, counter, read_end = started
    try:
        with os.fdopen(read_end, "rb") as pipe:
            helping, index = True, 1  # index: the next item to give
            while index < len(items):
                taken = counter.take() if helping else index
                while index < min(taken, len(items)):  # taken by the copy: its results come in this order
                    given = False
                    if helping:
                        try:
                            which, given, result = pickle.load(pipe)
                        except (EOFError, OSError, pickle.UnpicklingError):  # the copy ended (killed, out of memory)
                            which, given = index, False
                        if which != index:  # never: both take in order and it sends in the order it took
                            raise RuntimeError(f"shared work: item {which} came for item {index}")
                    if given:
                        yield True, result
                    else:
                        helping = False  # from here on this process works on every item
                        yield False, work(items[index])
                    index += 1
                if taken < len(items) and taken == index:
                    yield False, work(items[taken])
                    index += 1
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)  # done already, or no longer needed: the results it has are given
        os.waitpid(child, 0)


def _start(work: Callable[[T], R], items: Sequence[T], sent: Callable[[R], Any] | None,
           ) -> tuple[int, _Counter, int] | None:
    """The forked copy, started: (its pid, the counter, the pipe's read end), or None when a counter (shared memory:
    /dev/shm), a pipe or a process (a limit, memory) cannot be had."""
    try:
        counter = _Counter()
        read_end, write_end = os.pipe()
    except (ImportError, OSError):
        return None
    with contextlib.suppress(AttributeError, OSError):  # F_SETPIPE_SZ: Linux 2.6.35 and Python 3.10 on
        import fcntl

        fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
    try:
        child = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None
    if child == 0:
        os.close(read_end)
        _help(work, items, sent, counter, write_end)  # never returns
    os.close(write_end)
    return child, counter, read_end


def _help(work: Callable[[T], R], items: Sequence[T], sent: Callable[[R], Any] | None, counter: _Counter,
          write_end: int) -> None:
    """The forked copy: (index, True, sent(work(item))) for each item it takes, until one raises: (index, False,
    None) then, and it takes no more."""
    import gc
    import pickle

    gc.freeze()  # the collector leaves what the copy was made with alone: scanning it would copy every page
    try:
        with os.fdopen(write_end, "wb") as pipe:
            while (index := counter.take()) < len(items):
                try:
                    result = work(items[index])
                    message = (index, True, result if sent is None else sent(result))
                except BaseException:  # noqa: BLE001 - this process reports it, working on the item itself
                    message = (index, False, None)
                pickle.dump(message, pipe, protocol=pickle.HIGHEST_PROTOCOL)
                pipe.flush()
                if not message[1]:
                    break
    finally:
        os._exit(0)
