"""Progress of long work (import, export, backup, a review of many visits) on stderr.

Shown only when stderr is a terminal: never in a pipe, a file, a cron job's mail or a CliRunner test, and
never on stdout. Not shown either while the command writes its data to a terminal on stdout (the bar and the
data would be drawn over each other). The bar is erased when the work is done.

The work itself (store, workflow, documents) takes a plain callback, ``step(what, done, total)``, and knows
nothing of rich: ``what`` names the phase ("Checking visits"), ``total`` is None when unknown.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator

from tpi_cli.cli import console

Step = Callable[[str, int, int | None], None]

# A redraw a few times a second is enough to see the work move; calls in between cost one comparison.
_EVERY_S = 0.1


def _quiet(what: str, done: int, total: int | None) -> None:
    pass


@contextlib.contextmanager
def shown(what: str, *, data_on_stdout: bool = False) -> Iterator[Step]:
    """A transient progress bar on stderr for the block (see the module doc); yields its step callback.

    DATA_ON_STDOUT: the command writes its data to stdout during the block.
    """
    if not console.stderr.is_terminal or (data_on_stdout and sys.stdout.isatty()):
        yield _quiet
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console.stderr, transient=True, redirect_stdout=False,
                  redirect_stderr=False) as bar:
        task = bar.add_task(what, total=None)
        next_at = 0.0

        def step(phase: str, done: int, total: int | None) -> None:
            nonlocal next_at
            now = time.monotonic()
            if now >= next_at or done == total:
                next_at = now + _EVERY_S
                bar.update(task, description=phase, completed=done, total=total)

        yield step
