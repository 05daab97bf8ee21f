"""Several cfg-VGG runs trained at once, each cached as if trained alone.

The C5/C6 networks (v1 App. A, v2 App. A.1: 16-64 channels) are so small that
one run at a time leaves a GPU idle between kernel launches. The seeds of a
cell (same depth, activation and batch-norm switch) differ only in their
initialisation and batch order, so their parameters are stacked along a new
leading axis (``torch.func.stack_module_state``) and one ``torch.func.vmap``
of the network trains them all: every kernel launch does the work of all the
seeds.

Each member is the run ``gdcut.train.train`` would make for its config, to
float tolerance (tests/test_stacked.py): same initialisation (``manual_seed``
then build), same batch order (its own generator), same optimiser (the
stacked optimiser's updates are elementwise, and the summed loss gives each
member's parameters its own gradient only). Each result is saved under its
own ``train.cache_key`` as the same ``train.TrainResult`` ``train`` returns, so
the claim tests read it through ``train.train`` unchanged. A group has no mid-run
checkpoint: it is minutes at the paper scale, and an interrupted group
retrains.
"""
from __future__ import annotations

import copy
import dataclasses
import math
import time
from contextlib import ExitStack, closing, nullcontext
from pathlib import Path

import torch
from torch import nn

from gdcut import models, optimisers, precision, train, validation
from gdcut.data import DeviceData
from gdcut.progress import RunProgress


def check_stackable(configs: list) -> None:
    """``configs`` must be cfg-VGG runs that differ in their seed only (ValueError naming ``configs``).

    VGG16 is excluded: its dropout would need per-member randomness, and it is
    big enough to keep a GPU busy on its own.
    """
    if not isinstance(configs, (list, tuple)) or not configs:
        raise ValueError(f"configs must be a non-empty list of TrainConfig, got {configs!r}")
    for config in configs:
        if not isinstance(config, train.TrainConfig):
            raise ValueError(f"configs must hold TrainConfig only, got {type(config).__name__}")
    first = configs[0]
    if first.model not in models.CFG or first.optimiser_state_from is not None:
        raise ValueError(f"configs must be cfg-VGG runs ({', '.join(models.CFG)}) with a fresh optimiser, "
                         f"got {first.describe()}")
    for config in configs[1:]:
        if dataclasses.replace(config, seed=first.seed) != first:
            raise ValueError(f"configs must differ in their seed only: {config.describe()} vs {first.describe()}")
    seeds = [config.seed for config in configs]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"configs must have distinct seeds, got {seeds}")


def train_group(configs: list, data: DeviceData, cache_dir: Path | str | None = None,
                progress: bool = False) -> list[train.TrainResult]:
    """The results ``train.train`` would return for each of ``configs``, training the uncached ones together.

    Holds every member's cache lock (in key order, so two groups never wait on
    each other) while it trains; a member already cached is read, not retrained.
    """
    check_stackable(configs)
    if not isinstance(data, DeviceData):
        raise ValueError(f"data must be a DeviceData (gdcut.data.load), got {type(data).__name__}")
    validation.boolean("progress", progress)
    if cache_dir is None:
        return _run_stacked(list(configs), data, progress)
    cache_dir = Path(cache_dir)
    entries = [train._CacheEntry(cache_dir, train.cache_key(config, data), dataclasses.asdict(config))
               for config in configs]
    with ExitStack() as locks:
        for entry in sorted(entries, key=lambda e: e.key):
            locks.enter_context(train._locked(cache_dir / f"{entry.key}.lock"))
        stored = [entry.load("result") for entry in entries]
        results = [None if plain is None else train.TrainResult.from_plain(plain, from_cache=True) for plain in stored]
        missing = [index for index, result in enumerate(results) if result is None]
        if missing:
            trained = _run_stacked([configs[index] for index in missing], data, progress)
            for index, result in zip(missing, trained):
                entry = entries[index]
                results[index] = dataclasses.replace(result, key=entry.key)
                entry.save("result", results[index].to_plain())
    return results


