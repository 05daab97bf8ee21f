"""The paper's deep-net program as a list of training jobs, to spread over GPUs and machines.

Every run the claim tests of ``claims/test_deep_convergence.py`` (C5/C6, v1
Fig. 2, v2 Fig. 2) and ``claims/test_deep_l1.py`` (L18-L20, v1 §3 App. B, v2
§4 App. C) ask ``gdcut.train.train`` for is trained by exactly one job here,
with the same ``TrainConfig``, ``keep_optimiser_state`` and ``keep_final_state``, so the
claim tests find it in the cache (tests/test_program.py checks the two lists
agree). A job is:

* one VGG16 run;
* an App. C chain: the λ1 = 2 run that keeps its RMSProp/Adam state, then the
  λ1 = 0.002 run that starts from it (one job, so no GPU waits for another);
* the five seeds of a C5/C6 cell (depth, activation, batch norm): stacked
  (``gdcut.stacked``) on CUDA, where one small network leaves the GPU idle;
  one job per seed on a CPU, where stacking buys nothing and separate runs keep
  the smoke-scale results bit-identical to a serial run.

Jobs are listed longest first, so a round-robin split over GPUs or shards
starts the long ones first.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gdcut import precision, scales, validation

CONVERGENCE_MODULE = "claims/test_deep_convergence.py"
L1_MODULE = "claims/test_deep_l1.py"


@dataclass(frozen=True)
class Job:
    """Runs trained together by one training item; ``sizes`` are the data set's (train, test) sizes."""

    name: str
    configs: tuple  # TrainConfig; several only for a stacked group
    sizes: tuple[int | None, int | None]
    keep_optimiser_state: bool = False
    checkpoint_every: int = 1
    keep_final_state: bool = False

    def run(self, data, cache_dir: Path, progress: bool) -> list:
        """Train (or read from the cache) this job's runs: their ``train.TrainResult``, in ``configs`` order."""
        from gdcut import stacked, train

        if len(self.configs) > 1:
            return stacked.train_group(list(self.configs), data, cache_dir, progress=progress)
        source = self.configs[0].optimiser_state_from
        if source is not None:  # an App. C chain: its λ1 = 2 run first, kept as the claim tests keep it
            train.train(source, data, cache_dir, progress=progress, checkpoint_every=self.checkpoint_every,
                        keep_optimiser_state=True, keep_final_state=self.keep_final_state)
        return [train.train(self.configs[0], data, cache_dir, progress=progress,
                            checkpoint_every=self.checkpoint_every, keep_optimiser_state=self.keep_optimiser_state,
                            keep_final_state=self.keep_final_state)]


def jobs(scale: str, precision_name: str, modules: set[str] | frozenset[str], stack: bool) -> list[Job]:
    """The training jobs of the claim modules in ``modules`` at ``scale`` and ``precision_name``.

    ``stack`` groups the seeds of a C5/C6 cell into one stacked job (on CUDA).
    """
    validation.one_of("scale", scale, scales.L1)
    forward_dtype = precision.forward_dtype(precision_name)
    validation.boolean("stack", stack)
    unknown = set(modules) - {CONVERGENCE_MODULE, L1_MODULE}
    if unknown:
        raise ValueError(f"modules must be among {CONVERGENCE_MODULE}, {L1_MODULE}; got {sorted(unknown)}")
    found = []
    if L1_MODULE in modules:
        found.extend(_l1_jobs(scale, forward_dtype))
    if CONVERGENCE_MODULE in modules:
        found.extend(_convergence_jobs(scale, forward_dtype, stack))
    return found


def _l1_jobs(scale: str, forward_dtype: str) -> list[Job]:
    preset = scales.l1(scale)
    sizes = (preset.train_size, preset.test_size)
    # gdcut.deepnet.l1_run: a full VGG16 checkpoint with Adam state is ~1.6 GB, so every 10 epochs at paper scale
    every = 10 if scale == "paper" else 1

    def job(name: str, version: str, optimiser: str, lam: float, procedure: str = "fresh") -> list[Job]:
        try:
            config = scales.l1_config(scale, version, optimiser, lam, procedure=procedure, forward_dtype=forward_dtype)
        except scales.HorizonBeyondCap:  # not trained: its claim test reports the cell inconclusive, with why
            return []
        return [Job(name, (config,), sizes, checkpoint_every=every,
                    keep_final_state=scales.may_run_on(scale))]

    chains, singles = [], []
    for optimiser in scales.V2_L1["optimisers"]:
        first, second = scales.V2_L1["lambdas"]
        if optimiser == "sgd":  # no optimiser state: both procedures are the same two runs
            singles += [j for lam in (first, second) for j in job(f"L19-20:v2-sgd-lambda{lam:g}", "v2", "sgd", lam)]
            continue
        # Job.run trains its predecessor (λ1 = 2, keeping the optimiser state, and the final state where runs may
        # run on, so that a run-on of it resumes) first; so would train(after), without the final state
        chains += job(f"L19-20:v2-{optimiser}-lambda{first:g}-then-{second:g}-appC", "v2", optimiser, second, "app-c")
        singles += job(f"L19-20:v2-{optimiser}-lambda{second:g}-fresh", "v2", optimiser, second)
    v1 = [j for lam in scales.V1_L1["lambdas"] for j in job(f"L18:v1-sgd-lambda{lam:g}", "v1", "sgd", lam)]
    return chains + singles + v1  # longest first: a chain is two 200-epoch runs, v1 runs are 150 epochs


def _convergence_jobs(scale: str, forward_dtype: str, stack: bool) -> list[Job]:
    preset = scales.convergence(scale)
    sizes = (preset.train_size, preset.test_size)
    found = []
    for depth in reversed(preset.depths):  # deepest first
        for batch_norm in (False, True):
            for (optimiser, lr), activation in ((s, a) for s in preset.settings for a in ("relu", "gelu")):
                configs = [scales.convergence_config(scale, depth, activation, batch_norm, seed,
                                                     forward_dtype=forward_dtype, setting=(optimiser, lr))
                           for seed in preset.seeds]
                swept = f"-{optimiser}-lr{lr:g}" if len(preset.settings) > 1 else ""
                cell = f"C5-6:{depth}-{activation}{'-bn' if batch_norm else ''}{swept}"
                if stack:
                    seeds = f"{preset.seeds[0]}-{preset.seeds[-1]}"
                    found.append(Job(f"{cell}-seeds{seeds}-stacked", tuple(configs), sizes))
                else:
                    found.extend(Job(f"{cell}-seed{c.seed}", (c,), sizes) for c in configs)
    return found
