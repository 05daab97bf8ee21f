"""Progress of a long training run: a tqdm bar on a terminal, one line per epoch in a log file otherwise.

A paper-scale VGG16 run is 200 epochs (v2 App. C) and takes minutes even on
an H100, so the user needs to see it move. On a terminal a tqdm bar shows the
step, the latest loss, samples/s and the ETA. Without a terminal (CI, pytest-xdist
workers, whose stderr is no terminal) each epoch appends one line to
``<cache>/progress.log``, one file for all runs and workers, so
``tail -f .gdcut-cache/progress.log`` follows a whole ``pytest -m gpu -n 8``.
tqdm is optional: GPU images often lack it, and then the lines go to stderr too.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

LOG_NAME = "progress.log"
REFRESH_S = 1.0  # reading the loss synchronises the GPU, so the bar's loss is refreshed at most this often


def _terminal_bar(description: str, total: int, done: int):
    # A tqdm bar when stderr is a terminal and tqdm is installed, else None.
    stream = sys.__stderr__
    if stream is None or not stream.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, initial=done, desc=description, unit="step", file=stream, dynamic_ncols=True,
                leave=True)


class RunProgress:
    """Reports one run's steps and epochs; ``close`` at the end (also when the run fails)."""

    def __init__(self, description: str, total_steps: int, done_steps: int, batch_size: int,
                 log_dir: Path | None):
        self.description = description
        self.batch_size = batch_size
        self.log = None if log_dir is None else Path(log_dir) / LOG_NAME
        self.bar = _terminal_bar(description, total_steps, done_steps)
        self.refreshed = time.monotonic()

    def step(self, loss) -> None:
        """One optimiser step done; ``loss`` is a tensor read only when the bar is due for a refresh."""
        if self.bar is None:
            return
        self.bar.update(1)
        now = time.monotonic()
        if now - self.refreshed >= REFRESH_S:
            rate = self.bar.format_dict.get("rate") or 0.0
            self.bar.set_postfix(loss=f"{float(loss):.4f}", samples_s=f"{rate * self.batch_size:,.0f}", refresh=False)
            self.refreshed = now

    def epoch(self, epoch: int, epochs: int, loss: float, l1: float, seconds: float, samples: int) -> None:
        """One epoch done: a line to the log file, and to stderr when no bar is drawn."""
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        line = (f"[gdcut {worker}] {self.description}: epoch {epoch}/{epochs} loss {loss:.4f} L1 {l1:.4g} "
                f"({seconds:.1f}s, {samples / max(seconds, 1e-9):,.0f} samples/s)")
        if self.log is not None:
            self.log.parent.mkdir(parents=True, exist_ok=True)
            with open(self.log, "a") as log:  # O_APPEND: lines of concurrent workers do not interleave
                print(line, file=log)
        if self.bar is None and sys.__stderr__ is not None:
            print(line, file=sys.__stderr__, flush=True)  # the real stderr, past pytest's capture

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
