"""How fast the suite answers: the four feedback commands of issue 13, and the one-core fast tier.

Targets (issue 13, 2 cores, warm venv, idle machine):

    scripts/verify                        <= 30 s
    CI=true pytest -m fast -n 2           <= 20 s
    pytest claims --claim S3              <=  5 s
    pytest --collect-only -q              <=  3 s
    every fast test, on one core          <=  5 s  (--fast-tier)

Each command runs ``--repeat`` times after one untimed warm-up run (byte-code caches, the
ledger's history), with byte-code caches switched on as scripts/setup does, and the report
gives the median and the range. ``--fast-tier`` runs ``pytest -m fast`` in one process pinned
to one core (taskset, one torch thread) and lists every test whose call phase took longer than
5 s. ``--determinism`` runs scripts/verify twice more and reports what
``gdcut-ledger-diff --last`` says about the two newest ledgers (nothing, if runs repeat).

The numbers mean something only on an otherwise idle machine: the script prints the load
average before and after, so a loaded run shows itself.

    python benchmarks/bench_feedback.py [--repeat 3] [--fast-tier] [--determinism]
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
FAST_TEST_LIMIT_S = 5.0

#: (label, command, target in seconds)
COMMANDS = (
    ("scripts/verify", ["bash", "scripts/verify"], 30.0),
    ("CI=true pytest -m fast -n 2", [str(BIN / "pytest"), "-m", "fast", "-n", "2", "-q"], 20.0),
    ("pytest claims --claim S3", [str(BIN / "pytest"), "claims", "--claim", "S3", "-q"], 5.0),
    ("pytest --collect-only -q", [str(BIN / "pytest"), "--collect-only", "-q"], 3.0),
)


def _environment(**extra: str) -> dict:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    # scripts/setup uses the virtual environment running this benchmark
    env.update(CI="true", GDCUT_VENV=str(BIN.parent), PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", **extra)
    return env


def _run(command: list[str], env: dict) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    return time.perf_counter() - start, done


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def time_commands(repeat: int) -> bool:
    met = True
    for label, command, target in COMMANDS:
        _run(command, _environment())  # warm-up: caches, and a previous ledger for --claim to carry
        times = []
        for _ in range(repeat):
            seconds, done = _run(command, _environment())
            if done.returncode != 0:
                print(f"{label}: exit {done.returncode}\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
                return False
            times.append(seconds)
        median = statistics.median(times)
        met &= median <= target
        print(f"{label:32s} median {median:6.2f} s  (range {min(times):.2f}-{max(times):.2f}, n={repeat})  "
              f"target <= {target:g} s: {'met' if median <= target else 'NOT met'}")
    return met


def fast_tier() -> bool:
    """Every fast test on one core: the call phases over FAST_TEST_LIMIT_S."""
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    command = [*pin, str(BIN / "pytest"), "-m", "fast", "-p", "no:xdist", "-q", "--durations=0",
               "--durations-min=0.5", "--gdcut-reports=/tmp/gdcut-bench-fast-tier"]  # "=": see the README
    _, done = _run(command, _environment(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1"))
    rows = re.findall(r"^\s*([0-9.]+)s call\s+(\S+)", done.stdout, flags=re.MULTILINE)
    slow = [(float(seconds), test) for seconds, test in rows if float(seconds) > FAST_TEST_LIMIT_S]
    print(f"fast tier on one core{' (taskset -c 0)' if pin else ' (taskset missing: not pinned)'}: "
          f"exit {done.returncode}; slowest call {max((float(s) for s, _ in rows), default=0):.2f} s")
    if done.returncode != 0:
        print(f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
    for seconds, test in rows[:10]:
        print(f"    {float(seconds):6.2f} s  {test}")
    for seconds, test in slow:
        print(f"  over {FAST_TEST_LIMIT_S:g} s: {test} ({seconds:.2f} s)")
    return done.returncode == 0 and not slow


def determinism() -> bool:
    for _ in range(2):
        _, done = _run(["bash", "scripts/verify"], _environment())
        if done.returncode != 0:
            print(f"scripts/verify: exit {done.returncode}")
            return False
    _, done = _run([str(BIN / "gdcut-ledger-diff"), "--last", "reports"], _environment())
    print("gdcut-ledger-diff --last after two scripts/verify runs:\n" + done.stdout.strip())
    return done.returncode == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per command (default 3)")
    parser.add_argument("--fast-tier", action="store_true", help="also time every fast test on one core")
    parser.add_argument("--determinism", action="store_true", help="also diff two consecutive scripts/verify ledgers")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1, got {args.repeat}")
    print(f"load average before: {_load()}  ({os.cpu_count()} cores)")
    ok = time_commands(args.repeat)
    if args.fast_tier:
        ok &= fast_tier()
    if args.determinism:
        ok &= determinism()
    print(f"load average after: {_load()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
