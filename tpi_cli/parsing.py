"""Parsers for what clinicians type: SITE (``muscle:side:points:volume``) and AGENT (``lidocaine 1% 3mL``).

Each parser has a formatter; ``parse(format(x)) == x`` holds (a property test checks it).
Errors are ``ValueError`` with a message naming what is wrong and how to write it.
"""

from __future__ import annotations

import re
from decimal import Decimal

from pydantic import ValidationError

from tpi_cli import vocab
from tpi_cli.models import AgentInput, Concentration, FunctionalScore, Site, problems

SIDE_WORDS = {
    "left": "left", "l": "left", "lt": "left",
    "right": "right", "r": "right", "rt": "right",
    "bilateral": "bilateral", "b": "bilateral", "bil": "bilateral", "bilat": "bilateral",
    "both": "bilateral", "bl": "bilateral",
    "midline": "midline", "m": "midline", "mid": "midline",
}

SITE_EXAMPLE = "'upper trapezius:left:2' or 'upper trapezius:left:2:1.5mL' (MUSCLE[:SIDE[:POINTS[:VOLUME]]])"
AGENT_EXAMPLE = "'lidocaine 1% 3 mL' or 'triamcinolone 40 mg/mL 0.5 mL'"

# ASCII digits only: \d would also read Arabic-Indic or full-width digits, which nobody checks by eye.
_NUMBER = r"([0-9]+(?:\.[0-9]+)?|\.[0-9]+)"
# Epinephrine is read only from a positive statement (clinical-reference.md §9): "with epinephrine",
# "w/ epi", "1:200,000". The Xylocaine label itself writes "epinephrine-free solutions", so the negative
# phrasings are matched first and mean none.
_EPI_WORD = r"(?:epinephrine|epinephrin|epi|adrenaline|adrenalin)"
_NO_EPINEPHRINE = re.compile(
    r"\b(?:without|w/o|wo|no|non|sans)\s*-?\s*" + _EPI_WORD + r"\b"
    r"|\b" + _EPI_WORD + r"\s*-?\s*free\b"
    r"|\bplain\b",
    re.IGNORECASE,
)
_EPINEPHRINE = re.compile(
    r"(?:\b(?:with|w/|w|\+|and)\s*)?\b" + _EPI_WORD + r"\b"
    r"(?:\s*1\s*:\s*[\d,]+)?"
    r"|\b1\s*:\s*(?:100|200|400),?000\b",
    re.IGNORECASE,
)
_VOLUME = re.compile(_NUMBER + r"\s*(?:ml|cc)\b", re.IGNORECASE)
_MG_PER_ML = re.compile(_NUMBER + r"\s*mg\s*/\s*ml\b", re.IGNORECASE)
_PERCENT = re.compile(_NUMBER + r"\s*%")
# Refused before anything is read, so no part of the text is read as something else: "-3 mL" is not 3 mL,
# "2,5 mL" is not 5 mL, "3 mLx" is not "3 mL" plus a word.
_MINUS = re.compile(r"[-\u2212\u2012\u2013\u2014]\s*\.?[0-9]")
_DECIMAL_COMMA = re.compile(r"[0-9],[0-9]")
_GLUED_UNIT = re.compile(_NUMBER + r"\s*(?:ml|cc|mg\s*/\s*ml|%)(?=[^\W_]|%)", re.IGNORECASE)
# what is left of a unit once each amount has taken its own: "3 mL mL", "1% % 3 mL"
_UNIT_WORDS = {"ml", "cc", "mg", "mcg", "g", "l", "%", "/", "mg/ml", "ml/mg"}
# words on labels and in notes that name no drug: "lidocaine HCl 1% MPF", "plain bupivacaine"
_LABEL_WORDS = {"plain", "hcl", "hydrochloride", "pf", "mpf", "preservative", "free", "injection", "inj"}


