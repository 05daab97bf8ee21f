"""The paper's training loop against gdcut's, same model, batch and optimiser; plus a paper-scale cost estimate.

The paper's loop (v1 App. B, v2 App. C), restated: a torchvision-style data set
that turns each image into a PIL image and runs ``ToTensor`` and ``Normalize``
per sample, a ``DataLoader`` that collates batches, and an L1 penalty built each
step as a Python sum of ``abs(param).sum()`` over the parameters, differentiated
by autograd. gdcut's loop (``gdcut.train.training_step``, the step
``gdcut.train.train`` runs) keeps the data on the device as uint8 tensors,
normalises a whole index slice at once, uses the channels-last layout, adds
``lambda1 * sign(p)`` to the gradients in place and, on CUDA, runs the model
through ``torch.compile`` (``gdcut.precision``).

Both loops run at the same precision (``--precision``: the paper's float32 with
cuDNN TF32, or bfloat16 autocast for both) with cuDNN deterministic, as the
paper's code sets it. Time is measured after 5 warm-up steps (which include
the compile), with CUDA events on a GPU and ``perf_counter`` on a CPU.

Run:  python benchmarks/bench_train_loop.py [--steps 60] [--batch 32] [--width 16] [--threads 1]
                                            [--precision paper|bf16] [--json OUT.json]
      on an H100: --batch 512 --width 1 --steps 40 (the measure of issue 11: gdcut >= 5x the paper's loop)
Prints samples/s of each loop and their ratio, then FLOPs per sample
(torch.utils.flop_counter) and the estimated GPU hours of the paper scale.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.utils.flop_counter import FlopCounterMode
from torchvision import transforms

from gdcut import data as gdata, models, optimisers, precision, scales, train

WARM_UP = 5  # steps excluded from the timing: allocator, cuDNN algorithm choice, torch.compile


class PerSampleDataset(torch.utils.data.Dataset):
    """CIFAR10-like: stored HWC uint8 arrays, a PIL image and the transform per item."""

    def __init__(self, images_nchw: np.ndarray, labels: np.ndarray):
        self.images = np.ascontiguousarray(np.repeat(images_nchw, 3 // images_nchw.shape[1], axis=1).transpose(0, 2, 3, 1))
        self.labels = labels
        self.transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,) * 3, (0.5,) * 3)])

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        return self.transform(Image.fromarray(self.images[index])), int(self.labels[index])


class Timer:
    """Seconds between ``start`` and ``stop``: CUDA events on a GPU (no host sync inside), perf_counter on a CPU."""

    def __init__(self, device: torch.device):
        self.cuda = device.type == "cuda"
        if self.cuda:
            self.events = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)

    def start(self):
        if self.cuda:
            self.events[0].record()
        else:
            self.began = time.perf_counter()

    def stop(self) -> float:
        if self.cuda:
            self.events[1].record()
            torch.cuda.synchronize()
            return self.events[0].elapsed_time(self.events[1]) / 1000
        return time.perf_counter() - self.began


def papers_loop(model, images, labels, batch, lr, lambda1, steps, device, autocast_dtype=None):
    loader = torch.utils.data.DataLoader(PerSampleDataset(images, labels), batch_size=batch, shuffle=True,
                                         num_workers=0, drop_last=True)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    criterion = nn.CrossEntropyLoss()
    done, timer = 0, Timer(device)
    while done < steps:
        for inputs, targets in loader:
            if done == WARM_UP:
                timer.start()
            inputs, targets = inputs.to(device), targets.to(device)
            with torch.autocast(device.type, dtype=autocast_dtype or torch.float32, enabled=autocast_dtype is not None):
                loss_ce = criterion(model(inputs), targets)
            l1_penalty = 0
            for param in model.parameters():
                l1_penalty += torch.abs(param).sum()
            loss = loss_ce + lambda1 * l1_penalty
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss.item()  # the paper accumulates loss.item() every step
            done += 1
            if done == steps:
                break
    return (steps - WARM_UP) * batch / timer.stop()


def gdcut_loop(model, d: gdata.DeviceData, batch, lr, lambda1, steps, device, autocast_dtype=None):
    model.to(memory_format=torch.channels_last)  # as gdcut.train does
    forward = precision.CompiledOrEager(model, precision.compile_wanted(device))
    params = list(model.parameters())
    optimiser = optimisers.make_optimiser("sgd", params, lr)
    n = len(d.train_labels)
    order = torch.randperm(n, device=device)
    losses = torch.zeros(steps, device=device)
    timer = Timer(device)
    for step in range(steps):
        if step == WARM_UP:
            timer.start()
        k = (step * batch) % (n - batch + 1)
        x, y = d.batch(order[k:k + batch])
        losses[step] = train.training_step(forward, optimiser, params, x, y, lambda1, autocast_dtype)
    seconds = timer.stop()
    losses.cpu()
    return (steps - WARM_UP) * batch / seconds, forward.path


def training_flops_per_sample(model: nn.Module, batch: int = 2) -> float:
    """Forward + backward FLOPs per 3x32x32 sample, counted by torch's FlopCounterMode."""
    x = torch.zeros(batch, 3, 32, 32)
    with FlopCounterMode(display=False) as counter:
        nn.functional.cross_entropy(model(x), torch.zeros(batch, dtype=torch.long)).backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops() / batch


