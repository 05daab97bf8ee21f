"""Vectorised NDGM on the toy LASSO against a plain Python loop over the same trials.

Run: /work/venv/bin/python benchmarks/bench_lasso_vectorised.py  (prints the speed-up ratio).
"""
from __future__ import annotations

import time

import numpy as np

from gdcut import recursions

TRIALS, ENTRIES, STEPS, ALPHA, LAMBDA1 = 2_000, 10, 200, 0.01, 1.0


def vectorised(beta0: np.ndarray) -> np.ndarray:
    trajectory, _ = recursions.run(recursions.ndgm(ALPHA), lambda b: recursions.l1_subgradient(b, LAMBDA1),
                                   beta0, STEPS, record_last=1)
    return trajectory[-1]


def python_loop(beta0: np.ndarray) -> np.ndarray:
    out = np.empty_like(beta0)
    h = ALPHA * LAMBDA1
    for i, row in enumerate(beta0.tolist()):
        for _ in range(STEPS):
            row = [b - h if b > 0 else (b + h if b < 0 else 0.0) for b in row]
        out[i] = row
    return out


def main() -> float:
    beta0 = np.random.default_rng(0).uniform(-1, 1, (TRIALS, ENTRIES))
    start = time.perf_counter()
    fast = vectorised(beta0)
    t_vec = time.perf_counter() - start
    start = time.perf_counter()
    slow = python_loop(beta0)
    t_loop = time.perf_counter() - start
    assert np.allclose(fast, slow, atol=1e-12)
    ratio = t_loop / t_vec
    print(f"{TRIALS}x{ENTRIES} trials, {STEPS} steps: vectorised {t_vec:.3f}s, loop {t_loop:.3f}s, ratio {ratio:.1f}x")
    return ratio


if __name__ == "__main__":
    main()
