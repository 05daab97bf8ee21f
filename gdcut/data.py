"""Image data for the deep-network experiments, held whole on the training device.

The paper trains on CIFAR-10 (v2 §4, App. C; v1 App. B) with the transform
``ToTensor`` then ``Normalize((0.5,)*3, (0.5,)*3)``. Here a data set is loaded
once into uint8 tensors on the device, and a batch is an index slice normalised
on the fly to the same values that transform gives (x/255 - 0.5)/0.5, with no
per-sample Python work (the approach of airbench).

Sources, in order of preference:

1. CIFAR-10 through ``torchvision.datasets.CIFAR10`` from a directory the user
   names (``--gdcut-cifar10=DIR`` or ``GDCUT_CIFAR10``);
2. CIFAR-10 downloaded by torchvision, only when the user allows it
   (``--gdcut-allow-download``);
3. real Fashion-MNIST, from a directory the user names
   (``--gdcut-fashion-mnist=DIR`` or ``GDCUT_FASHION_MNIST``: the four files,
   30 MB, can be carried to a machine without network) or else from the
   Debian package ``dataset-fashion-mnist``; zero-padded from 28x28 to 32x32
   and repeated over three channels so it has the 3x32x32 shape the models
   expect. At the paper scale it is the whole 60,000-image training set, run
   for the paper's epochs, and the data source in the ledger says so.
"""
from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gdcut import validation

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_ENV = "GDCUT_FASHION_MNIST"
FASHION_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
IMAGE_SIZE = 32
NUM_CLASSES = 10


class DataUnavailable(RuntimeError):
    """No data set could be loaded; the message says why and how to provide one."""


