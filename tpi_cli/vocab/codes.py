"""ICD-10-CM codes a TPI note commonly carries, with our short wording (clinical-reference.md §3).

Other valid ICD-10-CM codes are accepted and print without a description.
"""

import datetime as dt

ICD10_DESCRIPTIONS = {
    "M79.10": "Myalgia, unspecified site",
    "M79.11": "Myalgia of mastication muscle",
    "M79.12": "Myalgia of auxiliary muscles, head and neck",
    "M79.18": "Myalgia, other site",
    "M79.7": "Fibromyalgia",
    "M62.830": "Muscle spasm of back",
    "M62.831": "Muscle spasm of calf",
    "M62.838": "Other muscle spasm",
    "M54.2": "Cervicalgia",
    "M54.50": "Low back pain, unspecified",
    "M54.59": "Other low back pain",
    "M54.6": "Pain in thoracic spine",
    "G89.29": "Other chronic pain",
    "G89.4": "Chronic pain syndrome",
}


# ICD-10-CM took effect in the US on 2015-10-01 (before it: ICD-9-CM).
ICD10_CM_START = dt.date(2015, 10, 1)

# Codes whose billable life has dates the shipped code list (one release) cannot tell (clinical-reference.md
# §9; CMS FY2022 and FY2023 addenda). from: first date of service it is billable; until: first date it no
# longer is; instead: what to code then.
ICD10_DATED: dict[str, dict] = {
    "M54.5": {"until": dt.date(2021, 10, 1), "instead": ["M54.50", "M54.51", "M54.59"],
              "note": "split into M54.50/M54.51/M54.59 on 2021-10-01, FY2022"},
    "M54.50": {"from": dt.date(2021, 10, 1), "instead": ["M54.5"], "note": "FY2022 code"},
    "M54.51": {"from": dt.date(2021, 10, 1), "instead": ["M54.5"], "note": "FY2022 code"},
    "M54.59": {"from": dt.date(2021, 10, 1), "instead": ["M54.5"], "note": "FY2022 code"},
    "M79.1": {"until": dt.date(2022, 10, 1), "instead": ["M79.10", "M79.11", "M79.12", "M79.18"],
              "note": "split into M79.10/M79.11/M79.12/M79.18 on 2022-10-01, FY2023"},
    "M79.10": {"from": dt.date(2022, 10, 1), "instead": ["M79.1"], "note": "FY2023 code"},
    "M79.11": {"from": dt.date(2022, 10, 1), "instead": ["M79.1"], "note": "FY2023 code"},
    "M79.12": {"from": dt.date(2022, 10, 1), "instead": ["M79.1"], "note": "FY2023 code"},
    "M79.18": {"from": dt.date(2022, 10, 1), "instead": ["M79.1"], "note": "FY2023 code"},
}
