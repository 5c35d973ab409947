"""The controlled vocabulary: muscles and drugs, from the data modules beside this one.

This is data, not logic: the clinical rules that use it live in :mod:`tpi_cli.clinical`.
"""

from __future__ import annotations

import difflib
from functools import cache
from typing import NamedTuple

SIDES = ("left", "right", "bilateral", "midline")


class Muscle(NamedTuple):
    name: str
    aliases: tuple[str, ...]
    region: str
    plain_en: str
    map_view: str
    map_x: float
    map_y: float
    anatomical: str  # the muscle CPT counts: upper, middle and lower trapezius are one (clinical-reference.md §9)
    level: str | None = None  # cervical | thoracic | lumbar for the spine's muscles
    paired: bool = True
    hazards: tuple[str, ...] = ()  # keys of hazards(): what lies within needle reach
    snomed: str = ""
    choices: tuple[str, ...] = ()  # a name earlier versions stored that is a group: which muscles it may mean

    @property
    def pneumothorax(self) -> bool:
        return "pneumothorax" in self.hazards


class Hazard(NamedTuple):
    name: str
    clinician: str  # why it matters, for the chart
    handout_en: str  # one plain line for the patient's sheet
    source: str


class Drug(NamedTuple):
    name: str
    drug_class: str
    brands: tuple[str, ...]
    strengths: tuple[float, ...]
    unit: str
    source: str
    max_mg_kg: float | None = None
    max_mg: float | None = None
    max_mg_kg_epi: float | None = None
    max_mg_epi: float | None = None
    max_mg_24h: float | None = None
    numb_hours: tuple[float, float] | None = None
    mpe_per_mg: float | None = None

    @property
    def is_local_anesthetic(self) -> bool:
        return self.drug_class in ("amide", "ester")

    @property
    def is_steroid(self) -> bool:
        return self.drug_class == "steroid"

    @property
    def has_epinephrine_form(self) -> bool:
        return self.max_mg_epi is not None


class UnknownTermError(ValueError):
    """A name that is not in the vocabulary; carries the closest matches."""

    def __init__(self, kind: str, given: str, suggestions: list[str]):
        self.kind, self.given, self.suggestions = kind, given, suggestions
        hint = f"; did you mean {' or '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        super().__init__(f"unknown {kind} {given!r}{hint}")


class AmbiguousTermError(ValueError):
    """A word that names several muscles (a group, or a muscle at several levels of the spine)."""

    def __init__(self, given: str, choices: tuple[str, ...]):
        self.given, self.choices = given, choices
        levels = {muscles()[c].level for c in choices} - {None}
        which = "which muscle, at which level," if len(levels) > 1 else "which muscle"
        super().__init__(
            f"muscle {given!r} names several muscles; say {which} was injected: {', '.join(choices)} "
            "(AAPC: the note names the specific muscle injected, not a broad term; each muscle is a site of its own)"
        )


def _key(text: str) -> str:
    return " ".join(text.lower().replace("-", " ").replace("_", " ").split())


@cache
def muscles() -> dict[str, Muscle]:
    from tpi_cli.vocab.muscle_table import MUSCLES

    table: dict[str, Muscle] = {}
    for row in MUSCLES:
        fields = dict(row)
        view, x, y = fields.pop("map")
        for key in ("aliases", "hazards", "choices"):
            fields[key] = tuple(fields.get(key, ()))
        fields.setdefault("anatomical", fields["name"])
        table[fields["name"]] = Muscle(map_view=view, map_x=x, map_y=y, **fields)
    return table


@cache
def hazards() -> dict[str, Hazard]:
    """What lies within needle reach at some sites, with a chart warning and a handout line (§5, §9)."""
    from tpi_cli.vocab.muscle_table import HAZARDS

    return {name: Hazard(name=name, **fields) for name, fields in HAZARDS.items()}


@cache
def muscle_groups() -> dict[str, tuple[str, ...]]:
    """Words that name several muscles (keyed as typed, normalised) → the muscles they may mean."""
    from tpi_cli.vocab.muscle_table import GROUPS

    groups = {_key(word): tuple(choices) for word, choices in GROUPS.items()}
    for muscle in muscles().values():
        if muscle.choices:
            for word in (muscle.name, *muscle.aliases):
                groups[_key(word)] = muscle.choices
    return groups


