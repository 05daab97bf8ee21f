"""The paper's scale rehearsed on a CPU: the code path of the first GPU run, a few steps of it.

``pytest -m rehearsal`` (which ``scripts/test`` runs on its own after the claims;
minutes on a 2-core CPU, measured in docs/deep-nets.md) takes every piece a paper-scale
run uses at the paper's sizes: full-width torchvision VGG16 with its 1000-way
head at batch 512 (v1 App. B, v2 App. C), the forward in float32
(``--gdcut-precision=paper``) and in bfloat16 autocast (``bf16``; at batch 16 on
a CPU that only emulates bfloat16), ``torch.compile`` with inductor and the
eager fallback (its build of the full network, on 16 images), App. C's
optimiser hand-off from λ1 = 2 to λ1 = 0.002 with a checkpoint, a kill and a
resume (the paper's configs on 16 images: the weights, Adam state and
checkpoint of the full run), and the stacked cfg-VGG groups of C5/C6 at the
paper scale's batch.
Whatever would trip the first GPU run (shapes, dtypes, optimiser state, paths,
a checkpoint too large for the disk) fails here first. It prints peak memory
and projects it onto one GPU.
"""
from __future__ import annotations

import dataclasses
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from gdcut import data, models, optimisers, precision, scales, stacked, train

pytestmark = pytest.mark.rehearsal

ROOT = Path(__file__).resolve().parents[1]
#: The first GPU this project may be lent (the device tool's description), for the memory projection.
GPU_MEMORY_GIB = 139
STEPS_PER_EPOCH = 1  # one batch of 512 per epoch: a few steps are all a CPU can afford at full width
#: Images per step where the batch's size is not what is rehearsed (the compiler, App. C's hand-off, the
#: checkpoint): the paper's config (batch 512) on this many images, one step an epoch, the same tensors and state.
SMALL_BATCH = 16


@pytest.fixture(scope="module", autouse=True)
def selected(request):
    if "rehearsal" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("the rehearsal runs only when selected: pytest -m rehearsal (minutes on a CPU; scripts/test runs it)")


def rehearsal_data(train_size: int) -> data.DeviceData:
    try:
        return data.load("cpu", train_size=train_size, test_size=64)
    except data.DataUnavailable as error:
        pytest.skip(f"no data set for the rehearsal: {error}")


@pytest.fixture(scope="module")
def paper_batch_data():
    return rehearsal_data(scales.l1("paper").batch_size * STEPS_PER_EPOCH)


@pytest.fixture(scope="module")
def small_batch_data():
    return rehearsal_data(SMALL_BATCH)


