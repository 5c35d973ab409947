"""Doses: mg from concentration and volume, reference limits, and the additive anesthetic load.

Limits come from the drug table (tpi_cli/vocab/drugs.toml, clinical-reference.md §4) as the clinic's
settings may change them. The smaller of the mg/kg and absolute limits applies; without a weight, the
absolute limit alone. Doses of several local anesthetics add up: Σ dose_i / max_i ≤ 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from tpi_cli import vocab
from tpi_cli.models import Agent
from tpi_cli.settings import Settings


class ReferenceLimit(NamedTuple):
    max_mg: float
    basis: str  # how the limit was reached, e.g. "4.5 mg/kg × 50 kg = 225 mg"


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


def reference_limit(drug: str, weight_kg: float | None, epinephrine: bool, settings: Settings) -> ReferenceLimit:
    suffix = "_epi" if epinephrine else ""
    per_kg = settings.drug_limit(drug, f"max_mg_kg{suffix}")
    cap = settings.drug_limit(drug, f"max_mg{suffix}")
    if per_kg is None or cap is None:
        raise ValueError(f"{drug} has no reference limit{' with epinephrine' if epinephrine else ''}")
    epi = " with epinephrine" if epinephrine else ""
    if weight_kg is None:
        return ReferenceLimit(cap, f"absolute limit {cap:g} mg{epi} (no weight recorded)")
    by_weight = per_kg * weight_kg
    if by_weight <= cap:
        return ReferenceLimit(round(by_weight, 1), f"{per_kg:g} mg/kg{epi} × {weight_kg:g} kg")
    return ReferenceLimit(cap, f"absolute limit {cap:g} mg{epi} (below {per_kg:g} mg/kg × {weight_kg:g} kg)")


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
