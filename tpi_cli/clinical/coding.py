"""CPT suggestion for a visit (clinical-reference.md §3)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from tpi_cli import vocab
from tpi_cli.models import AgentInput, Site, side_pairs

TPI_1_2, TPI_3_PLUS = "20552", "20553"
DRY_NEEDLING_1_2, DRY_NEEDLING_3_PLUS = "20560", "20561"
ULTRASOUND_GUIDANCE = "76942"

# Our own short wording: CPT descriptors need an AMA licence (clinical-reference.md §8).
CPT_WORDING = {
    TPI_1_2: "trigger point injection(s), 1 or 2 muscles",
    TPI_3_PLUS: "trigger point injection(s), 3 or more muscles",
    DRY_NEEDLING_1_2: "needle insertion(s) without injection, 1 or 2 muscles",
    DRY_NEEDLING_3_PLUS: "needle insertion(s) without injection, 3 or more muscles",
    ULTRASOUND_GUIDANCE: "ultrasound guidance for needle placement",
}


class CptSuggestion(NamedTuple):
    codes: list[str]
    rule: str


def anatomical_pairs(sites: Sequence[Site]) -> set[tuple[str, str]]:
    """(anatomical muscle, side) injected: what CPT counts (clinical-reference.md §9).

    Upper, middle and lower trapezius are one muscle: "multiple injections into the same muscle would NOT
    be counted" (AAPC PM&R Coding Alert); left and right are two, each with its own origin and insertion.
    """
    return {(vocab.muscles()[muscle].anatomical, side) for muscle, side in side_pairs(sites)}


def muscle_count(sites: Sequence[Site]) -> int:
    """Distinct anatomical muscles; left and right of one muscle count as two (AAPC), bilateral is both."""
    return len(anatomical_pairs(sites))


def _merged_parts(sites: Sequence[Site]) -> str:
    """'; upper trapezius + middle trapezius (left) count as one muscle, trapezius' when parts merged."""
    parts: dict[tuple[str, str], list[str]] = {}
    for muscle, side in sorted(side_pairs(sites)):
        parts.setdefault((vocab.muscles()[muscle].anatomical, side), []).append(muscle)
    merged = [f"{' + '.join(names)} ({side}) count as one muscle, {anatomical}"
              for (anatomical, side), names in sorted(parts.items()) if len(names) > 1]
    return "".join(f"; {text}" for text in merged)


def cpt_codes(sites: Sequence[Site], agents: Sequence[AgentInput], ultrasound: bool) -> list[str]:
    """The codes of suggest_cpt without the wording of its rule (what a stored visit keeps)."""
    count = muscle_count(sites)
    if agents:
        code = TPI_3_PLUS if count >= 3 else TPI_1_2
    else:
        code = DRY_NEEDLING_3_PLUS if count >= 3 else DRY_NEEDLING_1_2
    return [code, ULTRASOUND_GUIDANCE] if ultrasound else [code]


def suggest_cpt(sites: Sequence[Site], agents: Sequence[AgentInput], ultrasound: bool) -> CptSuggestion:
    """20552 for 1-2 muscles, 20553 for 3+; 20560/20561 when nothing was injected; +76942 with ultrasound.

    One TPI code per day, never both (clinical-reference.md §3).
    """
    codes = cpt_codes(sites, agents, ultrasound)
    code = codes[0]
    count = muscle_count(sites)
    plural = "muscle" if count == 1 else "muscles"
    if agents:
        rule = f"{count} {plural} injected ({'3 or more' if count >= 3 else '1 or 2'}) → {code}"
    else:
        rule = f"no injectate (dry needling), {count} {plural} → {code}"
    rule += _merged_parts(sites)
    if ultrasound:
        rule += f"; ultrasound guidance → {ULTRASOUND_GUIDANCE}"
    return CptSuggestion(codes=codes, rule=rule)
