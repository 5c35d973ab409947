"""Benchmark: tpi's start-up cost and how it holds up at a clinic's 50,000 visits of 2,000 patients.

Not part of the default pytest run. Run it from a checkout with tpi installed:

    python tests/benchmarks/bench_store.py [--runs 7]

It prints, in one run, each figure as a ratio against its floor and goal:
  * `log-visit` and `patient list --json` against the stack's own import floor
    (python -c "import typer, pydantic, tinydb, rich.console, rich.table"), goal ≤ 1.25×;
  * `log-visit` and `visits --patient` on the 50k-visit store against an empty store, goal ≤ 1.25×;
  * peak memory of those commands, goal < 80 MiB;
  * `tpi import` throughput building the 50k store, goal ≥ 5,000 visits/s;
  * a 100-visit progress review and a handout against the floor with reportlab.platypus, goal ≤ 1.6×.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Self

FLOOR = [sys.executable, "-c", "import typer, pydantic, tinydb, rich.console, rich.table"]
# For context only: the floor plus what validating one record costs the stack itself (pydantic's
# `import pydantic` is lazy, so the floor above does not load its models or validators).
MODEL_FLOOR = [sys.executable, "-c", ("import typer, pydantic, tinydb, rich.console, rich.table\n"
               "from pydantic import BaseModel\nclass Record(BaseModel):\n    x: int\nRecord(x=1)")]
PDF_FLOOR = [sys.executable, "-c", "import typer, pydantic, tinydb, rich.console, rich.table, reportlab.platypus"]


def tpi_command() -> list[str]:
    script = shutil.which("tpi", path=str(Path(sys.executable).parent)) or shutil.which("tpi")
    return [script] if script else [sys.executable, "-m", "tpi_cli"]


def _tree(pid: int) -> list[int]:
    """PID and every process below it (Linux /proc)."""
    found = [pid]
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as children:
                for child in children.read().split():
                    found += _tree(int(child))
    return found


def _pss_kib(pid: int) -> int:
    with contextlib.suppress(OSError), open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


class TogetherPeak:
    """The most memory PID and the processes below it held together while this block ran, in KiB (.kib): their
    summed PSS (a page they share counted once), sampled every 50 ms (Linux; 0 elsewhere)."""

    def __init__(self, pid: int) -> None:
        self.pid, self.kib = pid, 0
        self._done = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.wait(0.05):
            self.kib = max(self.kib, sum(_pss_kib(pid) for pid in _tree(self.pid)))

    def __enter__(self) -> Self:
        if sys.platform.startswith("linux"):
            self._sampler.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._sampler.is_alive():
            self._sampler.join()


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak memory (MiB) of one run of ARGV: the larger of its largest process's peak RSS and what
    its processes held together (an import forks a copy of itself: see TogetherPeak)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with TogetherPeak(proc.pid) as together:
        _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read().decode()
    proc.stderr.close()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {stderr}")
    return elapsed, max(usage.ru_maxrss, together.kib) / 1024


def measure(argv: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """Median wall seconds and the highest peak RSS over RUNS runs (after one warm-up)."""
    run_once(argv, env)
    results = [run_once(argv, env) for _ in range(runs)]
    return statistics.median(r[0] for r in results), max(r[1] for r in results)


def log_visit_args(patient: str) -> list[str]:
    return ["log-visit", "--patient", patient, "--site", "upper trapezius:left:2", "--site", "QL:right",
            "--agent", "lidocaine 1% 3 mL", "--pain-before", "7", "--pain-after", "2", "--consent", "verbal"]


def write_history(path: Path, patients: int, visits_each: int, seed: int) -> int:
    """Write synthetic JSON Lines in a child process, so this process stays small: a child forked
    from a large parent would report the parent's memory as its own peak."""
    code = (
        "import json, sys\n"
        "from tpi_cli.synthetic import clinic_records\n"
        f"records = clinic_records({patients}, {visits_each}, seed={seed})\n"
        f"with open({str(path)!r}, 'w', encoding='utf-8') as out:\n"
        "    out.writelines(json.dumps(r, ensure_ascii=False) + '\\n' for r in records)\n"
        "print(sum(1 for r in records if r['type'] == 'visit'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return int(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--visits-each", type=int, default=25)
    args = parser.parse_args()

    tpi = tpi_command()
    work = Path(tempfile.mkdtemp(prefix="tpi-bench-"))
    env = {**os.environ, "NO_COLOR": "1"}
    empty_env = {**env, "TPI_STORE": str(work / "empty")}
    big_env = {**env, "TPI_STORE": str(work / "big")}
    rows: list[tuple[str, str, str, str]] = []

    # the 50k store, built the way a clinic would move its history in
    source = work / "history.jsonl"
    visits = write_history(source, args.patients, args.visits_each, seed=11)
    # three imports into fresh stores; the last one is kept as the 50k store
    timings = []
    for attempt in range(3):
        shutil.rmtree(work / "big", ignore_errors=True)
        timings.append(run_once([*tpi, "import", str(source)], big_env))
    seconds = statistics.median(t[0] for t in timings)
    import_rss = max(t[1] for t in timings)
    rate = visits / seconds
    rows.append(("import throughput (median of 3)", f"{rate:,.0f} visits/s", f"{visits:,} visits in {seconds:.1f} s",
                 "ok" if rate >= 5000 else "MISSED (goal ≥ 5,000/s)"))

    subprocess.run([*tpi, "patient", "add", "--id", "P00001", "--name", "Bench Patient", "--dob", "1970-01-01",
                    "--weight-kg", "70"], env=empty_env, check=True, capture_output=True)

    floor, floor_rss = measure(FLOOR, env, args.runs)
    rows.append(("import floor", f"{floor * 1000:.0f} ms", f"{floor_rss:.0f} MiB", ""))
    model_floor, _ = measure(MODEL_FLOOR, env, args.runs)
    rows.append(("  floor + one pydantic model validated", f"{model_floor / floor:.2f}×",
                 f"{model_floor * 1000:.0f} ms (context, no goal)", ""))

    def ratio_row(name: str, value: float, base: float, goal: float, rss: float) -> None:
        ratio = value / base
        rows.append((name, f"{ratio:.2f}×", f"{value * 1000:.0f} ms, peak {rss:.0f} MiB",
                     "ok" if ratio <= goal and rss < 80 else f"MISSED (goal ≤ {goal}×, < 80 MiB)"))

    log_empty, rss1 = measure([*tpi, *log_visit_args("P00001")], empty_env, args.runs)
    log_big, rss2 = measure([*tpi, *log_visit_args("P01000")], big_env, args.runs)
    list_empty, rss3 = measure([*tpi, "patient", "list", "--json"], empty_env, args.runs)
    list_big, rss4 = measure([*tpi, "patient", "list", "--json"], big_env, args.runs)
    visits_empty, rss5 = measure([*tpi, "visits", "--patient", "P00001", "--json"], empty_env, args.runs)
    visits_big, rss6 = measure([*tpi, "visits", "--patient", "P01000", "--json"], big_env, args.runs)

    ratio_row("log-visit / floor (empty store)", log_empty, floor, 1.25, rss1)
    ratio_row("patient list --json / floor (empty)", list_empty, floor, 1.25, rss3)
    ratio_row("patient list --json / floor (2,000 patients)", list_big, floor, 1.25, rss4)
    ratio_row("log-visit 50k / empty", log_big, log_empty, 1.25, rss2)
    ratio_row("visits --patient 50k / empty", visits_big, visits_empty, 1.25, rss6)
    rows.append(("peak memory (commands above)", f"{max(rss1, rss2, rss3, rss4, rss5, rss6):.0f} MiB",
                 f"import: {import_rss:.0f} MiB", "ok" if max(rss1, rss2, rss4, rss6) < 80 else "MISSED"))

    pdf_floor, _ = measure(PDF_FLOOR, env, args.runs)
    rows.append(("import floor with reportlab.platypus", f"{pdf_floor * 1000:.0f} ms", "", ""))
    review_env = {**env, "TPI_STORE": str(work / "review")}
    review_source = work / "review.jsonl"
    write_history(review_source, 1, 100, seed=5)
    subprocess.run([*tpi, "import", str(review_source)], env=review_env, check=True, capture_output=True)
    count = len(json.loads(subprocess.run([*tpi, "visits", "--json"], env=review_env, check=True,
                                          capture_output=True).stdout))
    review, rss7 = measure([*tpi, "report", "--patient", "P00001", "-o", str(work / "review.pdf")],
                           review_env, args.runs)
    handout, rss8 = measure([*tpi, "handout", "--patient", "P00001", "-o", str(work / "handout.pdf")],
                            review_env, args.runs)
    ratio_row(f"progress review ({count} visits) / floor+reportlab", review, pdf_floor, 1.6, rss7)
    ratio_row("handout / floor+reportlab", handout, pdf_floor, 1.6, rss8)

    width = max(len(r[0]) for r in rows)
    print(f"tpi benchmark ({args.patients:,} patients × {args.visits_each} visits, median of {args.runs} runs)")
    for name, value, detail, verdict in rows:
        print(f"  {name:<{width}}  {value:>14}  {detail:<36} {verdict}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