@dataclass(frozen=True)
class DeviceData:
    """A labelled image data set as uint8 tensors on one device.

    ``train_images`` is N x C x 32 x 32 uint8 with C = 3 (CIFAR-10) or 1
    (Fashion-MNIST, expanded to three channels per batch, which costs a view).
    ``identity`` names the source, split sizes and a digest of the bytes, so a
    cache key changes when the data do.
    """

    name: str
    source: str
    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    identity: str

    @property
    def device(self) -> torch.device:
        return self.train_images.device

    def batch(self, indices: torch.Tensor, train: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """Images (float32, normalised as the paper's transform, 3 channels) and labels at ``indices``."""
        images = self.train_images if train else self.test_images
        labels = self.train_labels if train else self.test_labels
        return normalise(images[indices]), labels[indices]


def normalise(images: torch.Tensor) -> torch.Tensor:
    """uint8 images to ``Normalize(0.5, 0.5)(ToTensor()(img))``, repeated to 3 channels if grey."""
    x = images.to(torch.float32).div_(255.0).sub_(0.5).div_(0.5)
    return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (the MNIST/Fashion-MNIST format), gzip-compressed, as a uint8 array."""
    if not Path(path).is_file():
        raise ValueError(f"path {path} is not a file")
    try:
        with gzip.open(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError) as error:
        raise ValueError(f"path {path} is not a readable gzip file ({error})") from error
    if raw[:2] != b"\x00\x00" or raw[2] != 0x08:
        raise ValueError(f"path {path} is not an unsigned-byte IDX file")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"path {path} holds {data.size} bytes of data, header says {shape}")
    return data.reshape(shape)


def fashion_mnist_directory(fashion_mnist_dir: Path | str) -> Path:
    """``fashion_mnist_dir`` if it holds the four Fashion-MNIST files, else a ValueError naming what is missing."""
    if not isinstance(fashion_mnist_dir, (str, Path)):
        raise ValueError(f"fashion_mnist_dir must be a directory path, got {fashion_mnist_dir!r}")
    directory = Path(fashion_mnist_dir).expanduser()
    missing = [name for pair in FASHION_MNIST_FILES.values() for name in pair if not (directory / name).is_file()]
    if missing:
        raise ValueError(f"fashion_mnist_dir {directory} lacks the Fashion-MNIST files {missing} "
                         f"(it needs all four: {', '.join(n for pair in FASHION_MNIST_FILES.values() for n in pair)})")
    return directory


def fashion_mnist_arrays(directory: Path = FASHION_MNIST_DIR, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST images (N x 1 x 32 x 32, zero-padded) and labels from the Debian package files."""
    validation.one_of("split", split, FASHION_MNIST_FILES)
    directory = validation.directory("directory", directory)
    image_file, label_file = FASHION_MNIST_FILES[split]
    images = read_idx(Path(directory) / image_file)
    labels = read_idx(Path(directory) / label_file)
    if images.shape[1:] != (28, 28) or len(labels) != len(images):
        raise ValueError(f"directory {directory} does not hold Fashion-MNIST {split} data (shape {images.shape})")
    pad = (IMAGE_SIZE - 28) // 2  # the background is 0, so zero padding extends it
    padded = np.pad(images, ((0, 0), (pad, pad), (pad, pad)))
    return padded[:, None], labels.astype(np.int64)


def cifar10_arrays(root: Path, split: str = "train", download: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10 images (N x 3 x 32 x 32) and labels, parsed by ``torchvision.datasets.CIFAR10``."""
    from torchvision.datasets import CIFAR10

    validation.one_of("split", split, ["train", "test"])
    validation.boolean("download", download)
    if not download:
        root = validation.directory("root", root)
    dataset = CIFAR10(root=str(root), train=split == "train", download=download)
    return np.ascontiguousarray(dataset.data.transpose(0, 3, 1, 2)), np.asarray(dataset.targets, dtype=np.int64)


def _subset(images: np.ndarray, labels: np.ndarray, size: int | None, name: str) -> tuple[np.ndarray, np.ndarray]:
    # The first ``size`` examples: a fixed subset, the same for every seed, so
    # seeds vary initialisation and batch order only.
    if size is None:
        return images, labels
    if size > len(images):
        raise ValueError(f"{name} {size} exceeds the {len(images)} examples available")
    return images[:size], labels[:size]


def load(device: torch.device | str = "cpu", cifar_dir: Path | str | None = None, allow_download: bool = False,
         download_root: Path | str | None = None, train_size: int | None = None, test_size: int | None = None,
         fashion_mnist_dir: Path | str = FASHION_MNIST_DIR) -> DeviceData:
    """The deep-net data set, as the module docstring orders the sources, on ``device``.

    ``train_size``/``test_size`` keep the first examples of each split (None: all).
    Raises ``DataUnavailable`` with the fix when no source is present.
    """
    for name, size in (("train_size", train_size), ("test_size", test_size)):
        if size is not None:
            validation.positive_int(name, size)
    validation.boolean("allow_download", allow_download)
    device = torch.device(device)
    if cifar_dir is not None or allow_download:
        root = Path(cifar_dir if cifar_dir is not None else download_root or ".")
        try:
            train = cifar10_arrays(root, "train", download=allow_download)
            test = cifar10_arrays(root, "test", download=False)
        except (RuntimeError, ValueError) as error:  # no such directory, or torchvision: missing/corrupted files
            raise DataUnavailable(
                f"cifar_dir: CIFAR-10 not usable under {root} ({error}); pass --gdcut-cifar10=DIR pointing at the "
                "folder that holds cifar-10-batches-py, or --gdcut-allow-download") from error
        name, source = "cifar10", f"CIFAR-10 (torchvision.datasets.CIFAR10, root {root})"
    else:
        try:
            directory = fashion_mnist_directory(fashion_mnist_dir)
        except ValueError as error:
            raise DataUnavailable(
                f"no data set: no CIFAR-10 given and {error}; apt-get install dataset-fashion-mnist, or pass "
                f"--gdcut-fashion-mnist=DIR (or set {FASHION_MNIST_ENV}), or --gdcut-cifar10=DIR (or set "
                "GDCUT_CIFAR10), or allow a download with --gdcut-allow-download") from error
        train = fashion_mnist_arrays(directory, "train")
        test = fashion_mnist_arrays(directory, "test")
        name = "fashion-mnist"
        source = f"Fashion-MNIST ({directory}), 28x28 zero-padded to 32x32, grey repeated over 3 channels"
        if train_size is None:  # the paper scale: every image, since the paper's epochs are over its whole set
            source += (f", all {len(train[1]):,} training images in place of CIFAR-10's 50,000, for the paper's "
                       "epochs (no CIFAR-10 given)")
    train = _subset(*train, train_size, "train_size")
    test = _subset(*test, test_size, "test_size")
    digest = hashlib.sha256()
    for array in (*train, *test):
        digest.update(np.ascontiguousarray(array).tobytes())
    identity = f"{name}:train={len(train[1])}:test={len(test[1])}:sha256={digest.hexdigest()[:16]}"
    tensors = [torch.from_numpy(np.ascontiguousarray(a)).to(device) for a in (*train, *test)]
    return DeviceData(name, source, *tensors, identity=identity)


def for_run(settings, train_size: int | None, test_size: int | None) -> DeviceData:
    """The data set the plugin's ``run_settings`` select, on its device (raises ``DataUnavailable``).

    A download, when allowed, goes into the named CIFAR-10 directory or else
    ``<cache_dir>/cifar10``.
    """
    return load(settings.device, cifar_dir=settings.cifar_dir, allow_download=settings.allow_download,
                download_root=Path(settings.cache_dir) / "cifar10", train_size=train_size, test_size=test_size,
                fashion_mnist_dir=settings.fashion_mnist_dir)
