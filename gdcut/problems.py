"""The paper's concrete problem instances, built from a seed.

The paper states distributions and shapes but no seeds; each builder takes
``seed`` explicitly so the ledger can record it and tests can sweep it.  The
default shapes are the paper's, read from the claims registry.
"""
from __future__ import annotations

import torch

from gdcut import validation
from gdcut.ledger.registry import claim


def uniform(shape: tuple[int, ...], low: float, high: float, generator: torch.Generator,
            dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Entries i.i.d. uniform on [low, high), drawn from ``generator``."""
    for size in shape:
        validation.non_negative_int("shape", size)
    validation.finite_scalar("low", low)
    validation.finite_scalar("high", high)
    if not high > low:
        raise ValueError(f"high must be > low, got low={low!r}, high={high!r}")
    return low + (high - low) * torch.rand(shape, generator=generator, dtype=dtype)


def seeded_generator(seed: int) -> torch.Generator:
    """A CPU generator seeded with ``seed`` (instances are built on the CPU, then moved)."""
    validation.non_negative_int("seed", seed)
    return torch.Generator().manual_seed(int(seed))


def toy_lasso_initialisations(trials: int, num_entries: int, seed: int,
                              dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """beta0 ~ U[-1, 1]^(trials x P), the initialisation of the toy LASSO props (v2 Prop 4.1, B.1)."""
    validation.positive_int("trials", trials)
    validation.positive_int("num_entries", num_entries)
    return uniform((trials, num_entries), -1.0, 1.0, seeded_generator(seed), dtype=dtype)


def general_lasso_instance(seed: int, rows: int = claim("L6").paper_value("W rows (N)"),
                           columns: int = claim("L6").paper_value("W columns (P)"),
                           dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """(W, y) of the general LASSO simulation (v1 §3 eq. 11, v2 App. B.2 eq. 15).

    W is rows x columns and y has ``rows`` entries, all i.i.d. U[-1, 1]; the
    paper's instance is 20 x 500.  W is drawn before y from one seeded generator.
    """
    validation.positive_int("rows", rows)
    validation.positive_int("columns", columns)
    generator = seeded_generator(seed)
    W = uniform((rows, columns), -1.0, 1.0, generator, dtype=dtype)
    y = uniform((rows,), -1.0, 1.0, generator, dtype=dtype)
    return W, y


def non_capture_instance(seed: int, rows: int = claim("C1").paper_value("Z1 rows"),
                         columns: int = claim("C1").paper_value("Z1 columns (P)"),
                         dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(Z1, q1, beta0) of the non-capture experiment (v1 §2 Prop 2.1, v2 §3 Prop 3.1, Fig. 1).

    Z1 ~ U[-1, 1]^(rows x columns), q1 ~ U[-1, 0]^rows, beta0 ~ U[-1, 1]^columns, drawn in
    that order from one seeded generator; the paper's instance is 20 x 500.
    """
    validation.positive_int("rows", rows)
    validation.positive_int("columns", columns)
    generator = seeded_generator(seed)
    Z1 = uniform((rows, columns), -1.0, 1.0, generator, dtype=dtype)
    q1 = uniform((rows,), -1.0, 0.0, generator, dtype=dtype)
    beta0 = uniform((columns,), -1.0, 1.0, generator, dtype=dtype)
    return Z1, q1, beta0


#: Entry distributions for the Huber data, which the paper leaves unstated ("arbitrary"), and how a reader names them.
HUBER_DATA_LABELS = {"uniform": "U[−1,1]", "normal": "N(0,1)", "positive": "U[0,1]"}
HUBER_DATA = tuple(HUBER_DATA_LABELS)

#: Starts for the Huber runs, which the paper leaves unstated: zero, small and the U[−1,1] of its other experiments.
HUBER_STARTS = ("0", "small", "U[−1,1]")
SMALL_START = 1e-3  # "small": 1e-3·U[−1,1]


def huber_instance(seed: int, rows: int = claim("E3").paper_value("N (rows of Z, length of y)"),
                   columns: int = claim("E3").paper_value("P (columns of Z)"), data: str = "uniform",
                   dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """(Z, y) of the Huber regression (v1 eq. 13 / Fig. 3, v2 eq. 10 / Fig. 4): 50 x 200, over-parameterised.

    ``data`` picks i.i.d. U[-1, 1], N(0, 1) or U[0, 1] ("positive") entries for both Z and y (Z drawn first).
    """
    validation.positive_int("rows", rows)
    validation.positive_int("columns", columns)
    validation.one_of("data", data, HUBER_DATA)
    generator = seeded_generator(seed)
    if data in ("uniform", "positive"):
        low = -1.0 if data == "uniform" else 0.0
        Z = uniform((rows, columns), low, 1.0, generator, dtype=dtype)
        y = uniform((rows,), low, 1.0, generator, dtype=dtype)
    else:
        Z = torch.randn((rows, columns), generator=generator, dtype=dtype)
        y = torch.randn((rows,), generator=generator, dtype=dtype)
    return Z, y


def huber_start(start: str, columns: int, seed: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """β0 of a Huber run (1 × columns): ``start`` one of HUBER_STARTS, drawn from generator 1000 + seed."""
    validation.one_of("start", start, HUBER_STARTS)
    validation.positive_int("columns", columns)
    draw = uniform((1, columns), -1.0, 1.0, seeded_generator(1000 + seed), dtype=dtype)
    return {"0": 0 * draw, "small": SMALL_START * draw, "U[−1,1]": draw}[start]
