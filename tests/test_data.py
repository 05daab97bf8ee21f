"""gdcut.data: Fashion-MNIST reader, CIFAR-10 through torchvision on a stand-in, device batches."""

import numpy as np
import pytest
import torch
from PIL import Image

from fixtures.cifar10_standin import patch_md5s, write_cifar10_standin
from gdcut import data

fashion_present = pytest.mark.skipif(
    not (data.FASHION_MNIST_DIR / "train-images-idx3-ubyte.gz").is_file(),
    reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")


def test_normalise_matches_the_papers_transform():
    # App. C: ToTensor() then Normalize((0.5,)*3, (0.5,)*3) on a PIL image.
    rng = np.random.default_rng(0)
    hwc = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
    from torchvision import transforms  # imported here: torchvision costs seconds at collection

    reference = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,) * 3, (0.5,) * 3)])(
        Image.fromarray(hwc))
    ours = data.normalise(torch.from_numpy(hwc.transpose(2, 0, 1).copy())[None])[0]
    assert torch.allclose(ours, reference, atol=1e-6)


def test_grey_images_are_repeated_over_three_channels():
    grey = torch.randint(0, 256, (4, 1, 32, 32), dtype=torch.uint8)
    x = data.normalise(grey)
    assert x.shape == (4, 3, 32, 32)
    assert torch.equal(x[:, 0], x[:, 2])


@fashion_present
def test_fashion_mnist_is_read_and_padded():
    images, labels = data.fashion_mnist_arrays(split="test")
    assert images.shape == (10000, 1, 32, 32) and images.dtype == np.uint8
    assert labels.shape == (10000,) and set(np.unique(labels)) == set(range(10))
    # zero padding: the 2-pixel border is background everywhere
    assert images[:, :, :2].max() == 0 and images[:, :, :, -2:].max() == 0
    assert images[:, :, 2:30, 2:30].max() == 255


@fashion_present
def test_default_source_is_fashion_mnist_subset_on_device():
    d = data.load("cpu", train_size=64, test_size=32)
    assert d.name == "fashion-mnist"
    assert d.train_images.shape == (64, 1, 32, 32) and d.test_labels.shape == (32,)
    x, y = d.batch(torch.arange(8))
    assert x.shape == (8, 3, 32, 32) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert -1.0 <= float(x.min()) and float(x.max()) <= 1.0
    assert d.identity == data.load("cpu", train_size=64, test_size=32).identity
    assert d.identity != data.load("cpu", train_size=65, test_size=32).identity


def test_cifar10_standin_goes_through_torchvision(tmp_path, monkeypatch):
    written = write_cifar10_standin(tmp_path, per_batch=6)
    patch_md5s(monkeypatch, written["md5"])
    d = data.load("cpu", cifar_dir=tmp_path, fashion_mnist_dir=tmp_path / "absent")
    assert d.name == "cifar10"
    assert d.train_images.shape == (30, 3, 32, 32) and d.test_images.shape == (6, 3, 32, 32)
    # torchvision's parser: row of 3072 = R plane, G plane, B plane, each row-major
    first_data, first_labels = written["train"][0]
    assert torch.equal(d.train_images[0], torch.from_numpy(first_data[0].reshape(3, 32, 32)))
    assert d.train_labels[:6].tolist() == first_labels
    assert torch.equal(d.test_images, torch.from_numpy(written["test"][0].reshape(-1, 3, 32, 32)))


def test_cifar10_with_wrong_checksums_is_reported_with_the_fix(tmp_path):
    write_cifar10_standin(tmp_path, per_batch=2)  # real md5s expected: integrity check fails
    with pytest.raises(data.DataUnavailable, match="--gdcut-cifar10"):
        data.load("cpu", cifar_dir=tmp_path)


def test_no_source_says_how_to_get_one(tmp_path):
    with pytest.raises(data.DataUnavailable, match="apt-get install dataset-fashion-mnist"):
        data.load("cpu", fashion_mnist_dir=tmp_path)


def test_read_idx_rejects_other_files(tmp_path):
    import gzip

    path = tmp_path / "bad.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(b"\x00\x00\x0d\x01\x00\x00\x00\x01\x00")
    with pytest.raises(ValueError, match="path"):
        data.read_idx(path)


@pytest.mark.parametrize("kwargs, name", [({"train_size": 0}, "train_size"), ({"test_size": -1}, "test_size"),
                                          ({"allow_download": "yes"}, "allow_download")])
def test_load_rejects_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        data.load("cpu", **kwargs)


@fashion_present
def test_a_carried_fashion_mnist_directory_is_read_and_the_full_set_is_named_in_the_source(tmp_path):
    for pair in data.FASHION_MNIST_FILES.values():  # the four files carried to another folder
        for name in pair:
            (tmp_path / name).symlink_to(data.FASHION_MNIST_DIR / name)
    d = data.load("cpu", fashion_mnist_dir=tmp_path, test_size=8)
    assert d.name == "fashion-mnist" and len(d.train_labels) == 60_000
    assert str(tmp_path) in d.source and "all 60,000 training images in place of CIFAR-10's 50,000" in d.source
    assert "in place of" not in data.load("cpu", fashion_mnist_dir=tmp_path, train_size=8, test_size=8).source


def test_a_fashion_mnist_directory_without_the_four_files_names_the_argument_and_the_missing_files(tmp_path):
    (tmp_path / data.FASHION_MNIST_FILES["train"][0]).write_bytes(b"")
    with pytest.raises(ValueError, match=r"fashion_mnist_dir .*t10k-labels-idx1-ubyte\.gz"):
        data.fashion_mnist_directory(tmp_path)
