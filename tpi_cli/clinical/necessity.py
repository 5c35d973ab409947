"""Medical-necessity documentation a payer asks for before it pays for a first injection.

Medicare LCD-2024 (L34211 and its sister LCDs; clinical-reference.md §2, §9): a first trigger point
injection needs a trigger point with at least 2 examination findings (taut band, hypersensitive spot,
local twitch, referred pain, reproduction of the usual pain; plus a palpable nodule).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet

from tpi_cli.models import Patient, Visit, side_pairs

MIN_FINDINGS = 2  # LCD-2024
YEAR = dt.timedelta(days=365)


def _pairs(visit: Visit) -> AbstractSet[tuple[str, str]]:
    return side_pairs(visit.sites)


def is_first_injection(visit: Visit, history: Sequence[Visit],
                       pairs: Callable[[Visit], AbstractSet[tuple[str, str]]] = _pairs) -> bool:
    """No muscle-and-side of VISIT injected at an earlier visit within 365 days (clinical-reference.md §2).

    PAIRS: a visit's side_pairs, when they are known already."""
    here = pairs(visit)
    return not any(
        past.date < visit.date and visit.date - past.date <= YEAR and here & pairs(past)
        and past.voided is None for past in history if past.id != visit.id
    )


def findings_warning(patient: Patient, visit: Visit, history: Sequence[Visit], profile: str,
                     pairs: Callable[[Visit], AbstractSet[tuple[str, str]]] = _pairs) -> str | None:
    """Chart text when a first Medicare TPI documents fewer than 2 trigger-point findings, else None."""
    if profile != "medicare" or not visit.agents or not is_first_injection(visit, history, pairs):
        return None  # dry needling is not a TPI; repeats are judged on relief instead
    if len(visit.findings) >= MIN_FINDINGS:
        return None
    recorded = f"{len(visit.findings)} recorded" + (f" ({', '.join(visit.findings)})" if visit.findings else "")
    return (f"Medical necessity: a first trigger point injection needs at least {MIN_FINDINGS} trigger-point "
            f"findings documented (Medicare LCD L34211, 2024); {recorded}.")
