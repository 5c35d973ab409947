"""Muscle vocabulary: the one place muscle names, aliases, levels, hazards and map positions live.

Data, reviewed like code (Python literals load with no parsing cost at start-up). Every muscle a
clinician names is its own entry (AAPC Part B: name "the specific muscles injected rather than … a
broad term such as paraspinal"); words that name a group or span the spine's levels are in GROUPS
and are asked about, never resolved silently (clinical-reference.md §9).

name        canonical name, lower case; what records store
aliases     what clinicians type (matched case-insensitively). Never a word that also means a side or a
            level: LT is left, LS lumbosacral (clinical-reference.md §9)
anatomical  the anatomical muscle CPT counts (default: the name). Upper, middle and lower trapezius are
            fibre groups of one muscle: one per side for 20552/20553 (AAPC PM&R Coding Alert; §9)
region      the anatomical region payers count per session (LCD-2024 counts cervical, thoracic, lumbar,
            scapular … regions; the neck, the shoulder blade and the upper back around it are one)
level       cervical | thoracic | lumbar for the spine's muscles, else absent
paired      default true: a side (left, right, bilateral) must be given
hazards     keys of HAZARDS: what lies within needle reach (clinical-reference.md §5 and §9)
plain_en    where it is, in words a patient knows (English handouts; another language's words, and later its
            muscle names, are in tpi_cli/texts/handout_<lang>.toml under [muscles], keyed by the canonical name)
snomed      SNOMED CT body structure code. Left empty: clinical-reference.md §3 says no muscle code
            was verified, and tpi adds one only after checking it against the SNOMED CT browser.
map         body map (tpi_cli/pdf/bodymap.py): view, x, y for one side; the other side is mirrored.
            front|back, the whole body: x = distance from the midline as a fraction of the half-width,
            y = distance from the top of the head as a fraction of the height.
            head front|head back, the head and neck drawn large (jaw, temple and the base of the skull
            need it): x and y in head heights (crown to chin = 1) from the midline and from the crown.
choices     only on names stored by earlier versions that turned out to be groups (scalenes, hamstrings,
            lumbar paraspinals …): old records still read, new entries must name one of the choices.
"""

# regions
HEAD = "head"
NECK_UPPER_BACK = "neck and upper back"
MID_BACK = "thoracic back"
CHEST = "chest wall"
ARM = "shoulder and arm"
ABDOMEN = "abdomen"
LOW_BACK = "lumbar"
HIP = "hip and pelvis"
THIGH = "thigh"
LEG = "leg"

# hazards (keys of HAZARDS)
PTX = "pneumothorax"
VERTEBRAL = "vertebral artery"
PLEXUS = "brachial plexus"
CAROTID = "carotid and jugular"
SCIATIC = "sciatic nerve"
FEMORAL = "femoral bundle and retroperitoneum"
KIDNEY = "kidney"

# What lies within reach of the needle (clinical-reference.md §5 and §9): a warning for the chart and a plain
# line for the patient's sheet (grade ≤ 6). Another language's handout lines go in texts/handout_<lang>.toml
# under [hazards], keyed like this table.
HAZARDS: dict[str, dict[str, str]] = {
    PTX: {
        "clinician": "the pleura lies within needle reach (rhomboid skin-to-rib ~2.1 cm in lean patients; "
                     "StatPearls NBK542196, AAFP-2002)",
        "handout_en": "Sudden chest pain or hard breathing, even hours later? Call 911.",
        "source": "clinical-reference.md §5",
    },
    VERTEBRAL: {
        "clinician": "the vertebral artery lies deep here: an injection into it causes local anesthetic toxicity "
                     "at tiny doses",
        "handout_en": "Dizzy, trouble seeing or talking, or a seizure soon after your visit? Call 911.",
        "source": "clinical-reference.md §9",
    },
    PLEXUS: {
        "clinician": "the brachial plexus and the phrenic nerve run here: arm numbness or weakness and short "
                     "breath for some hours can follow",
        "handout_en": "Your arm may feel numb or weak for a few hours. Breathing may feel short. "
                      "Call 911 if it gets hard to breathe.",
        "source": "clinical-reference.md §9",
    },
    CAROTID: {
        "clinician": "the carotid artery and the jugular vein lie beneath",
        "handout_en": "Neck swells fast, or hard to breathe or swallow? Call 911.",
        "source": "clinical-reference.md §9",
    },
    SCIATIC: {
        "clinician": "the sciatic nerve lies deep here: leg numbness or weakness can follow a deep injection",
        "handout_en": "Your leg may feel numb or weak for a few hours. Call us if it lasts more than 12 hours.",
        "source": "clinical-reference.md §9",
    },
    FEMORAL: {
        "clinician": "the femoral bundle and the retroperitoneum lie deep here: bleeding there cannot be stopped "
                     "by pressure",
        "handout_en": "New pain in your belly, groin or back? A bruise that keeps growing? Call us.",
        "source": "clinical-reference.md §9",
    },
    KIDNEY: {
        "clinician": "the kidney lies deep to this muscle",
        "handout_en": "Blood in your pee, or new pain in your side? Call us.",
        "source": "clinical-reference.md §9",
    },
}

