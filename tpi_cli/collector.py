"""Python's cycle collector paused for work that makes many long-lived objects and few reference cycles."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """The cycle collector off while the block runs (also usable as a decorator: ``@paused()``).

    Reference counting still frees memory as usual; cycles made meanwhile are collected once the
    collector is back on. Nested pauses leave it to the outermost.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
