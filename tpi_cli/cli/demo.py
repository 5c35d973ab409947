"""`tpi demo`: a demo store of synthetic patients inside --out; never touches the user's own store."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer

from tpi_cli.cli import console
from tpi_cli.errors import StoreError

DEMO_MARKER = ".tpi-demo"
DEMO_SETTINGS = {
    "clinic.name": "Riverside Pain & Spine (demo)",
    "clinic.phone": "(555) 010-0100",
    "clinic.after_hours_phone": "(555) 010-0199",
    "clinic.address": "100 Example Street, Springfield",
    "clinician": "Dr. Rivera",
    "consent.default": "verbal",
}


def _fresh_demo_store(out: Path) -> Path:
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    root = out / "store"
    if root.exists():
        if not (root / DEMO_MARKER).exists():
            raise StoreError(f"{root} exists and is not a tpi demo store; choose another --out folder")
        shutil.rmtree(root)
    root.mkdir(mode=0o700, parents=True)
    return root


@console.friendly
def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder for the demo store and sample files.")] = Path("tpi-demo"),
) -> None:
    """Build a demo store of synthetic patients and visits in --out (default ./tpi-demo).

    Examples:

    \b
    tpi demo --out /tmp/tpi-demo
    tpi --store /tmp/tpi-demo/store visits
    """
    from tpi_cli.store import Store
    from tpi_cli.synthetic import DEMO_NAMES, clinic_records
    from tpi_cli.workflow import import_records

    try:
        root = _fresh_demo_store(out)
    except OSError as error:
        raise StoreError(f"cannot create the demo store in {out}: {error.strerror or error}") from None
    store = Store(root)
    with store.transaction():  # a store is only made in an empty folder: the marker comes after it
        (root / DEMO_MARKER).touch(mode=0o600)
        for key, value in DEMO_SETTINGS.items():
            store.set_setting(key, value)
    records = clinic_records(patients=len(DEMO_NAMES), visits_each=5, names=DEMO_NAMES)
    result = import_records(store, list(enumerate(records, start=1)), user="demo")
    console.info(f"Demo store: {root} ({result.patients} synthetic patients, {result.visits} visits).")
    from tpi_cli.cli.visit import visit_rows

    console.table("Latest visits in the demo store", *visit_rows(store.visit_records()[:8]))
    written = _sample_documents(store, out)
    console.info("Sample PDFs:\n" + "\n".join(f"  {path}" for path in written))
    latest = store.visits(SAMPLE_PATIENT)[0].id
    console.info(f"Try: tpi --store {root} patient list\n     tpi --store {root} visit show {latest}")


SAMPLE_PATIENT = "P00001"


def _sample_documents(store, out: Path) -> list[Path]:
    """A handout in English and Spanish, a visit summary and a progress review of one demo patient."""
    import hashlib

    from tpi_cli import documents
    from tpi_cli.files import write_output

    latest = store.visits(SAMPLE_PATIENT)[0]
    made = [
        documents.handout(store, visit_id=latest.id, lang="en"),
        documents.handout(store, visit_id=latest.id, lang="es"),
        documents.visit_summary(store, latest.id),
        documents.progress_review(store, SAMPLE_PATIENT),
    ]
    written = []
    for doc in made:
        path = write_output(doc.data, out / doc.default_name, doc.default_name)
        documents.record_disclosure(store, doc.kind, str(path.resolve()), hashlib.sha256(doc.data).hexdigest())
        written.append(path)
    return written


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
