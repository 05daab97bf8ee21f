"""The optimisers the paper compares, by name: one registry for the toy problems and the training loop.

Each is ``torch.optim`` with torch's defaults unless the caller passes keyword
arguments, as the paper's App. B/C code builds them (only lr set).  "momentum" is
SGD with momentum 0.9: torch has no default momentum, and 0.9 is the value the
paper's reference material and most training scripts use.
"""
from __future__ import annotations

from typing import Callable

import torch

from gdcut import validation

OPTIMISERS: dict[str, Callable[..., torch.optim.Optimizer]] = {
    "sgd": lambda params, lr, **kw: torch.optim.SGD(params, lr=lr, **kw),
    "momentum": lambda params, lr, **kw: torch.optim.SGD(params, lr=lr, **{"momentum": 0.9, **kw}),
    "rmsprop": lambda params, lr, **kw: torch.optim.RMSprop(params, lr=lr, **kw),
    "adam": lambda params, lr, **kw: torch.optim.Adam(params, lr=lr, **kw),
}

#: How the paper and the ledger name each optimiser (the registry's App. C entries, "RMSProp, λ1=2", use these).
DISPLAY_NAMES: dict[str, str] = {"sgd": "SGD", "momentum": "SGD with momentum 0.9", "rmsprop": "RMSProp",
                                 "adam": "Adam"}


def make_optimiser(name: str, params, lr: float, **kwargs) -> torch.optim.Optimizer:
    """The optimiser ``name`` of :data:`OPTIMISERS` over ``params`` (tensors or parameter groups) with step size ``lr``.

    ``kwargs`` go to the torch constructor (``momentum=``, ``eps=``, ...); torch checks them.
    """
    validation.one_of("optimiser", name, OPTIMISERS)
    validation.positive("lr", lr)
    return OPTIMISERS[name](params, lr, **kwargs)


def scheduled_rates(lr: float, steps: int, scheduler: Callable[[torch.optim.Optimizer], object]) -> list[float]:
    """The learning rates lr_0 ... lr_{steps-1} that ``scheduler`` (a factory, e.g. of ``StepLR``) gives SGD from ``lr``.

    Read off torch's own scheduler, stepped once per optimiser step as in training (v2 §3, claim S3).
    """
    validation.positive("lr", lr)
    validation.non_negative_int("steps", steps)
    optimiser = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    schedule = scheduler(optimiser)
    # The parameter has no gradient, so optimiser.step() changes nothing and costs 80% of the loop: one call
    # before the loop is what the scheduler checks for (torch warns when it steps before the optimiser ever did).
    optimiser.step()
    rates = []
    for _ in range(steps):
        rates.append(optimiser.param_groups[0]["lr"])
        schedule.step()
    return rates


def default_setting(name: str, setting: str):
    """torch's default value of ``setting`` (``eps``, ``alpha``, ...) for optimiser ``name``, read from torch itself."""
    validation.one_of("optimiser", name, OPTIMISERS)
    defaults = make_optimiser(name, [torch.zeros(1, requires_grad=True)], 1.0).defaults
    validation.one_of("setting", setting, defaults)
    return defaults[setting]
