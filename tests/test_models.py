"""gdcut.models: the appendix cfg networks and torchvision's VGG16 as the paper uses them."""
import pytest
import torch
from torch import nn

from gdcut import models


@pytest.mark.parametrize("name, convs", [("VGG11", 8), ("VGG13", 10), ("VGG19", 16)])
def test_cfg_depth_and_layers(name, convs):
    model = models.SmallVGG(name, "relu", batch_norm=False)
    layers = list(model.modules())
    assert sum(isinstance(m, nn.Conv2d) for m in layers) == convs
    assert sum(isinstance(m, nn.Linear) for m in layers) == 1
    assert not any(isinstance(m, nn.MaxPool2d) for m in layers), "the paper swaps max pooling for average pooling"
    assert sum(isinstance(m, nn.AvgPool2d) and m.kernel_size == 2 for m in layers) == 5
    assert not any(isinstance(m, nn.BatchNorm2d) for m in layers)
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


@pytest.mark.parametrize("activation, kind", [("relu", nn.ReLU), ("gelu", nn.GELU)])
def test_activation_and_batch_norm_switches(activation, kind):
    model = models.SmallVGG("VGG11", activation, batch_norm=True)
    layers = list(model.modules())
    assert sum(isinstance(m, kind) for m in layers) == 8
    assert sum(isinstance(m, nn.BatchNorm2d) for m in layers) == 8
    other = nn.GELU if kind is nn.ReLU else nn.ReLU
    assert not any(isinstance(m, other) for m in layers)


def test_same_seed_same_weights_whatever_the_activation():
    # C5/C6 pair ReLU and GELU runs by seed: the activation has no parameters,
    # so a seed must give both the same initial weights.
    torch.manual_seed(3)
    relu = models.SmallVGG("VGG19", "relu", False).state_dict()
    torch.manual_seed(3)
    gelu = models.SmallVGG("VGG19", "gelu", False).state_dict()
    assert all(torch.equal(relu[k], gelu[k]) for k in relu)


def test_full_vgg16_is_torchvisions(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    model, init = models.build("VGG16")
    assert init == "random init (no weights in hub cache)"
    from torchvision.models import vgg16 as torchvision_vgg16  # seconds to import: not at collection

    reference = torchvision_vgg16(weights=None).state_dict()
    ours = model.state_dict()
    assert list(ours) == list(reference)
    assert all(ours[k].shape == reference[k].shape for k in ours)
    assert sum(p.numel() for p in model.parameters()) == 138_357_544
    assert model.classifier[-1].out_features == 1000  # the paper never replaces the 1000-way head


def test_hub_weights_are_found_only_when_present(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    assert models.hub_vgg16_weights() is None
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / models.VGG16_WEIGHTS_FILE).write_bytes(b"")
    assert models.hub_vgg16_weights() == tmp_path / "checkpoints" / models.VGG16_WEIGHTS_FILE


def test_narrowed_vgg16_keeps_torchvisions_layer_order():
    model, init = models.build("VGG16", width_divisor=16)
    assert "narrowed 16x" in init
    from torchvision.models import vgg16 as torchvision_vgg16

    full = torchvision_vgg16(weights=None)
    kinds = [type(m) for m in model.modules()][1:]
    assert kinds == [type(m) for m in full.modules()][1:]
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 1000)
    # torchvision's init: linear weights N(0, 0.01), biases 0
    weight = model.classifier[0].weight.detach()
    assert abs(float(weight.std()) - 0.01) < 0.001 and float(model.classifier[0].bias.detach().abs().max()) == 0.0


@pytest.mark.parametrize("kwargs, name", [
    (dict(name="VGG12"), "name"),
    (dict(name="VGG11", activation="tanh"), "activation"),
    (dict(name="VGG11", batch_norm=1), "batch_norm"),
    (dict(name="VGG16", width_divisor=0), "width_divisor"),
    (dict(name="VGG16", width_divisor=128), "width_divisor"),
])
def test_build_rejects_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        models.build(**kwargs)
