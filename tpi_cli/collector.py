"""Python's cycle collector spaced out at start-up, and paused for work that makes many long-lived objects and few
reference cycles."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


def spaced_for_start_up() -> None:
    """The collector's first generation passes at 100,000 new objects instead of 700.

    A command's start-up (typer, rich, pydantic, tpi's models and their validators) makes some 60,000 objects that
    live until it ends; at one pass per 700 new objects the collector went over them some 90 times (~12 ms of
    log-visit's ~200, measured). Objects freed as they go, as in an import's or an export's loop, never add up to a
    pass, so those run as before, and what a cycle leaves is still collected.
    """
    gc.set_threshold(100_000, *gc.get_threshold()[1:])


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
