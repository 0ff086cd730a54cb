"""TF DeepLab's random scale: one of 0.5, 0.75 .. 2.0 for both sides, labels nearest-neighbour."""

import numpy as np

from visionkit.datasets.transforms import Albumentations
from visionkit.datasets.transforms.random_step_scale import scale_grid


def test_the_grid_of_deeplabs_flags() -> None:
    """get_random_scale(0.5, 2.0, 0.25): lin_space over int(1.5 / 0.25 + 1) = 7 values."""
    np.testing.assert_allclose(scale_grid(0.5, 2.0, 0.25), [0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0])


def test_every_scale_is_drawn_and_labels_keep_their_values() -> None:
    image = np.zeros((40, 60, 3), np.uint8)
    mask = np.zeros((40, 60), np.int64)
    mask[10:30, 20:40] = 7
    mask[0:5, 0:5] = 255
    wrapper = Albumentations([dict(type="RandomStepScale")])
    sizes = set()
    for seed in range(60):
        wrapper.pipeline.set_random_seed(seed)
        out = wrapper({"img": image, "gt_seg_map": mask})
        height, width = out["img"].shape[:2]
        assert out["gt_seg_map"].shape == (height, width)
        assert set(np.unique(out["gt_seg_map"]).tolist()) == {0, 7, 255}  # no blended label values
        sizes.add((height, width))
    assert sizes == {(int(40 * s), int(60 * s)) for s in scale_grid(0.5, 2.0, 0.25)}
