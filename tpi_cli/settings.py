"""Settings a clinic can change with ``tpi config set``: their keys, defaults, types and sources.

Defaults come from clinical-reference.md; the source of each clinical threshold is beside it.
Values typed by a person go through :func:`parse_value`; values read from a store through
:func:`check_value`. Every number is finite and inside a plausible range, so a setting can never switch a
safety check off by accident (nan compares false with everything) or crash a later command (a zero limit
is a division by zero, 99999999 days is past the last date Python knows).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from typing import Any, NamedTuple

from tpi_cli import vocab


class Setting(NamedTuple):
    key: str
    kind: str  # text | int | float | bool | choice | numbers
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    maximum: float | None = None
    minimum: float = 0
    positive: bool = False  # above zero (a limit a dose is divided by); else 0 is allowed
    # (value, source) of a published reference: a value set above it is accepted with a warning naming it
    reference: tuple[float, str] | None = None
    zero_is_off: bool = False  # 0 turns the check off (allowed beside a positive minimum)


TEXT_MAX = 200


def _settings() -> list[Setting]:
    rows = [
        Setting("clinic.name", "text", "", "clinic name, printed at the top of every PDF"),
        Setting("clinic.phone", "text", "", "clinic phone, on every handout page"),
        Setting("clinic.after_hours_phone", "text", "", "after-hours phone, on every handout page"),
        Setting("clinic.address", "text", "", "clinic address, in PDF headers"),
        Setting("clinician", "text", "", "default clinician for log-visit"),
        # FHIR exports (issue 13): identities an EHR can match on
        Setting("clinician.npi", "text", "", "the configured clinician's NPI (10 digits), on FHIR exports"),
        Setting("clinic.npi", "text", "", "the clinic's organisational NPI (10 digits), on FHIR exports"),
        Setting("fhir.identifier_system", "text", "",
                "the clinic's own identifier system URI (e.g. urn:oid:…); default: the store's own urn:uuid"),
        Setting("fhir.mrn_system", "text", "", "the EHR's MRN identifier system URI, needed to export MRNs"),
        Setting("consent.default", "choice", "", "consent recorded when --consent is not given",
                ("", "verbal", "written")),
        Setting("payer.default", "choice", "medicare", "payer profile for patients without one",
                ("medicare", "commercial", "none")),
        Setting("follow_up.default_days", "int", 0, "follow-up this many days after a visit (0: none)",
                maximum=365),
        # clinical-reference.md §4: Σ dose_i / max_i ≤ 1 (labels: toxic effects are additive) is refused above
        # 100%; the warning above 70% is a clinic policy, not a published number.
        Setting("limits.anesthetic_warn_pct", "float", 70.0,
                "warn when local anesthetics reach this % of their combined reference limit (clinic policy)",
                maximum=200, positive=True),
        Setting("limits.anesthetic_refuse_pct", "float", 100.0,
                "refuse above this % of the combined local anesthetic reference limit",
                maximum=200, positive=True, reference=(100.0, "the labelled maximum doses (Xylocaine, Marcaine, Naropin labels)")),
        # clinical-reference.md §4: the absolute caps fit a healthy normal-sized adult; without a weight tpi
        # assumes a conservative one and says so.
        Setting("limits.assumed_weight_kg", "float", 50.0,
                "weight assumed for the dose limits when none is recorded (clinic policy)",
                maximum=200, positive=True, reference=(50.0, "the conservative assumed weight (labels: reduce doses for children and small adults)")),
        # clinical-reference.md §9: labels ask for reduced doses in the elderly.
        Setting("limits.elderly_age", "int", 65,
                "warn that labels ask for reduced doses from this age (0: never)", maximum=130),
        # clinical-reference.md §4: Kang 2012 (Pain Physician 15:229) and Kerezoudis 2018 (Pain Med 19:569)
        # give 200 mg MPE per year; an earlier step and the per-visit figure are clinic choices.
        Setting("limits.steroid_warn_mpe", "float", 200.0,
                "warn above this mg MPE in 365 days (Kang 2012; Kerezoudis 2018)",
                maximum=2000, positive=True, reference=(200.0, "Kang 2012; Kerezoudis 2018")),
        Setting("limits.steroid_early_mpe", "float", 0.0,
                "an earlier warning above this mg MPE in 365 days (clinic policy; 0: none)",
                maximum=2000, positive=True, zero_is_off=True),
        Setting("limits.steroid_visit_warn_mpe", "float", 80.0,
                "warn above this mg MPE in one visit (clinic policy)", maximum=1000, positive=True),
        Setting("limits.steroid_refuse_mpe", "float", 0.0,
                "refuse above this mg MPE in 365 days (0: never refuse; limits are not evidence-based)",
                maximum=5000, positive=True, zero_is_off=True),
        Setting("limits.steroid_site_interval_days", "int", 90,
                "warn when a steroid goes into the same muscle and side sooner than this (≥ 3 months)",
                maximum=365),
        Setting("handout.heat", "bool", True, "handout advises heat after the first 1-2 days"),
        Setting("handout.no_soak_hours", "int", 48, "handout: no hot tub or swimming for this many hours",
                maximum=168, positive=True),
    ]
    for drug in vocab.drugs().values():
        for field, label in (("max_mg_kg", "mg/kg"), ("max_mg", "mg"),
                             ("max_mg_kg_epi", "mg/kg with epinephrine"), ("max_mg_epi", "mg with epinephrine"),
                             ("max_mg_24h", "mg per 24 hours over all visits")):
            value = getattr(drug, field)
            if value is not None:
                # a limit may be lowered freely, raised to twice the label's at most, and never to 0
                rows.append(Setting(f"limits.{drug.name}.{field}", "float", float(value),
                                    f"{drug.name} reference limit, {label} ({drug.source})",
                                    maximum=2 * float(value), positive=True,
                                    reference=(float(value), f"{drug.name} {label}, {drug.source}")))
        # clinical-reference.md §9: strengths outside the list sold are refused as slips; a clinic adds its own.
        rows.append(Setting(f"strengths.{drug.name}", "numbers", (),
                            f"{drug.name} strengths the clinic uses besides those sold "
                            f"({', '.join(f'{v:g}' for v in drug.strengths)} {drug.unit}), in {drug.unit}"))
    rows += _payer_profiles()
    return rows


# Payer profiles (clinical-reference.md §2). medicare: LCD-2024 [V]; commercial: eviCore CMM-202 [V
# summary]; none: no payer rules. 0 means "no limit" for counts and intervals.
PAYER_PROFILES: dict[str, dict[str, Any]] = {
    # LCD-2024 (L34211, billing article A59553); dry needling: CMS NCD 30.3.3 (chronic low back pain only)
    "medicare": {"sessions_per_year": 3, "same_site_days": 42, "min_relief_pct": 50, "min_relief_weeks": 6,
                 "requires_home_exercise": True, "covers_ultrasound": False, "covers_dry_needling": False,
                 "single_region": True, "region_interval_days": 0, "sessions_per_region_per_year": 0,
                 "covers_saline": True, "dry_needling_lbp_visits_90_days": 12, "dry_needling_visits_per_year": 20},
    # eviCore CMM-202: sessions counted per body region; saline and dry needling excluded
    "commercial": {"sessions_per_year": 0, "same_site_days": 0, "min_relief_pct": 50, "min_relief_weeks": 6,
                   "requires_home_exercise": True, "covers_ultrasound": True, "covers_dry_needling": False,
                   "single_region": False, "region_interval_days": 60, "sessions_per_region_per_year": 4,
                   "covers_saline": False, "dry_needling_lbp_visits_90_days": 0, "dry_needling_visits_per_year": 0},
    "none": {"sessions_per_year": 0, "same_site_days": 0, "min_relief_pct": 0, "min_relief_weeks": 0,
             "requires_home_exercise": False, "covers_ultrasound": True, "covers_dry_needling": True,
             "single_region": False, "region_interval_days": 0, "sessions_per_region_per_year": 0,
             "covers_saline": True, "dry_needling_lbp_visits_90_days": 0, "dry_needling_visits_per_year": 0},
}

_PAYER_HELP = {
    "sessions_per_year": "sessions (days) allowed per rolling 365 days (0: no limit)",
    "same_site_days": "days before the same muscle and side may be injected again (0: no limit)",
    "min_relief_pct": "prior relief (%) required before a repeat injection",
    "min_relief_weeks": "weeks the prior relief must have lasted",
    "requires_home_exercise": "repeat injections need a home exercise or rehab programme",
    "covers_ultrasound": "the payer pays for ultrasound guidance (76942)",
    "covers_dry_needling": "the payer pays for dry needling (20560/20561)",
    "single_region": "the payer pays for one anatomical region per session",
    "region_interval_days": "days between sessions in one body region (0: no limit)",
    "sessions_per_region_per_year": "sessions per body region per rolling 365 days (0: no limit)",
    "covers_saline": "the payer pays for saline-only injections",
    "dry_needling_lbp_visits_90_days": "dry needling for chronic low back pain: visits in 90 days (0: not covered)",
    "dry_needling_visits_per_year": "dry needling for chronic low back pain: visits a year",
}


def _payer_profiles() -> list[Setting]:
    rows = []
    for profile, values in PAYER_PROFILES.items():
        for field, default in values.items():
            kind = "bool" if isinstance(default, bool) else "int"
            maximum = {"sessions_per_year": 365, "same_site_days": 365, "min_relief_pct": 100,
                       "min_relief_weeks": 52}.get(field)
            rows.append(Setting(f"payer.{profile}.{field}", kind, default, f"{profile}: {_PAYER_HELP[field]}",
                                maximum=maximum))
    return rows


SETTINGS: dict[str, Setting] = {setting.key: setting for setting in _settings()}

_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off"}


def _number_text(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


def check_value(key: str, value: Any) -> Any:
    """VALUE as a checked value of setting KEY (a stored value, or one parse_value converted).

    ValueError names the key, the allowed values and what was given.
    """
    setting = SETTINGS.get(key)
    if setting is None:
        raise ValueError(f"unknown setting {key!r}; `tpi config show` lists the settings")
    if setting.kind == "text":
        if not isinstance(value, str):
            raise ValueError(f"{key} must be text, not {value!r}")
        if len(value) > TEXT_MAX:
            raise ValueError(f"{key} must be at most {TEXT_MAX} characters (got {len(value)})")
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise ValueError(f"{key} must be one line of text without control characters")
        return value
    if setting.kind == "choice":
        if value not in setting.choices or not isinstance(value, str):
            shown = ", ".join(c or "''" for c in setting.choices)
            raise ValueError(f"{key} must be one of {shown}, not {value!r}")
        return value
    if setting.kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{key} must be true or false, not {value!r}")
        return value
    if setting.kind == "numbers":
        # a comparison with nan is false, so nan is refused here too
        if not isinstance(value, list | tuple) or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and 0 < v <= 1000 for v in value):
            raise ValueError(f"{key} must be a list of strengths above 0 and at most 1000, not {value!r}")
        return tuple(float(v) for v in value)
    whole = setting.kind == "int"
    if isinstance(value, bool) or not isinstance(value, int if whole else (int, float)):
        # ValueError, like every other bad value: callers report all of them one way
        raise ValueError(f"{key} must be a {'whole ' if whole else ''}number, not {value!r}")  # noqa: TRY004
    if not whole:
        if not math.isfinite(value):
            raise ValueError(f"{key} must be a finite number, not {value!r}")
        value = float(value)
    if not (setting.zero_is_off and value == 0):
        low = f"more than {_number_text(setting.minimum)}" if setting.positive else f"at least {_number_text(setting.minimum)}"
        high = f" and at most {_number_text(setting.maximum)}" if setting.maximum is not None else ""
        off = " (or 0 to turn it off)" if setting.zero_is_off else ""
        if value < setting.minimum or (setting.positive and value <= setting.minimum) or (
                setting.maximum is not None and value > setting.maximum):
            raise ValueError(f"{key} must be {low}{high}{off}, not {_number_text(value)}")
    return value


def parse_value(key: str, raw: str) -> Any:
    """Check RAW (typed by a person) for KEY and return the typed value; ValueError names the key and the fix."""
    setting = SETTINGS.get(key)
    if setting is None:
        raise ValueError(f"unknown setting {key!r}; `tpi config show` lists the settings")
    text = raw.strip()
    if setting.kind in ("text", "choice"):
        return check_value(key, text)
    if setting.kind == "numbers":
        return _numbers(key, raw)
    if setting.kind == "bool":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ValueError(f"{key} must be true or false, not {raw!r}")
    try:
        value = int(text) if setting.kind == "int" else float(text)
    except ValueError:
        raise ValueError(f"{key} must be a {'whole ' if setting.kind == 'int' else ''}number, not {raw!r}") from None
    return check_value(key, value)


# Settings that must stay in order: (lower, higher). A threshold of 0 is off and orders with nothing.
_ORDERED = (
    ("limits.anesthetic_warn_pct", "limits.anesthetic_refuse_pct"),
    ("limits.steroid_early_mpe", "limits.steroid_warn_mpe"),
    ("limits.steroid_warn_mpe", "limits.steroid_refuse_mpe"),
)


def check_change(key: str, value: Any, stored: dict[str, Any]) -> list[str]:
    """Check setting KEY = VALUE against the other settings (STORED over the defaults).

    ValueError when it breaks an order (a warning above its refusal); else the warnings to show, e.g.
    a limit raised above its published reference.
    """
    current = Settings({**stored, key: value})
    for lower, higher in _ORDERED:
        if key in (lower, higher) and current[lower] != 0 and current[higher] != 0 and current[lower] > current[higher]:
            raise ValueError(
                f"{lower} ({_number_text(current[lower])}) must not be above {higher} "
                f"({_number_text(current[higher])}); change {higher if key == lower else lower} first"
            )
    reference = SETTINGS[key].reference
    if reference is not None and isinstance(value, float) and value > reference[0]:
        return [(f"{key} {_number_text(value)} is above the reference value {_number_text(reference[0])} "
                 f"({reference[1]}); the checks will now allow more than the reference")]
    return []


def _numbers(key: str, raw: str) -> tuple[float, ...]:
    """'1.5, 4' → (1.5, 4.0); blank → (); anything else is bad input naming the key."""
    values = []
    for part in raw.replace(";", ",").split(","):
        if not part.strip():
            continue
        try:
            value = float(part)
        except ValueError:
            raise ValueError(f"{key} takes numbers separated by commas, e.g. '1.5, 4', not {raw!r}") from None
        if not 0 < value <= 1000:  # also false for nan
            raise ValueError(f"{key}: each strength must be above 0 and at most 1000, not {part.strip()!r}")
        values.append(value)
    return tuple(values)


class Settings:
    """The effective settings: the store's values over the defaults."""

    def __init__(self, stored: dict[str, Any] | None = None):
        self.stored = dict(stored or {})
        self._payers: dict[str, dict[str, Any]] = {}
        self._derived: dict[Hashable, Any] = {}

    def __getitem__(self, key: str) -> Any:
        if key in self.stored:
            return self.stored[key]
        return SETTINGS[key].default

    def is_set(self, key: str) -> bool:
        return key in self.stored

    def payer(self, profile: str) -> dict[str, Any]:
        if profile not in self._payers:
            self._payers[profile] = {field: self[f"payer.{profile}.{field}"] for field in PAYER_PROFILES[profile]}
        return self._payers[profile]

    def drug_limit(self, drug: str, field: str) -> float | None:
        return self.derived(("drug_limit", drug, field), lambda: self._drug_limit(drug, field))

    def _drug_limit(self, drug: str, field: str) -> float | None:
        key = f"limits.{drug}.{field}"
        return self[key] if key in SETTINGS else None

    def derived(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """What COMPUTE makes of these settings (and the fixed vocabulary) alone, made once per KEY: an import asks
        the same limits and strengths of every visit. Settings are not changed once read (a change makes new ones)."""
        try:
            return self._derived[key]
        except KeyError:
            value = self._derived[key] = compute()
            return value
