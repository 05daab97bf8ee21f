"""Run the real torch.optim optimisers on autograd of a loss, many trials at once.

Trials are rows of one parameter tensor: ``loss_fn`` returns one loss per row
and the rows never interact, so the gradient of the summed loss is each row's
own gradient.  This is how the suite runs thousands of initialisations through
``torch.optim.SGD`` / ``RMSprop`` / ``Adam`` in one go.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import torch

from gdcut import validation

#: The optimisers the paper compares, built with torch's defaults unless the
#: caller passes keyword arguments.  "momentum" is SGD with momentum 0.9
#: (torch has no default momentum; 0.9 is the value the paper's reference
#: material and most training scripts use).
OPTIMIZERS: dict[str, Callable[..., torch.optim.Optimizer]] = {
    "sgd": lambda params, lr, **kw: torch.optim.SGD(params, lr=lr, **kw),
    "momentum": lambda params, lr, **kw: torch.optim.SGD(params, lr=lr, **{"momentum": 0.9, **kw}),
    "rmsprop": lambda params, lr, **kw: torch.optim.RMSprop(params, lr=lr, **kw),
    "adam": lambda params, lr, **kw: torch.optim.Adam(params, lr=lr, **kw),
}


@dataclass
class TorchRun:
    """What a run returns.

    ``trajectory``: the last ``record_last`` iterates, shape (record_last, *beta0.shape)
    (beta_0 included when the run is that short).  ``losses``: the per-trial loss
    at each recorded iterate.  ``ever_zero``: entries that were exactly 0 after
    some step >= 1.  ``optimizer``: the optimiser, with its state.
    """

    trajectory: torch.Tensor
    losses: torch.Tensor
    ever_zero: torch.Tensor
    optimizer: torch.optim.Optimizer

    @property
    def final(self) -> torch.Tensor:
        return self.trajectory[-1]


def run_torch_optimizer(
    loss_fn: Callable[[torch.Tensor], torch.Tensor],
    beta0: torch.Tensor,
    optimizer: str,
    lr: float | Sequence[float],
    steps: int,
    record_last: int = 1,
    scheduler: Callable[[torch.optim.Optimizer], object] | None = None,
    **optimizer_kwargs,
) -> TorchRun:
    """Run ``torch.optim`` ``optimizer`` on ``loss_fn`` from ``beta0`` for ``steps`` steps.

    ``beta0`` has shape (trials, P) (any float dtype; the run keeps it).  ``lr``
    is one number, or one per trial: then each trial is its own parameter group,
    which is how torch runs several learning rates side by side.  ``scheduler``,
    if given, builds an LR scheduler from the optimiser (``StepLR``, say) and is
    stepped once per iteration.
    """
    validation.one_of("optimizer", optimizer, OPTIMIZERS)
    validation.non_negative_int("steps", steps)
    validation.positive_int("record_last", record_last)
    validation.trial_matrix("beta0", beta0)
    if isinstance(lr, (list, tuple)) or (isinstance(lr, torch.Tensor) and lr.ndim == 1):
        rates = validation.positive_each("lr", lr, beta0.shape[0]).tolist()
    else:
        validation.positive("lr", lr)
        rates = [lr]

    if len(rates) == 1:
        params = [beta0.detach().clone().requires_grad_(True)]
        groups = [{"params": params}]
    else:
        params = [row.detach().clone().unsqueeze(0).requires_grad_(True) for row in beta0]
        groups = [{"params": [p], "lr": r} for p, r in zip(params, rates)]
    opt = OPTIMIZERS[optimizer](groups, rates[0], **optimizer_kwargs)
    sched = scheduler(opt) if scheduler is not None else None

    def current() -> torch.Tensor:
        return params[0].detach() if len(params) == 1 else torch.cat([p.detach() for p in params], dim=0)

    keep_from = max(0, steps + 1 - record_last)
    kept, kept_losses = [], []
    ever_zero = torch.zeros(beta0.shape, dtype=torch.bool)
    for t in range(steps + 1):
        opt.zero_grad(set_to_none=False)
        loss = loss_fn(torch.cat(params, dim=0)) if len(params) > 1 else loss_fn(params[0])
        if t >= keep_from:
            kept.append(current().clone())
            kept_losses.append(loss.detach().clone())
        if t == steps:
            break
        loss.sum().backward()
        opt.step()
        if sched is not None:
            sched.step()
        ever_zero |= current() == 0  # cheap next to the step, and the only way to see a transient zero
    return TorchRun(torch.stack(kept), torch.stack(kept_losses), ever_zero, opt)
