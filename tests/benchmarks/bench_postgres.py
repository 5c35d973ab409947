"""Benchmark: the shared PostgreSQL store under concurrent writers and at 500,000 visits.

Not part of the default pytest run. It starts its own PostgreSQL (tests/pg_server.py, the machine's
initdb/pg_ctl) and needs tpi installed with its test extra:

    python tests/benchmarks/bench_postgres.py [--runs 5] [--writers 16] [--visits-each 50]

It prints:
  * 16 processes logging 50 visits each at once into 4 shared patients: lost visits and duplicate ids
    (goal: 0 and 0) and the visits/s all of them reached together;
  * `tpi store copy` of the 50,000-visit TinyDB store (2,000 patients × 25) into PostgreSQL, goal < 60 s, and
    back into a folder, each copy then checked with `tpi audit verify`;
  * `log-visit` and `visits --patient` at 500,000 visits of 20,000 patients against an empty
    PostgreSQL store, goal ≤ 1.25×. The 500k rows are made in the database (INSERT … SELECT from the
    copied 50k), not through the CLI.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_store import log_visit_args, measure, tpi_command, write_history
from pg_server import create_database, running_server

SHARED_PATIENTS = 4

WORKER = """
import datetime as dt, json, sys
from typer.testing import CliRunner
from tpi_cli.cli import build_app

worker, count, patients = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
app, runner = build_app("log-visit"), CliRunner()
ids = []
for i in range(count):
    day = dt.date.today() - dt.timedelta(days=worker * count + i)  # one visit a day: no same-day dose sums
    result = runner.invoke(app, ["log-visit", "--patient", f"W{i % patients}", "--date", day.isoformat(),
                                 "--site", "QL:left", "--agent", "lidocaine 1% 2 mL", "--pain-before", "7",
                                 "--pain-after", "2", "--json"])
    if result.exit_code != 0:
        sys.exit(f"worker {worker} visit {i}: exit {result.exit_code}: {result.stderr}")
    ids.append(json.loads(result.stdout)["id"])
print(json.dumps(ids))
"""

# Ten copies of the 50k store under other patient ids (the first letter changed): 20,000 patients, 500,000 visits.
MULTIPLY = """
INSERT INTO tpi.patients (id, doc)
SELECT n.id, jsonb_set(p.doc::jsonb, '{id}', to_jsonb(n.id))::json
FROM tpi.patients p, generate_series(1, 9) AS k, LATERAL (SELECT chr(64 + k) || substr(p.id, 2) AS id) n
WHERE p.id LIKE 'P%';
INSERT INTO tpi.visits (id, patient_id, number, date, doc)
SELECT n.pid || '-V' || v.number, n.pid, v.number, v.date,
       jsonb_set(jsonb_set(v.doc::jsonb, '{id}', to_jsonb(n.pid || '-V' || v.number)), '{patient_id}',
                 to_jsonb(n.pid))::json
