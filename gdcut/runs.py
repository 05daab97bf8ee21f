"""Run any torch.optim optimiser on autograd of a loss, many trials at once: the suite's one runner for toy problems.

Trials are rows of one parameter tensor: ``loss_fn`` returns one loss per row
and the rows never interact, so the gradient of the summed loss is each row's
own gradient.  This is how thousands of initialisations go through
``torch.optim.SGD`` / ``RMSprop`` / ``Adam`` in one go, and how the convergence
and Edge-of-Stability claims (v2 §3, §5) run GD and NDGM (v2 eq. 1-2) on the
real losses.  ``gdcut.convex.gradient_method`` is the hand-written reference
that tests/test_runs.py holds this runner to.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch

from gdcut import optimisers, validation

Loss = Callable[[torch.Tensor], torch.Tensor]  # the iterate (trials, P) -> one loss per trial


@dataclass(frozen=True)
class Run:
    """What :func:`run_optimiser` returns.

    ``losses``: the loss of each trial at every iterate, (steps + 1, trials), float64.
    ``measures``: each measure at every iterate, (steps + 1, trials, ...), float64.
    ``last``: the last ``record_last`` iterates, (record_last, trials, P) in the run's
    dtype (x_0 included when the run is that short).  ``ever_zero``: with ``track_zeros=True``,
    the entries that were exactly 0 after some step >= 1; else None.  ``torch_optimiser``: the
    torch optimiser object, with its state (``run_optimiser``'s ``optimiser`` argument is its
    name); ``rows[i]`` are the trials its i-th parameter holds (see :meth:`state`).
    ``gradient_norms``: with ``gradient_norms=True``, ‖g_t‖₂ of the gradient taken at every
    iterate, (steps + 1, trials), float64; else None.
    """

    losses: torch.Tensor
    measures: dict[str, torch.Tensor]
    last: torch.Tensor
    ever_zero: torch.Tensor | None
    torch_optimiser: torch.optim.Optimizer
    rows: tuple[torch.Tensor, ...]
    gradient_norms: torch.Tensor | None = None

    @property
    def final(self) -> torch.Tensor:
        return self.last[-1]

    def state(self, name: str) -> torch.Tensor:
        """The optimiser's per-entry state ``name`` (``"square_avg"``, ``"exp_avg"``, ...) as one (trials, P) tensor."""
        params = [p for group in self.torch_optimiser.param_groups for p in group["params"]]
        return _gather([self.torch_optimiser.state[p][name] for p in params], _inverse(self.rows))


def _inverse(rows: tuple[torch.Tensor, ...]) -> torch.Tensor | None:
    """Where each trial sits in the rows of the groups laid end to end; None when they are already in order."""
    order = torch.cat(rows)
    return None if torch.equal(order, torch.arange(len(order))) else torch.argsort(order)


def _gather(pieces: list[torch.Tensor], inverse: torch.Tensor | None) -> torch.Tensor:
    """The (trials, P) tensor of the groups' rows, in trial order; differentiable."""
    if len(pieces) == 1:
        return pieces[0]
    whole = torch.cat(pieces)
    return whole if inverse is None else whole[inverse]


def side_by_side(pieces: Sequence[tuple[Loss, int]]) -> Loss:
    """One loss over trials of several problems laid end to end: ``pieces`` is (loss_fn, trials) per problem.

    The first ``trials`` rows go to the first loss, the next to the second, and so on, so runs of
    different problems (seeds, losses) share every torch step; rows never interact, so each row's
    arithmetic is what a run of its own would do, bit for bit where the loss computes each row on its
    own (a BLAS matmul over many rows may round in another order than over one, in the last bits).
    """
    if not isinstance(pieces, (list, tuple)) or not pieces or not all(
            isinstance(piece, tuple) and len(piece) == 2 and callable(piece[0]) for piece in pieces):
        raise ValueError(f"pieces must be a non-empty list of (loss_fn, trials) pairs, got {pieces!r}")
    for _, count in pieces:
        validation.positive_int("pieces: trials", count)
    bounds = np.cumsum([0] + [count for _, count in pieces])

    def loss(x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] != bounds[-1]:
            raise ValueError(f"side_by_side: the pieces hold {bounds[-1]} trials, the iterate has {x.shape[0]} rows")
        return torch.cat([fn(x[start:stop]) for (fn, _), start, stop in zip(pieces, bounds[:-1], bounds[1:])])
    return loss


