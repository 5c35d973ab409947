"""Benchmark: long work on a clinic's 50,000 visits of 2,000 patients streams (issue 14 item 5).

Not part of the default pytest run. Run it from a checkout with tpi installed:

    python tests/benchmarks/bench_stream.py [--runs 1]

The store is built as bench_store.py builds it, the way a clinic moves its history in (`tpi import` of
synthetic JSON Lines). Each command then runs in a fresh process with stdout to /dev/null; its wall time,
its CPU time (user + system, its children's too: less sensitive to a loaded machine than the wall clock) and its
peak memory (the larger of wait4's peak RSS and the summed PSS of its processes, see run_child) are printed
against the goals:
  * import: peak < 150 MiB at >= 5,000 visits/s;
  * visits --json --limit 0 and export csv: < 5 s and < 150 MiB each;
  * export fhir of the whole store: < 30 s and < 150 MiB;
  * visits --limit 0 piped, backup create and a progress review: for context (the review and backup have
    goals of their own in bench_store.py and bench_audit.py);
  * import of the exported CSV into a new store: < 150 MiB (its rate is context).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_store import TogetherPeak, tpi_command, write_history

GOAL_MIB = 150.0


def run_child(argv: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (with its children's) and peak memory (MiB) of one run of ARGV.

    The peak is the larger of the largest process's peak RSS (wait4) and the most its processes held together,
    sampled every 50 ms as their summed PSS (each shared page counted once): an import forks a copy of itself
    (tpi_cli.forked), whose memory the RSS of either process alone would leave out.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with TogetherPeak(proc.pid) as together:
        _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    stderr = proc.stderr.read().decode()
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {stderr}")
    return elapsed, usage.ru_utime + usage.ru_stime, max(usage.ru_maxrss, together.kib) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--visits-each", type=int, default=25)
    args = parser.parse_args()

    tpi = tpi_command()
    work = Path(tempfile.mkdtemp(prefix="tpi-bench-stream-"))
    env = {**os.environ, "NO_COLOR": "1", "TPI_STORE": str(work / "store")}
    source = work / "history.jsonl"
    visits = write_history(source, args.patients, args.visits_each, seed=11)

    def measured(argv: list[str], before=None, environment=None) -> tuple[float, float, float]:
        results = []
        for _ in range(args.runs):
            if before is not None:
                before()
            results.append(run_child(argv, environment or env))
        return (statistics.median(r[0] for r in results), statistics.median(r[1] for r in results),
                max(r[2] for r in results))

    def fresh_store() -> None:
        shutil.rmtree(work / "store", ignore_errors=True)

    def no_outputs() -> None:
        for name in ("out.csv", "out.json", "backup.tar.gz", "review.pdf"):
            (work / name).unlink(missing_ok=True)

    rows = []
    wall, cpu, peak = measured([*tpi, "import", str(source)], before=fresh_store)
    rate = visits / wall
    rows.append((f"import ({visits:,} visits)", wall, cpu, peak,
                 rate >= 5000 and peak < GOAL_MIB, f"{rate:,.0f} visits/s; goal >= 5,000/s, < 150 MiB"))
    for name, argv, goal_s in (
        ("visits --json --limit 0", [*tpi, "visits", "--json", "--limit", "0"], 5.0),
        ("export csv", [*tpi, "export", "csv", "-o", str(work / "out.csv")], 5.0),
        ("export fhir", [*tpi, "export", "fhir", "-o", str(work / "out.json")], 30.0),
        ("visits --limit 0 (piped TSV)", [*tpi, "visits", "--limit", "0"], None),
        ("backup create --no-encrypt", [*tpi, "backup", "create", "--no-encrypt", str(work / "backup.tar.gz")], None),
        ("report --patient (25-visit review)", [*tpi, "report", "--patient", "P00001", "-o", str(work / "review.pdf")],
         None),
    ):
        wall, cpu, peak = measured(argv, before=no_outputs)
        verdict = None if goal_s is None else wall < goal_s and peak < GOAL_MIB
        rows.append((name, wall, cpu, peak, verdict, f"goal < {goal_s:g} s, < 150 MiB" if goal_s else "context"))

    # the CSV that `export csv` wrote, imported into a new store: a clinic restoring from its export
    subprocess.run([*tpi, "export", "csv", "-o", str(work / "out.csv")], env=env, check=True, capture_output=True)
    csv_env = {**env, "TPI_STORE": str(work / "from-csv")}
    wall, cpu, peak = measured([*tpi, "import", str(work / "out.csv")], environment=csv_env,
                               before=lambda: shutil.rmtree(work / "from-csv", ignore_errors=True))
    rows.append(("import of that CSV", wall, cpu, peak, peak < GOAL_MIB,
                 f"< 150 MiB; {visits / wall:,.0f} visits/s (context: the rate goal is a JSON Lines import's)"))

    load = os.getloadavg()[0]
    print(f"tpi streaming benchmark ({visits:,} visits of {args.patients:,} patients, median of {args.runs} run(s); "
          f"load average {load:.1f} on {os.cpu_count()} cores)")
    for name, wall, cpu, peak, verdict, note in rows:
        mark = "" if verdict is None else "ok" if verdict else "MISSED"
        print(f"  {name:<36} {wall:6.1f} s wall {cpu:6.1f} s cpu  peak {peak:5.0f} MiB  {mark:<6} {note}", flush=True)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