FROM tpi.visits v, generate_series(1, 9) AS k, LATERAL (SELECT chr(64 + k) || substr(v.patient_id, 2) AS pid) n
WHERE v.patient_id LIKE 'P%';
"""


def concurrent_writers(tpi: list[str], url: str, writers: int, each: int) -> tuple[str, str, str, str]:
    env = {**os.environ, "TPI_STORE": url, "NO_COLOR": "1"}
    for n in range(SHARED_PATIENTS):
        subprocess.run([*tpi, "patient", "add", "--id", f"W{n}", "--name", "Writer Patient", "--dob", "1940-01-01",
                        "--weight-kg", "70"], env=env, check=True, capture_output=True)
    start = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(w), str(each), str(SHARED_PATIENTS)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for w in range(writers)]
    results = [p.communicate() for p in procs]
    seconds = time.perf_counter() - start
    failed = [err.strip() for p, (_, err) in zip(procs, results, strict=True) if p.returncode != 0]
    reported = [i for p, (out, _) in zip(procs, results, strict=True) if p.returncode == 0 for i in json.loads(out)]
    stored = [v["id"] for v in json.loads(subprocess.run([*tpi, "visits", "--json"], env=env, check=True,
                                                         capture_output=True).stdout)]
    lost = len(set(reported) - set(stored)) + (writers * each - len(reported))
    duplicates = len(stored) - len(set(stored)) + len(reported) - len(set(reported))
    verdict = "ok" if lost == 0 and duplicates == 0 and not failed else f"MISSED {failed[:2]}"
    return (f"{writers} writers × {each} visits at once", f"{len(stored) / seconds:,.0f} visits/s",
            f"{len(stored)} stored, {lost} lost, {duplicates} duplicate ids, {seconds:.1f} s", verdict)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--visits-each", type=int, default=50)
    args = parser.parse_args()
    import psycopg

    tpi = tpi_command()
    work = Path(tempfile.mkdtemp(prefix="tpi-bench-pg-"))
    rows: list[tuple[str, str, str, str]] = []
    try:
        with running_server() as server:
            def fresh(name: str) -> str:
                url = create_database(server, name)
                subprocess.run([*tpi, "store", "init", url], check=True, capture_output=True)
                return url

            rows.append(concurrent_writers(tpi, fresh("writers"), args.writers, args.visits_each))

            env = {**os.environ, "NO_COLOR": "1"}
            source, solo = work / "history.jsonl", work / "solo"
            visits = write_history(source, 2000, 25, seed=11)
            subprocess.run([*tpi, "import", str(source)], env={**env, "TPI_STORE": str(solo)}, check=True,
                           capture_output=True)
            big = fresh("big")
            # both directions, each copy then held to `audit verify` (the goal is the first one: < 60 s)
            for name, source_store, target_store, goal in (("TinyDB → PostgreSQL", str(solo), big, 60.0),
                                                           ("PostgreSQL → TinyDB", big, str(work / "back"), None)):
                start = time.perf_counter()
                subprocess.run([*tpi, "store", "copy", source_store, target_store], env=env, check=True,
                               capture_output=True)
                seconds = time.perf_counter() - start
                verified = subprocess.run([*tpi, "audit", "verify"], check=False, capture_output=True,
                                          env={**env, "TPI_STORE": target_store}).returncode == 0
                verdict = "" if goal is None else "ok" if seconds < goal else f"MISSED (goal < {goal:.0f} s)"
                rows.append((f"store copy {visits:,} visits {name}", f"{seconds:.1f} s",
                             f"{visits / seconds:,.0f} visits/s, audit verify {'passes' if verified else 'FAILS'}",
                             verdict if verified else "MISSED (the copy does not verify)"))

            start = time.perf_counter()
            with psycopg.connect(big, autocommit=True) as conn:
                conn.execute(MULTIPLY)
                conn.execute("ANALYZE")
                patients, total = conn.execute(
                    "SELECT (SELECT count(*) FROM tpi.patients), (SELECT count(*) FROM tpi.visits)").fetchone()
            rows.append(("bulk-built large store (SQL)", f"{total:,} visits",
                         f"{patients:,} patients, {time.perf_counter() - start:.1f} s", ""))

            empty = fresh("empty")
            subprocess.run([*tpi, "patient", "add", "--id", "P00001", "--name", "Bench Patient", "--dob",
                            "1970-01-01", "--weight-kg", "70"], env={**env, "TPI_STORE": empty}, check=True,
                           capture_output=True)
            empty_env, big_env = {**env, "TPI_STORE": empty}, {**env, "TPI_STORE": big}
            for name, argv_empty, argv_big in (
                ("log-visit", log_visit_args("P00001"), log_visit_args("E01000")),
                ("visits --patient", ["visits", "--patient", "P00001", "--json"],
                 ["visits", "--patient", "E01000", "--json"]),
            ):
                small, _ = measure([*tpi, *argv_empty], empty_env, args.runs)
                large, rss = measure([*tpi, *argv_big], big_env, args.runs)
                ratio = large / small
                rows.append((f"{name} {total:,} / empty", f"{ratio:.2f}×",
                             f"{large * 1000:.0f} ms vs {small * 1000:.0f} ms, peak {rss:.0f} MiB",
                             "ok" if ratio <= 1.25 else "MISSED (goal ≤ 1.25×)"))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    width = max(len(r[0]) for r in rows)
    print(f"tpi PostgreSQL benchmark (median of {args.runs} runs)")
    for name, value, detail, verdict in rows:
        print(f"  {name:<{width}}  {value:>16}  {detail:<48} {verdict}")


if __name__ == "__main__":
    main()
