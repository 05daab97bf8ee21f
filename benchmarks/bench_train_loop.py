"""The paper's training loop against gdcut's, same model, batch and optimiser; plus a paper-scale cost estimate.

The paper's loop (v1 App. B, v2 App. C), restated: a torchvision-style data set
that turns each image into a PIL image and runs ``ToTensor`` and ``Normalize``
per sample, a ``DataLoader`` that collates batches, and an L1 penalty built each
step as a Python sum of ``abs(param).sum()`` over the parameters, differentiated
by autograd. gdcut's loop (``gdcut.train.training_step``, the step
``gdcut.train.train`` runs) keeps the data on the device as uint8 tensors,
normalises a whole index slice at once, uses the channels-last layout and adds
``lambda1 * sign(p)`` to the gradients in place.

Run:  python benchmarks/bench_train_loop.py [--steps 60] [--batch 32] [--width 16] [--threads 1]
Prints samples/s of each loop and their ratio, then FLOPs per sample
(torch.utils.flop_counter) and the estimated GPU hours of the paper scale.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.utils.flop_counter import FlopCounterMode
from torchvision import transforms

from gdcut import data as gdata, models, scales, train


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


def papers_loop(model, images, labels, batch, lr, lambda1, steps, device):
    loader = torch.utils.data.DataLoader(PerSampleDataset(images, labels), batch_size=batch, shuffle=True,
                                         num_workers=0, drop_last=True)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    criterion = nn.CrossEntropyLoss()
    done, start = 0, None
    while done < steps:
        for inputs, targets in loader:
            if done == 5:  # warm-up steps excluded
                start = time.perf_counter()
            inputs, targets = inputs.to(device), targets.to(device)
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
    _sync(device)
    return (steps - 5) * batch / (time.perf_counter() - start)


def gdcut_loop(model, d: gdata.DeviceData, batch, lr, lambda1, steps, device):
    model.to(memory_format=torch.channels_last)  # as gdcut.train does
    params = list(model.parameters())
    optimizer = train.make_optimiser("sgd", params, lr)
    n = len(d.train_labels)
    order = torch.randperm(n, device=device)
    losses = torch.zeros(steps, device=device)
    start = None
    for step in range(steps):
        if step == 5:
            start = time.perf_counter()
        k = (step * batch) % (n - batch + 1)
        x, y = d.batch(order[k:k + batch])
        losses[step] = train.training_step(model, optimizer, params, x, y, lambda1)
    losses.cpu()
    _sync(device)
    return (steps - 5) * batch / (time.perf_counter() - start)


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


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
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    d = gdata.load(device, train_size=4096, test_size=16)
    images, labels = d.train_images.cpu().numpy(), d.train_labels.cpu().numpy()
    results = {}
    for name in ("paper", "gdcut", "paper", "gdcut"):  # interleaved, best of two, against load drift
        torch.manual_seed(0)
        model = models.build("VGG16", width_divisor=args.width, pretrained=False)[0].to(device)
        if name == "paper":
            rate = papers_loop(model, images, labels, args.batch, 0.003, 0.002, args.steps, device)
        else:
            rate = gdcut_loop(model, d, args.batch, 0.003, 0.002, args.steps, device)
        results[name] = max(results.get(name, 0.0), rate)
    model = models.build("VGG16", width_divisor=args.width, pretrained=False)[0]
    flops = training_flops_per_sample(model)
    report = {
        "device": str(device), "threads": args.threads, "model": f"VGG16/{args.width}", "batch": args.batch,
        "data": d.name, "optimiser": "SGD lr 0.003, lambda1 0.002",
        "samples_per_s": {k: round(v, 1) for k, v in results.items()},
        "ratio_gdcut_over_paper": round(results["gdcut"] / results["paper"], 2),
        "achieved_gflops_gdcut": round(flops * results["gdcut"] / 1e9, 2),
        "assumed_gpu_sustained_tflops": args.sustained_tflops,
        "estimate": paper_scale_estimate(args.sustained_tflops),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
