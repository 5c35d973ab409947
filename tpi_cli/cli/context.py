"""Options shared by every command (the --store location) and the store they open."""

from __future__ import annotations

from dataclasses import dataclass

from tpi_cli import store


@dataclass
class State:
    store_location: str | None = None


state = State()


def open_store() -> store.Store | store.PostgresStore:
    return store.open_store(state.store_location)