def paper_scale_estimate(sustained_tflops: float) -> dict:
    """GPU hours of the paper scale from FLOPs: every run of C5/C6, L18 and L19/L20 at 50,000 images per epoch."""
    conv = scales.convergence("paper")
    l1 = scales.l1("paper")
    samples = 50_000
    vgg16_flops = training_flops_per_sample(models.build("VGG16", pretrained=False)[0])
    rows = {"VGG16 (per run, v2: 200 epochs)": vgg16_flops * samples * l1.epochs_v2,
            "VGG16 (per run, v1: 150 epochs)": vgg16_flops * samples * l1.epochs_v1}
    total = vgg16_flops * samples * (6 * l1.epochs_v2 + 2 * l1.epochs_v1)
    for depth in conv.depths:
        for bn in (False, True):
            flops = training_flops_per_sample(models.build(depth, "relu", bn)[0])
            epochs = conv.epochs_with_bn if bn else conv.epochs_without_bn
            total += flops * samples * epochs * 2 * len(conv.seeds)
    rows["all paper-scale runs"] = total
    return {"vgg16_training_gflops_per_sample": vgg16_flops / 1e9,
            "hours": {name: flops / (sustained_tflops * 1e12) / 3600 for name, flops in rows.items()}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--width", type=int, default=16, help="VGG16 width divisor (1 = the real VGG16)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--sustained-tflops", type=float, default=10.0,
                        help="assumed sustained FP32/TF32 training throughput of one GPU for the estimate")
    parser.add_argument("--precision", choices=list(precision.PRECISIONS), default="paper",
                        help="both loops: paper (float32, cuDNN TF32) or bf16 (bfloat16 autocast)")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--fashion-mnist", default=None, help="Fashion-MNIST directory (default: $GDCUT_FASHION_MNIST "
                                                              "or the Debian path)")
    parser.add_argument("--json", default=None, help="also write the report to this file")
    args = parser.parse_args()
    if args.steps <= WARM_UP:
        parser.error(f"--steps must exceed the {WARM_UP} warm-up steps")
    torch.set_num_threads(args.threads)
    device = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device)
    precision.set_kernel_flags()
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False  # as the paper's code
    autocast_dtype = train.FORWARD_DTYPES[precision.forward_dtype(args.precision)]
    fashion = args.fashion_mnist or os.environ.get(gdata.FASHION_MNIST_ENV) or gdata.FASHION_MNIST_DIR
    d = gdata.load(device, train_size=max(4096, 2 * args.batch), test_size=16, fashion_mnist_dir=fashion)
    images, labels = d.train_images.cpu().numpy(), d.train_labels.cpu().numpy()
    results, compile_path = {}, ""
    for name in ("paper", "gdcut", "paper", "gdcut"):  # interleaved, best of two, against load drift
        torch.manual_seed(0)
        model = models.build("VGG16", width_divisor=args.width, pretrained=False)[0].to(device)
        if name == "paper":
            rate = papers_loop(model, images, labels, args.batch, 0.003, 0.002, args.steps, device, autocast_dtype)
        else:
            rate, compile_path = gdcut_loop(model, d, args.batch, 0.003, 0.002, args.steps, device, autocast_dtype)
        results[name] = max(results.get(name, 0.0), rate)
    model = models.build("VGG16", width_divisor=args.width, pretrained=False)[0]
    flops = training_flops_per_sample(model)
    report = {
        "device": str(device) if device.type == "cpu" else f"cuda: {torch.cuda.get_device_name(device)}",
        "threads": args.threads, "model": f"VGG16/{args.width}", "batch": args.batch,
        "precision": precision.describe(args.precision), "gdcut model path": compile_path,
        "timing": f"{'CUDA events' if device.type == 'cuda' else 'perf_counter'} over {args.steps - WARM_UP} steps "
                  f"after {WARM_UP} warm-up steps, best of two",
        "data": d.name, "optimiser": "SGD lr 0.003, lambda1 0.002",
        "samples_per_s": {k: round(v, 1) for k, v in results.items()},
        "ratio_gdcut_over_paper": round(results["gdcut"] / results["paper"], 2),
        "achieved_gflops_gdcut": round(flops * results["gdcut"] / 1e9, 2),
        "assumed_gpu_sustained_tflops": args.sustained_tflops,
        "estimate": paper_scale_estimate(args.sustained_tflops),
    }
    print(json.dumps(report, indent=2))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=2)


if __name__ == "__main__":
    main()
