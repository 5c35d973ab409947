"""Work shared with a forked copy of this process: the second core checks some of an import's patients while this
process checks and writes the rest.

A copy made by fork(2) has everything already read (the lines, the settings, the store) without sending any of it;
it works on the items it is given and sends back only their results, in order, through a pipe. It writes nothing,
prints nothing and never takes or lets go of a lock (it leaves by os._exit, which runs no cleanup of this
process's). Whatever the copy cannot give, this process works out itself: an item whose work raised there is
worked on here, where it raises the same way, and so is every item after it, so a failure reads exactly as it
would without the copy.
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


def every_other(index: int) -> bool:
    """The forked copy's share of the items: every other one (this process also writes what they make)."""
    return index % 2 == 1


def shared_map(work: Callable[[T], R], items: Sequence[T], *, theirs: Callable[[int], bool],
               sent: Callable[[R], Any] | None = None) -> Iterator[tuple[bool, Any]]:
    """(False, work(item)) for each of ITEMS, in order, or (True, sent(work(item))) for an item a forked copy
    worked on: those after the first whose index THEIRS is true of. SENT (by default the result itself) turns a
    result into what the pipe carries (it is pickled), which may take less to send than the result.

    An exception in WORK is raised here, from here: see the module's doc.
    """
    if not can_share() or len(items) < 2:
        for item in items:
            yield False, work(item)
        return
    import pickle  # only work that is shared pays for its import (log-visit imports this module)

    # the first item is worked on before the copy is made: what work loads on first use (a code list, a table,
    # a module) is then loaded once, into memory the two processes share
    yield False, work(items[0])
    read_end, write_end = os.pipe()
    with contextlib.suppress(AttributeError, OSError):  # F_SETPIPE_SZ: Linux 2.6.35 and Python 3.10 on
        import fcntl

        fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
    try:
        child = os.fork()
    except OSError:  # no process to be had (a limit, memory): this process works on every item alone
        os.close(read_end)
        os.close(write_end)
        for item in items[1:]:
            yield False, work(item)
        return
    if child == 0:
        os.close(read_end)
        _help(work, items, sent, theirs, write_end)  # never returns
    os.close(write_end)
    try:
        with os.fdopen(read_end, "rb") as pipe:
            helping = True
            for index, item in enumerate(items[1:], start=1):
                if helping and theirs(index):
                    try:
                        given, result = pickle.load(pipe)
                    except (EOFError, OSError, pickle.UnpicklingError):  # the copy ended (killed, out of memory)
                        given = False
                    if given:
                        yield True, result
                        continue
                    helping = False
                yield False, work(item)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)  # done already, or no longer needed: the results it has are given
        os.waitpid(child, 0)


def _help(work: Callable[[T], R], items: Sequence[T], sent: Callable[[R], Any] | None,
          theirs: Callable[[int], bool], write_end: int) -> None:
    """The forked copy: (True, sent(work(item))) for each of its items, until one raises: (False, None) then."""
    import gc
    import pickle

    gc.freeze()  # the collector leaves what the copy was made with alone: scanning it would copy every page
    try:
        with os.fdopen(write_end, "wb") as pipe:
            for index, item in enumerate(items[1:], start=1):
                if not theirs(index):
                    continue
                try:
                    result = work(item)
                    message = (True, result if sent is None else sent(result))
                except BaseException:  # noqa: BLE001 - this process reports it, working on the item itself
                    message = (False, None)
                pickle.dump(message, pipe, protocol=pickle.HIGHEST_PROTOCOL)
                pipe.flush()
                if not message[0]:
                    break
    finally:
        os._exit(0)
