"""ICD-10-CM codes checked against the code set in effect on the date of service (clinical-reference.md §9).

The code set is the CMS code list the `simple-icd-10-cm` package ships (one release), read as plain text:
importing the package parses a 9.7 MB XML file (2.1 s), which no command should pay for. Its file lists
every chapter, block, category and code in tree order without dots, so a code is billable when no line
after it extends it. Codes deleted or created since ICD-10-CM began are in vocab/codes.py with their dates,
so a visit dated before a change is checked against the codes of its day.
"""

from __future__ import annotations

import bisect
import datetime as dt
import importlib.util
from functools import cache
from pathlib import Path
from typing import NamedTuple

from tpi_cli.errors import InputError
from tpi_cli.vocab.codes import ICD10_CM_START, ICD10_DATED

PACKAGE = "simple-icd-10-cm"


class CodeList(NamedTuple):
    release: str  # e.g. "April-2026"
    codes: list[str]  # sorted, without dots


@cache
def code_list() -> CodeList:
    spec = importlib.util.find_spec("simple_icd_10_cm")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise InputError(f"diagnoses: the ICD-10-CM code list is not installed; pip install {PACKAGE}")
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    lists = sorted(data.glob("code-list-*.txt"))
    if not lists:
        raise InputError(f"diagnoses: {data} holds no ICD-10-CM code list; reinstall {PACKAGE}")
    text = lists[-1].read_text(encoding="utf-8")
    codes = sorted(line for line in text.split() if line[:1].isalpha() and "-" not in line)
    return CodeList(lists[-1].stem.removeprefix("code-list-"), codes)


def _bare(code: str) -> str:
    return code.replace(".", "")


def dotted(bare: str) -> str:
    return bare if len(bare) <= 3 else f"{bare[:3]}.{bare[3:]}"


def _descendants(bare: str) -> list[str]:
    codes = code_list().codes
    start = bisect.bisect_right(codes, bare)
    end = start
    # walked by index: a slice of the rest of the list copied 98,000 codes per look-up (1 ms; 2.7 s of an import)
    while end < len(codes) and codes[end].startswith(bare):
        end += 1
    return codes[start:end]


def _in_list(bare: str) -> bool:
    codes = code_list().codes
    index = bisect.bisect_left(codes, bare)
    return index < len(codes) and codes[index] == bare


@cache  # a code list's handful of codes are asked of every visit of an import
def _billable_now(bare: str) -> bool:
    """In the list and no code below it (the list is sorted: a code's descendants follow it directly)."""
    codes = code_list().codes
    index = bisect.bisect_left(codes, bare)
    if index == len(codes) or codes[index] != bare:
        return False
    return index + 1 == len(codes) or not codes[index + 1].startswith(bare)


def _billable_on(code: str, day: dt.date) -> bool:
    dated = ICD10_DATED.get(code)
    if dated is not None:
        start, end = dated.get("from"), dated.get("until")
        return (start is None or day >= start) and (end is None or day < end)
    return _billable_now(_bare(code))


def billable_children(code: str, day: dt.date) -> list[str]:
    """The billable codes under CODE on DAY (dotted)."""
    found = [dotted(c) for c in _descendants(_bare(code))]
    return [c for c in found if _billable_on(c, day)]


def check_diagnosis(code: str, day: dt.date) -> str | None:
    """Why CODE cannot be billed for a visit on DAY (unknown, a header, deleted or not yet created), or None."""
    if day < ICD10_CM_START:
        return None  # ICD-9-CM was in effect; the visit's warning says so
    if _billable_on(code, day):
        return None
    on = f"on {day.isoformat()}"
    dated = ICD10_DATED.get(code)
    if dated is not None:
        start, end = dated.get("from"), dated.get("until")
        instead = ", ".join(c for c in dated.get("instead", ()) if _billable_on(c, day))
        change = (f"created {start.isoformat()}" if start and day < start
                  else f"not billable since {end.isoformat()}" if end and day >= end else "not billable")
        return f"{code} is {change} ({dated['note']}); {on} code {instead or 'a billable code'}"
    children = billable_children(code, day)
    if _in_list(_bare(code)) or children:
        shown = ", ".join(children[:12]) + (f" and {len(children) - 12} more" if len(children) > 12 else "")
        return f"{code} is a category header, not a billable code {on}; code one of {shown}"
    parent = next((dotted(_bare(code)[:n]) for n in range(len(_bare(code)) - 1, 2, -1)
                   if _in_list(_bare(code)[:n])), None)
    hint = ""
    if parent is not None:
        options = billable_children(parent, day) or ([parent] if _billable_on(parent, day) else [])
        if options:
            hint = f"; under {parent}: " + ", ".join(options[:12]) + (" …" if len(options) > 12 else "")
    return f"{code} is not an ICD-10-CM code (CMS code list {code_list().release}){hint}"


def check_diagnoses(codes: list[str], day: dt.date) -> None:
    problems = [why for code in codes if (why := check_diagnosis(code, day))]
    if problems:
        raise InputError("diagnoses: " + "; ".join(problems))
