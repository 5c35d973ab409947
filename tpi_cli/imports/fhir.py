"""`tpi import fhir FILE`: an EHR's Patient resources (a Bundle, one Patient, or NDJSON) become tpi patients.

A patient is known by the EHR's medical record number: the identifier in the clinic's ``fhir.mrn_system``.
Importing the same file again finds every patient by that MRN and adds nobody twice; a patient whose EHR
details differ from tpi's is bad input naming the entry (change it with `tpi patient update`, which keeps
the history), never overwritten by a file. Everything is checked first, then all are written or none.
fhir.resources is imported here only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tpi_cli.errors import InputError
from tpi_cli.files import read_text_file
from tpi_cli.models import PATIENT_ID_PATTERN, Patient, problems
from tpi_cli.settings import Settings
from tpi_cli.store import Store

GENDERS = ("female", "male", "other", "unknown")


@dataclass
class FhirImportResult:
    patients: int
    already: int
    skipped_resources: int


def read_resources(text: str) -> list[tuple[str, Any]]:
    """(where, resource) for each resource in TEXT: a Bundle's entries, one resource, or NDJSON lines."""
    stripped = text.strip()
    if not stripped:
        raise InputError("import fhir: the file is empty")
    try:
        whole = json.loads(stripped)
    except json.JSONDecodeError:
        whole = None
    except RecursionError:
        raise InputError("import fhir: the JSON is nested too deeply to be a FHIR resource") from None
    if isinstance(whole, dict):
        if whole.get("resourceType") == "Bundle":
            entries = whole.get("entry") or []
            if not isinstance(entries, list):
                raise InputError("import fhir: Bundle.entry is not a list")
            return [(f"entry {number}", entry.get("resource") if isinstance(entry, dict) else None)
                    for number, entry in enumerate(entries, start=1)]
        return [("the resource", whole)]
    resources = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            resources.append((f"line {number}", json.loads(line)))
        except (json.JSONDecodeError, RecursionError):
            raise InputError(f"line {number}: not a JSON resource (a file is a FHIR Bundle, one resource, or "
                             "NDJSON: one resource per line)") from None
    return resources


def patient_record(where: str, resource: Any, mrn_system: str) -> dict[str, Any]:
    """The tpi patient record (without its id) for one FHIR Patient; InputError names WHERE and the field."""
    from fhir.resources.R4B.patient import Patient as FhirPatient
    from pydantic import ValidationError

    try:
        FhirPatient.model_validate(resource)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"] if part != "__root__")
        raise InputError(f"{where}: not a valid FHIR Patient ({field}: {first['msg']})") from None
    mrns = [i.get("value") for i in resource.get("identifier") or [] if i.get("system") == mrn_system]
    if not mrns or not mrns[0]:
        raise InputError(f"{where}: Patient has no identifier in fhir.mrn_system ({mrn_system}); tpi knows "
                         "patients by their MRN")
    if len(set(mrns)) > 1:
        raise InputError(f"{where}: Patient has {len(set(mrns))} MRNs in {mrn_system}; which one is theirs?")
    names = resource.get("name") or []
    name = next((n for n in names if n.get("use") == "official"), names[0] if names else None)
    if not name:
        raise InputError(f"{where}: Patient has no name")
    given, family = list(name.get("given") or []), name.get("family")
    # the printed form: as the EHR wrote it, or its parts in the order the EHR gave them
    text = (name.get("text") or " ".join([*(name.get("prefix") or []), *given, *([family] if family else []),
                                          *(name.get("suffix") or [])])).strip()
    if not text:
        raise InputError(f"{where}: Patient's name has neither text nor parts")
    birth = resource.get("birthDate")
    if not birth or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", birth):
        raise InputError(f"{where}: birthDate {birth!r} is not a full date (YYYY-MM-DD); tpi needs the date of "
                         "birth for its checks")
    record: dict[str, Any] = {"name": text, "dob": birth, "sex": resource.get("gender") or "unknown",
                              "mrn": mrns[0]}
    if family:
        record["family"] = family
    if given:
        record["given"] = given
    return record


def _new_id(mrn: str, taken: set[str]) -> str:
    """The MRN itself when it can be a tpi id, else the next free P00001-style number."""
    if re.fullmatch(PATIENT_ID_PATTERN, mrn) and mrn.casefold() not in taken:
        return mrn
    number = 1
    while f"p{number:05d}" in taken:
        number += 1
    return f"P{number:05d}"


def import_patients(store: Store, path: Path) -> FhirImportResult:
    """Import the Patients in PATH: all or nothing, matched by MRN."""
    from pydantic import ValidationError

    resources = read_resources(read_text_file(path, "import fhir", encoding="utf-8-sig"))
    fhir_patients: list[tuple[str, dict[str, Any]]] = []
    for where, resource in resources:
        if not isinstance(resource, dict) or "resourceType" not in resource:
            raise InputError(f"{where}: not a FHIR resource (no resourceType)")
        if resource["resourceType"] == "Patient":
            fhir_patients.append((where, resource))
    if not fhir_patients:
        raise InputError(f"import fhir: {path} holds no Patient resources")

    with store.transaction():
        mrn_system = (Settings(store.settings())["fhir.mrn_system"] or "").strip()
        if not mrn_system:
            raise InputError("fhir.mrn_system: set the EHR's MRN identifier system first (tpi matches patients "
                             "by MRN), e.g. `tpi config set fhir.mrn_system urn:oid:…`")
        found: dict[str, tuple[str, dict[str, Any]]] = {}
        for where, resource in fhir_patients:
            record = patient_record(where, resource, mrn_system)
            earlier = found.get(record["mrn"])
            if earlier and earlier[1] != record:
                raise InputError(f"{where}: MRN {record['mrn']} appears at {earlier[0]} with other details")
            found.setdefault(record["mrn"], (where, record))
        stored = store.patient_records()
        by_mrn = {doc["mrn"]: doc for doc in stored if doc.get("mrn")}
        taken = {doc["id"].casefold() for doc in stored}
        new: list[Patient] = []
        already = 0
        for mrn, (where, record) in found.items():
            known = by_mrn.get(mrn)
            if known is not None:
                differs = [key for key, value in record.items() if known.get(key) != value]
                differs += [key for key in ("family", "given") if key not in record and known.get(key)]
                if differs:
                    raise InputError(f"{where}: MRN {mrn} is patient {known['id']}, whose {', '.join(differs)} "
                                     f"differ in tpi; check and change it with `tpi patient update {known['id']}`")
                already += 1
                continue
            patient_id = _new_id(mrn, taken)
            taken.add(patient_id.casefold())
            try:
                new.append(Patient.model_validate({"id": patient_id, **record}))
            except ValidationError as error:
                raise InputError(f"{where}: " + "; ".join(problems(error))) from None
        if new:
            store.write_batch(new, [])
    return FhirImportResult(patients=len(new), already=already,
                            skipped_resources=len(resources) - len(fhir_patients))
