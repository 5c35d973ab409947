"""FHIR R4 export for an EHR: a transaction Bundle (or a collection) shaped for US Core 6.1.0.

Identity: every resource carries an identifier in the store's own system (the clinic's
``fhir.identifier_system``, else ``urn:uuid:<the store's namespace>``) and its ``urn:uuid`` is a uuid5 over
that namespace, so the same record gets the same uuid from one store and a different one from another
clinic's store. A transaction updates each entry conditionally on that identifier and leaves
``resource.id`` to the server, so sending the same export twice changes nothing.

Built as plain JSON and validated with the fhir.resources R4B models before it is written; import this
module only in `tpi export fhir` (fhir.resources adds ~150 ms to start-up). clinical-reference.md §8 is the
mapping.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from tpi_cli import vocab
from tpi_cli.clinical.coding import CPT_WORDING, ULTRASOUND_GUIDANCE
from tpi_cli.errors import InputError
from tpi_cli.models import Agent, Amendment, Patient, Site, Visit
from tpi_cli.parsing import format_agent, format_medication, format_number
from tpi_cli.vocab.codes import ICD10_DESCRIPTIONS

CPT = "http://www.ama-assn.org/go/cpt"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
NPI = "http://hl7.org/fhir/sid/us-npi"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
PROVENANCE_AGENT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
DOCUMENT_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"
DATA_ABSENT = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
LATERALITY_EXTENSION = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-laterality-qualifier"

# SNOMED CT laterality qualifiers and route (clinical-reference.md §3 [R])
LATERALITY = {"left": ("7771000", "Left"), "right": ("24028007", "Right"),
              "bilateral": ("51440002", "Right and left")}
INTRAMUSCULAR = ("78421000", "Intramuscular route")
PAIN_NRS = ("72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported")
BODY_WEIGHT = ("29463-7", "Body weight")
PROCEDURE_NOTE = ("28570-0", "Procedure note")

# RxNorm ingredient (TTY=IN) codes, each checked in a published source; drugs not listed here are sent as
# text only rather than with a code nobody checked.
# - lidocaine 6387: NLM RxNorm via BioPortal, http://purl.bioontology.org/ontology/RXNORM/6387
# - dexamethasone 3264, methylprednisolone 6902, betamethasone 1514, triamcinolone 10759: NLM RxClass,
#   https://rxnav.nlm.nih.gov/REST/rxclass/classMembers.json?classId=H02AB&relaSource=ATC&ttys=IN
RXNORM_INGREDIENTS = {
    "lidocaine": "6387",
    "dexamethasone": "3264",
    "methylprednisolone": "6902",
    "betamethasone": "1514",
    "triamcinolone": "10759",
}

_URI = re.compile(r"^(urn:oid:[0-2](\.(0|[1-9][0-9]*))+|urn:uuid:[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}"
                  r"|https?://[^\s|]+)$")

# Pain after the injection is scored 5-15 minutes after it (clinical-reference.md §7).
AFTER_PAIN_WINDOW = (dt.timedelta(minutes=5), dt.timedelta(minutes=15))


def valid_npi(value: str) -> bool:
    """A National Provider Identifier: 10 digits whose last is the Luhn check digit over 80840 + the first 9."""
    if not re.fullmatch(r"[0-9]{10}", value):
        return False
    digits = [int(c) for c in "80840" + value[:9]]
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2 == 0:
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return (10 - total % 10) % 10 == int(value[9])


@dataclass(frozen=True)
class Clinic:
    """Who the export speaks for, from the settings, checked before a byte is written."""

    namespace: uuid.UUID
    system: str
    mrn_system: str | None = None
    name: str = ""
    npi: str | None = None
    clinician: str = ""
    clinician_npi: str | None = None


def clinic_from_settings(settings: Any, namespace: str) -> Clinic:
    """The Clinic for SETTINGS (a Settings) and the store's NAMESPACE; InputError names a bad setting."""
    def uri(key: str) -> str | None:
        value = (settings[key] or "").strip()
        if value and not _URI.match(value):
            raise InputError(f"{key}: {value!r} is not an identifier system URI; write it as urn:oid:1.2.3… or "
                             "https://…, e.g. `tpi config set " + key + " urn:oid:2.16.840.1.113883.3.1234`")
        return value or None

    def npi(key: str) -> str | None:
        value = (settings[key] or "").strip()
        if value and not valid_npi(value):
            raise InputError(f"{key}: {value!r} is not an NPI (10 digits with a valid check digit); check the number")
        return value or None

    clinic = Clinic(
        namespace=uuid.UUID(namespace),
        system=uri("fhir.identifier_system") or f"urn:uuid:{namespace}",
        mrn_system=uri("fhir.mrn_system"),
        name=(settings["clinic.name"] or "").strip(),
        npi=npi("clinic.npi"),
        clinician=(settings["clinician"] or "").strip(),
        clinician_npi=npi("clinician.npi"),
    )
    if clinic.npi and not clinic.name:
        raise InputError("clinic.name: an organisation with an NPI needs its name; `tpi config set clinic.name NAME`")
    return clinic