@cache
def drugs() -> dict[str, Drug]:
    from tpi_cli.vocab.drug_table import DRUGS

    table: dict[str, Drug] = {}
    for name, fields in DRUGS.items():
        row = dict(fields)
        table[name] = Drug(
            name=name,
            drug_class=row.pop("class"),
            brands=tuple(row.pop("brands")),
            strengths=tuple(row.pop("strengths")),
            numb_hours=tuple(row.pop("numb_hours")) if "numb_hours" in row else None,
            **row,
        )
    return table


def _names(entries: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Every way to write a term (its name, then its other names) → the canonical name."""
    names: dict[str, str] = {}
    for name, others in entries.items():
        names[_key(name)] = name
        for other in others:
            names.setdefault(_key(other), name)
    return names


@cache
def _muscle_names() -> dict[str, str]:
    return _names({muscle.name: muscle.aliases for muscle in muscles().values()})


@cache
def _entry_names() -> dict[str, str]:
    """Names that may be entered: the muscles' names and aliases and the group words (for suggestions)."""
    names = {k: v for k, v in _muscle_names().items() if not muscles()[v].choices}
    names.update({word: choices[0] for word, choices in muscle_groups().items()})
    return names


@cache
def _drug_names() -> dict[str, str]:
    return _names({drug.name: drug.brands for drug in drugs().values()})


def _suggest(given: str, names: dict[str, str], groups: dict[str, tuple[str, ...]] | None = None) -> list[str]:
    close = difflib.get_close_matches(_key(given), list(names), n=6, cutoff=0.6)
    found: list[str] = []
    for word in close:  # a close group word suggests the muscles it may mean
        found += (groups or {}).get(word, (names[word],))
    return list(dict.fromkeys(found))[:3]


@cache
def find_muscle(name: str) -> Muscle:
    """The one muscle a clinician means by NAME (canonical name or alias, any case).

    A word naming several muscles (trapezius, glute, paraspinals, scalenes …) raises AmbiguousTermError
    with the choices; an unknown one UnknownTermError with the closest names.
    """
    key = _key(name)
    if key in muscle_groups():
        raise AmbiguousTermError(name, muscle_groups()[key])
    canonical = _muscle_names().get(key)
    if canonical is None:
        raise UnknownTermError("muscle", name, _suggest(name, _entry_names(), muscle_groups()))
    return muscles()[canonical]


@cache
def stored_muscle(name: str) -> Muscle:
    """The muscle a stored record names: also the group names earlier versions stored (scalenes …)."""
    canonical = _muscle_names().get(_key(name))
    if canonical is None:
        return find_muscle(name)
    return muscles()[canonical]


def group_choices(text: str) -> tuple[str, ...]:
    """The muscles a group word may mean (empty when TEXT is no group word)."""
    return muscle_groups().get(_key(text), ())


def muscles_matching(text: str) -> list[Muscle]:
    """Entries TEXT names or that contain it in their name or an alias (for `tpi muscles TEXT`)."""
    key = _key(text)
    if key in muscle_groups():
        return [muscles()[c] for c in muscle_groups()[key]]
    found = [m for m in muscles().values() if not m.choices
             and (key in _key(m.name) or any(key in _key(a) for a in m.aliases))]
    exact = [m for m in found if key == _key(m.name) or key in map(_key, m.aliases)]
    return exact or found


@cache
def find_drug(name: str) -> Drug:
    """The drug a clinician means by NAME (generic or brand name, any case)."""
    canonical = _drug_names().get(_key(name))
    if canonical is None:
        raise UnknownTermError("drug", name, _suggest(name, _drug_names()))
    return drugs()[canonical]


# Allergy words (clinical-reference.md §4 and §9). Ester allergy cross-reacts through PABA (Nesacaine label:
# contraindicated with PABA-ester hypersensitivity), so these name the whole ester class.
ESTER_WORDS = ("paba", "para aminobenzoic acid", "para aminobenzoic", "aminobenzoic acid", "ester", "esters",
               "benzocaine", "tetracaine", "novocain", "novocaine", "procaine", "chloroprocaine", "nesacaine")
CLASS_WORDS = {"amide": ("amide",), "amides": ("amide",), "steroid": ("steroid",), "steroids": ("steroid",),
               "corticosteroid": ("steroid",), "corticosteroids": ("steroid",), "cortisone": ("steroid",),
               "anesthetic": ("amide", "ester"), "anesthetics": ("amide", "ester"),
               "anaesthetic": ("amide", "ester"), "anaesthetics": ("amide", "ester"),
               "caine": ("amide", "ester"), "caines": ("amide", "ester")}
# Excipients: epinephrine solutions and Novocain hold sulfite; multi-dose vials hold methylparaben (§4).
EXCIPIENT_WORDS = {
    "sulfite": "sulfite", "sulfites": "sulfite", "sulphite": "sulfite", "sulphites": "sulfite",
    "bisulfite": "sulfite", "bisulphite": "sulfite", "metabisulfite": "sulfite", "metabisulphite": "sulfite",
    "sodium metabisulfite": "sulfite", "sodium bisulfite": "sulfite",
    "paraben": "paraben", "parabens": "paraben", "methylparaben": "paraben", "propylparaben": "paraben",
    "epinephrine": "epinephrine", "adrenaline": "epinephrine", "epi": "epinephrine",
}
# Allergies tpi knows and that no agent it records contains: recorded, nothing to check.
UNRELATED_ALLERGIES = (
    "penicillin", "penicillins", "amoxicillin", "cephalosporin", "cephalosporins", "sulfa", "sulfonamide",
    "sulfonamides", "sulfa drugs", "nsaid", "nsaids", "aspirin", "ibuprofen", "naproxen", "codeine", "morphine",
    "opioid", "opioids", "latex", "iodine", "contrast", "iodinated contrast", "shellfish", "peanut", "peanuts",
    "egg", "eggs", "tree nuts", "bee stings", "nkda", "none", "no known drug allergies", "seasonal",
)


class AllergyMatch(NamedTuple):
    """What an allergy text names: drugs by name or brand, whole classes, excipients."""

    named: frozenset[str]  # canonical drug names named directly (lidocaine, Xylocaine → lidocaine)
    classes: frozenset[str]  # drug classes named or implied (amide, ester, steroid)
    excipients: frozenset[str]  # sulfite, paraben, epinephrine
    known: bool  # False: tpi recognises nothing in the text and cannot check it

    def refused_drugs(self) -> frozenset[str]:
        by_class = {d.name for d in drugs().values() if d.drug_class in self.classes}
        return frozenset(self.named | by_class)


def _has_phrase(key: str, phrase: str) -> bool:
    return f" {phrase} " in f" {key} "


@cache
def allergy_match(text: str) -> AllergyMatch:
    key = _key(text.replace("/", " ").replace(",", " ").replace("(", " ").replace(")", " "))
    named = {canonical for name, canonical in _drug_names().items() if _has_phrase(key, name)}
    classes: set[str] = set()
    if any(_has_phrase(key, word) for word in ESTER_WORDS):
        classes.add("ester")
    for word in key.split():
        classes.update(CLASS_WORDS.get(word, ()))
    # an ester named by name stands for its class (cross-reactivity through PABA)
    classes.update(drugs()[d].drug_class for d in named if drugs()[d].drug_class == "ester")
    excipients = {kind for word, kind in EXCIPIENT_WORDS.items() if _has_phrase(key, word)}
    unrelated = any(_has_phrase(key, word) for word in UNRELATED_ALLERGIES)
    return AllergyMatch(frozenset(named), frozenset(classes), frozenset(excipients),
                        known=bool(named or classes or excipients or unrelated))


@cache
def allergy_suggestions(text: str) -> list[str]:
    """Known names closest to an allergy text tpi cannot read (drug, brand, class or excipient words)."""
    words = [*_drug_names(), *ESTER_WORDS, *CLASS_WORDS, *EXCIPIENT_WORDS, *UNRELATED_ALLERGIES]
    key = _key(text)
    close = difflib.get_close_matches(key, words, n=3, cutoff=0.6)
    for word in key.split():
        close += difflib.get_close_matches(word, words, n=2, cutoff=0.75)
    return list(dict.fromkeys(close))[:3]
