"""The paper's loss functions, written in torch so autograd gives NDGM's step.

Every loss accepts ``beta`` of shape ``(P,)`` or ``(..., P)``: leading
dimensions are independent trials (many initialisations run as one tensor),
and the loss has the leading shape.  Data arguments are validated for shape;
iterates are not re-checked on every call because these functions sit inside
optimisation loops.
"""
from __future__ import annotations

from typing import Callable

import torch

from gdcut import validation
from gdcut.ledger.registry import claim

#: The three ways of writing max(0, x) in torch.  They agree away from 0 but
#: autograd returns a different derivative at 0 for each (0, 1 and 1/2), which
#: is what claim S2 probes.
RELU_VARIANTS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": torch.relu,
    "clamp": lambda x: x.clamp(min=0),
    "maximum": lambda x: torch.maximum(x, torch.zeros_like(x)),
}


def _check_beta_data(beta: torch.Tensor, data: torch.Tensor, data_name: str, y: torch.Tensor) -> None:
    if data.ndim != 2:
        raise ValueError(f"{data_name} must be a 2-D (N, P) matrix, got shape {tuple(data.shape)}")
    if beta.ndim < 1 or beta.shape[-1] != data.shape[1]:
        raise ValueError(
            f"beta must have last dimension P={data.shape[1]} to match {data_name}, got shape {tuple(beta.shape)}"
        )
    if y.ndim != 1 or y.shape[0] != data.shape[0]:
        raise ValueError(f"y must have shape ({data.shape[0]},) to match {data_name}, got {tuple(y.shape)}")


def l1_norm(beta: torch.Tensor) -> torch.Tensor:
    """||beta||_1 over the last dimension."""
    return beta.abs().sum(dim=-1)


def l1_penalty(beta: torch.Tensor, lambda1) -> torch.Tensor:
    """The toy LASSO loss L3(beta) = lambda1 ||beta||_1 (v1 eq. 7, v2 eq. 7).

    ``torch.abs`` has derivative 0 at 0, so autograd of this loss is exactly the
    NDGM recursion of v1 eq. 8 / v2 eq. 11 (zero stays zero).  ``lambda1`` is one
    number, or a column (trials, 1) with one penalty per row of ``beta``
    (:func:`penalties_by_row`), so that one run covers several penalties.
    """
    if beta.ndim < 1:
        raise ValueError(f"beta must have at least one dimension, got shape {tuple(beta.shape)}")
    if isinstance(lambda1, torch.Tensor):
        if lambda1.shape != (*beta.shape[:-1], 1) or bool((lambda1 < 0).any()):
            raise ValueError(f"lambda1 must be a number >= 0 or a column of {(*beta.shape[:-1], 1)} of them, "
                             f"got shape {tuple(lambda1.shape)}")
        lambda1 = lambda1.squeeze(-1)
    else:
        validation.non_negative("lambda1", lambda1)
    return lambda1 * l1_norm(beta)


def penalties_by_row(beta0: torch.Tensor, lambdas) -> tuple[torch.Tensor, torch.Tensor]:
    """``beta0`` (trials, P) stacked once per penalty of ``lambdas``, and the column of λ1 per row for :func:`l1_penalty`.

    Rows ``i * trials ... (i + 1) * trials - 1`` carry ``lambdas[i]``.
    """
    validation.trial_matrix("beta0", beta0)
    for value in lambdas:
        validation.non_negative("lambdas", value)
    rows = beta0.repeat(len(lambdas), 1)
    column = torch.tensor(list(lambdas), dtype=beta0.dtype).repeat_interleave(beta0.shape[0]).unsqueeze(-1)
    return rows, column


def relu_regression_loss(
    beta: torch.Tensor,
    Z: torch.Tensor,
    y: torch.Tensor,
    lambda1: float,
    lambda2: float,
    relu: Callable[[torch.Tensor], torch.Tensor] = torch.relu,
) -> torch.Tensor:
    """Penalised one-layer ReLU regression L1(beta; Z, y, lambda1, lambda2), v1/v2 eq. 3.

    ||y - max(0, Z beta)||^2 + lambda1 ||beta||_1 + lambda2 ||beta||_2^2.  ``relu``
    picks how max(0, .) is written (see ``RELU_VARIANTS``).
    """
    validation.non_negative("lambda1", lambda1)
    validation.non_negative("lambda2", lambda2)
    _check_beta_data(beta, Z, "Z", y)
    residual = y - relu(beta @ Z.T)
    return (residual**2).sum(dim=-1) + lambda1 * l1_norm(beta) + lambda2 * (beta**2).sum(dim=-1)


def lasso_loss(beta: torch.Tensor, W: torch.Tensor, y: torch.Tensor, lambda1: float) -> torch.Tensor:
    """General LASSO L4(beta; W, y, lambda1) = (1/N)||y - W beta||^2 + lambda1 ||beta||_1.

    v1 eq. 11, v2 eq. 15.  Note the 1/N scaling: scikit-learn's ``Lasso`` uses
    1/(2N), so its ``alpha`` equals lambda1 / 2 for the same optimum.
    """
    validation.non_negative("lambda1", lambda1)
    _check_beta_data(beta, W, "W", y)
    residual = y - beta @ W.T
    return (residual**2).mean(dim=-1) + lambda1 * l1_norm(beta)


def huber_loss(beta: torch.Tensor, Z: torch.Tensor, y: torch.Tensor,
               delta: float = float(claim("E3").paper_value("Huber threshold"))) -> torch.Tensor:
    """Mean Huber loss of the linear model Z beta, v1 eq. 13 / v2 eq. 10.

    Per sample: r^2/2 if |r| < delta, else delta(|r| - delta/2), with r = y - z^T beta.
    The default is the paper's delta (1).  Written out (not ``torch.nn.functional.huber_loss``)
    so the threshold is visible; ``tests/`` checks the two agree.
    """
    validation.positive("delta", delta)
    _check_beta_data(beta, Z, "Z", y)
    residual = (y - beta @ Z.T).abs()
    quadratic = 0.5 * residual**2
    linear = delta * (residual - 0.5 * delta)
    return torch.where(residual < delta, quadratic, linear).mean(dim=-1)
