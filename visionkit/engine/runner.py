"""mmengine's Runner: checkpoints read as plain data, written atomically, resumed exactly; preemption
signals caught; machine-aware distributed set-up."""

from __future__ import annotations

import logging
from typing import Any

import torch
from mmengine.device import get_device
from mmengine.dist import get_rank, is_distributed
from mmengine.model import is_model_wrapper
from mmengine.registry import MODEL_WRAPPERS
from mmengine.runner import BaseLoop
from mmengine.runner import Runner as MMEngineRunner
from torch import nn
from torch.utils.data import DataLoader

from ..models.checkpoint import CheckpointReadError
from ..models.untrusted_text import printable
from ..registry import RUNNERS
from .checkpoint_io import load_runner_checkpoint, save_checkpoint_atomically
from .console import quiet_console
from .dist import cpu_ddp_wrapper_cfg, init_distributed
from .loops import EpochBasedTrainLoop, IterBasedTrainLoop
from .preemption import DEFAULT_SIGNALS, PreemptionSignals, init_data_worker
from .random_states import gather_random_states

# What restoring a malformed resume state raises (torch, numpy, Python's random, the loop's own reads).
_MALFORMED_STATE = (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError, RuntimeError)


@RUNNERS.register_module()
class Runner(MMEngineRunner):
    """mmengine's ``Runner`` with visionkit's checkpoint reading and writing (:mod:`.checkpoint_io`).

    ``load_from`` and resume read a checkpoint with visionkit's restricted unpickler (no code in a file
    runs; a saved ``meta['config']`` is never executed) and load strictly unless the config sets
    ``load_from_strict = False``; every save is atomic and refuses non-finite weights.

    Distributed runs start through :mod:`visionkit.engine.dist`: the backend and device follow the
    machine (gloo + CPU without CUDA, nccl + GPU ``LOCAL_RANK`` with it) unless the config says otherwise.

    The set-up dump (environment, config, hook table, experiment name) goes to the log file only, unless
    the config sets ``verbose = True`` (the tools' ``--verbose``); see :mod:`visionkit.engine.console`.

    ``channels_last = True`` in the config stores the model's 4-D weights channels-last (NHWC) before it is
    wrapped, so convolutions run in that layout (the input's layout follows); checkpoints hold the same
    values either way.

    ``train``, ``val`` and ``test`` stop their loaders' persistent worker processes when they return (see
    :func:`stop_persistent_workers`); a later call starts new ones.

    Resuming is exact (:mod:`.loops`): every checkpoint's ``meta['resume_state']`` holds the training
    loop's data position and pending validation and every process's random generators, and each data
    loader draws its workers' seeds from a generator of its own. While training, the signals of the
    config's ``preemption_signals`` (SIGTERM and SIGUSR1) are caught: the checkpoint hook writes a
    checkpoint after the current step and stops (:mod:`.preemption`).
    """

    def train(self) -> nn.Module:
        self.preemption = PreemptionSignals(self.cfg.get("preemption_signals", DEFAULT_SIGNALS))
        if not self.preemption.install():
            self.logger.warning(
                "Not in the main thread: SIGTERM / SIGUSR1 stop training without a checkpoint"
            )
        try:
            return super().train()
        finally:
            self.preemption.uninstall()
            self._stop_workers("_train_loop", "_val_loop")

    def val(self) -> dict:
        try:
            return super().val()
        finally:
            self._stop_workers("_val_loop")

    def test(self) -> dict:
        try:
            return super().test()
        finally:
            self._stop_workers("_test_loop")

    def _stop_workers(self, *loops: str) -> None:
        for name in loops:
            loop = getattr(self, name, None)
            if isinstance(loop, BaseLoop) and isinstance(loop.dataloader, DataLoader):
                stop_persistent_workers(loop.dataloader)

    def build_train_loop(self, loop: BaseLoop | dict) -> BaseLoop:
        """mmengine's, but ``dict(by_epoch=...)`` builds visionkit's resumable loops (:mod:`.loops`)."""
        if isinstance(loop, dict) and "type" not in loop:
            loop = dict(loop)
            by_epoch = loop.pop("by_epoch")
            loop_type = EpochBasedTrainLoop if by_epoch else IterBasedTrainLoop
            return loop_type(**loop, runner=self, dataloader=self._train_dataloader)
        return super().build_train_loop(loop)

    @staticmethod
    def build_dataloader(
        dataloader: DataLoader | dict, seed: int | None = None, diff_rank_seed: bool = False
    ):
        """mmengine's, with a ``generator`` of the loader's own (seeded from ``seed``) and workers that
        ignore preemption signals (:func:`~.preemption.init_data_worker`), unless the config sets either.

        A loader draws its workers' base seed from its generator each time an iterator starts (each
        epoch without persistent workers, a first validation, a resume); from torch's global generator,
        that would shift what dropout draws afterwards, and a resumed run would draw differently.
        """
        if isinstance(dataloader, dict):
            dataloader = dict(dataloader)
            if dataloader.get("generator") is None:
                dataloader["generator"] = torch.Generator()
                dataloader["generator"].manual_seed(0 if seed is None else seed)
            if "worker_init_fn" not in dataloader:
                dataloader["worker_init_fn"] = dict(
                    type=init_data_worker,
                    num_workers=dataloader.get("num_workers", 0),
                    rank=get_rank(),
                    seed=seed,
                )
        return MMEngineRunner.build_dataloader(dataloader, seed=seed, diff_rank_seed=diff_rank_seed)

    def build_model(self, model: nn.Module | dict) -> nn.Module:
        model = super().build_model(model)
        if self.cfg.get("channels_last", False):
            # Module.to keeps the Parameter objects (it swaps their data), so nothing holds stale ones.
            model = model.to(memory_format=torch.channels_last)
        return model

    def build_logger(self, *args: Any, **kwargs: Any) -> logging.Logger:
        logger = super().build_logger(*args, **kwargs)
        if not self.cfg.get("verbose", False):
            quiet_console(logger)
        return logger

    def load_checkpoint(
        self, filename: str, map_location: Any = "cpu", strict: bool | None = None, revise_keys: Any = None
    ) -> dict:
        checkpoint = load_runner_checkpoint(self, filename, map_location, strict)
        meta = checkpoint.get("meta") if isinstance(checkpoint, dict) else None
        self._loaded_resume_state = meta.get("resume_state") if isinstance(meta, dict) else None
        return checkpoint

    def resume(self, filename: str, *args: Any, **kwargs: Any) -> None:
        try:
            super().resume(filename, *args, **kwargs)
        except KeyError as error:  # a bare state dict has no meta / message_hub to continue from
            raise CheckpointReadError(
                f"Checkpoint '{filename}' cannot be resumed: it has no {printable(str(error))} (not a "
                "checkpoint the Runner saved); start from its weights with --cfg-options load_from=PATH "
                "instead"
            ) from error
        except (TypeError, ValueError, AssertionError, IndexError, AttributeError) as error:
            # The optimizer's or a scheduler's state does not fit this config's (torch and mmengine check).
            raise CheckpointReadError(
                f"Checkpoint '{filename}' cannot be resumed with this config ({type(error).__name__}: "
                f"{printable(str(error))}); start from its weights with --cfg-options load_from=PATH instead"
            ) from error
        self._resume_loop_state(filename)

    def _resume_loop_state(self, filename: str) -> None:
        """Give the training loop the checkpoint's data position and random states (the file's data, of
        any type and value: what does not restore fails here, naming the file, before training starts)."""
        state = self._loaded_resume_state or {}
        try:
            if type(state) is not dict:
                raise TypeError(f"meta['resume_state'] is a {type(state).__name__}, not a dict")
            if hasattr(self.train_loop, "load_state_dict"):
                self.train_loop.load_state_dict(state.get("train_loop"), state.get("random_states"))
        except _MALFORMED_STATE as error:
            raise CheckpointReadError(
                f"Checkpoint '{filename}' cannot be resumed: its resume state is malformed ("
                f"{type(error).__name__}: {printable(str(error))}); start from its weights with "
                "--cfg-options load_from=PATH instead"
            ) from error

    def save_checkpoint(
        self, out_dir: str, filename: str, *args: Any, meta: dict | None = None, **kwargs
    ) -> None:
        """mmengine's save, atomic, with ``meta['resume_state']``: the training loop's state and every
        process's random generators (a collective when distributed: every process calls this)."""
        loop = self._train_loop
        meta = dict(meta or {})
        meta["resume_state"] = {
            "train_loop": loop.state_dict() if hasattr(loop, "state_dict") else None,
            "random_states": gather_random_states(),
        }
        save_checkpoint_atomically(
            super().save_checkpoint, self, out_dir, filename, *args, meta=meta, **kwargs
        )

    def setup_env(self, env_cfg: dict) -> None:
        if self.distributed and not is_distributed():
            init_distributed(self.launcher, env_cfg.get("dist_cfg"))
        super().setup_env(env_cfg)

    def wrap_model(self, model_wrapper_cfg: dict | None, model: nn.Module) -> nn.Module:
        """mmengine's wrapping, but DDP of a CPU module gets ``device_ids=None`` and no SyncBN.

        torch's SyncBatchNorm runs only on GPUs, so ``sync_bn`` is skipped with a warning on CPU.
        """
        if not self.distributed or is_model_wrapper(model) or get_device() != "cpu":
            return super().wrap_model(model_wrapper_cfg, model)
        if self.cfg.get("sync_bn"):
            self.logger.warning("sync_bn is ignored on CPU (torch's SyncBatchNorm needs GPUs)")
        cfg = cpu_ddp_wrapper_cfg(model_wrapper_cfg, self.cfg.get("find_unused_parameters", False))
        return MODEL_WRAPPERS.build(cfg, default_args=dict(module=model))


def stop_persistent_workers(loader: DataLoader) -> None:
    """Shut ``loader``'s persistent worker processes down now; its next iteration starts new ones.

    Why not leave them to the garbage collector: a runner's loaders die in reference cycles, where the
    collector runs the worker queues' close callbacks before the iterator's shutdown, so the workers never
    get their stop message and torch waits 5 s for each before killing it (20 s for two loaders of two
    workers), in whatever runs next in the process (a second training, the test after it).
    """
    iterator = getattr(loader, "_iterator", None)  # torch keeps a persistent-workers iterator here
    if iterator is not None and hasattr(iterator, "_shutdown_workers"):
        iterator._shutdown_workers()
        loader._iterator = None
