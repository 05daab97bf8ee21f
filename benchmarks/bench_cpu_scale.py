"""What the deep-net claims cost at the cpu scale (the most a CPU runs), cold and warm.

Targets (issue 19, 2 cores, idle machine):

    pytest -m gpu -n 2 --gdcut-scale=cpu, cold cache   <= 30 min
    the same again, warm cache                         <=  1 min

The cold run trains every C5/C6 and L18-L20 run into a fresh cache folder; the warm run
reads them back and decides again. The report gives both wall times, the load average
before and after (a loaded machine shows itself), and each deep-net claim's verdict with
its cells from the ledger the run wrote. ``--cache`` names a cache a cold run already
filled, to time the warm run alone.

    python benchmarks/bench_cpu_scale.py [--cache DIR] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DEEP_CLAIMS = ("C5", "C6", "L18", "L19", "L20")
TARGETS_S = {"cold": 30 * 60.0, "warm": 60.0}


def _timed_run(cache: Path, reports: Path) -> dict:
    command = [str(BIN / "pytest"), "-m", "gpu", "-n", "2", "--gdcut-scale=cpu", f"--gdcut-cache={cache}",
               f"--gdcut-reports={reports}", "-q", "-p", "no:cacheprovider"]
    load_before = os.getloadavg()
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    return {"command": " ".join(command[1:]), "wall_s": round(wall, 1), "returncode": done.returncode,
            "load_before": [round(x, 2) for x in load_before], "load_after": [round(x, 2) for x in os.getloadavg()],
            "tail": done.stdout.strip().splitlines()[-1:] or done.stderr.strip().splitlines()[-1:]}


def _verdicts(ledger_json: Path) -> dict:
    """Each deep-net claim's verdict and how many cells each side counted, from the ledger."""
    claims = {c["id"]: c for c in json.loads(ledger_json.read_text())["claims"]}
    return {cid: {"verdict": claims[cid]["verdict"],
                  "cells": {side: len(names) for side, names in claims[cid]["sides"].items()}}
            for cid in DEEP_CLAIMS if cid in claims}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path, help="a cache folder a cold run filled: time the warm run only")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    if args.cache is not None and not args.cache.is_dir():
        parser.error(f"--cache: {args.cache} is not a folder")
    report = {"machine": f"{os.cpu_count()} CPUs", "date": time.strftime("%Y-%m-%d"), "targets_s": TARGETS_S}
    with tempfile.TemporaryDirectory(prefix="gdcut-bench-") as scratch:
        cache = args.cache or Path(scratch, "cache")
        if args.cache is None:
            report["cold"] = _timed_run(cache, Path(scratch, "cold-reports"))
        report["warm"] = _timed_run(cache, Path(scratch, "warm-reports"))
        report["verdicts"] = _verdicts(Path(scratch, "warm-reports", "ledger.json"))
    for phase in ("cold", "warm"):
        if phase in report:
            report[phase]["met"] = report[phase]["wall_s"] <= TARGETS_S[phase]
    text = json.dumps(report, indent=2, ensure_ascii=False)
    print(text)
    if args.json is not None:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
