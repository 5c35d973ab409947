"""Benchmark: `audit verify` and `backup create`/`verify` on a clinic's 50,000 visits of 2,000 patients.

Not part of the default pytest run. Run it from a checkout with tpi installed:

    python tests/benchmarks/bench_audit.py [--runs 1]

Each command runs in a fresh process (its peak RSS is its own, from wait4), on the store that
bench_store.py builds the way a clinic would move its history in (`tpi import`). Goals (issue 11):
`audit verify` and `backup create` each under 10 s and under 150 MiB (verify and restore are printed for
context). An encrypted backup's peak includes scrypt's 128·8·N bytes for the
work factor in its age header (N = 2^16, fixed: 64 MiB), held for a moment while nothing else is.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_store import run_once, tpi_command, write_history

GOAL_SECONDS = 10.0
GOAL_MIB = 150.0


def scrypt_note(sealed: Path) -> str:
    """The key derivation's share of an encrypted backup's peak, from the work factor log2(N) in its age header:
    scrypt holds 128·r·N bytes (r = 8) while it runs."""
    with sealed.open("rb") as handle:
        handle.readline()
        stanza = handle.readline().split()
    if stanza[:2] != [b"->", b"scrypt"]:
        return "no scrypt stanza in the age header"
    log_n = int(stanza[-1])
    return f"work factor N = 2^{log_n}: 128·8·N = {128 * 8 * 2 ** log_n / 2 ** 20:.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--visits-each", type=int, default=25)
    args = parser.parse_args()

    tpi = tpi_command()
    work = Path(tempfile.mkdtemp(prefix="tpi-bench-audit-"))
    env = {**os.environ, "NO_COLOR": "1", "TPI_STORE": str(work / "store")}
    source = work / "history.jsonl"
    visits = write_history(source, args.patients, args.visits_each, seed=11)
    run_once([*tpi, "import", str(source)], env)

    sealed, plain, restored = work / "sealed.tpibackup", work / "plain.tar.gz", work / "restored"
    secret = {**env, "TPI_BACKUP_PASSPHRASE": "bench-passphrase-not-secret"}
    commands = [  # (name, argv, env, what the command writes, removed before each run)
        ("audit verify", [*tpi, "audit", "verify"], env, None),
        ("backup create --no-encrypt", [*tpi, "backup", "create", "--no-encrypt", str(plain)], env, plain),
        ("backup create (encrypted)", [*tpi, "backup", "create", str(sealed)], secret, sealed),
        ("backup verify (encrypted)", [*tpi, "backup", "verify", str(sealed)], secret, None),
        ("backup verify (plain)", [*tpi, "backup", "verify", str(plain)], env, None),
        ("backup restore (encrypted)", [*tpi, "backup", "restore", str(sealed), "--to", str(restored)], secret,
         restored),
    ]
    print(f"tpi audit/backup benchmark ({visits:,} visits of {args.patients:,} patients, "
          f"median of {args.runs} run(s); goal < {GOAL_SECONDS:.0f} s and < {GOAL_MIB:.0f} MiB)")
    for name, argv, command_env, written in commands:
        results = []
        for _ in range(args.runs):
            if written is not None and written.is_dir():
                shutil.rmtree(written)
            elif written is not None:
                written.unlink(missing_ok=True)
            results.append(run_once(argv, command_env))
        seconds = statistics.median(r[0] for r in results)
        peak = max(r[1] for r in results)
        if name.startswith(("audit verify", "backup create")):  # the goals issue 11 sets
            verdict = "ok" if seconds < GOAL_SECONDS and peak < GOAL_MIB else "MISSED"
        else:
            verdict = "context"
        print(f"  {name:<28} {seconds:6.1f} s  peak {peak:5.0f} MiB  {verdict}", flush=True)
        if "encrypted" in name:
            print(f"    of which scrypt: {scrypt_note(sealed)}", flush=True)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