class BundleWriter:
    """Entries of one Bundle: stable uuids, identifiers and, for a transaction, conditional updates."""

    def __init__(self, clinic: Clinic, *, transaction: bool = True,
                 procedure_note: Callable[[Visit], bytes] | None = None):
        self.clinic = clinic
        self.transaction = transaction
        self.procedure_note = procedure_note
        self._practitioners: set[str] = set()
        self._organization_sent = False

    def new_patient(self) -> None:
        """The Organization and Practitioner entries are given again from here, each with the first visit that
        names it: a patient's entries stand alone (bundle_chunks keeps the first of each)."""
        self._practitioners.clear()
        self._organization_sent = False

    # --- identity ----------------------------------------------------------------------------------------

    def uuid(self, kind: str, key: str) -> str:
        return str(uuid.uuid5(self.clinic.namespace, f"{kind}:{key}"))

    def ref(self, kind: str, key: str) -> dict[str, str]:
        return {"reference": f"urn:uuid:{self.uuid(kind, key)}"}

    def identifier(self, key: str) -> dict[str, str]:
        return {"system": self.clinic.system, "value": key}

    def entry(self, kind: str, key: str, resource: dict[str, Any]) -> dict[str, Any]:
        """The Bundle entry for RESOURCE, the record KEY of its KIND (its identifier value)."""
        full_url = f"urn:uuid:{self.uuid(kind, key)}"
        token = quote(f"{self.clinic.system}|{key}", safe=":/|")
        if kind == "Provenance":  # Provenance has no identifier element: the same pair goes in a tag
            resource = {"meta": {"tag": [{"system": self.clinic.system, "code": key}]}, **resource}
            search = f"Provenance?_tag={token}"
        else:
            resource = {"identifier": [self.identifier(key)], **resource}
            search = f"{kind}?identifier={token}"
        if not self.transaction:
            return {"fullUrl": full_url, "resource": {"resourceType": kind, "id": self.uuid(kind, key), **resource}}
        # no resource.id: the server assigns it; the conditional update finds the resource again next time
        return {"fullUrl": full_url, "resource": {"resourceType": kind, **resource},
                "request": {"method": "PUT", "url": search}}

    # --- the people who performed it ---------------------------------------------------------------------

    def organization_entries(self) -> list[dict[str, Any]]:
        if not self.clinic.name or self._organization_sent:
            return []
        self._organization_sent = True
        identifiers = [{"system": NPI, "value": self.clinic.npi}] if self.clinic.npi else []
        entry = self.entry("Organization", "organization", {"active": True, "name": self.clinic.name})
        entry["resource"]["identifier"] += identifiers
        return [entry]

    def organization_ref(self) -> dict[str, str] | None:
        return self.ref("Organization", "organization") if self.clinic.name else None

    def practitioner_key(self, name: str) -> str:
        # an opaque key: a name may hold characters with meaning in a FHIR search (, | $)
        return f"practitioner-{self.uuid('clinician', name)}"

    def practitioner_entries(self, name: str) -> list[dict[str, Any]]:
        if name in self._practitioners:
            return []
        self._practitioners.add(name)
        # tpi keeps a clinician's name as one typed text: the parts are not known, and are said to be absent
        # rather than guessed from the text (US Core asks for name.family).
        entry = self.entry("Practitioner", self.practitioner_key(name), {
            "active": True,
            "name": [{"text": name, "_family": {"extension": [_absent("unknown")]}}],
        })
        if self.clinic.clinician_npi and name == self.clinic.clinician:
            entry["resource"]["identifier"].append({"system": NPI, "value": self.clinic.clinician_npi})
        return [entry]

    # --- patients -----------------------------------------------------------------------------------------

    def patient_entries(self, patient: Patient) -> list[dict[str, Any]]:
        name: dict[str, Any] = {"use": "official", "text": patient.name}
        if patient.family:
            name["family"] = patient.family
        if patient.given:
            name["given"] = list(patient.given)
        if not (patient.family or patient.given):
            # only the printed name is known: its parts are said to be unknown, never split from the text
            name["extension"] = [_absent("unknown")]
        entry = self.entry("Patient", patient.id, {
            "name": [name],
            "birthDate": patient.dob.isoformat(),
            "gender": patient.sex,
        })
        if patient.mrn is not None:
            if self.clinic.mrn_system is None:
                raise InputError(f"fhir.mrn_system: patient {patient.id} has an MRN; set the EHR's MRN system first, "
                                 "e.g. `tpi config set fhir.mrn_system urn:oid:…`")
            entry["resource"]["identifier"].append({
                "use": "usual",
                "type": {"coding": [{"system": IDENTIFIER_TYPE, "code": "MR", "display": "Medical record number"}]},
                "system": self.clinic.mrn_system, "value": patient.mrn})
        return [entry]

    # --- visits -------------------------------------------------------------------------------------------

    def visit_entries(self, visit: Visit) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.organization_entries()
        clinician = visit.clinician
        if clinician:
            entries += self.practitioner_entries(clinician)
        practitioner = self.ref("Practitioner", self.practitioner_key(clinician)) if clinician else None
        organization = self.organization_ref()
        void = visit.voided  # an EHR that received the visit earlier retracts it (product.md, Store)
        done = "entered-in-error" if void else None
        subject = self.ref("Patient", visit.patient_id)
        encounter = self.ref("Encounter", visit.id)
        procedure = self.ref("Procedure", visit.id)
        when = _moment(visit)

        entries.append(self.entry("Encounter", visit.id, {
            "status": done or "finished",
            "class": {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"},
            "type": [{"text": "Trigger point injection visit" if visit.agents else "Dry needling visit"}],
            "subject": subject,
            **({"participant": [{"individual": practitioner}]} if practitioner else {}),
            "period": {"start": when},
            **({"reasonCode": _diagnoses(visit)} if visit.diagnoses else {}),
            **({"serviceProvider": organization} if organization else {}),
        }))

        performer: dict[str, Any] = {}
        if practitioner:
            performer["actor"] = practitioner
            if organization:
                performer["onBehalfOf"] = organization
        elif organization:
            performer["actor"] = organization
        main_codes = [code for code in visit.cpt if code != ULTRASOUND_GUIDANCE]
        entries.append(self.entry("Procedure", visit.id, {
            "status": done or "completed",
            "code": {"coding": [{"system": CPT, "code": code, "display": CPT_WORDING.get(code, code)}
                                for code in main_codes],
                     "text": "Trigger point injection" if visit.agents
                     else "Dry needling (needle insertion without injection)"},
            "subject": subject,
            "encounter": encounter,
            "performedDateTime": when,
            **({"performer": [performer]} if performer else {}),
            **({"reasonCode": _diagnoses(visit)} if visit.diagnoses else {}),
            "bodySite": [body_site(site) for site in visit.sites],
            **({"complication": [{"text": c} for c in visit.complications]} if visit.complications else {}),
            **({"followUp": [{"text": f"Follow-up on {visit.follow_up.isoformat()}"}]} if visit.follow_up else {}),
            "note": [{"text": _procedure_note(visit)}],
        }))
        if ULTRASOUND_GUIDANCE in visit.cpt:
            # its own Procedure: two codes in one Procedure.code would say they mean the same thing
            entries.append(self.entry("Procedure", f"{visit.id}/ultrasound", {
                "status": done or "completed",
                "partOf": [procedure],
                "code": {"coding": [{"system": CPT, "code": ULTRASOUND_GUIDANCE,
                                     "display": CPT_WORDING[ULTRASOUND_GUIDANCE]}],
                         "text": "Ultrasound guidance for needle placement"},
                "subject": subject,
                "encounter": encounter,
                "performedDateTime": when,
                **({"performer": [performer]} if performer else {}),
            }))

        for number, agent in enumerate(visit.agents, start=1):
            entries.append(self.entry("MedicationAdministration", f"{visit.id}/agent-{number}", {
                "status": done or "completed",
                "medicationCodeableConcept": _medication(agent),
                "subject": subject,
                "context": encounter,
                "partOf": [procedure],
                "effectiveDateTime": when,
                **({"performer": [{"actor": practitioner}]} if practitioner else {}),
                "dosage": _dosage(agent),
            }))

        observation = {"subject": subject, "encounter": encounter, "status": done or "final"}
        if visit.weight_kg is not None:
            entries.append(self.entry("Observation", f"{visit.id}/weight", {
                **observation,
                "category": [_category("vital-signs", "Vital Signs")],
                "code": {"coding": [{"system": LOINC, "code": BODY_WEIGHT[0], "display": BODY_WEIGHT[1]}],
                         "text": "Body weight"},
                "effectiveDateTime": when,
                "valueQuantity": {"value": visit.weight_kg, "unit": "kg", "system": UCUM, "code": "kg"},
            }))
        before, after = _pain_times(visit)
        for moment, score, label, effective in (
                ("before", visit.pain_before, "Pain before the injection (0-10)", before),
                ("after", visit.pain_after, "Pain 5-15 minutes after the injection (0-10)", after)):
            entries.append(self.entry("Observation", f"{visit.id}/pain-{moment}", {
                **observation,
                "category": [_category("survey", "Survey")],
                "code": {"coding": [{"system": LOINC, "code": PAIN_NRS[0], "display": PAIN_NRS[1]}], "text": label},
                "partOf": [procedure],
                **effective,
                "valueInteger": score,
                "note": [{"text": f"{label}; LOINC has no code for before or after an injection."}],
            }))
        for number, score in enumerate(visit.functional_scores, start=1):
            entries.append(self.entry("Observation", f"{visit.id}/function-{number}", {
                **observation,
                "category": [_category("survey", "Survey")],
                # the scale's name as text: no LOINC code for each scale's total was checked
                "code": {"text": f"{score.scale} score"},
                "effectiveDateTime": when,
                "valueQuantity": {"value": score.score, "unit": "{score}", "system": UCUM, "code": "{score}"},
            }))
        if visit.prior_relief is not None:
            entries.append(self.entry("Observation", f"{visit.id}/prior-relief", {
                **observation,
                "category": [_category("survey", "Survey")],
                "code": {"text": "Pain relief after the previous injection (as reported)"},
                "effectiveDateTime": when,
                "component": [
                    {"code": {"text": "Relief"},
                     "valueQuantity": {"value": visit.prior_relief.pct, "unit": "%", "system": UCUM, "code": "%"}},
                    {"code": {"text": "Weeks the relief lasted"},
                     "valueQuantity": {"value": visit.prior_relief.weeks, "unit": "wk", "system": UCUM,
                                       "code": "wk"}},
                ],
            }))
        if self.procedure_note is not None:
            entries.append(self._document(visit, when, practitioner, done))

        targets = [encounter, procedure]
        for number, amendment in enumerate(visit.amendments, start=1):
            entries.append(self._provenance(f"{visit.id}/amendment-{number}", targets, amendment.at, amendment.by,
                                            "UPDATE", "revise", _amendment_reason(amendment)))
        if void:
            entries.append(self._provenance(f"{visit.id}/void", targets, void.at, void.by, "NULLIFY", "revise",
                                            f"Entered in error: {void.reason}"))
        return entries

    def _document(self, visit: Visit, when: str, practitioner: dict[str, str] | None,
                  done: str | None) -> dict[str, Any]:
        import base64

        data = self.procedure_note(visit)
        return self.entry("DocumentReference", f"{visit.id}/procedure-note", {
            "status": "entered-in-error" if done else "current",
            "type": {"coding": [{"system": LOINC, "code": PROCEDURE_NOTE[0], "display": PROCEDURE_NOTE[1]}],
                     "text": "Procedure note"},
            "category": [{"coding": [{"system": DOCUMENT_CATEGORY, "code": "clinical-note",
                                      "display": "Clinical Note"}]}],
            "subject": self.ref("Patient", visit.patient_id),
            "date": _instant(visit.recorded_at) if visit.recorded_at else None,
            **({"author": [practitioner]} if practitioner else {}),
            "content": [{"attachment": {"contentType": "application/pdf", "language": "en",
                                        "data": base64.b64encode(data).decode("ascii"),
                                        "title": f"Procedure note {visit.id}"}}],
            "context": {"encounter": [self.ref("Encounter", visit.id)], "period": {"start": when}},
        })

    def _provenance(self, key: str, targets: list[dict[str, str]], at: dt.datetime, by: str, operation: str,
                    agent_type: str, reason: str) -> dict[str, Any]:
        return self.entry("Provenance", key, {
            "target": targets,
            "recorded": _instant(at),
            "activity": {"coding": [{"system": DATA_OPERATION, "code": operation}]},
            "reason": [{"text": reason}],
            "agent": [{"type": {"coding": [{"system": PROVENANCE_AGENT, "code": "author", "display": "Author"}]},
                       "who": {"display": by}}],
        })


def _absent(reason: str) -> dict[str, str]:
    return {"url": DATA_ABSENT, "valueCode": reason}


def _category(code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": OBSERVATION_CATEGORY, "code": code, "display": display}]}


def _instant(value: dt.datetime) -> str:
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat(timespec="seconds")


def _moment(visit: Visit) -> str:
    """When the procedure was done: the date, and the time of day when the clinician gave it.

    A time of day needs a UTC offset in FHIR; tpi stores the clinic's wall-clock time, read here in this
    computer's time zone for that date (daylight saving included).
    """
    if visit.procedure_time is None:
        return visit.date.isoformat()
    return _local(visit).isoformat(timespec="seconds")


def _local(visit: Visit) -> dt.datetime:
    return dt.datetime.combine(visit.date, visit.procedure_time).astimezone()


def _pain_times(visit: Visit) -> tuple[dict[str, Any], dict[str, Any]]:
    """Distinct, ordered effective times of the pain scores, claiming nothing tpi does not know.

    With the procedure time: before = that time; after = the 5-15 minute window that follows it. Without
    it: both lie between the visit date and the moment the visit was recorded, the score before ending at
    least five minutes earlier than the one after (it was taken before the injection, the other at least
    five minutes after it). Without either, the date alone.
    """
    if visit.procedure_time is not None:
        start = _local(visit)
        return ({"effectiveDateTime": start.isoformat(timespec="seconds")},
                {"effectivePeriod": {"start": (start + AFTER_PAIN_WINDOW[0]).isoformat(timespec="seconds"),
                                     "end": (start + AFTER_PAIN_WINDOW[1]).isoformat(timespec="seconds")}})
    day = visit.date.isoformat()
    if visit.recorded_at is None:
        return {"effectiveDateTime": day}, {"effectiveDateTime": day}
    recorded = visit.recorded_at if visit.recorded_at.tzinfo else visit.recorded_at.replace(tzinfo=dt.UTC)
    return ({"effectivePeriod": {"start": day, "end": _instant(recorded - AFTER_PAIN_WINDOW[0])}},
            {"effectivePeriod": {"start": day, "end": _instant(recorded)}})


def _diagnoses(visit: Visit) -> list[dict[str, Any]]:
    return [{"coding": [{"system": ICD10CM, "code": code, **({"display": ICD10_DESCRIPTIONS[code]}
                                                               if code in ICD10_DESCRIPTIONS else {})}],
             "text": code} for code in visit.diagnoses]


def body_site(site: Site) -> dict[str, Any]:
    side = "" if site.side == "midline" else f"{'left and right' if site.side == 'bilateral' else site.side} "
    concept: dict[str, Any] = {"text": f"{side}{site.muscle}"}
    snomed = vocab.muscles()[site.muscle].snomed  # empty until a code is verified (clinical-reference.md §3)
    if snomed:
        concept["coding"] = [{"system": SNOMED, "code": snomed, "display": site.muscle}]
    if site.side in LATERALITY:
        code, display = LATERALITY[site.side]
        concept["extension"] = [{"url": LATERALITY_EXTENSION, "valueCodeableConcept": {
            "coding": [{"system": SNOMED, "code": code, "display": display}]}}]
    return concept


def _medication(agent: Agent) -> dict[str, Any]:
    concept: dict[str, Any] = {"text": format_medication(agent)}
    code = RXNORM_INGREDIENTS.get(agent.drug)
    if code and not agent.epinephrine:  # with epinephrine it is a two-ingredient product: text only
        concept["coding"] = [{"system": RXNORM, "code": code, "display": agent.drug}]
    return concept


def _dosage(agent: Agent) -> dict[str, Any]:
    """The dose in mg when tpi computed one (the amount of drug), else the volume in mL (saline)."""
    if agent.dose_mg is not None:
        dose = {"value": agent.dose_mg, "unit": "mg", "system": UCUM, "code": "mg"}
        text = f"{agent.dose_mg:g} mg ({format_agent(agent)})"
    else:
        dose = {"value": agent.volume_ml, "unit": "mL", "system": UCUM, "code": "mL"}
        text = format_agent(agent)
    return {"text": text,
            "route": {"coding": [{"system": SNOMED, "code": INTRAMUSCULAR[0], "display": INTRAMUSCULAR[1]}]},
            "dose": dose}


def _site_words(site: Site) -> str:
    volume = f", {format_number(site.volume_ml)} mL" if site.volume_ml is not None else ""
    return f"{site.side} {site.muscle}, {site.points} point(s){volume}"


def _procedure_note(visit: Visit) -> str:
    notes = [f"Trigger point injection: {'; '.join(_site_words(s) for s in visit.sites)}."]
    if visit.needle:
        notes.append(f"Needle: {visit.needle}.")
    notes.append(f"Guidance: {'ultrasound' if visit.ultrasound else 'landmark'}.")
    if visit.twitch is not None:
        notes.append(f"Local twitch response: {'yes' if visit.twitch else 'no'}.")
    notes.append(f"Consent: {visit.consent or 'not documented'}.")
    if visit.home_exercise is not None:
        notes.append(f"Home exercise programme: {'yes' if visit.home_exercise else 'no'}.")
    for override in visit.overrides:
        notes.append(f"Safety check {override.check} overridden: {override.reason}.")
    if visit.notes:
        notes.append(visit.notes)
    return " ".join(notes)


def _amendment_reason(amendment: Amendment) -> str:
    return f"Amended: {amendment.reason} (changed: {', '.join(amendment.changes)})"


# fhir.resources takes 1-2 ms to validate one entry: a clinic's whole history (50,000 visits, ~440,000 entries)
# would take minutes. Every entry is the writer's JSON: its shape is set by this module's code, its values come
# from records validated on reading. So each new shape is validated with fhir.resources (its resource type, its
# top-level elements, and the JSON's structure with the values left out), and so is every entry holding what
# FHIR never allows and no shape shows: an empty string, array or object, or a null. The US Core tests
# validate whole exports.
_NOT_STRUCTURE = bytes(byte for byte in range(256) if chr(byte) not in '{}[]:,"')
_NEVER_IN_FHIR = (b'""', b"[]", b"{}", b":null")


def _new_shape(entry: dict[str, Any], text: bytes, shapes: set[tuple[Any, ...]]) -> bool:
    resource = entry["resource"]
    shape = (resource.get("resourceType"), tuple(resource), text.translate(None, _NOT_STRUCTURE))
    if shape in shapes:
        return any(never in text for never in _NEVER_IN_FHIR)
    shapes.add(shape)
    return True


def patient_texts(patient: Patient, visits: list[Visit], writer: BundleWriter,
                  shapes: set[tuple[Any, ...]]) -> list[tuple[str | None, bytes]]:
    """PATIENT's entries of the Bundle, with their VISITS', as JSON texts validated shape by shape (see above; SHAPES:
    those validated so far). Each is (ONCE, text): ONCE, the fullUrl of an entry the Bundle holds once however many
    patients give it (the clinic's Organization, a Practitioner), else None; see bundle_chunks.

    A patient's entries depend on that patient's records only, so patients can be written in any process.
    """
    from fhir.resources.R4B.bundle import BundleEntry
    from pydantic_core import to_json

    writer.new_patient()
    entries = writer.patient_entries(patient)
    for visit in visits:
        entries += writer.visit_entries(visit)
    texts = []
    for entry in entries:
        _drop_empty(entry["resource"])
        text = to_json(entry)
        if _new_shape(entry, text, shapes):
            BundleEntry.model_validate(entry)
        once = entry["fullUrl"] if entry["resource"]["resourceType"] in ("Organization", "Practitioner") else None
        texts.append((once, text))
    return texts


def bundle_chunks(patients: Iterable[list[tuple[str | None, bytes]]], writer: BundleWriter, *,
                  now: dt.datetime) -> Iterator[bytes]:
    """The Bundle as JSON text, piece by piece, from each patient's patient_texts in turn, the first of each
    Organization and Practitioner entry only: the same entries in the same order as one writer going through the
    patients would give.

    Streamed so that a clinic's whole history never sits in memory at once: each patient's entries
    are built, checked and written before the next patient's.
    """
    from fhir.resources.R4B.bundle import Bundle

    kind = "transaction" if writer.transaction else "collection"
    head = {"resourceType": "Bundle", "id": writer.uuid("Bundle", now.isoformat()), "type": kind,
            "timestamp": _instant(now)}
    Bundle.model_validate(head)
    opening = json.dumps(head, ensure_ascii=False)[:-1].encode()
    written = 0
    sent: set[str] = set()
    for texts in patients:
        pieces = []  # a patient's entries as one piece: a write each would be 430,000 for a clinic's history
        for once, text in texts:
            if once is not None:
                if once in sent:
                    continue
                sent.add(once)
            pieces.append((opening + b',"entry":[\n' if written == 0 else b",\n") + text)
            written += 1
        if pieces:
            yield b"".join(pieces)
    # FHIR JSON has no empty arrays: a bundle with no entries has no "entry"
    yield opening + b"}\n" if written == 0 else b"\n]}\n"


def _drop_empty(resource: dict[str, Any]) -> None:
    for key in [key for key, value in resource.items() if value is None]:
        del resource[key]
