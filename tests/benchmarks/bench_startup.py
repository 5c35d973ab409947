"""Benchmark: tpi's start-up against the stack itself doing the least of the same job (issue 14 item 6).

Not part of the default pytest run. Run it with the interpreter tpi is installed in (a plain
`pip install .` is how users run it):

    python tests/benchmarks/bench_startup.py [--runs 15]

Floors (in this folder): floor_cli.py (typer + rich, one visit-shaped pydantic model validated, written
with TinyDB, a panel printed) and floor_pdf.py (the same plus reportlab laying out one page with a TTF
font). Goals: `tpi log-visit` (the typical visit: four sites, lidocaine and triamcinolone, a diagnosis,
consent, follow-up) ≤ 1.10× floor 1; `tpi handout` and the 100-visit progress review ≤ 1.20× floor 2.

Each repetition runs every floor and command once, in a shuffled order, so that load from other
processes on a shared machine falls on all of them alike. Reported: median wall time and median CPU
time (user + sys of the child, less sensitive to load than wall time), each as a ratio to its floor.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def tpi_command() -> list[str]:
    script = shutil.which("tpi", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "tpi_cli"]


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + sys) of one run of ARGV, which must succeed."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({code}): {stderr.decode()}")
    return elapsed, usage.ru_utime + usage.ru_stime


def typical_visit(patient: str, days_ago: int) -> list[str]:
    """The issue's typical visit; a new date each run, so repeats are never refused as same-day repeats."""
    day = dt.date.today() - dt.timedelta(days=days_ago)
    return ["log-visit", "--patient", patient, "--date", day.isoformat(),
            "--site", "upper trapezius:left:2,upper trapezius:right:2,levator scapulae:left,levator scapulae:right",
            "--agent", "lidocaine 1% 3 mL", "--agent", "triamcinolone 40 mg/mL 0.5 mL", "--pain", "7/2",
            "--dx", "M79.12", "--consent", "verbal", "--follow-up", "6w"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    tpi = tpi_command()
    work = Path(tempfile.mkdtemp(prefix="tpi-startup-"))
    env = {**os.environ, "NO_COLOR": "1", "TPI_STORE": str(work / "store")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    try:
        history = work / "review.jsonl"
        code = ("import json\nfrom tpi_cli.synthetic import clinic_records\n"
                f"with open({str(history)!r}, 'w', encoding='utf-8') as out:\n"
                "    out.writelines(json.dumps(r, ensure_ascii=False) + '\\n' for r in clinic_records(1, 100, seed=5))\n")
        subprocess.run([sys.executable, "-c", code], check=True)
        subprocess.run([*tpi, "import", str(history)], env=env, check=True, capture_output=True)
        subprocess.run([*tpi, "patient", "add", "--id", "P00002", "--name", "Bench Patient", "--dob", "1970-01-01",
                        "--weight-kg", "70"], env=env, check=True, capture_output=True)

        days = iter(range(1, 100_000))
        cases = {
            "floor 1": lambda: [sys.executable, str(HERE / "floor_cli.py"), str(work / "floor")],
            "floor 2": lambda: [sys.executable, str(HERE / "floor_pdf.py"), str(work / "floor")],
            "log-visit": lambda: [*tpi, *typical_visit("P00002", next(days))],
            "handout": lambda: [*tpi, "handout", "--patient", "P00001", "-o", str(work / "handout.pdf")],
            "review (100 visits)": lambda: [*tpi, "report", "--patient", "P00001", "-o", str(work / "review.pdf")],
        }
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
        rng = random.Random(args.seed)
        for name, argv in cases.items():  # warm-up: page cache and bytecode
            if name != "log-visit":
                run_once(argv(), env)
        for _ in range(args.runs):
            order = list(cases)
            rng.shuffle(order)
            for name in order:
                results[name].append(run_once(cases[name](), env))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    wall = {name: statistics.median(r[0] for r in runs) for name, runs in results.items()}
    cpu = {name: statistics.median(r[1] for r in runs) for name, runs in results.items()}
    goals = {"log-visit": ("floor 1", 1.10), "handout": ("floor 2", 1.20), "review (100 visits)": ("floor 2", 1.20)}
    print(f"tpi start-up (median of {args.runs} interleaved runs; wall / CPU user+sys)")
    for name in ("floor 1", "floor 2"):
        print(f"  {name:<20} {wall[name] * 1000:6.0f} ms  {cpu[name] * 1000:6.0f} ms CPU")
    for name, (floor, goal) in goals.items():
        ratio_wall, ratio_cpu = wall[name] / wall[floor], cpu[name] / cpu[floor]
        verdict = "ok" if ratio_wall <= goal else f"MISSED (goal ≤ {goal:.2f}×)"
        print(f"  {name:<20} {wall[name] * 1000:6.0f} ms  {cpu[name] * 1000:6.0f} ms CPU   "
              f"{ratio_wall:.2f}× / {ratio_cpu:.2f}× CPU of {floor}  {verdict}")


if __name__ == "__main__":
    main()
