"""Doses: mg from concentration and volume, reference limits, and the additive anesthetic load.

Limits come from the drug table (tpi_cli/vocab/drug_table.py, clinical-reference.md §4) as the clinic's
settings may change them. The smaller of the mg/kg and absolute limits applies. Without a weight the
absolute caps (made for a healthy normal-sized adult) do not fit a child or a small adult: tpi then
uses a conservative assumed weight (setting, default 50 kg) and says so. Doses of several local
anesthetics add up, across the agents of one visit and the patient's other visits of that day (the
labels: toxic effects are additive): Σ dose_i / max_i ≤ 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

from tpi_cli import vocab
from tpi_cli.models import Agent, Concentration
from tpi_cli.settings import Settings


class ReferenceLimit(NamedTuple):
    max_mg: float
    basis: str  # how the limit was reached, e.g. "4.5 mg/kg × 50 kg"


class AnestheticDose(NamedTuple):
    drug: str
    epinephrine: bool
    dose_mg: float
    limit: ReferenceLimit

    @property
    def fraction(self) -> float:
        return self.dose_mg / self.limit.max_mg

    @property
    def label(self) -> str:
        return f"{self.drug}{' with epinephrine' if self.epinephrine else ''}"


def percent_text(fraction: float, threshold: float = 1.0) -> str:
    """FRACTION as a percentage that never reads as a threshold it is over: 1.004 → '100.4%', not '100%'.

    Rounded to whole percent unless that would hide that FRACTION is above THRESHOLD (1.0 = the
    reference limit); then rounded upward with as many decimals as it takes.
    """
    pct = fraction * 100
    text = f"{pct:.0f}%"
    limit = threshold * 100
    if pct > limit + 1e-12 and round(pct) <= limit:
        for digits in range(1, 7):
            scale = 10 ** digits
            shown = math.ceil(pct * scale - 1e-9) / scale
            if shown > limit:
                return f"{shown:.{digits}f}%"
        return f"{pct:.9f}%"
    return text


def dosing_weight(weight_kg: float | None, settings: Settings) -> tuple[float, bool]:
    """(weight the limits use, whether it is the clinic's assumed weight because none was recorded)."""
    if weight_kg is None:
        return float(settings["limits.assumed_weight_kg"]), True
    return weight_kg, False


def reference_limit(drug: str, weight_kg: float | None, epinephrine: bool, settings: Settings) -> ReferenceLimit:
    # a patient's visits ask the same limit again and again: its text is made once
    return settings.derived(("reference_limit", drug, weight_kg, epinephrine),
                            lambda: _reference_limit(drug, weight_kg, epinephrine, settings))


def _reference_limit(drug: str, weight_kg: float | None, epinephrine: bool, settings: Settings) -> ReferenceLimit:
    suffix = "_epi" if epinephrine else ""
    per_kg = settings.drug_limit(drug, f"max_mg_kg{suffix}")
    cap = settings.drug_limit(drug, f"max_mg{suffix}")
    if per_kg is None or cap is None:
        raise ValueError(f"{drug} has no reference limit{' with epinephrine' if epinephrine else ''}")
    epi = " with epinephrine" if epinephrine else ""
    weight, assumed = dosing_weight(weight_kg, settings)
    kg = f"{weight:g} kg assumed (no weight recorded; clinic policy)" if assumed else f"{weight:g} kg"
    by_weight = per_kg * weight
    if by_weight <= cap:
        return ReferenceLimit(round(by_weight, 1), f"{per_kg:g} mg/kg{epi} × {kg}")
    return ReferenceLimit(cap, f"absolute limit {cap:g} mg{epi} (below {per_kg:g} mg/kg × {kg})")


def anesthetic_doses(agents: Sequence[Agent], weight_kg: float | None, settings: Settings) -> list[AnestheticDose]:
    """Total mg of each local anesthetic (plain and with epinephrine apart) against its limit."""
    totals: dict[tuple[str, bool], float] = {}
    for agent in agents:
        if vocab.drugs()[agent.drug].is_local_anesthetic and agent.dose_mg is not None:
            key = (agent.drug, agent.epinephrine)
            totals[key] = totals.get(key, 0.0) + agent.dose_mg
    return [
        AnestheticDose(drug, epi, round(mg, 3), reference_limit(drug, weight_kg, epi, settings))
        for (drug, epi), mg in totals.items()
    ]


def combined_fraction(doses: Sequence[AnestheticDose]) -> float:
    return sum(dose.fraction for dose in doses)


def dose_by_drug(agents: Sequence[Agent]) -> dict[str, float]:
    """Total mg of each drug in a visit (saline has no mg)."""
    totals: dict[str, float] = {}
    for agent in agents:
        if agent.dose_mg is not None:
            totals[agent.drug] = round(totals.get(agent.drug, 0.0) + agent.dose_mg, 3)
    return totals


def steroid_mpe(agents: Sequence[Agent]) -> float:
    """Corticosteroid in methylprednisolone equivalents (mg MPE), clinical-reference.md §4."""
    total = 0.0
    for agent in agents:
        drug = vocab.drugs()[agent.drug]
        if drug.is_steroid and agent.dose_mg is not None:
            total += agent.dose_mg * (drug.mpe_per_mg or 0.0)
    return round(total, 1)


def has_steroid(agents: Sequence[Agent]) -> bool:
    return any(vocab.drugs()[agent.drug].is_steroid for agent in agents)


def strengths_sold(drug: str, settings: Settings) -> tuple[float, ...]:
    """The strengths DRUG is sold in (clinical-reference.md §9) and those the clinic added, in the drug's unit."""
    return settings.derived(("strengths_sold", drug), lambda: _strengths_sold(drug, settings))


def _strengths_sold(drug: str, settings: Settings) -> tuple[float, ...]:
    extra = settings[f"strengths.{drug}"] or ()
    return tuple(sorted({*vocab.drugs()[drug].strengths, *(float(v) for v in extra)}))


def _in_drug_unit(concentration: Concentration, unit: str) -> float:
    # X % = 10·X mg/mL (clinical-reference.md §4)
    return concentration.mg_per_ml / 10 if unit == "%" else concentration.mg_per_ml


def unsold_strength(drug: str, concentration: Concentration | None, settings: Settings) -> str | None:
    """Why CONCENTRATION of DRUG is not a strength sold for injection, or None when it is."""
    if concentration is None:
        return None
    return settings.derived(("unsold_strength", drug, concentration.value, concentration.unit),
                            lambda: _unsold_strength(drug, concentration, settings))


def _unsold_strength(drug: str, concentration: Concentration, settings: Settings) -> str | None:
    entry = vocab.drugs()[drug]
    value = _in_drug_unit(concentration, entry.unit)
    sold = strengths_sold(drug, settings)
    if any(math.isclose(value, strength, rel_tol=1e-9, abs_tol=1e-9) for strength in sold):
        return None
    typed = f"{concentration.value:g}{'%' if concentration.unit == '%' else ' mg/mL'}"
    same = f" ({value:g} {entry.unit})" if concentration.unit != entry.unit else ""
    listed = ", ".join(f"{v:g}" for v in sold)
    return (f"{drug} {typed}{same} is not a strength sold for injection, likely a slip; {drug} comes as "
            f"{listed} {entry.unit} (the products sold for injection, plus the clinic's own strengths)")
