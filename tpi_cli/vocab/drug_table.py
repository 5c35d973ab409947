"""Drug vocabulary and reference dose limits: the one table the dose, allergy and steroid checks read.

Every figure is from clinical-reference.md §4; the source of each row is beside it. ASRA-LAST-2020:
maximum doses are not evidence-based, so tpi calls them reference limits; a clinic may change the
mg/kg and absolute figures with `tpi config set limits.<drug>.<field> VALUE`.

class        amide | ester | steroid | other
brands       brand names that resolve to the drug (clinical-reference.md §4)
strengths    the strengths sold for injection, in `unit` (clinical-reference.md §9): any other strength is
             refused as a likely slip; a clinic adds its own with `tpi config set strengths.<drug> "1.5, 4"`
unit         "%" (X % = 10·X mg/mL) or "mg/mL"
max_mg_kg / max_mg                  reference limit without epinephrine (smaller of the two applies)
max_mg_kg_epi / max_mg_epi          with epinephrine (absent: no epinephrine formulation)
max_mg_24h   a daily cap over all of the day's visits (bupivacaine, Marcaine label)
numb_hours   how long the numbness lasts [low, high], for the handout
mpe_per_mg   mg methylprednisolone equivalent per mg of drug (clinical-reference.md §4 table)
"""

DRUGS: dict[str, dict] = {
    "lidocaine": {
        "class": "amide",
        "brands": ["Xylocaine", "lignocaine"],
        "strengths": [0.5, 1, 1.5, 2],
        "unit": "%",
        "max_mg_kg": 4.5,
        "max_mg": 300,
        "max_mg_kg_epi": 7,
        "max_mg_epi": 500,
        "numb_hours": [1, 2],
        "source": "Xylocaine label (DailyMed) [V]",
    },
    "bupivacaine": {
        "class": "amide",
        "brands": ["Marcaine", "Sensorcaine"],
        "strengths": [0.25, 0.5, 0.75],
        "unit": "%",
        "max_mg_kg": 2.5,
        "max_mg": 175,
        "max_mg_kg_epi": 3,
        "max_mg_epi": 225,
        "max_mg_24h": 400,
        "numb_hours": [2, 4],
        "source": "Marcaine label (DailyMed) [V] for the mg caps and 400 mg per 24 h; 2.5 and 3 mg/kg from "
                  "clinical tables (the label gives no mg/kg)",
    },
    "ropivacaine": {
        "class": "amide",
        "brands": ["Naropin"],
        "strengths": [0.2, 0.5, 0.75, 1],
        "unit": "%",
        "max_mg_kg": 3,
        "max_mg": 200,
        "numb_hours": [3, 6],
        "source": "Naropin label (DailyMed) [V]",
    },
    "mepivacaine": {
        "class": "amide",
        "brands": ["Carbocaine", "Polocaine"],
        "strengths": [1, 1.5, 2, 3],
        "unit": "%",
        "max_mg_kg": 4.5,
        "max_mg": 350,
        "max_mg_kg_epi": 7,
        "max_mg_epi": 500,
        "numb_hours": [1.5, 3],
        "source": "Olson, Poisoning & Drug Overdose, local anesthetic table [V]",
    },
    "procaine": {
        "class": "ester",
        "brands": ["Novocain", "Novocaine"],
        "strengths": [1, 2, 10],
        "unit": "%",
        "max_mg_kg": 7,
        "max_mg": 350,
        "numb_hours": [0.5, 1],
        "source": "AAFP-2014 and Medscape for 7 mg/kg; Novocain label (DailyMed) [V] gives totals only "
                  "(350-600 mg), tpi uses the lower",
    },
    "chloroprocaine": {
        "class": "ester",
        "brands": ["Nesacaine"],
        "strengths": [2, 3],
        "unit": "%",
        "max_mg_kg": 11,
        "max_mg": 800,
        "max_mg_kg_epi": 14,
        "max_mg_epi": 1000,
        "numb_hours": [0.5, 1],
        "source": "Nesacaine label (DailyMed) [V]",
    },
    "triamcinolone": {
        "class": "steroid",
        "brands": ["Kenalog", "triamcinolone acetonide"],
        "strengths": [10, 40, 80],
        "unit": "mg/mL",
        "mpe_per_mg": 1.0,
        "source": "4 mg triamcinolone = 4 mg methylprednisolone (clinical-reference.md §4)",
    },
    "methylprednisolone": {
        "class": "steroid",
        "brands": ["Depo-Medrol", "methylprednisolone acetate"],
        "strengths": [20, 40, 80],
        "unit": "mg/mL",
        "mpe_per_mg": 1.0,
        "source": "reference steroid for methylprednisolone equivalents (MPE)",
    },
    "dexamethasone": {
        "class": "steroid",
        "brands": ["Decadron", "dexamethasone sodium phosphate"],
        "strengths": [4, 10],
        "unit": "mg/mL",
        "mpe_per_mg": 5.333333,
        "source": "0.75 mg dexamethasone = 4 mg methylprednisolone (clinical-reference.md §4)",
    },
    "betamethasone": {
        "class": "steroid",
        "brands": ["Celestone", "Celestone Soluspan", "betamethasone sodium phosphate and acetate"],
        "strengths": [6],
        "unit": "mg/mL",
        "mpe_per_mg": 6.666667,
        "source": "0.6 mg betamethasone = 4 mg methylprednisolone (clinical-reference.md §4)",
    },
    "saline": {
        "class": "other",
        "brands": ["normal saline", "sodium chloride", "NS"],
        "strengths": [0.9],
        "unit": "%",
        "source": "wet needling; no dose limit (clinical-reference.md §4)",
    },
}
