"""Outcomes: pain change, responders and the figures a progress review shows (clinical-reference.md §7).

Farrar-2001: about 2 points or 30% is clinically important. IMMPACT-2008: 10-20% minimal, ≥ 30%
moderate, ≥ 50% substantial. Percent relief is undefined from a baseline of 0, and is said so.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from typing import NamedTuple

from tpi_cli.clinical.doses import steroid_mpe
from tpi_cli.models import Visit, side_pairs

YEAR = dt.timedelta(days=365)
RESPONDER_PCT = 30.0  # Farrar-2001, IMMPACT-2008 "moderate"
RESPONDER_POINTS = 2


def percent_change(before: int, after: int) -> float | None:
    """Percent change from BEFORE; None when the baseline is 0 (undefined, and said so)."""
    if before == 0:
        return None
    return (after - before) / before * 100


def is_responder(before: int, after: int) -> bool | None:
    """≥ 30% and ≥ 2-point reduction; None when the baseline is 0."""
    pct = percent_change(before, after)
    if pct is None:
        return None
    return -pct >= RESPONDER_PCT and before - after >= RESPONDER_POINTS


def immpact_category(reduction_pct: float | None) -> str:
    if reduction_pct is None:
        return "not defined (baseline 0)"
    if reduction_pct >= 50:
        return "substantial (≥ 50%)"
    if reduction_pct >= 30:
        return "moderate (≥ 30%)"
    if reduction_pct >= 10:
        return "minimal (10-30%)"
    return "no meaningful change (< 10%)"


class Responders(NamedTuple):
    visits: int
    defined: int  # visits with a baseline above 0
    responders: int
    mean_change: float | None  # points, after - before
    mean_pct: float | None

    @property
    def share(self) -> float | None:
        return self.responders / self.defined if self.defined else None


def responders(visits: Sequence[Visit]) -> Responders:
    flags = [is_responder(v.pain_before, v.pain_after) for v in visits]
    pcts = [p for v in visits if (p := percent_change(v.pain_before, v.pain_after)) is not None]
    changes = [v.pain_after - v.pain_before for v in visits]
    return Responders(
        visits=len(visits), defined=sum(f is not None for f in flags), responders=sum(bool(f) for f in flags),
        mean_change=sum(changes) / len(changes) if changes else None,
        mean_pct=sum(pcts) / len(pcts) if pcts else None,
    )


class SustainedRelief(NamedTuple):
    """How the relief held until the next visit: its pre-injection pain against this visit's scores."""

    visit: Visit
    next_visit: Visit

    @property
    def relief_pct(self) -> float | None:
        """Relief still present at the next visit, against this visit's baseline."""
        pct = percent_change(self.visit.pain_before, self.next_visit.pain_before)
        return None if pct is None else -pct


def sustained_relief(ascending: Sequence[Visit]) -> list[SustainedRelief]:
    return [SustainedRelief(a, b) for a, b in itertools.pairwise(ascending)]


def sessions_in_year(visits: Sequence[Visit], day: dt.date) -> int:
    """Sessions (distinct days) in the 365 days up to DAY."""
    return len({v.date for v in visits if day - YEAR < v.date <= day})


def steroid_mpe_in_year(visits: Sequence[Visit], day: dt.date) -> float:
    return round(sum(steroid_mpe(v.agents) for v in visits if day - YEAR < v.date <= day), 1)


class MuscleOutcome(NamedTuple):
    muscle: str
    visits: int
    mean_reduction_pct: float | None


def muscle_outcomes(visits: Sequence[Visit]) -> list[MuscleOutcome]:
    """Muscles by how often they were injected, with the mean pain reduction of those visits."""
    seen: dict[str, list[Visit]] = {}
    for visit in visits:
        for muscle in dict.fromkeys(site.muscle for site in visit.sites):
            seen.setdefault(muscle, []).append(visit)
    rows = []
    for muscle, group in seen.items():
        pcts = [p for v in group if (p := percent_change(v.pain_before, v.pain_after)) is not None]
        rows.append(MuscleOutcome(muscle, len(group), -sum(pcts) / len(pcts) if pcts else None))
    rows.sort(key=lambda r: (-r.visits, -(r.mean_reduction_pct or 0), r.muscle))
    return rows


def days_since_same_site(visit: Visit, earlier: Sequence[Visit]) -> int | None:
    """Days since any of VISIT's muscle-and-side pairs was last injected (None: first time)."""
    here = side_pairs(visit.sites)
    days = [
        (visit.date - past.date).days for past in earlier
        if past.date <= visit.date and past.id != visit.id and here & side_pairs(past.sites)
    ]
    return min(days) if days else None
