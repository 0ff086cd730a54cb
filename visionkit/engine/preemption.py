"""Stopping on a signal (a preempted spot instance or Slurm job) only after a checkpoint is written.

Slurm sends SIGTERM before it preempts or cancels a job (``GraceTime`` / ``KillWait`` seconds before
SIGKILL) and, with ``--signal=USR1@120``, SIGUSR1 that long before the time limit; Kubernetes and most
cloud schedulers send SIGTERM. :class:`PreemptionSignals` records such a signal instead of dying; the
checkpoint hook asks :meth:`PreemptionSignals.agreed` at the end of each training step, where every
process has the same answer (one small all-reduce), writes a checkpoint and raises
:class:`TrainingPreempted`, which ``tools/train.py`` turns into exit status ``128 + signal`` (143 for
SIGTERM, 138 for SIGUSR1: "stopped by that signal"), what ``tools/slurm_train.sh`` requeues on.

Repeated signals change nothing: the first is acted on; a save in progress is never interrupted. Data
loader workers ignore these signals (:func:`init_data_worker`): Slurm and Kubernetes signal every process of
a job, and torch's workers would die of it, taking the main process down before its checkpoint.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any

import torch
from mmengine.dataset import worker_init_fn as mmengine_worker_init_fn
from mmengine.dist import all_reduce, is_distributed

DEFAULT_SIGNALS = ("SIGTERM", "SIGUSR1")


class TrainingPreempted(Exception):
    """Training stopped on ``signum`` after writing ``checkpoint``; ``exit_code`` is 128 + ``signum``."""

    def __init__(self, signum: int, checkpoint: str | None) -> None:
        self.signum, self.checkpoint = signum, checkpoint
        self.exit_code = 128 + signum
        name = signal.Signals(signum).name
        where = f"after writing {checkpoint}" if checkpoint else "without a checkpoint to write"
        super().__init__(f"Stopped by {name} {where}; --resume continues from it")


def signal_numbers(names: Sequence[str]) -> list[int]:
    """``['SIGTERM', 'USR1']`` -> their numbers; a name this platform lacks raises ``ValueError``."""
    numbers = []
    for name in names:
        full = name if name.startswith("SIG") else f"SIG{name}"
        if not hasattr(signal, full):
            raise ValueError(f"Unknown signal '{name}' in preemption_signals (e.g. 'SIGTERM', 'SIGUSR1')")
        numbers.append(int(getattr(signal, full)))
    return numbers


class PreemptionSignals:
    """Records the first of ``signals`` received while installed, instead of the default action."""

    def __init__(self, signals: Sequence[str] = DEFAULT_SIGNALS) -> None:
        self.signums = signal_numbers(signals)
        self.received = 0  # the first signal's number, 0 while none came
        self._previous: dict[int, Any] = {}

    @property
    def active(self) -> bool:
        """Whether the handlers are installed (during training)."""
        return bool(self._previous)

    def install(self) -> bool:
        """Catch the signals (main thread only: Python delivers signals there). False if not possible."""
        if threading.current_thread() is not threading.main_thread():
            return False
        for signum in self.signums:
            self._previous[signum] = signal.signal(signum, self._record)
        return True

    def uninstall(self) -> None:
        """Put back the handlers that were there before :meth:`install`."""
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _record(self, signum: int, frame: FrameType | None) -> None:
        if not self.received:
            self.received = signum

    def agreed(self) -> int:
        """The signal to stop for if any process received one, else 0; a collective when distributed,
        so call it on every rank at the same point."""
        if not is_distributed():
            return self.received
        received = torch.tensor([self.received], dtype=torch.int64)
        all_reduce(received, op="max")
        return int(received.item())


def init_data_worker(worker_id: int, num_workers: int, rank: int, seed: int | None) -> None:
    """A data loader worker's start: mmengine's seeding (when there is a seed), then the preemption
    signals ignored.

    torch's workers handle SIGTERM themselves: sent by anyone but their parent, they die of it, and the
    main process then fails at once ("DataLoader worker ... is killed by signal: Terminated"). The main
    process acts on the signal and shuts its workers down; a worker whose main process died exits on its
    own (torch's watchdog).
    """
    if seed is not None:
        mmengine_worker_init_fn(worker_id, num_workers, rank, seed)
    for signum in signal_numbers(DEFAULT_SIGNALS):
        signal.signal(signum, signal.SIG_IGN)
