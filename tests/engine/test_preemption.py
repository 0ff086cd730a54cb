"""Preemption signals are recorded instead of killing, and the first one is what training stops for."""

import os
import signal
import time

import pytest

from visionkit.engine import Runner
from visionkit.engine.preemption import PreemptionSignals, TrainingPreempted, signal_numbers
from visionkit.engine.runner import stop_persistent_workers


def test_signal_names_and_the_handler_put_back():
    assert signal_numbers(["SIGTERM", "USR1"]) == [signal.SIGTERM, signal.SIGUSR1]
    with pytest.raises(ValueError, match="Unknown signal 'SIGNOPE'"):
        signal_numbers(["SIGNOPE"])

    def mine(*args):
        return None

    previous = signal.signal(signal.SIGUSR1, mine)
    signals = PreemptionSignals(["SIGUSR1"])
    try:
        assert signals.install() and signals.active and signals.agreed() == 0
        signal.raise_signal(signal.SIGUSR1)
        assert signals.agreed() == signal.SIGUSR1
    finally:
        signals.uninstall()
        restored = signal.getsignal(signal.SIGUSR1)
        signal.signal(signal.SIGUSR1, previous)
    assert restored is mine and not signals.active


def test_the_first_signal_is_the_one_training_stops_for():
    signals = PreemptionSignals()
    assert signals.install()
    try:
        signal.raise_signal(signal.SIGUSR1)
        signal.raise_signal(signal.SIGTERM)  # a second signal, say during the checkpoint's write
    finally:
        signals.uninstall()
    assert signals.agreed() == signal.SIGUSR1
    stop = TrainingPreempted(signals.agreed(), "work/iter_7.pth")
    assert stop.exit_code == 138 and "Stopped by SIGUSR1 after writing work/iter_7.pth" in str(stop)


def test_data_loader_workers_outlive_a_sigterm_sent_to_the_whole_job():
    """Slurm signals every process; torch's workers would die of it and fail the main process at once."""
    loader = Runner.build_dataloader(
        dict(
            dataset=list(range(8)),
            sampler=dict(type="DefaultSampler", shuffle=False),
            batch_size=1,
            num_workers=1,
            persistent_workers=True,
            collate_fn=dict(type="default_collate"),
        ),
        seed=0,
    )
    batches = iter(loader)
    first = next(batches)
    [worker] = loader._iterator._workers
    os.kill(worker.pid, signal.SIGTERM)
    time.sleep(0.5)
    assert [int(first), *(int(batch) for batch in batches)] == list(range(8))
    stop_persistent_workers(loader)
