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
    if reduction_pct < 0:
        return "worse"
    if reduction_pct >= 50:
        return "substantial (≥ 50%)"
    if reduction_pct >= 30:
        return "moderate (≥ 30%)"
    if reduction_pct >= 10:
        return "minimal (10-30%)"
    return "no meaningful change (< 10%)"


def pain_change_category(before: int, after: int) -> str:
    """IMMPACT category of a pain change; a rise is "worse" (never "no meaningful change"), also from 0."""
    if after > before:
        return "worse"
    return immpact_category(None if before == 0 else (before - after) / before * 100)


def immediate_response(visit: Visit) -> str:
    """The 5-15-minute change: mostly the anesthetic, reported as immediate response, not relief (§9)."""
    pct = percent_change(visit.pain_before, visit.pain_after)
    change = f"{visit.pain_before} → {visit.pain_after}"
    share = f", {pct:+.0f}%" if pct is not None else ""
    return f"immediate response {change}{share} ({pain_change_category(visit.pain_before, visit.pain_after)})"


class Scale(NamedTuple):
    minimal_change: float  # smallest important change (clinical-reference.md §7 and §9)
    higher_is_better: bool


# NDI 7.5 of 50; ODI 10 of 100; PSFS 2, higher better; LEFS 9 of 80, higher better (clinical-reference.md §9).
FUNCTION_SCALE_CHANGE: dict[str, Scale] = {
    "NDI": Scale(7.5, False), "ODI": Scale(10, False), "PSFS": Scale(2, True), "LEFS": Scale(9, True),
}


class FunctionChange(NamedTuple):
    scale: str
    first: float
    last: float
    verdict: str  # improved | worse | no meaningful change | cannot judge
    detail: str


def function_change(scale: str, first: float, last: float, minimal_change: float | None = None,
                    higher_is_better: bool | None = None) -> FunctionChange:
    """Function from the series' baseline FIRST to the latest LAST, judged against the scale's smallest
    important change and direction. A scale tpi does not know needs both given, else "cannot judge"."""
    known = FUNCTION_SCALE_CHANGE.get(scale.upper())
    mic = minimal_change if minimal_change is not None else (known.minimal_change if known else None)
    better_up = higher_is_better if higher_is_better is not None else (known.higher_is_better if known else None)
    if mic is None or better_up is None:
        return FunctionChange(scale, first, last, "cannot judge",
                              f"{scale} {first:g} → {last:g}: tpi does not know this scale's direction and smallest "
                              "important change")
    gain = (last - first) if better_up else (first - last)
    if gain >= mic:
        verdict = "improved"
    elif -gain >= mic:
        verdict = "worse"
    else:
        verdict = "no meaningful change"
    direction = "higher" if better_up else "lower"
    return FunctionChange(scale, first, last, verdict,
                          f"{scale} {first:g} → {last:g} ({last - first:+g}; {direction} is better, smallest "
                          f"important change {mic:g}): {verdict}")


class IndexRelief(NamedTuple):
    """Sustained relief as payers mean it: pain before a later visit against the index pain (§9)."""

    index_date: dt.date
    index_pain: int
    measured_date: dt.date
    measured_pain: int

    @property
    def relief_pct(self) -> float | None:
        """Relief against the index pain; None when the index pain is 0 (undefined, and said so)."""
        pct = percent_change(self.index_pain, self.measured_pain)
        return None if pct is None else 0.0 - pct  # not -pct: pain back at baseline must read "0%", not "-0%"

    def text(self) -> str:
        pct = self.relief_pct
        relief = f"{pct:.0f}% relief" if pct is not None else "relief not defined (index pain 0)"
        return (f"{relief}: pain {self.measured_pain} before the visit of {self.measured_date.isoformat()} "
                f"against index pain {self.index_pain} before the first injection on {self.index_date.isoformat()}")


def index_relief(ascending: Sequence[Visit]) -> list[IndexRelief]:
    """For each visit after the first, its pain before the injection against the index pain (first visit's)."""
    if not ascending:
        return []
    first = ascending[0]
    return [IndexRelief(first.date, first.pain_before, v.date, v.pain_before) for v in ascending[1:]]


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


def days_since_same_site(visits: Sequence[Visit]) -> dict[str, int | None]:
    """For each of VISITS (by id), days since any of its muscle-and-side pairs was injected at a visit on an
    earlier date (None: the first time).

    One pass in date order, remembering when each pair was last injected: comparing every visit with every
    earlier one took ~15 ms of a 100-visit review.
    """
    last_injected: dict[tuple[str, str], dt.date] = {}
    days: dict[str, int | None] = {}
    for day, same_day in itertools.groupby(sorted(visits, key=lambda v: v.date), key=lambda v: v.date):
        same_day = list(same_day)
        for visit in same_day:
            seen = [last_injected[pair] for pair in side_pairs(visit.sites) if pair in last_injected]
            days[visit.id] = (day - max(seen)).days if seen else None
        for visit in same_day:  # a visit on the same day is not an earlier injection
            last_injected.update(dict.fromkeys(side_pairs(visit.sites), day))
    return days
