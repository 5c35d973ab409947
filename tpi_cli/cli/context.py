"""Options shared by every command (the --store folder) and the store they open."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tpi_cli.store import Store, default_store_path


@dataclass
class State:
    store_path: Path | None = None


state = State()


def open_store() -> Store:
    return Store(state.store_path or default_store_path())
