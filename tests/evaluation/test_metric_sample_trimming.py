"""Metrics keep one result per sample, so distributed evaluation trims the sampler's padding correctly.

mmengine's ``DefaultSampler`` pads the index list to a multiple of the world size (rank r takes indices
r, r + W, ...), and ``collect_results`` interleaves the ranks' result lists and keeps the first
``len(dataset)`` entries. That is right only when a metric appends one result per sample: a metric that
appends one per batch loses real images and keeps the padded duplicates.
"""

import torch

from visionkit.evaluation import IoUMetric

NUM_CLASSES = 3


def _samples(num: int) -> list[dict]:
    generator = torch.Generator().manual_seed(0)
    samples = []
    for i in range(num):
        size = (4 + i % 3, 5 + i % 2)  # images of different sizes weigh differently in the matrix
        gt = torch.randint(0, NUM_CLASSES, size, generator=generator)
        pred = torch.randint(0, NUM_CLASSES, size, generator=generator)
        samples.append(dict(gt_seg_map=gt, pred_seg_map=pred, img_path=f"{i}.png"))
    return samples


def _distributed_results(samples: list[dict], world_size: int, batch_size: int) -> list:
    """What rank 0 holds after mmengine's DefaultSampler (no shuffle) + collect_results (ordered)."""
    padded = list(range(len(samples)))
    padded += padded[: -len(samples) % world_size]
    parts = []
    for rank in range(world_size):
        metric = IoUMetric(num_classes=NUM_CLASSES)
        indices = padded[rank::world_size]
        for start in range(0, len(indices), batch_size):
            metric.process({}, [samples[i] for i in indices[start : start + batch_size]])
        parts.append(metric.results)
    ordered = [result for group in zip(*parts, strict=False) for result in group]
    return ordered[: len(samples)]


def test_iou_metric_two_processes_equal_one_for_odd_set_and_batch_above_one() -> None:
    samples = _samples(9)
    single = IoUMetric(num_classes=NUM_CLASSES)
    for start in range(0, 9, 2):
        single.process({}, samples[start : start + 2])
    expected = single.compute_metrics(single.results)
    for batch_size in (1, 2, 3):
        results = _distributed_results(samples, world_size=2, batch_size=batch_size)
        assert IoUMetric(num_classes=NUM_CLASSES).compute_metrics(results) == expected, batch_size


def test_iou_metric_with_no_samples_gives_nan_not_a_crash() -> None:
    metrics = IoUMetric(num_classes=NUM_CLASSES).compute_metrics([])
    assert all(value != value for value in metrics.values())  # NaN
