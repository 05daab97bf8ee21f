"""The paper's concrete problem instances, built from a seed.

The paper states distributions and shapes but no seeds; each builder takes
``seed`` explicitly so the ledger can record it and tests can sweep it.
"""
from __future__ import annotations

import torch

from gdcut import validation


def uniform(shape: tuple[int, ...], low: float, high: float, generator: torch.Generator,
            dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Entries i.i.d. uniform on [low, high), drawn from ``generator``."""
    validation.finite_scalar("low", low)
    validation.finite_scalar("high", high)
    if not high > low:
        raise ValueError(f"high must be > low, got low={low!r}, high={high!r}")
    return low + (high - low) * torch.rand(shape, generator=generator, dtype=dtype)


def seeded_generator(seed: int) -> torch.Generator:
    """A CPU generator seeded with ``seed`` (instances are built on the CPU, then moved)."""
    validation.non_negative_int("seed", seed)
    return torch.Generator().manual_seed(int(seed))