def peak_gib() -> float:
    """This process's peak resident memory so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def report(what: str, seconds: float, extra: str = "") -> None:
    print(f"\nrehearsal: {what}: {seconds:.1f} s, peak memory {peak_gib():.2f} GiB{extra}", flush=True)


def paper_config(**changes) -> train.TrainConfig:
    """The paper scale's v2 Adam run (App. C) at the rehearsal's length."""
    return dataclasses.replace(scales.l1_config("paper", "v2", "adam", 2.0), epochs=1, **changes)


def one_step(model, forward, x, y, autocast_dtype=None) -> float:
    params = [p for p in model.parameters()]
    optimiser = optimisers.make_optimiser("adam", params, 0.003)
    loss = train.training_step(forward, optimiser, params, x, y, 2.0, autocast_dtype)
    assert torch.isfinite(loss) and all(p.dtype == torch.float32 for p in params)
    assert all(s["exp_avg"].dtype == torch.float32 for s in optimiser.state.values())
    return float(loss)


@pytest.fixture(scope="module")
def full_vgg16():
    torch.manual_seed(42)
    model, initialisation = models.build("VGG16", width_divisor=1, pretrained=True)
    model.to(memory_format=torch.channels_last)
    assert model.classifier[-1].out_features == 1000  # the paper keeps the 1000-way head
    from torchvision.models import vgg16

    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in vgg16().parameters())
    return model


#: A CPU without native bfloat16 (AVX2: no AVX512-BF16 or AMX) emulates it, minutes per batch of 512; there the
#: bf16 step takes this many images, which rehearses the dtypes, not the memory of the full batch.
EMULATED_BF16_BATCH = 16


@pytest.mark.parametrize("precision_name", precision.PRECISIONS)
def test_full_vgg16_steps_at_batch_512_in_each_precision(full_vgg16, paper_batch_data, precision_name):
    autocast = train.FORWARD_DTYPES[precision.forward_dtype(precision_name)]
    batch = scales.l1("paper").batch_size
    if autocast is torch.bfloat16 and torch.backends.cpu.get_cpu_capability() in ("DEFAULT", "AVX2"):
        batch = EMULATED_BF16_BATCH
    x, y = paper_batch_data.batch(torch.arange(batch))
    start = time.perf_counter()
    one_step(full_vgg16, full_vgg16, x, y, autocast)
    report(f"VGG16 full width, batch {batch}, --gdcut-precision={precision_name}, eager", time.perf_counter() - start)


def test_torch_compile_with_inductor_and_its_eager_fallback(full_vgg16, small_batch_data, monkeypatch):
    # the batch of 512 is rehearsed eagerly above; here what is rehearsed is inductor's build of the full network
    x, y = small_batch_data.batch(torch.arange(SMALL_BATCH))
    start = time.perf_counter()
    compiled = precision.CompiledOrEager(full_vgg16, wanted=True)
    one_step(full_vgg16, compiled, x, y)
    report(f"VGG16 full width through {compiled.path}, compile and one step of {SMALL_BATCH} images",
           time.perf_counter() - start)
    assert compiled.path == "torch.compile", compiled.path  # inductor compiled it on this CPU

    def refuse(*args, **kwargs):
        raise RuntimeError("rehearsed compile failure")

    monkeypatch.setattr(torch, "compile", refuse)
    with pytest.warns(UserWarning, match="torch.compile failed"):
        fallback = precision.CompiledOrEager(full_vgg16, wanted=True)
    assert fallback.path.startswith("eager (torch.compile failed: RuntimeError")
    assert fallback(x[:2]).shape == (2, 1000)


def test_app_c_hand_off_survives_a_kill_and_resumes_from_its_checkpoint(small_batch_data, tmp_path):
    """λ1 = 2 keeps its Adam state; the λ1 = 0.002 run starts from it, is killed after its first epoch's
    checkpoint, and resumes from that checkpoint in a new process. The paper's configs (batch 512) on
    ``SMALL_BATCH`` images: the weights, the Adam state and the checkpoint are those of the full run."""
    cache = tmp_path / "cache"
    after = dataclasses.replace(scales.l1_config("paper", "v2", "adam", 0.002, procedure="app-c"), epochs=2,
                                optimiser_state_from=paper_config())
    key = train.cache_key(after, small_batch_data)
    script = (f"import torch; torch.set_num_threads({torch.get_num_threads()}); "
              "from gdcut import data, scales, train; import dataclasses; "
              f"d = data.load('cpu', train_size={len(small_batch_data.train_labels)}, test_size=64); "
              f"after = train.TrainConfig.from_dict({dataclasses.asdict(after)!r}); "
              f"train.train(after, d, {str(cache)!r}, checkpoint_every=1)")
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    checkpoint = cache / f"{key}.checkpoint.pt"
    while not checkpoint.exists() and child.poll() is None:
        time.sleep(1)
    child.kill()
    child.wait()
    assert checkpoint.exists(), "the killed run left no checkpoint"
    size = checkpoint.stat().st_size
    free = shutil.disk_usage(cache).free
    assert free > 3 * size, f"a {size / 2**30:.2f} GiB checkpoint leaves too little of {free / 2**30:.1f} GiB free"
    handed = [p for p in cache.glob("*.optimiser.pt")]
    assert len(handed) == 1, "the λ1 = 2 run kept no optimiser state for App. C's hand-off"
    saved = torch.load(checkpoint, weights_only=True)
    assert saved["state"]["epoch"] == 1
    result = train.train(after, small_batch_data, cache, checkpoint_every=1)
    assert not result.from_cache and result.steps == 2 * STEPS_PER_EPOCH
    assert result.epoch_seconds[0] == saved["state"]["epoch_seconds"][0]  # epoch 1 came from the checkpoint
    assert result.optimiser_steps == 3 * STEPS_PER_EPOCH  # the λ1 = 2 run's step, then two of its own
    report(f"App. C hand-off, kill and resume (3 steps of {SMALL_BATCH} images)", time.perf_counter() - start,
           f", checkpoint {size / 2**30:.2f} GiB, optimiser state {handed[0].stat().st_size / 2**30:.2f} GiB, "
           f"{free / 2**30:.0f} GiB free")


def test_stacked_cfg_vgg_groups_at_the_paper_scales_batch(paper_batch_data):
    preset = scales.convergence("paper")
    configs = [dataclasses.replace(scales.convergence_config("paper", preset.depths[-1], "gelu", False, seed), epochs=1)
               for seed in preset.seeds]
    start = time.perf_counter()
    results = stacked.train_group(configs, paper_batch_data)
    steps = -(-len(paper_batch_data.train_labels) // preset.batch_size)
    assert [r.steps for r in results] == [steps] * len(configs)
    assert all(len(r.step_loss) == steps and all(map(torch.isfinite, torch.tensor(r.step_loss))) for r in results)
    report(f"stacked {preset.depths[-1]} group of {len(configs)} seeds at batch {preset.batch_size}",
           time.perf_counter() - start)


def test_peak_memory_projected_onto_one_gpu(full_vgg16):
    """The process's peak so far (every step above, when run in file order) against one GPU's memory."""
    params = sum(p.numel() for p in full_vgg16.parameters())
    state = 4 * params * 4 / 2**30  # weights, gradients and Adam's two moments, float32
    peak = peak_gib()
    print(f"\nrehearsal: peak resident memory {peak:.2f} GiB on the CPU; weights, gradients and Adam state "
          f"{state:.2f} GiB; projected onto one GPU: at most {peak:.1f} GiB of its {GPU_MEMORY_GIB} GiB "
          "(activations and optimiser state are the same tensors there)", flush=True)
    assert peak < GPU_MEMORY_GIB
