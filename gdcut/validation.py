"""Argument checks shared by every public function of gdcut.

Each check raises ``ValueError`` whose message starts with the argument's name,
so a user sees at once which argument was wrong and why.
"""
from __future__ import annotations

import math
import os
from fractions import Fraction
from numbers import Real
from pathlib import Path
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


def positive_each(name: str, value, count: int) -> np.ndarray:
    """``value`` is one number > 0 or ``count`` of them (a step size per run or per step); returns (count,) float64."""
    if _is_real_scalar(value):
        positive(name, value)
        return np.full(count, float(value))
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    array = np.asarray(value, dtype=object)
    if array.shape != (count,):
        raise ValueError(f"{name} must be one number or {count} of them, got shape {array.shape}")
    for entry in array:
        positive(name, entry)
    return array.astype(np.float64)


def directory(name: str, value) -> Path:
    """``value`` names an existing directory this process can list and read; returns it as a Path."""
    if not isinstance(value, (str, os.PathLike)):
        raise ValueError(f"{name} must be a path, got {type(value).__name__}")
    path = Path(value).expanduser()
    if not path.is_dir():
        what = "is a file, not a directory" if path.exists() else "does not exist"
        raise ValueError(f"{name} {str(path)!r} {what}")
    if not os.access(path, os.R_OK | os.X_OK):
        raise ValueError(f"{name} {str(path)!r} is not readable")
    return path


def matrix_and_vector(matrix_name: str, matrix, vector_name: str, vector) -> tuple[np.ndarray, np.ndarray]:
    """A finite (N, P) matrix and a finite (N,) vector as float64 arrays (a data set and its response, say)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    vector = np.asarray(vector, dtype=np.float64)
    finite_array(matrix_name, matrix, ndim=2)
    finite_array(vector_name, vector, ndim=1)
    same_length(f"{matrix_name} rows", matrix.shape[0], vector_name, vector.shape[0])
    return matrix, vector


def trial_matrix(name: str, value) -> None:
    """``value`` must be a finite floating-point torch tensor of shape (trials, P): one row per trial."""
    import torch

    if not isinstance(value, torch.Tensor) or value.ndim != 2 or not value.is_floating_point():
        raise ValueError(f"{name} must be a floating-point torch tensor of shape (trials, P)")
    finite_array(name, value)
