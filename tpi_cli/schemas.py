"""JSON Schemas of the stored records, generated from the models.

Run ``python -m tpi_cli.schemas`` after changing a model; a test fails while schemas/ is out of date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tpi_cli.models import Patient, Visit, VisitInput

SCHEMA_FILES = {
    "patient.schema.json": (Patient, "validation"),
    "visit.schema.json": (Visit, "serialization"),
    "visit-input.schema.json": (VisitInput, "validation"),
}


def schemas() -> dict[str, dict[str, Any]]:
    out = {}
    for filename, (model, mode) in SCHEMA_FILES.items():
        schema = model.model_json_schema(mode=mode)
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"tpi/{filename}"
        out[filename] = schema
    return out


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main(folder: Path) -> None:
    folder.mkdir(exist_ok=True)
    for filename, schema in schemas().items():
        (folder / filename).write_text(render(schema), encoding="utf-8")
        print(f"wrote {folder / filename}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("schemas"))
