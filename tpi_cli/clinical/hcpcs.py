"""HCPCS J-codes and units for a steroid, and the JW/JZ modifier (clinical-reference.md §3, §9).

J3301 triamcinolone acetonide per 10 mg; J1020/J1030/J1040 methylprednisolone acetate 20/40/80 mg;
J1100 dexamethasone sodium phosphate per 1 mg; J0702 betamethasone acetate 3 mg + phosphate 3 mg.
Marked [?] in the reference: the note says to check them with the payer. JW (amount discarded from a
single-dose vial) / JZ (none discarded), required since 2023, need the vial's size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

from tpi_cli.models import Agent

# drug: (code, mg per unit) ; methylprednisolone is chosen by dose below
PER_UNIT = {"triamcinolone": ("J3301", 10.0), "dexamethasone": ("J1100", 1.0), "betamethasone": ("J0702", 6.0)}
METHYLPREDNISOLONE = (("J1040", 80.0), ("J1030", 40.0), ("J1020", 20.0))


class HcpcsLine(NamedTuple):
    code: str
    units: int
    drug: str
    mg: float
    modifier: str | None = None  # JW or JZ
    wasted_mg: float | None = None


def _code(drug: str, mg: float) -> tuple[str, float]:
    if drug == "methylprednisolone":
        for code, per in METHYLPREDNISOLONE:
            if mg % per == 0:
                return code, per
        return METHYLPREDNISOLONE[-1]
    return PER_UNIT[drug]


def steroid_lines(agents: Sequence[Agent], vial_ml: float | None) -> list[HcpcsLine]:
    """One line per steroid given; with a single-dose vial size, the JW (discarded) or JZ line too."""
    lines = []
    for drug in dict.fromkeys(a.drug for a in agents):
        if drug not in PER_UNIT and drug != "methylprednisolone":
            continue
        given = [a for a in agents if a.drug == drug and a.dose_mg is not None]
        if not given:
            continue
        mg = round(sum(a.dose_mg for a in given), 3)
        code, per = _code(drug, mg)
        lines.append(HcpcsLine(code, math.ceil(round(mg / per, 6)), drug, mg))
        if vial_ml is not None and given[0].concentration is not None:
            used_ml = sum(a.volume_ml for a in given)
            wasted_mg = round(max(vial_ml - used_ml, 0) * given[0].concentration.mg_per_ml, 3)
            if wasted_mg > 0:
                lines.append(HcpcsLine(code, math.ceil(round(wasted_mg / per, 6)), drug, wasted_mg, "JW", wasted_mg))
            else:
                lines[-1] = lines[-1]._replace(modifier="JZ")
    return lines