MUSCLES: list[dict] = [
    # --- head ----------------------------------------------------------------------------------------
    {"name": "temporalis", "region": HEAD, "aliases": ["temporal"],
     "plain_en": "side of the head, above the ear", "map": ("head front", 0.33, 0.28)},
    {"name": "masseter", "region": HEAD, "aliases": ["jaw muscle"],
     "plain_en": "jaw, in front of the ear", "map": ("head front", 0.32, 0.72)},
    {"name": "lateral pterygoid", "region": HEAD, "aliases": ["lateral pterygoids", "pterygoideus lateralis"],
     "plain_en": "deep in the jaw, in front of the ear", "map": ("head front", 0.27, 0.56)},
    {"name": "medial pterygoid", "region": HEAD, "aliases": ["medial pterygoids", "pterygoideus medialis"],
     "plain_en": "inside the angle of the jaw", "map": ("head front", 0.22, 0.85)},
    # --- neck --------------------------------------------------------------------------------------
    {"name": "sternocleidomastoid", "region": NECK_UPPER_BACK, "hazards": [CAROTID],
     "aliases": ["SCM", "sternomastoid"], "plain_en": "front and side of the neck", "map": ("head front", 0.15, 1.03)},
    {"name": "anterior scalene", "region": NECK_UPPER_BACK, "hazards": [PTX, PLEXUS],
     "aliases": ["scalenus anterior", "anterior scalenes"],
     "plain_en": "side of the neck, above the collarbone", "map": ("head front", 0.29, 1.22)},
    {"name": "middle scalene", "region": NECK_UPPER_BACK, "hazards": [PTX, PLEXUS],
     "aliases": ["scalenus medius", "mid scalene", "middle scalenes"],
     "plain_en": "side of the neck, above the collarbone", "map": ("head front", 0.37, 1.25)},
    {"name": "posterior scalene", "region": NECK_UPPER_BACK, "hazards": [PTX, PLEXUS],
     "aliases": ["scalenus posterior", "posterior scalenes"],
     "plain_en": "side of the neck, toward the back", "map": ("head back", 0.29, 1.23)},
    {"name": "splenius capitis", "region": NECK_UPPER_BACK, "level": "cervical", "aliases": [],
     "plain_en": "back of the neck, near the skull", "map": ("head back", 0.17, 0.92)},
    {"name": "splenius cervicis", "region": NECK_UPPER_BACK, "level": "cervical", "aliases": [],
     "plain_en": "back of the neck", "map": ("head back", 0.2, 1.03)},
    {"name": "semispinalis capitis", "region": NECK_UPPER_BACK, "level": "cervical", "hazards": [VERTEBRAL],
     "aliases": [], "plain_en": "back of the neck, next to the spine", "map": ("head back", 0.07, 0.9)},
    {"name": "semispinalis cervicis", "region": NECK_UPPER_BACK, "level": "cervical", "hazards": [VERTEBRAL],
     "aliases": [], "plain_en": "back of the neck, deep next to the spine", "map": ("head back", 0.07, 0.99)},
    {"name": "rectus capitis posterior major", "region": NECK_UPPER_BACK, "level": "cervical",
     "hazards": [VERTEBRAL], "aliases": ["RCPM", "rectus capitis posterior maj"],
     "plain_en": "base of the skull", "map": ("head back", 0.08, 0.8)},
    {"name": "rectus capitis posterior minor", "region": NECK_UPPER_BACK, "level": "cervical",
     "hazards": [VERTEBRAL], "aliases": ["rectus capitis posterior min"],
     "plain_en": "base of the skull, near the middle", "map": ("head back", 0.03, 0.78)},
    {"name": "obliquus capitis superior", "region": NECK_UPPER_BACK, "level": "cervical", "hazards": [VERTEBRAL],
     "aliases": ["superior oblique of the head"], "plain_en": "base of the skull, toward the side",
     "map": ("head back", 0.15, 0.77)},
    {"name": "obliquus capitis inferior", "region": NECK_UPPER_BACK, "level": "cervical", "hazards": [VERTEBRAL],
     "aliases": ["inferior oblique of the head", "OCI"], "plain_en": "top of the neck, below the skull",
     "map": ("head back", 0.13, 0.85)},
    {"name": "cervical multifidus", "anatomical": "multifidus", "region": NECK_UPPER_BACK, "level": "cervical",
     "hazards": [VERTEBRAL], "aliases": ["multifidus cervicis"],
     "plain_en": "back of the neck, close to the spine", "map": ("head back", 0.04, 1.07)},
    {"name": "longissimus cervicis", "region": NECK_UPPER_BACK, "level": "cervical",
     "aliases": ["cervical longissimus", "longissimus capitis"],
     "plain_en": "back of the neck, along the spine", "map": ("head back", 0.12, 1.08)},
    {"name": "iliocostalis cervicis", "region": NECK_UPPER_BACK, "level": "cervical",
     "aliases": ["cervical iliocostalis"], "plain_en": "lower back of the neck, beside the spine",
     "map": ("head back", 0.19, 1.14)},
    {"name": "levator scapulae", "region": NECK_UPPER_BACK, "aliases": ["levator", "levator scap"],
     "plain_en": "where the neck meets the shoulder blade", "map": ("head back", 0.43, 1.36)},
    # --- shoulder blade and upper back ------------------------------------------------------------------
    {"name": "upper trapezius", "anatomical": "trapezius", "region": NECK_UPPER_BACK, "hazards": [PTX],
     "aliases": ["UT", "upper trap", "upper traps", "upper trapezius fibers"],
     "plain_en": "top of the shoulder", "map": ("back", 0.32, 0.175)},
    {"name": "middle trapezius", "anatomical": "trapezius", "region": NECK_UPPER_BACK, "hazards": [PTX],
     "aliases": ["mid trap", "middle trap", "MT", "mid trapezius"],
     "plain_en": "upper back, between the shoulder blades", "map": ("back", 0.21, 0.215)},
    {"name": "lower trapezius", "anatomical": "trapezius", "region": NECK_UPPER_BACK, "hazards": [PTX],
     "aliases": ["lower trap"], "plain_en": "middle of the back, below the shoulder blade",
     "map": ("back", 0.14, 0.31)},
    {"name": "rhomboid major", "region": NECK_UPPER_BACK, "hazards": [PTX], "aliases": ["rhomboid maj"],
     "plain_en": "upper back, between the spine and the shoulder blade", "map": ("back", 0.13, 0.255)},
    {"name": "rhomboid minor", "region": NECK_UPPER_BACK, "hazards": [PTX], "aliases": ["rhomboid min"],
     "plain_en": "upper back, near the top of the shoulder blade", "map": ("back", 0.12, 0.21)},
    {"name": "serratus posterior superior", "region": NECK_UPPER_BACK, "hazards": [PTX], "aliases": ["SPS"],
     "plain_en": "upper back, under the shoulder blade", "map": ("back", 0.16, 0.235)},
    {"name": "supraspinatus", "region": NECK_UPPER_BACK, "hazards": [PTX], "aliases": ["supra"],
     "plain_en": "top of the shoulder blade", "map": ("back", 0.36, 0.195)},
    {"name": "infraspinatus", "region": NECK_UPPER_BACK, "aliases": ["infra"],
     "plain_en": "back of the shoulder blade", "map": ("back", 0.33, 0.245)},
    {"name": "teres minor", "region": NECK_UPPER_BACK, "aliases": [],
     "plain_en": "back of the shoulder, near the armpit", "map": ("back", 0.45, 0.255)},
    {"name": "teres major", "region": NECK_UPPER_BACK, "aliases": [],
     "plain_en": "lower edge of the shoulder blade, near the armpit", "map": ("back", 0.41, 0.29)},
    {"name": "subscapularis", "region": NECK_UPPER_BACK, "aliases": ["subscap"],
     "plain_en": "under the shoulder blade, from the armpit", "map": ("front", 0.47, 0.24)},
    # --- thoracic back ---------------------------------------------------------------------------------
    {"name": "thoracic multifidus", "anatomical": "multifidus", "region": MID_BACK, "level": "thoracic",
     "hazards": [PTX], "aliases": ["multifidus thoracis"],
     "plain_en": "middle of the back, close to the spine", "map": ("back", 0.03, 0.3)},
    {"name": "longissimus thoracis", "region": MID_BACK, "level": "thoracic", "hazards": [PTX],
     "aliases": ["thoracic longissimus"], "plain_en": "middle of the back, along the spine",
     "map": ("back", 0.06, 0.32)},
    {"name": "iliocostalis thoracis", "region": MID_BACK, "level": "thoracic", "hazards": [PTX],
     "aliases": ["thoracic iliocostalis"], "plain_en": "middle of the back, over the ribs beside the spine",
     "map": ("back", 0.1, 0.33)},
    {"name": "serratus posterior inferior", "region": MID_BACK, "hazards": [PTX], "aliases": ["SPI"],
     "plain_en": "middle of the back, over the lower ribs", "map": ("back", 0.22, 0.385)},
    {"name": "latissimus dorsi", "region": MID_BACK, "aliases": ["lats", "lat", "latissimus"],
     "plain_en": "side of the back, below the armpit", "map": ("back", 0.36, 0.34)},
    # --- chest wall --------------------------------------------------------------------------------
    {"name": "pectoralis major", "region": CHEST, "hazards": [PTX], "aliases": ["pec major", "pec maj"],
     "plain_en": "chest, below the collarbone", "map": ("front", 0.24, 0.22)},
    {"name": "pectoralis minor", "region": CHEST, "hazards": [PTX], "aliases": ["pec minor", "pec min"],
     "plain_en": "upper chest, near the shoulder", "map": ("front", 0.34, 0.205)},
    {"name": "serratus anterior", "region": CHEST, "hazards": [PTX], "aliases": ["SA", "serratus ant"],
     "plain_en": "side of the chest, over the ribs", "map": ("front", 0.38, 0.3)},
    {"name": "intercostals", "region": CHEST, "hazards": [PTX], "aliases": ["intercostal"],
     "plain_en": "between the ribs", "map": ("front", 0.28, 0.33)},
    {"name": "sternalis", "region": CHEST, "hazards": [PTX], "aliases": [],
     "plain_en": "front of the chest, beside the breastbone", "map": ("front", 0.06, 0.24)},
    # --- shoulder and arm --------------------------------------------------------------------------------
    {"name": "deltoid", "region": ARM, "aliases": ["delt", "deltoids"],
     "plain_en": "round part of the shoulder", "map": ("front", 0.5, 0.21)},
    {"name": "coracobrachialis", "region": ARM, "aliases": [],
     "plain_en": "inside of the upper arm, near the armpit", "map": ("front", 0.55, 0.25)},
    {"name": "biceps brachii", "region": ARM, "aliases": ["biceps"],
     "plain_en": "front of the upper arm", "map": ("front", 0.55, 0.3)},
    {"name": "triceps brachii", "region": ARM, "aliases": ["triceps"],
     "plain_en": "back of the upper arm", "map": ("back", 0.55, 0.3)},
    {"name": "brachioradialis", "region": ARM, "aliases": ["BR"],
     "plain_en": "forearm, below the elbow on the thumb side", "map": ("front", 0.64, 0.4)},
    {"name": "pronator teres", "region": ARM, "aliases": [],
     "plain_en": "front of the forearm, just below the elbow", "map": ("front", 0.66, 0.39)},
    {"name": "supinator", "region": ARM, "aliases": [],
     "plain_en": "forearm, just below the elbow on the outside", "map": ("back", 0.64, 0.4)},
    {"name": "extensor carpi radialis longus", "region": ARM, "aliases": ["ECRL"],
     "plain_en": "back of the forearm, on the thumb side", "map": ("back", 0.65, 0.42)},
    {"name": "extensor carpi radialis brevis", "region": ARM, "aliases": ["ECRB"],
     "plain_en": "back of the forearm, on the thumb side", "map": ("back", 0.66, 0.44)},
    {"name": "extensor digitorum", "region": ARM, "aliases": ["EDC", "extensor digitorum communis"],
     "plain_en": "back of the forearm", "map": ("back", 0.69, 0.45)},
    {"name": "extensor carpi ulnaris", "region": ARM, "aliases": ["ECU"],
     "plain_en": "back of the forearm, on the little-finger side", "map": ("back", 0.66, 0.45)},
    {"name": "flexor carpi radialis", "region": ARM, "aliases": ["FCR"],
     "plain_en": "front of the forearm, on the thumb side", "map": ("front", 0.69, 0.44)},
    {"name": "flexor carpi ulnaris", "region": ARM, "aliases": ["FCU"],
     "plain_en": "front of the forearm, on the little-finger side", "map": ("front", 0.65, 0.45)},
    {"name": "flexor digitorum superficialis", "region": ARM, "aliases": ["FDS"],
     "plain_en": "front of the forearm", "map": ("front", 0.67, 0.46)},
    # --- abdomen -----------------------------------------------------------------------------------
    {"name": "rectus abdominis", "region": ABDOMEN, "aliases": ["rectus abdominus", "abs"],
     "plain_en": "front of the belly", "map": ("front", 0.08, 0.4)},
    {"name": "external oblique", "region": ABDOMEN, "aliases": ["external obliques"],
     "plain_en": "side of the belly", "map": ("front", 0.3, 0.42)},
    {"name": "internal oblique", "region": ABDOMEN, "aliases": ["internal obliques"],
     "plain_en": "side of the belly, under the outer layer", "map": ("front", 0.27, 0.44)},
    {"name": "transversus abdominis", "region": ABDOMEN, "aliases": ["transverse abdominis", "TrA"],
     "plain_en": "deep in the side of the belly", "map": ("front", 0.24, 0.45)},
    # --- low back ----------------------------------------------------------------------------------
    {"name": "quadratus lumborum", "region": LOW_BACK, "level": "lumbar", "hazards": [KIDNEY],
     "aliases": ["QL", "quadratus"], "plain_en": "low back, above the hip bone", "map": ("back", 0.21, 0.44)},
    {"name": "lumbar multifidus", "anatomical": "multifidus", "region": LOW_BACK, "level": "lumbar",
     "aliases": ["multifidus lumborum"], "plain_en": "low back, close to the spine", "map": ("back", 0.04, 0.46)},
    {"name": "lumbar longissimus", "anatomical": "longissimus thoracis", "region": LOW_BACK, "level": "lumbar",
     "aliases": ["longissimus lumborum", "longissimus thoracis pars lumborum"],
     "plain_en": "low back, along the spine", "map": ("back", 0.07, 0.45)},
    {"name": "iliocostalis lumborum", "region": LOW_BACK, "level": "lumbar",
     "aliases": ["lumbar iliocostalis"], "plain_en": "low back, beside the spine", "map": ("back", 0.11, 0.44)},
    # --- hip and pelvis ----------------------------------------------------------------------------------
    {"name": "psoas major", "region": HIP, "level": "lumbar", "hazards": [FEMORAL], "aliases": ["psoas"],
     "plain_en": "deep in the belly and the front of the hip", "map": ("front", 0.12, 0.5)},
    {"name": "iliacus", "region": HIP, "hazards": [FEMORAL], "aliases": [],
     "plain_en": "front of the hip, deep in the groin", "map": ("front", 0.19, 0.52)},
    {"name": "gluteus maximus", "region": HIP, "aliases": ["glute max", "gmax", "gluteus max"],
     "plain_en": "buttock", "map": ("back", 0.2, 0.56)},
    {"name": "gluteus medius", "region": HIP, "aliases": ["glute med", "gmed", "gluteus med"],
     "plain_en": "side of the hip, below the hip bone", "map": ("back", 0.3, 0.5)},
    {"name": "gluteus minimus", "region": HIP, "aliases": ["glute min", "gmin", "gluteus min"],
     "plain_en": "side of the hip, deep", "map": ("back", 0.36, 0.53)},
    {"name": "piriformis", "region": HIP, "hazards": [SCIATIC], "aliases": ["piri"],
     "plain_en": "deep in the buttock", "map": ("back", 0.17, 0.525)},
    {"name": "obturator internus", "region": HIP, "hazards": [SCIATIC], "aliases": ["OI"],
     "plain_en": "deep in the buttock, low down", "map": ("back", 0.13, 0.55)},
    {"name": "levator ani", "region": HIP, "aliases": ["pelvic floor", "pelvic floor muscles"],
     "plain_en": "pelvic floor, the muscles at the bottom of the pelvis", "map": ("back", 0.05, 0.58)},
    {"name": "tensor fasciae latae", "region": HIP, "aliases": ["TFL", "tensor fascia lata", "tensor fasciae lata"],
     "plain_en": "outside of the hip, toward the front", "map": ("front", 0.37, 0.545)},
    # --- thigh -------------------------------------------------------------------------------------
    {"name": "adductor longus", "region": THIGH, "aliases": ["adductor long"],
     "plain_en": "inner thigh", "map": ("front", 0.08, 0.61)},
    {"name": "adductor brevis", "region": THIGH, "aliases": [],
     "plain_en": "inner thigh, high up and deep", "map": ("front", 0.1, 0.58)},
    {"name": "adductor magnus", "region": THIGH, "aliases": [],
     "plain_en": "inner thigh, toward the back", "map": ("back", 0.1, 0.63)},
    {"name": "gracilis", "region": THIGH, "aliases": [],
     "plain_en": "inner thigh, down to the knee", "map": ("front", 0.1, 0.66)},
    {"name": "sartorius", "region": THIGH, "aliases": [],
     "plain_en": "front of the thigh, from the hip across to the inside of the knee", "map": ("front", 0.2, 0.6)},
    {"name": "rectus femoris", "region": THIGH, "aliases": ["RF"],
     "plain_en": "front of the thigh", "map": ("front", 0.21, 0.64)},
    {"name": "vastus lateralis", "region": THIGH, "aliases": ["VL"],
     "plain_en": "outside of the thigh", "map": ("front", 0.31, 0.67)},
    {"name": "vastus medialis", "region": THIGH, "aliases": ["VMO", "VM"],
     "plain_en": "inside of the thigh, above the knee", "map": ("front", 0.13, 0.71)},
    {"name": "vastus intermedius", "region": THIGH, "aliases": ["VI"],
     "plain_en": "front of the thigh, deep", "map": ("front", 0.22, 0.67)},
    {"name": "biceps femoris", "region": THIGH, "aliases": ["lateral hamstring"],
     "plain_en": "back of the thigh, outer side", "map": ("back", 0.24, 0.66)},
    {"name": "semitendinosus", "region": THIGH, "aliases": [],
     "plain_en": "back of the thigh, inner side", "map": ("back", 0.16, 0.66)},
    {"name": "semimembranosus", "region": THIGH, "aliases": [],
     "plain_en": "back of the thigh, inner side, deep", "map": ("back", 0.14, 0.69)},
    # --- leg ---------------------------------------------------------------------------------------
    {"name": "gastrocnemius", "region": LEG, "aliases": ["gastroc", "gastrocs"],
     "plain_en": "calf", "map": ("back", 0.2, 0.8)},
    {"name": "soleus", "region": LEG, "aliases": [],
     "plain_en": "lower calf, above the heel", "map": ("back", 0.19, 0.87)},
    {"name": "tibialis anterior", "region": LEG, "aliases": ["TA", "anterior tibialis"],
     "plain_en": "front of the lower leg, by the shin", "map": ("front", 0.22, 0.84)},
    {"name": "tibialis posterior", "region": LEG, "aliases": ["posterior tibialis", "tib post"],
     "plain_en": "deep in the calf", "map": ("back", 0.18, 0.84)},
    {"name": "fibularis longus", "region": LEG, "aliases": ["peroneus longus", "peroneals", "peroneus", "fibularis"],
     "plain_en": "outside of the lower leg", "map": ("front", 0.28, 0.85)},
    # --- names earlier versions stored that are groups: readable, no longer accepted as entries --------------
    {"name": "scalenes", "region": NECK_UPPER_BACK, "hazards": [PTX, PLEXUS],
     "choices": ["anterior scalene", "middle scalene", "posterior scalene"],
     "aliases": ["scalene", "scalenus"], "plain_en": "side of the neck, above the collarbone",
     "map": ("head front", 0.33, 1.24)},
    {"name": "suboccipitals", "region": NECK_UPPER_BACK, "level": "cervical", "hazards": [VERTEBRAL],
     "choices": ["rectus capitis posterior major", "rectus capitis posterior minor", "obliquus capitis superior",
                 "obliquus capitis inferior"],
     "aliases": ["suboccipital", "suboccipital muscles"], "plain_en": "base of the skull",
     "map": ("head back", 0.1, 0.81)},
    {"name": "cervical paraspinals", "region": NECK_UPPER_BACK, "level": "cervical", "hazards": [VERTEBRAL],
     "choices": ["cervical multifidus", "longissimus cervicis", "iliocostalis cervicis", "semispinalis cervicis",
                 "semispinalis capitis", "splenius cervicis", "splenius capitis"],
     "aliases": ["cervical paraspinal", "neck paraspinals", "c-paraspinals"],
     "plain_en": "back of the neck, along the spine", "map": ("head back", 0.1, 1.02)},
    {"name": "thoracic paraspinals", "region": MID_BACK, "level": "thoracic", "hazards": [PTX],
     "choices": ["thoracic multifidus", "longissimus thoracis", "iliocostalis thoracis"],
     "aliases": ["thoracic paraspinal", "t-paraspinals", "thoracic erector spinae"],
     "plain_en": "middle of the back, along the spine", "map": ("back", 0.06, 0.3)},
    {"name": "lumbar paraspinals", "region": LOW_BACK, "level": "lumbar",
     "choices": ["lumbar multifidus", "lumbar longissimus", "iliocostalis lumborum"],
     "aliases": ["lumbar paraspinal", "l-paraspinals", "lumbar erector spinae", "low back paraspinals"],
     "plain_en": "low back, along the spine", "map": ("back", 0.07, 0.45)},
    {"name": "forearm extensors", "region": ARM,
     "choices": ["extensor carpi radialis longus", "extensor carpi radialis brevis", "extensor digitorum",
                 "extensor carpi ulnaris", "brachioradialis", "supinator"],
     "aliases": ["wrist extensors", "forearm extensor"], "plain_en": "back of the forearm",
     "map": ("back", 0.65, 0.43)},
    {"name": "iliopsoas", "region": HIP, "hazards": [FEMORAL], "choices": ["psoas major", "iliacus"],
     "aliases": ["hip flexor", "hip flexors"], "plain_en": "front of the hip, deep in the groin",
     "map": ("front", 0.19, 0.52)},
    {"name": "hamstrings", "region": THIGH, "choices": ["biceps femoris", "semitendinosus", "semimembranosus"],
     "aliases": ["hamstring", "hams"], "plain_en": "back of the thigh", "map": ("back", 0.2, 0.66)},
]

