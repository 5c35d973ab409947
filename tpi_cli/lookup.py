"""Finding a patient or a visit the user named, with the error that tells them how to fix it."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from tpi_cli.errors import InputError
from tpi_cli.models import Patient, Visit
from tpi_cli.store import Store


def require_patient(store: Store, patient_id: str) -> Patient:
    patient = store.patient(patient_id)
    if patient is None:
        raise unknown_patient(store, patient_id)
    return patient


def unknown_patient(store: Store, text: str) -> InputError:
    """The error for a patient id that is not in the store, suggesting the ids the user may have meant.

    Only ids are suggested, never names: an error line shows no patient data beyond what was typed.
    """
    import difflib

    records = store.patient_records()
    ids = [record["id"] for record in records]
    suggested = list(dict.fromkeys(
        [record["id"] for record in find_patients(records, text)[:5]]
        + difflib.get_close_matches(text, ids, n=3, cutoff=0.6)
    ))[:5]
    if suggested:
        return InputError(f"patient: no patient with id {text!r}; did you mean {', '.join(suggested)}? "
                          "(`tpi patient find TEXT` searches names and ids)")
    return InputError(f"patient: no patient with id {text!r}; find one with `tpi patient find TEXT`, or add one "
                      f"with `tpi patient add --id {text}`")


# Latin letters that Unicode does not decompose into a base letter and an accent.
_UNDECOMPOSED = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D",
                               "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ı": "i", "þ": "th", "Þ": "TH"})


def fold(text: str) -> str:
    """TEXT without case or accents: 'Núñez', 'NUNEZ' and 'nunez' are the same to someone searching."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSED))
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def find_patients(records: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """Patient records whose id, name or MRN hold every word of TEXT, best match first.

    Best: the exact id, then ids starting with TEXT, then names with a word starting with each word of
    TEXT, then any other match; within each, by name.
    """
    query = fold(text).strip()
    words = query.split()
    if not words:
        raise InputError("find: give part of a name or an id, e.g. tpi patient find nunez")
    hits = []
    for record in records:
        pid, name = fold(record["id"]), fold(record["name"])
        # the name also without punctuation, so "obrien" finds O'Brien
        haystack = " ".join((pid, name, re.sub(r"[\W_]+", "", name), fold(record.get("mrn") or "")))
        if not all(word in haystack for word in words):
            continue
        name_words = re.split(r"[\W_]+", name)
        if pid == query:
            rank = 0
        elif pid.startswith(query):
            rank = 1
        elif all(any(part.startswith(word) for part in name_words) for word in words):
            rank = 2
        else:
            rank = 3
        hits.append((rank, name, record["id"], record))
    return [record for *_, record in sorted(hits, key=lambda hit: hit[:3])]


def require_visit(store: Store, visit_id: str) -> Visit:
    visit = store.visit(visit_id)
    if visit is None:
        raise InputError(f"visit: no visit with id {visit_id!r}; `tpi visits` lists them")
    return visit