def run_optimiser(
    loss_fn: Loss,
    x0: torch.Tensor,
    optimiser: str,
    lr: float | Sequence[float],
    steps: int,
    *,
    record_last: int = 1,
    measures: dict[str, Callable[[torch.Tensor], torch.Tensor]] | None = None,
    scheduler: Callable[[torch.optim.Optimizer], object] | None = None,
    gradient_norms: bool = False,
    track_zeros: bool = False,
    **optimiser_kwargs,
) -> Run:
    """Run ``optimiser`` (a name of ``gdcut.optimisers.OPTIMISERS``) on ``loss_fn`` from ``x0`` for ``steps`` steps.

    ``x0`` has shape (trials, P), any float dtype (the run keeps it).  ``lr`` is
    one number or one per trial.  Trials that share a learning rate share a
    parameter group, so torch's own update does every step, for every optimiser,
    and thousands of trials over a few rates cost a few groups (scaling the loss
    instead would be exact only for plain SGD).  ``measures`` (name -> fn of the
    iterate, one value per trial) are recorded at every iterate, on a copy.
    ``scheduler``, if given, builds an LR scheduler from the optimiser
    (``StepLR``, say), stepped once per iteration.  ``gradient_norms`` records
    ‖g_t‖₂ of the (sub)gradient each step took, read off the step's own backward
    pass (at a kink, the subgradient autograd chose: what the best-iterate bound
    of v2 §3 needs), and of the final iterate.  ``track_zeros`` looks for exact zeros after
    every step (the only way to see a transient one); it costs a comparison per step, so
    only the runs that ask pay it.
    """
    validation.one_of("optimiser", optimiser, optimisers.OPTIMISERS)
    validation.non_negative_int("steps", steps)
    validation.positive_int("record_last", record_last)
    validation.trial_matrix("x0", x0)
    rates = validation.positive_each("lr", lr, x0.shape[0])
    measures = measures or {}

    distinct, group_of = np.unique(rates, return_inverse=True)
    rows = tuple(torch.from_numpy(np.flatnonzero(group_of == g)) for g in range(len(distinct)))
    params = [(x0 if len(rows) == 1 else x0[r]).detach().clone().requires_grad_(True) for r in rows]
    inverse = _inverse(rows)
    groups = [{"params": [p], "lr": float(rate)} for p, rate in zip(params, distinct)]
    opt = optimisers.make_optimiser(optimiser, groups, float(distinct[0]), **optimiser_kwargs)
    sched = scheduler(opt) if scheduler is not None else None

    keep_from = max(0, steps + 1 - record_last)
    kept, losses, recorded, norms = [], [], {name: [] for name in measures}, []
    ever_zero = torch.zeros(x0.shape, dtype=torch.bool) if track_zeros else None
    # the iterate, detached: a view of the one parameter when there is one (the next step overwrites it in
    # place, so what must outlive a step is copied), else a new tensor in trial order
    x = _gather([p.detach() for p in params], inverse)
    for t in range(steps + 1):
        opt.zero_grad(set_to_none=False)
        loss = loss_fn(_gather(params, inverse))
        if t == 0 and loss.shape != x0.shape[:1]:  # a scalar or short loss would leave trials unmoved, silently
            raise ValueError(f"loss_fn must return one loss per trial, shape ({x0.shape[0]},), got {tuple(loss.shape)}")
        losses.append(loss.detach())
        for name, measure in measures.items():  # a copy: a measure may return a view of the iterate
            recorded[name].append(measure(x).to(torch.float64, copy=True))
        if t >= keep_from:
            kept.append(x.clone())
        if t == steps and not gradient_norms:
            break
        loss.sum().backward()
        if gradient_norms:
            norms.append(_gather([p.grad for p in params], inverse).norm(dim=-1).double())
        if t == steps:
            break
        opt.step()
        if sched is not None:
            sched.step()
        x = _gather([p.detach() for p in params], inverse)
        if track_zeros:
            ever_zero |= x == 0
    return Run(torch.stack(losses).double(), {name: torch.stack(values) for name, values in recorded.items()},
               torch.stack(kept), ever_zero, opt, rows, torch.stack(norms) if gradient_norms else None)