def format_number(value: float) -> str:
    """Plain decimal notation that reads back to the same float (no exponent, no trailing zeros)."""
    text = format(Decimal(repr(float(value))), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


_POINTS_LIKE = re.compile(r"[-+\u2212]?[0-9.,]*[0-9][0-9.,]*")
_WHOLE = re.compile(r"[0-9]+")
_SCORE = re.compile(r"[0-9]+(?:\.[0-9]+)?|\.[0-9]+")
# a site's volume: a number and mL, nothing else (no cc, no bare number, no exponent)
_SITE_VOLUME = re.compile(_NUMBER + r"\s*ml", re.IGNORECASE)
# what a person may mean as a volume: an amount with a unit of volume ('1.5mL', '2 cc', '-1ml', '1,5 mL')
_AMOUNT_LIKE = re.compile(r"[-+\u2212]?[0-9.,]*[0-9][0-9.,]*\s*(?:ml|cc|l)", re.IGNORECASE)


def _site_parts(text: str) -> list[str]:
    """MUSCLE, SIDE, POINTS, VOLUME from 'muscle:side:points:volume', or from 'muscle side points volume'."""
    if ":" in text:
        return [part.strip() for part in text.split(":")]
    words = text.split()
    volume = None
    # '1.5 mL' is two words: an amount and its unit
    if len(words) > 2 and words[-1].lower() in ("ml", "cc") and _POINTS_LIKE.fullmatch(words[-2]):
        words[-2:] = [words[-2] + words[-1]]
    if len(words) > 1 and _AMOUNT_LIKE.fullmatch(words[-1]):
        volume = words.pop()
    # a last word that looks like a number is the points, so '-2' or '2.5' is refused as points, not as a muscle
    points = words.pop() if len(words) > 1 and _POINTS_LIKE.fullmatch(words[-1]) else None
    side = words.pop() if len(words) > 1 and words[-1].lower() in SIDE_WORDS else None
    parts = [" ".join(words)]
    if side or points or volume:
        parts.append(side or "")
    if points or volume:
        parts.append(points or "")
    if volume:
        parts.append(volume)
    return parts


def parse_site(text: str) -> Site:
    """``MUSCLE[:SIDE[:POINTS[:VOLUME]]]`` → Site. A paired muscle needs its side; POINTS defaults to 1;
    VOLUME (e.g. ``1.5mL``, over both sides when bilateral) is null when not given."""
    parts = _site_parts(text)
    if not parts[0] or len(parts) > 4:
        raise ValueError(f"cannot read site {text!r}; write it as {SITE_EXAMPLE}")
    muscle = vocab.find_muscle(parts[0])
    if len(parts) >= 2 and parts[1]:
        side = SIDE_WORDS.get(parts[1].lower())
        if side is None:
            raise ValueError(f"side {parts[1]!r} in site {text!r} is not one of left, right, bilateral, midline")
    elif muscle.paired:
        raise ValueError(
            f"site {text!r}: {muscle.name} is paired; give the side, e.g. '{muscle.name}:left' or "
            f"'{muscle.name}:bilateral'"
        )
    else:
        side = "midline"
    points = 1
    if len(parts) >= 3:
        if len(parts) == 4 and not parts[2]:
            raise ValueError(f"site {text!r}: give the number of points before the volume, e.g. "
                             f"'{muscle.name}:{side}:1:{parts[3]}'")
        if _AMOUNT_LIKE.fullmatch(parts[2]):
            raise ValueError(f"site {text!r}: the third part is the number of points and the volume comes fourth; "
                             f"write it like '{muscle.name}:{side}:1:{parts[2]}'")
        if not _WHOLE.fullmatch(parts[2]):
            raise ValueError(f"points {parts[2]!r} in site {text!r} must be a whole number from 1 to 20")
        points = int(parts[2])
    if not 1 <= points <= 20:
        raise ValueError(f"points {points} in site {text!r} must be from 1 to 20")
    volume = _site_volume(parts[3], text) if len(parts) == 4 else None
    try:
        return Site(muscle=muscle.name, side=side, points=points, volume_ml=volume)
    except ValidationError as error:
        raise ValueError(f"site {text!r}: " + "; ".join(problems(error))) from None


def _site_volume(part: str, text: str) -> float:
    """The VOLUME part of a site: a number of mL above 0 and at most 100, as typed."""
    found = _SITE_VOLUME.fullmatch(part)
    if found is None:
        if _MINUS.search(part):
            raise ValueError(f"volume {part!r} in site {text!r} must be more than 0 mL, e.g. '1.5mL'")
        if _DECIMAL_COMMA.search(part):
            raise ValueError(f"volume {part!r} in site {text!r} has a decimal comma; write decimals with a point, "
                             "e.g. '1.5mL'")
        if re.fullmatch(_NUMBER, part):
            raise ValueError(f"volume {part!r} in site {text!r} has no unit; write it in mL, e.g. '{part}mL'")
        if re.fullmatch(_NUMBER + r"\s*[^\W\d_]+", part):
            raise ValueError(f"volume {part!r} in site {text!r} must be in mL, e.g. '1.5mL'")
        raise ValueError(f"cannot read volume {part!r} in site {text!r}; write it like '1.5mL'")
    volume = float(found.group(1))
    if not 0 < volume <= 100:
        raise ValueError(f"volume {part!r} in site {text!r} must be more than 0 mL and at most 100 mL")
    return volume


def format_site(site: Site) -> str:
    volume = f":{format_number(site.volume_ml)}mL" if site.volume_ml is not None else ""
    return f"{site.muscle}:{site.side}:{site.points}{volume}"


def parse_agent(text: str) -> AgentInput:
    """Free-typed agent → AgentInput: drug (generic or brand), concentration, volume, epinephrine."""
    rest = text.strip()
    if _MINUS.search(rest):
        raise ValueError(f"agent {text!r} has a minus sign before a number; strengths and volumes are positive, "
                         f"write them like {AGENT_EXAMPLE}")
    without = bool(_NO_EPINEPHRINE.search(rest))
    rest = _NO_EPINEPHRINE.sub(" ", rest)
    epinephrine = bool(_EPINEPHRINE.search(rest))
    if without and epinephrine:
        raise ValueError(f"agent {text!r} says both with and without epinephrine; give one")
    rest = _EPINEPHRINE.sub(" ", rest)
    # after the epinephrine ratio (1:200,000) is gone, a comma between digits can only be a decimal comma
    if _DECIMAL_COMMA.search(rest):
        raise ValueError(f"agent {text!r} has a decimal comma; write decimals with a point (2.5 mL), "
                         f"like {AGENT_EXAMPLE}")
    glued = _GLUED_UNIT.search(rest)
    if glued:
        raise ValueError(f"agent {text!r}: cannot read {rest[glued.start():glued.end() + 1].strip()!r}; "
                         f"put a space after the unit, like {AGENT_EXAMPLE}")

    volumes = list(_VOLUME.finditer(rest))
    if not volumes:
        raise ValueError(f"agent {text!r} has no volume; write it like {AGENT_EXAMPLE}")
    if len(volumes) > 1:
        raise ValueError(f"agent {text!r} has more than one volume; give one agent per --agent")
    volume = float(volumes[0].group(1))
    rest = rest[: volumes[0].start()] + " " + rest[volumes[0].end():]

    concentration = None
    for pattern, unit in ((_MG_PER_ML, "mg/mL"), (_PERCENT, "%")):
        found = list(pattern.finditer(rest))
        if len(found) > 1:
            raise ValueError(f"agent {text!r} has more than one concentration")
        if found:
            if concentration is not None:
                raise ValueError(f"agent {text!r} has both a % and a mg/mL concentration; give one")
            try:
                concentration = Concentration(value=float(found[0].group(1)), unit=unit)
            except ValidationError:
                raise ValueError(f"agent {text!r}: the concentration must be above 0") from None
            rest = rest[: found[0].start()] + " " + rest[found[0].end():]

    words = [word for word in rest.replace(",", " ").replace("-", " ").split() if word.lower() not in _LABEL_WORDS]
    units = [word for word in words if word.lower() in _UNIT_WORDS or "%" in word or "/" in word]
    if units:
        raise ValueError(f"agent {text!r} has {units[0]!r} without its own amount; give one strength and one "
                         f"volume, each with one unit, like {AGENT_EXAMPLE}")
    name = " ".join(words)
    if not name:
        raise ValueError(f"agent {text!r} names no drug; write it like {AGENT_EXAMPLE}")
    if re.search(r"\d", name):
        raise ValueError(
            f"cannot read the strength in agent {text!r}; give it as % or mg/mL, like {AGENT_EXAMPLE}"
        )
    drug = _find_drug(text, words)
    try:
        return AgentInput(drug=drug.name, concentration=concentration, volume_ml=volume, epinephrine=epinephrine)
    except ValidationError as error:
        raise ValueError(f"agent {text!r}: " + "; ".join(problems(error))) from None


def _find_drug(text: str, words: list[str]) -> vocab.Drug:
    """The drug the words name; a drug name followed or preceded by words that are no part of it is refused
    naming those words, so 'lidocaine 1% 3 mL xyz' is not reported as an unknown drug 'lidocaine xyz'."""
    try:
        return vocab.find_drug(" ".join(words))
    except vocab.UnknownTermError as unknown:
        for start in range(len(words)):
            for end in range(len(words), start, -1):
                if (start, end) == (0, len(words)):
                    continue
                try:
                    vocab.find_drug(" ".join(words[start:end]))
                except vocab.UnknownTermError:
                    continue
                extra = " ".join(words[:start] + words[end:])
                raise ValueError(f"agent {text!r}: {extra!r} is not part of a drug name, strength or volume; "
                                 f"write the agent like {AGENT_EXAMPLE}") from None
        raise unknown from None


def format_concentration(concentration: Concentration) -> str:
    value = format_number(concentration.value)
    return f"{value}%" if concentration.unit == "%" else f"{value} mg/mL"


def format_medication(agent: AgentInput) -> str:
    """The medication without its volume: 'lidocaine 1% with epinephrine'."""
    parts = [agent.drug]
    if agent.concentration is not None:
        parts.append(format_concentration(agent.concentration))
    if agent.epinephrine:
        parts.append("with epinephrine")
    return " ".join(parts)


def format_agent(agent: AgentInput) -> str:
    return f"{format_medication(agent)} {format_number(agent.volume_ml)} mL"


def parse_function_score(text: str) -> FunctionalScore:
    """``SCALE=SCORE`` (``NDI=24``) → FunctionalScore."""
    scale, sep, score = text.partition("=")
    if not sep or not scale.strip():
        raise ValueError(f"functional score {text!r}: write it as SCALE=SCORE, e.g. NDI=24 or ODI=38")
    score = score.strip()
    # float() alone would take '1e1', '1_0', 'nan' and full-width digits; a score is written plainly
    if not _SCORE.fullmatch(score):
        if _MINUS.match(score):
            problem = "cannot be negative"
        elif _DECIMAL_COMMA.search(score):
            problem = "has a decimal comma; write decimals with a point (12.5)"
        else:
            problem = "is not a number"
        raise ValueError(f"functional score {text!r}: {score!r} {problem}; write it as SCALE=SCORE, e.g. NDI=24")
    value = float(score)
    try:
        return FunctionalScore(scale=scale.strip(), score=value)
    except ValidationError as error:
        raise ValueError(f"functional score {text!r}: " + "; ".join(problems(error))) from None
