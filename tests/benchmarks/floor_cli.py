"""Start-up floor 1: the stack itself doing the least of `tpi log-visit`'s job.

Imports typer and rich, validates one visit-shaped pydantic model (three nested models), writes it
with TinyDB and prints a rich panel. `tpi log-visit` is measured against this (goal ≤ 1.10×).
Usage: python tests/benchmarks/floor_cli.py STORE_FOLDER
"""

import sys
from pathlib import Path

import typer  # noqa: F401  (its import is part of the floor)
from pydantic import BaseModel
from rich.console import Console
from rich.panel import Panel
from tinydb import TinyDB


class Concentration(BaseModel):
    value: float
    unit: str


class Agent(BaseModel):
    drug: str
    concentration: Concentration
    volume_ml: float


class Site(BaseModel):
    muscle: str
    side: str
    points: int = 1


class Visit(BaseModel):
    patient_id: str
    date: str
    sites: list[Site]
    agents: list[Agent]
    pain_before: int
    pain_after: int


visit = Visit.model_validate({
    "patient_id": "P001", "date": "2026-01-05", "pain_before": 7, "pain_after": 2,
    "sites": [{"muscle": "upper trapezius", "side": "left", "points": 2}],
    "agents": [{"drug": "lidocaine", "concentration": {"value": 1, "unit": "%"}, "volume_ml": 3}],
})
folder = Path(sys.argv[1])
folder.mkdir(parents=True, exist_ok=True)
TinyDB(folder / "floor.json").table("visits").insert(visit.model_dump())
Console(stderr=True).print(Panel(f"{visit.patient_id} · {visit.date} · {visit.sites[0].muscle}", title="Visit"))
