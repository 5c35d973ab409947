"""Patient-facing texts, one TOML file per language, so a clinic can review every word."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

LANGUAGES = ("en", "es")


@cache
def handout_texts(lang: str) -> dict[str, Any]:
    if lang not in LANGUAGES:
        raise ValueError(f"no handout text for language {lang!r}; choose {' or '.join(LANGUAGES)}")
    return tomllib.loads((Path(__file__).parent / f"handout_{lang}.toml").read_text(encoding="utf-8"))
