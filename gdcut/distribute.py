"""Spreading the deep-net training over GPUs (pytest-xdist) and machines (shards): a pytest plugin.

Training runs become test items of their own, so pytest-xdist hands them to
whichever worker is free, and each worker trains on its own GPU: worker
``gwK`` is pinned to GPU ``K mod count``. The claim tests then find every
run in the result cache: ``gdcut.train`` trains a run under a per-run file lock
(``<cache>/<key>.lock``), so a claim test that asks for a run being trained
elsewhere waits for it and reads it, and nothing is trained twice whatever
the scheduling.

Why training items are not claim tests. A passing test linked to a claim
counts for its verdict (``gdcut.ledger.verdict``), so a training item must not
carry a claim marker, and nothing in ``claims/`` may lack one (the plugin makes
that a collection error). The items are therefore made by this plugin from
the scale presets (``gdcut.program``), outside ``claims/``, with node IDs
under ``gdcut-training::``. The ledger only records tests linked to claims,
by marker or by source, so it never sees them; a training item that fails
fails the pytest run, and the claim test that needed its run retrains it and
fails or decides on its own.

Training items are added only when the work is spread (``-n N`` or
``--gdcut-shard``) and no ``--claim`` filter is given; a serial run trains
inside the claim tests, as before. ``--gdcut-shard K/N`` keeps a
deterministic share of all selected items: the K-th of every N training jobs
(longest first) and of every N other tests (by node ID). With a cache on a
shared filesystem every machine runs its own shard and ``gdcut-ledger merge``
joins the ledgers.
"""
from __future__ import annotations

import re

import pytest

from gdcut import validation

TRAINING_PREFIX = "gdcut-training"
_data_cache: dict = {}


def gpu_for_worker(worker_id: str, device_count: int) -> int:
    """The GPU index of pytest-xdist worker ``gwK``: ``K mod device_count``."""
    match = re.fullmatch(r"gw(\d+)", worker_id) if isinstance(worker_id, str) else None
    if match is None:
        raise ValueError(f"worker_id must be a pytest-xdist worker name like 'gw3', got {worker_id!r}")
    validation.positive_int("device_count", device_count)
    return int(match.group(1)) % device_count


def parse_shard(text: str) -> tuple[int, int]:
    """``"K/N"`` as (K, N) with 1 <= K <= N; ValueError naming --gdcut-shard otherwise."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"--gdcut-shard must be K/N (shard K of N, 1 <= K <= N), got {text!r}")
    k, n = int(match.group(1)), int(match.group(2))
    if not 1 <= k <= n:
        raise ValueError(f"--gdcut-shard must be K/N with 1 <= K <= N, got {text!r}")
    return k, n


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("gdcut").addoption(
        "--gdcut-shard", metavar="K/N", default=None,
        help="run shard K of N: a deterministic share of the training items and tests (many machines, one "
             "shared --gdcut-cache; join the ledgers with gdcut-ledger merge)")


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """``-n N`` without ``--dist`` schedules by ``loadgroup`` rather than xdist's ``load``.

    Claim tests that share a cached computation (the C1 runs, the E3 Huber runs, ...) carry
    ``@pytest.mark.xdist_group``: one worker runs the group and computes the shared runs once,
    instead of every worker that draws one of its tests. Ungrouped tests are spread as by
    ``load``; an explicit ``--dist`` is kept. Runs before xdist's own hook (conftest plugins
    come later in registration, so first in the call order).
    """
    if getattr(config.option, "numprocesses", None) and getattr(config.option, "dist", "no") == "no":
        config.option.dist = "loadgroup"


def pytest_configure(config: pytest.Config) -> None:
    shard = config.getoption("--gdcut-shard")
    if shard is not None:
        try:
            parse_shard(shard)
        except ValueError as error:
            raise pytest.UsageError(str(error)) from None
    config.addinivalue_line("markers", "gdcut_training: a training run of the deep-net claims (gdcut.distribute); "
                                       "not a claim test, never counted in a verdict")
    if not config.pluginmanager.hasplugin("xdist"):  # -p no:xdist: the claims' groups are still valid markers
        config.addinivalue_line("markers", "xdist_group(name): tests pytest-xdist runs on one worker (gdcut.distribute)")
    if hasattr(config, "workerinput"):
        import torch

        if torch.cuda.is_available():
            torch.cuda.set_device(gpu_for_worker(config.workerinput["workerid"], torch.cuda.device_count()))


class TrainingRun(pytest.Item):
    """One ``gdcut.program.Job``: a VGG16 run, an App. C chain, or the seeds of a C5/C6 cell."""

    def __init__(self, *, job, **kwargs):
        super().__init__(**kwargs)
        self.job = job
        self.add_marker("gpu")
        self.add_marker("gdcut_training")

    def runtest(self) -> None:
        from gdcut import data as gdata
        from gdcut import train
        from gdcut.ledger.plugin import settings_from_config

        settings = settings_from_config(self.config)
        train.share_cpu_between_workers(settings.device)
        key = (str(settings.device), self.job.sizes)
        if key not in _data_cache:  # one copy of each data set per worker, on its GPU
            try:
                _data_cache[key] = gdata.for_run(settings, *self.job.sizes)
            except gdata.DataUnavailable as missing:
                pytest.skip(f"not run: {missing}")
        self.job.run(_data_cache[key], settings.cache_dir, progress=True)

    def reportinfo(self):
        return self.path, None, f"{TRAINING_PREFIX}::{self.name}"


def _training_items(session: pytest.Session, items: list[pytest.Item]) -> list[TrainingRun]:
    from gdcut import program
    from gdcut.ledger.plugin import settings_from_config

    modules = {item.nodeid.split("::")[0] for item in items} & {program.CONVERGENCE_MODULE, program.L1_MODULE}
    if not modules:
        return []
    settings = settings_from_config(session.config)
    jobs = program.jobs(settings.scale, settings.precision, modules, stack=settings.device.type == "cuda")
    return [TrainingRun.from_parent(session, name=job.name, nodeid=f"{TRAINING_PREFIX}::{job.name}", job=job)
            for job in jobs]


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]):
    # Before the other hooks: add the training items, so -m and -k select them like any test.
    # an xdist worker (whose -n xdist resets to None), the controller of -n N, or a shard
    spread = (hasattr(config, "workerinput") or getattr(config.option, "numprocesses", None)
              or config.getoption("--gdcut-shard"))
    if spread and not config.getoption("--claim"):
        items[:0] = _training_items(session, items)
    yield
    # After them: keep this shard's share of what is left.
    shard = config.getoption("--gdcut-shard")
    if shard is None:
        return
    k, n = parse_shard(shard)
    training = [item for item in items if isinstance(item, TrainingRun)]
    others = sorted((item for item in items if not isinstance(item, TrainingRun)), key=lambda item: item.nodeid)
    keep = set(training[k - 1::n]) | set(others[k - 1::n])
    dropped = [item for item in items if item not in keep]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item in keep]
