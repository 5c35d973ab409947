"""Synthetic patients and visits (input records) for `tpi demo` and the benchmark. No real person."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

# Names in many scripts, so demo PDFs show that any name prints.
DEMO_NAMES = [
    "Ana María Núñez", "Nguyễn Thị Ánh", "Zofia Łukasiewicz", "Þóra Guðmundsdóttir", "Иван Петров",
    "王秀英", "佐藤 花子", "김민준", "Chloë O'Brien-Smith", "A & B <b>Test</b>",
]
FIRST = ["Maria", "James", "Aisha", "Chen", "Olga", "Luis", "Fatima", "John", "Priya", "Kofi", "Sofia", "Omar"]
LAST = ["Garcia", "Smith", "Nguyen", "Kowalski", "Okafor", "Haddad", "Jensen", "Rossi", "Tanaka", "Silva"]

# (site, usual diagnosis) pairs a pain clinic sees often.
COMMON_SITES = [
    ("upper trapezius", "M79.12"), ("levator scapulae", "M79.12"), ("rhomboid major", "M79.18"),
    ("quadratus lumborum", "M62.830"), ("lumbar multifidus", "M62.830"), ("gluteus medius", "M79.18"),
    ("piriformis", "M79.18"), ("infraspinatus", "M79.18"), ("splenius capitis", "M79.12"),
    ("tensor fasciae latae", "M79.18"), ("gastrocnemius", "M62.831"),
]
SIDES = ["left", "right", "bilateral"]
# Myalgia was one code, M79.1, until FY2023 split it (M79.12 of the neck/shoulder, M79.18 elsewhere):
# a visit before the split is coded as it was billed then, so a long history imports without refusals.
MYALGIA_SPLIT = dt.date(2022, 10, 1)


def diagnosis_on(code: str, day: dt.date) -> str:
    return "M79.1" if day < MYALGIA_SPLIT and code.startswith("M79.1") else code


def make_patient(index: int, rng: random.Random, today: dt.date, name: str | None = None) -> dict[str, Any]:
    age = rng.randint(25, 85)
    dob = today.replace(year=today.year - age) - dt.timedelta(days=rng.randint(0, 360))
    return {
        "type": "patient",
        "id": f"P{index:05d}",
        "name": name or f"{rng.choice(FIRST)} {rng.choice(LAST)}",
        "dob": dob.isoformat(),
        "sex": rng.choice(["female", "male"]),
        "weight_kg": round(rng.uniform(50, 110), 1),
        "allergies": rng.choice([[], [], [], ["sulfite"], ["penicillin"], ["ester"]]),
        "anticoagulated": rng.random() < 0.15,
        "diabetic": rng.random() < 0.2,
        "pregnant": False,
        "payer": rng.choice(["medicare", "commercial", "none", None]),
    }


def make_visits(patient: dict[str, Any], count: int, rng: random.Random, today: dt.date) -> list[dict[str, Any]]:
    """COUNT visits for PATIENT, about 7-10 weeks apart, ending before TODAY."""
    visits = []
    day = today - dt.timedelta(days=count * 63 + rng.randint(0, 20))
    relief = None
    for _ in range(count):
        day += dt.timedelta(days=rng.randint(49, 70))
        if day > today:
            break
        picks = rng.sample(COMMON_SITES, rng.randint(1, 3))
        sites = [{"muscle": m, "side": rng.choice(SIDES), "points": rng.randint(1, 4)} for m, _ in picks]
        agents = [{"drug": "lidocaine", "concentration": {"value": 1, "unit": "%"},
                   "volume_ml": float(rng.randint(2, 6))}]
        if rng.random() < 0.3:
            agents.append({"drug": "bupivacaine", "concentration": {"value": 0.25, "unit": "%"},
                           "volume_ml": float(rng.randint(1, 4))})
        if rng.random() < 0.15:
            agents.append({"drug": "triamcinolone", "concentration": {"value": 40, "unit": "mg/mL"},
                           "volume_ml": 0.5})
        before = rng.randint(4, 9)
        visit = {
            "type": "visit",
            "patient_id": patient["id"],
            "date": day.isoformat(),
            "clinician": rng.choice(["Dr. Rivera", "Dr. Okafor", "N. Patel, NP"]),
            "sites": sites,
            "agents": agents,
            "pain_before": before,
            "pain_after": max(0, before - rng.randint(1, 6)),
            "diagnoses": sorted({diagnosis_on(dx, day) for _, dx in picks}),
            "ultrasound": rng.random() < 0.2,
            "needle": "27G 1.25 in",
            "twitch": rng.random() < 0.6,
            "consent": "verbal",
            "home_exercise": rng.random() < 0.8,
            "functional_scores": [{"scale": "NDI", "score": rng.randint(8, 30)}],
            "follow_up": (day + dt.timedelta(days=42)).isoformat(),
            "override_reason": "synthetic demo data",
        }
        if relief is not None:
            visit["prior_relief"] = relief
        relief = {"pct": rng.choice([30, 50, 60, 70, 80]), "weeks": rng.randint(3, 10)}
        visits.append(visit)
    return visits


def clinic_records(patients: int, visits_each: int, seed: int = 7, today: dt.date | None = None,
                   names: list[str] | None = None) -> list[dict[str, Any]]:
    """Patients then their visits, as JSON Lines records for `tpi import`."""
    rng = random.Random(seed)
    today = today or dt.date.today()
    people = [make_patient(i + 1, rng, today, (names or [])[i] if names and i < len(names) else None)
              for i in range(patients)]
    records: list[dict[str, Any]] = list(people)
    for person in people:
        records.extend(make_visits(person, visits_each, rng, today))
    return records
