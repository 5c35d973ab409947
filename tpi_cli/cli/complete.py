"""Shell completion values (`tpi --install-completion`): patient and visit ids, muscles, drugs, protocols.

Each function runs only while the shell asks for completions, never on an ordinary command, and
reads no more than it needs: the store's main file for ids, one patient's file for visit ids.
Nothing here may fail loudly: a store that cannot be read simply offers nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable


def _quietly(values: Callable[[], list[str]]) -> list[str]:
    with contextlib.suppress(Exception):
        return values()
    return []


def _store():
    from tpi_cli.cli.context import open_store

    return open_store()


def patient_ids(incomplete: str) -> list[str]:
    return _quietly(lambda: [pid for pid in _store().patient_ids() if pid.startswith(incomplete)])


def visit_ids(incomplete: str) -> list[str]:
    """Visit ids of the few patients whose id fits what was typed; with many, their ids to narrow down."""

    def values() -> list[str]:
        store = _store()
        patients = [pid for pid in store.patient_ids() if pid.startswith(incomplete) or incomplete.startswith(pid + "-")]
        if len(patients) > 3:
            return [f"{patient}-V" for patient in patients]
        return [vid for patient in patients for vid in store.visit_ids(patient) if vid.startswith(incomplete)]

    return _quietly(values)


def like_values(incomplete: str) -> list[str]:
    return (["last"] if "last".startswith(incomplete) else []) + visit_ids(incomplete)


def sites(incomplete: str) -> list[str]:
    """Muscle names and aliases (spaces as hyphens, which the site parser reads), after any earlier sites."""
    from tpi_cli import vocab

    done, comma, current = incomplete.rpartition(",")
    if ":" in current:
        return []
    names = {name for muscle in vocab.muscles().values() for name in (muscle.name, *muscle.aliases)}
    words = sorted({name.replace(" ", "-") for name in names})
    prefix = done + comma
    return [prefix + word for word in words if word.lower().startswith(current.lower())]


def drugs(incomplete: str) -> list[str]:
    from tpi_cli import vocab

    names = sorted({name for drug in vocab.drugs().values() for name in (drug.name, *drug.brands)})
    return [name for name in names if name.lower().startswith(incomplete.lower()) and " " not in name]


def protocols(incomplete: str) -> list[str]:
    return _quietly(lambda: [p["name"] for p in _store().protocols() if p["name"].startswith(incomplete)])
