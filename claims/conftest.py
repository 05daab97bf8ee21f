"""Fixtures shared by the claims modules."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def dataset(run_settings, preset):
    """The deep-net data set on the training device, sized by the module's ``preset``.

    Without CIFAR-10 or Fashion-MNIST the claim is not run, with the reason and the fix.
    """
    # imported here: collecting the analytic claims must not pull in torch and torchvision
    from gdcut import data as gdata
    from gdcut import train

    train.share_cpu_between_workers(run_settings.device)
    try:
        return gdata.for_run(run_settings, preset.train_size, preset.test_size)
    except gdata.DataUnavailable as missing:
        pytest.skip(f"not run: {missing}")
