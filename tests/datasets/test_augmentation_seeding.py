"""Albumentations draws follow torch's seed: the same seed gives the same augmentations in data loader
workers, and two workers do not repeat each other's draws."""

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from visionkit.datasets.transforms import Albumentations

IMAGE = np.arange(64 * 64 * 3, dtype=np.uint8).reshape(64, 64, 3)


class CropOffsets(Dataset):
    """Every item is the same image randomly cropped to 16x16; it returns the crop's top-left pixel value."""

    def __init__(self) -> None:
        self.augment = Albumentations([dict(type="RandomCrop", height=16, width=16)])

    def __len__(self) -> int:
        return 16

    def __getitem__(self, index: int) -> int:
        return int(
            self.augment({"img": IMAGE.copy()})["img"].reshape(-1, 3)[0].astype(np.int64) @ [1, 256, 65536]
        )


def draws(seed: int) -> list[int]:
    torch.manual_seed(seed)
    loader = DataLoader(CropOffsets(), batch_size=1, num_workers=2, multiprocessing_context="fork")
    return [int(x) for x in loader]


def test_same_seed_same_augmentations_across_runs():
    assert draws(0) == draws(0)
    assert draws(0) != draws(1)


def test_workers_do_not_repeat_each_other():
    values = draws(0)
    worker0, worker1 = values[0::2], values[1::2]  # batches alternate between the two workers
    assert worker0 != worker1


def test_a_new_epochs_workers_draw_anew_even_when_reseeded_like_mmengine():
    """mmengine's worker_init_fn calls torch.manual_seed(seed + worker_id) in every epoch's workers."""
    torch.manual_seed(0)
    loader = DataLoader(
        CropOffsets(),
        batch_size=1,
        num_workers=2,
        multiprocessing_context="fork",
        worker_init_fn=lambda worker_id: torch.manual_seed(worker_id),
    )
    first, second = [int(x) for x in loader], [int(x) for x in loader]
    assert first != second