# Words that name several entries, or a muscle that spans the spine's levels: tpi asks which one.
GROUPS: dict[str, list[str]] = {
    "trapezius": ["upper trapezius", "middle trapezius", "lower trapezius"],
    "trap": ["upper trapezius", "middle trapezius", "lower trapezius"],
    "traps": ["upper trapezius", "middle trapezius", "lower trapezius"],
    "rhomboid": ["rhomboid major", "rhomboid minor"],
    "rhomboids": ["rhomboid major", "rhomboid minor"],
    "rhomb": ["rhomboid major", "rhomboid minor"],
    "erector spinae": ["longissimus cervicis", "iliocostalis cervicis", "longissimus thoracis",
                       "iliocostalis thoracis", "lumbar longissimus", "iliocostalis lumborum"],
    "erectors": ["longissimus cervicis", "iliocostalis cervicis", "longissimus thoracis", "iliocostalis thoracis",
                 "lumbar longissimus", "iliocostalis lumborum"],
    "multifidus": ["cervical multifidus", "thoracic multifidus", "lumbar multifidus"],
    "longissimus": ["longissimus cervicis", "longissimus thoracis", "lumbar longissimus"],
    "iliocostalis": ["iliocostalis cervicis", "iliocostalis thoracis", "iliocostalis lumborum"],
    "paraspinals": ["cervical multifidus", "longissimus cervicis", "iliocostalis cervicis", "thoracic multifidus",
                    "longissimus thoracis", "iliocostalis thoracis", "lumbar multifidus", "lumbar longissimus",
                    "iliocostalis lumborum"],
    "paraspinal": ["cervical multifidus", "longissimus cervicis", "iliocostalis cervicis", "thoracic multifidus",
                   "longissimus thoracis", "iliocostalis thoracis", "lumbar multifidus", "lumbar longissimus",
                   "iliocostalis lumborum"],
    "semispinalis": ["semispinalis capitis", "semispinalis cervicis"],
    "splenius": ["splenius capitis", "splenius cervicis"],
    "glute": ["gluteus maximus", "gluteus medius", "gluteus minimus"],
    "glutes": ["gluteus maximus", "gluteus medius", "gluteus minimus"],
    "gluteus": ["gluteus maximus", "gluteus medius", "gluteus minimus"],
    "gluteals": ["gluteus maximus", "gluteus medius", "gluteus minimus"],
    "serratus": ["serratus anterior", "serratus posterior superior", "serratus posterior inferior"],
    "serratus posterior": ["serratus posterior superior", "serratus posterior inferior"],
    "pec": ["pectoralis major", "pectoralis minor"],
    "pecs": ["pectoralis major", "pectoralis minor"],
    "pectoralis": ["pectoralis major", "pectoralis minor"],
    "pectorals": ["pectoralis major", "pectoralis minor"],
    "pterygoid": ["lateral pterygoid", "medial pterygoid"],
    "pterygoids": ["lateral pterygoid", "medial pterygoid"],
    "adductor": ["adductor longus", "adductor brevis", "adductor magnus"],
    "adductors": ["adductor longus", "adductor brevis", "adductor magnus"],
    "oblique": ["external oblique", "internal oblique"],
    "obliques": ["external oblique", "internal oblique"],
    "teres": ["teres minor", "teres major"],
    "rotator cuff": ["supraspinatus", "infraspinatus", "teres minor", "subscapularis"],
    "forearm flexors": ["flexor carpi radialis", "flexor carpi ulnaris", "flexor digitorum superficialis",
                        "pronator teres"],
    "wrist flexors": ["flexor carpi radialis", "flexor carpi ulnaris", "flexor digitorum superficialis"],
    "extensor carpi radialis": ["extensor carpi radialis longus", "extensor carpi radialis brevis"],
    "quadriceps": ["rectus femoris", "vastus lateralis", "vastus medialis", "vastus intermedius"],
    "quads": ["rectus femoris", "vastus lateralis", "vastus medialis", "vastus intermedius"],
    "vastus": ["vastus lateralis", "vastus medialis", "vastus intermedius"],
    "calf": ["gastrocnemius", "soleus"],
    "tibialis": ["tibialis anterior", "tibialis posterior"],
}
