"""The paper's deep networks.

Two families:

* the small VGG networks of the convergence experiments (v1 App. A, v2 App. A.1):
  kuangliu's pytorch-cifar ``vgg.py`` with the paper's three changes (batch norm
  optional, average pooling in place of max pooling, the narrow 16-64 channel
  cfg below), with the activation as a switch (ReLU or GELU);
* torchvision's VGG16 for the L1 experiments (v1 App. B, v2 App. C), used as the
  paper's code uses it: ``models.vgg16`` with its 1000-way classifier, which the
  paper never replaces although CIFAR-10 has 10 classes.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from gdcut import validation

# v1 App. A / v2 App. A.1, verbatim ('M' marks a pooling layer; the paper turns
# kuangliu's max pooling into average pooling so every layer but the
# activation is differentiable).
CFG: dict[str, list] = {
    "VGG11": [16, "M", 32, "M", 32, 32, "M", 64, 64, "M", 64, 64, "M"],
    "VGG13": [16, 16, "M", 32, 32, "M", 32, 32, "M", 64, 64, "M", 64, 64, "M"],
    "VGG19": [16, 16, "M", 32, 32, "M", 32, 32, 32, 32, "M", 64, 64, 64, 64, "M", 64, 64, 64, 64, "M"],
}

ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU}

VGG16_WEIGHTS_FILE = "vgg16-397923af.pth"  # what torchvision's IMAGENET1K_V1 weights are saved as


class SmallVGG(nn.Module):
    """kuangliu's CIFAR VGG with the paper's modifications (v2 App. A.1).

    Five pooling stages bring a 3x32x32 input to 64x1x1, so the classifier is
    one linear layer from the last cfg width to ``num_classes``.
    """

    def __init__(self, cfg_name: str, activation: str, batch_norm: bool, num_classes: int = 10):
        super().__init__()
        validation.one_of("cfg_name", cfg_name, CFG)
        validation.one_of("activation", activation, ACTIVATIONS)
        validation.boolean("batch_norm", batch_norm)
        validation.positive_int("num_classes", num_classes)
        self.features = conv_layers(CFG[cfg_name], activation, batch_norm)
        widths = [entry for entry in CFG[cfg_name] if entry != "M"]
        self.classifier = nn.Linear(widths[-1], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


def conv_layers(cfg: list, activation: str, batch_norm: bool, in_channels: int = 3) -> nn.Sequential:
    """kuangliu's ``_make_layers``: 3x3 convolutions, optional BN, activation, 2x2 average pools."""
    validation.one_of("activation", activation, ACTIVATIONS)
    validation.boolean("batch_norm", batch_norm)
    validation.positive_int("in_channels", in_channels)
    layers: list[nn.Module] = []
    for entry in cfg:
        if entry == "M":
            layers.append(nn.AvgPool2d(kernel_size=2, stride=2))
            continue
        validation.positive_int("cfg entry", entry)
        layers.append(nn.Conv2d(in_channels, entry, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(entry))
        layers.append(ACTIVATIONS[activation]())
        in_channels = entry
    # kuangliu ends the feature stack with a 1x1 average pool (an identity); kept
    # so the layer list matches the code the paper started from.
    layers.append(nn.AvgPool2d(kernel_size=1, stride=1))
    return nn.Sequential(*layers)


def hub_vgg16_weights() -> Path | None:
    """Path of torchvision's pretrained VGG16 weights in the local torch hub cache, or None.

    Never downloads: the suite runs offline and records which initialisation it got.
    """
    candidate = Path(torch.hub.get_dir()) / "checkpoints" / VGG16_WEIGHTS_FILE
    return candidate if candidate.is_file() else None


def vgg16(width_divisor: int = 1, pretrained: bool = True) -> tuple[nn.Module, str]:
    """torchvision VGG16 as the paper's App. C uses it, and the initialisation it got.

    ``width_divisor`` > 1 builds the same torchvision ``VGG`` class (same layer
    order, max pooling, adaptive 7x7 average pool, dropout, 1000-way output) with
    every convolution and hidden linear layer ``width_divisor`` times narrower, so
    the CPU smoke scale can run it; pretrained weights exist only for the full
    width. Returns ``(model, initialisation)`` where ``initialisation`` is
    ``"pretrained (hub cache)"`` or ``"random init (...)"`` for the ledger.
    """
    validation.positive_int("width_divisor", width_divisor)
    validation.boolean("pretrained", pretrained)
    # imported here: torchvision pulls in torch._dynamo (seconds), which only this builder needs
    from torchvision.models import vgg as tv_vgg

    if width_divisor == 1:
        model = tv_vgg.vgg16(weights=None)
        weights = hub_vgg16_weights() if pretrained else None
        if weights is not None:
            model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
            return model, "pretrained (hub cache)"
        reason = "no weights in hub cache" if pretrained else "pretrained weights not requested"
        return model, f"random init ({reason})"
    cfg = [entry if entry == "M" else entry // width_divisor for entry in tv_vgg.cfgs["D"]]  # torchvision's own VGG16 layers
    if any(entry == 0 for entry in cfg):
        raise ValueError(f"width_divisor must leave every layer at least one channel, got {width_divisor}")
    model = tv_vgg.VGG(tv_vgg.make_layers(cfg, batch_norm=False), num_classes=1000, init_weights=False)
    hidden = 4096 // width_divisor
    model.classifier = nn.Sequential(
        nn.Linear(cfg[-2] * 7 * 7, hidden), nn.ReLU(True), nn.Dropout(p=0.5),
        nn.Linear(hidden, hidden), nn.ReLU(True), nn.Dropout(p=0.5),
        nn.Linear(hidden, 1000),
    )
    _torchvision_vgg_init(model)
    return model, f"random init (VGG16 narrowed {width_divisor}x: no pretrained weights exist for it)"


def _torchvision_vgg_init(model: nn.Module) -> None:
    """The initialisation torchvision's ``VGG.__init__`` applies, run after the classifier swap."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            nn.init.constant_(module.bias, 0)
        elif isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, 0, 0.01)
            nn.init.constant_(module.bias, 0)


def build(name: str, activation: str = "relu", batch_norm: bool = False, width_divisor: int = 1,
          pretrained: bool = True) -> tuple[nn.Module, str]:
    """One entry point for every network of the paper: ``(model, initialisation)``.

    ``name`` is a key of ``CFG`` (then ``activation`` and ``batch_norm`` apply) or
    ``"VGG16"`` (then ``width_divisor`` and ``pretrained`` apply).
    """
    validation.one_of("name", name, [*CFG, "VGG16"])
    validation.one_of("activation", activation, ACTIVATIONS)
    validation.boolean("batch_norm", batch_norm)
    validation.positive_int("width_divisor", width_divisor)
    validation.boolean("pretrained", pretrained)
    if name == "VGG16":
        return vgg16(width_divisor=width_divisor, pretrained=pretrained)
    return SmallVGG(name, activation, batch_norm), "random init (PyTorch layer defaults, as kuangliu)"
