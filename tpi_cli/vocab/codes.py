"""ICD-10-CM codes a TPI note commonly carries, with our short wording (clinical-reference.md §3).

Other valid ICD-10-CM codes are accepted and print without a description.
"""

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
