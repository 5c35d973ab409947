"""Medical-necessity documentation a payer asks for before it pays for a first injection.

Medicare LCD-2024 (L34211 and its sister LCDs; clinical-reference.md §2, §9): a first trigger point
injection needs a trigger point with at least 2 examination findings (taut band, hypersensitive spot,
local twitch, referred pain, reproduction of the usual pain; plus a palpable nodule).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from tpi_cli.models import Patient, Visit, side_pairs

MIN_FINDINGS = 2  # LCD-2024
YEAR = dt.timedelta(days=365)


def is_first_injection(visit: Visit, history: Sequence[Visit]) -> bool:
    """No muscle-and-side of VISIT injected at an earlier visit within 365 days (clinical-reference.md §2)."""
    here = side_pairs(visit.sites)
    return not any(
        past.date < visit.date and visit.date - past.date <= YEAR and here & side_pairs(past.sites)
        and past.voided is None for past in history if past.id != visit.id
    )


def findings_warning(patient: Patient, visit: Visit, history: Sequence[Visit], profile: str) -> str | None:
    """Chart text when a first Medicare TPI documents fewer than 2 trigger-point findings, else None."""
    if profile != "medicare" or not visit.agents or not is_first_injection(visit, history):
        return None  # dry needling is not a TPI; repeats are judged on relief instead
    if len(visit.findings) >= MIN_FINDINGS:
        return None
    recorded = f"{len(visit.findings)} recorded" + (f" ({', '.join(visit.findings)})" if visit.findings else "")
    return (f"Medical necessity: a first trigger point injection needs at least {MIN_FINDINGS} trigger-point "
            f"findings documented (Medicare LCD L34211, 2024); {recorded}.")
