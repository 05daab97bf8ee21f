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


def make_optimiser(name: str, params, lr: float, **kwargs) -> torch.optim.Optimizer:
    """The optimiser ``name`` of :data:`OPTIMISERS` over ``params`` (tensors or parameter groups) with step size ``lr``.

    ``kwargs`` go to the torch constructor (``momentum=``, ``eps=``, ...); torch checks them.
    """
    validation.one_of("optimiser", name, OPTIMISERS)
    validation.positive("lr", lr)
    return OPTIMISERS[name](params, lr, **kwargs)
