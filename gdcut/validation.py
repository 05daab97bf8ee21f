"""Argument checks shared by every public function of gdcut.

Each check raises ``ValueError`` whose message starts with the argument's name,
so a user sees at once which argument was wrong and why.
"""
from __future__ import annotations

import math
from fractions import Fraction
from numbers import Real
from typing import Iterable

import numpy as np


def _is_real_scalar(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (Real, Fraction, np.floating, np.integer)):
        return True
    try:  # 0-d torch tensors without importing torch here
        return hasattr(value, "item") and getattr(value, "ndim", None) == 0
    except Exception:  # pragma: no cover - defensive
        return False


def finite_scalar(name: str, value) -> None:
    """``value`` must be a real number, not NaN or infinite."""
    if not _is_real_scalar(value):
        raise ValueError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    if isinstance(value, Fraction):
        return
    if not math.isfinite(float(value)):
        raise ValueError(f"{name} must be finite, got {value!r}")


def positive(name: str, value) -> None:
    """``value`` must be a finite real number > 0 (a step size, for example)."""
    finite_scalar(name, value)
    if not value > 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")


def non_negative(name: str, value) -> None:
    """``value`` must be a finite real number >= 0 (a penalty, for example)."""
    finite_scalar(name, value)
    if not value >= 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")


def in_interval(name: str, value, low, high, *, closed_low: bool = True, closed_high: bool = False) -> None:
    """``value`` must lie in the interval between ``low`` and ``high``."""
    finite_scalar(name, value)
    ok_low = value >= low if closed_low else value > low
    ok_high = value <= high if closed_high else value < high
    if not (ok_low and ok_high):
        left = "[" if closed_low else "("
        right = "]" if closed_high else ")"
        raise ValueError(f"{name} must lie in {left}{low}, {high}{right}, got {value!r}")


def positive_int(name: str, value) -> None:
    """``value`` must be an int >= 1 (an iteration count, a dimension)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


def non_negative_int(name: str, value) -> None:
    """``value`` must be an int >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {value!r}")


def one_of(name: str, value, allowed: Iterable) -> None:
    """``value`` must be one of ``allowed`` (an optimiser or scale name, say)."""
    allowed = list(allowed)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")


def finite_array(name: str, value, ndim: int | None = None):
    """``value`` (numpy array or torch tensor) must hold only finite numbers.

    Returns the array's shape so callers can go on to compare shapes.
    """
    shape = getattr(value, "shape", None)
    if shape is None:
        raise ValueError(f"{name} must be an array or tensor, got {type(value).__name__}")
    if ndim is not None and len(shape) != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {tuple(shape)}")
    if hasattr(value, "detach"):  # torch tensor
        import torch

        finite = bool(torch.isfinite(value.detach()).all()) if value.is_floating_point() else True
    else:
        arr = np.asarray(value)
        finite = bool(np.isfinite(arr).all()) if np.issubdtype(arr.dtype, np.inexact) else True
    if not finite:
        raise ValueError(f"{name} must contain only finite values (found NaN or inf)")
    return tuple(shape)


def same_length(name_a: str, len_a: int, name_b: str, len_b: int) -> None:
    """Two dimensions that must agree (rows of Z and entries of y, say)."""
    if len_a != len_b:
        raise ValueError(f"{name_b} has length {len_b} but {name_a} has {len_a}; they must match")


def boolean(name: str, value) -> None:
    """``value`` must be True or False (not 1, 0 or a string that looks like one)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
