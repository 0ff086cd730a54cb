"""The random generators of a training process as plain data, to checkpoint and restore on resume.

A resumed run continues bit for bit only if what it draws from continues where the killed run stood:
Python's ``random``, numpy's global generator, torch's CPU generator and each CUDA device's (dropout,
anything a model draws). Data augmentation does not depend on them (each sample is seeded on its own,
:mod:`visionkit.datasets.sample_seeds`). The states are kept as tensors, ints, floats and dicts of str,
which visionkit's checkpoint reader accepts as plain data (no numpy objects).
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.logging import print_log


def capture_random_states() -> dict[str, Any]:
    """This process's generators: ``python``, ``numpy``, ``torch`` (CPU) and ``cuda`` (one per device)."""
    version, mt_state, gauss = random.getstate()
    _, keys, position, has_gauss, cached_gaussian = np.random.get_state()
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else []
    return {
        "python": {"version": version, "state": torch.tensor(mt_state, dtype=torch.int64), "gauss": gauss},
        "numpy": {
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "position": int(position),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached_gaussian),
        },
        "torch": torch.get_rng_state(),
        "cuda": list(cuda),
    }


def restore_random_states(states: dict[str, Any]) -> None:
    """Set this process's generators to ``states`` (from :func:`capture_random_states`).

    CUDA states are restored only onto as many devices as were saved; with another count the CUDA
    generators keep their seeding (and the run is no longer bit-identical on those devices).
    """
    python = states["python"]
    random.setstate((python["version"], tuple(python["state"].tolist()), python["gauss"]))
    numpy = states["numpy"]
    keys = numpy["keys"].cpu().numpy().astype(np.uint32)
    np.random.set_state(("MT19937", keys, numpy["position"], numpy["has_gauss"], numpy["cached_gaussian"]))
    torch.set_rng_state(states["torch"].cpu())
    cuda = states.get("cuda") or []
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([state.cpu() for state in cuda])


def check_random_states(per_rank: Any) -> None:
    """Raise (``TypeError``, ``ValueError``, ``KeyError``, ``RuntimeError``...) unless every entry of
    ``per_rank`` (a checkpoint's, read before training starts) restores: each is tried on this process's
    generators, which are then put back as they were."""
    if type(per_rank) is not list or not per_rank:
        raise TypeError("random_states is not a list of per-process states")
    saved = capture_random_states()
    try:
        for states in per_rank:
            restore_random_states(states)
    finally:
        restore_random_states(saved)


def gather_random_states() -> list[dict[str, Any]]:
    """Every process's :func:`capture_random_states`, in rank order (a collective: call on all ranks)."""
    states = capture_random_states()
    return all_gather_object(states) if get_world_size() > 1 else [states]


def restore_rank_random_states(per_rank: list[dict[str, Any]]) -> bool:
    """Restore this rank's entry of ``per_rank`` (from :func:`gather_random_states`).

    Returns False, after a warning, when the checkpoint came from another number of processes: then
    every rank takes rank 0's states modulo its rank count, and the run is no longer bit-identical.
    """
    rank, world_size = get_rank(), get_world_size()
    same = len(per_rank) == world_size
    if not same:
        print_log(
            f"The checkpoint holds the random states of {len(per_rank)} processes and this run has "
            f"{world_size}: training continues from the same weights and data position, but dropout and "
            "other random draws of the model differ from an uninterrupted run",
            logger="current",
            level=30,
        )
    restore_random_states(per_rank[rank % len(per_rank)])
    return same
