"""Options shared by every command (the --store location) and the store they open."""

from __future__ import annotations

from dataclasses import dataclass

from tpi_cli import store


@dataclass
class State:
    store_location: str | None = None


state = State()


def open_store(*, create: bool = False) -> store.Store | store.PostgresStore:
    """The store the user chose. CREATE: the command adds records, so it may start a new store in a new or
    empty folder; every other command reports a missing store instead of showing an empty one."""
    return store.open_store(state.store_location, create=create)