def _run_stacked(configs: list, data: DeviceData, progress: bool) -> list[train.TrainResult]:
    device, size = data.device, len(configs)
    first = configs[0]
    nets, initialisations, initial_samples = [], [], []
    for config in configs:  # as train._run: seed, build, sample the initial weights
        torch.manual_seed(config.seed)
        net, initialisation = models.build(config.model, config.activation, config.batch_norm)
        net.to(device=device, dtype=torch.float32)
        nets.append(net)
        initialisations.append(initialisation)
        initial_samples.append(train.sample_weights(net, train.WEIGHT_SAMPLE,
                                                    torch.Generator().manual_seed(config.seed)))
    params, buffers = torch.func.stack_module_state(nets)
    template = copy.deepcopy(nets[0]).to("meta")  # the stateless network vmap calls

    def member_logits(member_params, member_buffers, x):
        return torch.func.functional_call(template, (member_params, member_buffers), (x,))

    stacked_forward = torch.func.vmap(member_logits, in_dims=(0, 0, 0))
    forward = precision.CompiledOrEager(lambda x: stacked_forward(params, buffers, x),
                                        precision.compile_wanted(device))
    leaves = list(params.values())
    optimiser = optimisers.make_optimiser(first.optimiser, leaves, first.lr)
    generators = [torch.Generator(device="cpu").manual_seed(config.seed) for config in configs]
    n = len(data.train_labels)
    steps_per_epoch = math.ceil(n / first.batch_size)
    autocast_dtype = train.FORWARD_DTYPES[first.forward_dtype]
    step_losses, epoch_l1, epoch_share, epoch_seconds = [], [], [], []
    seeds = ", ".join(str(config.seed) for config in configs)
    report = RunProgress(f"{first.describe()} (stacked: seeds {seeds})", first.epochs * steps_per_epoch, 0,
                         first.batch_size * size, None) if progress else None
    with train._deterministic(), train._subnormals_flushed(device), closing(report) if report is not None else nullcontext():
        for epoch in range(first.epochs):
            start = time.perf_counter()
            orders = torch.stack([torch.randperm(n, generator=g) if first.shuffle else torch.arange(n)
                                  for g in generators]).to(device)
            losses = torch.zeros(steps_per_epoch, size, device=device)
            for step in range(steps_per_epoch):
                index = orders[:, step * first.batch_size:(step + 1) * first.batch_size]
                x, y = data.batch(index.reshape(-1))
                x = x.reshape(size, -1, *x.shape[1:])
                with torch.autocast(device.type, dtype=autocast_dtype or torch.float32,
                                    enabled=autocast_dtype is not None):
                    logits = forward(x)
                # each member's mean cross entropy; their sum gives each member's parameters its own gradient
                member_loss = nn.functional.cross_entropy(logits.flatten(0, 1).float(), y, reduction="none")
                member_loss = member_loss.view(size, -1).mean(1)
                optimiser.zero_grad(set_to_none=True)
                member_loss.sum().backward()
                train.add_l1_subgradient_(leaves, first.lambda1)
                optimiser.step()
                losses[step] = member_loss.detach()
                if report is not None:
                    report.step(losses[step].mean())
            losses = losses.cpu()
            if not torch.isfinite(losses).all():
                raise FloatingPointError(f"{first.describe()} (stacked: seeds {seeds}): non-finite loss "
                                         f"in epoch {epoch}")
            step_losses.append(losses)
            epoch_l1.append(_member_l1(leaves))
            epoch_share.append(_member_share(leaves))
            epoch_seconds.append(time.perf_counter() - start)
            if report is not None:
                report.epoch(epoch + 1, first.epochs, float(losses.mean()), float(sum(epoch_l1[-1]) / size),
                             epoch_seconds[-1], n * size)
    step_loss = torch.cat(step_losses)  # steps x members
    steps = first.epochs * steps_per_epoch
    optimiser_steps = train._optimiser_step_count(optimiser, steps)
    results = []
    for member, (config, net) in enumerate(zip(configs, nets)):
        net.load_state_dict({**{k: v[member] for k, v in params.items()}, **{k: v[member] for k, v in buffers.items()}})
        results.append(train.TrainResult(
            config=config, data=data.identity, initialisation=initialisations[member], steps=steps,
            optimiser_steps=optimiser_steps, step_loss=tuple(step_loss[:, member].tolist()),
            epoch_loss=tuple(float(losses[:, member].mean()) for losses in step_losses),
            epoch_l1=tuple(l1[member] for l1 in epoch_l1), epoch_share=tuple(share[member] for share in epoch_share),
            # the group's wall time: what this run cost is a share of it
            epoch_seconds=tuple(epoch_seconds),
            share_below_threshold=train.share_below_threshold(net), final_shares=train.final_shares(net),
            parameters=sum(p.numel() for p in net.parameters()),
            test_accuracy=train.accuracy(net, data), initial_weight_sample=initial_samples[member],
            numerics={**train.numerical_settings(device), "compile": forward.path,
                      "stacked": f"trained with {size} seeds at once (torch.func.vmap)"}))
    return results


def _member_share(leaves: list[torch.Tensor]) -> list[float]:
    # share of |w| < 1e-5 per member, as train.share_below_threshold counts it (every cfg-VGG tensor is a weight or bias)
    small = torch.stack([(p.detach().flatten(1).abs() < train.PAPER_THRESHOLD).sum(1) for p in leaves]).sum(0)
    return (small.double() / sum(p[0].numel() for p in leaves)).tolist()


def _member_l1(leaves: list[torch.Tensor]) -> list[float]:
    # sum |p| per member, as train.weights_l1_norm: float32 norms per tensor, summed in float64
    norms = torch.stack([torch.linalg.vector_norm(p.detach().flatten(1), 1, dim=1) for p in leaves])
    return norms.double().sum(0).tolist()
