"""Outcomes: pain change and responder figures (clinical-reference.md §7)."""

from __future__ import annotations


def percent_change(before: int, after: int) -> float | None:
    """Percent change from BEFORE; None when the baseline is 0 (undefined, and said so)."""
    if before == 0:
        return None
    return (after - before) / before * 100
