"""visionkit's samplers: mmengine's order, one seed per position, and a pass that starts part-way."""

import itertools
import pickle

import pytest
from mmengine.dataset import DefaultSampler as MMEngineDefaultSampler
from mmengine.dataset import InfiniteSampler as MMEngineInfiniteSampler

from visionkit.datasets import MultiTaskDataset, TaskBatchSampler
from visionkit.datasets.sample_seeds import SeededIndex, derive_seed
from visionkit.datasets.samplers import DefaultSampler, InfiniteSampler


def _as_rank(sampler, rank: int, world_size: int):
    """A sampler as rank ``rank`` of ``world_size`` processes builds it (mmengine reads both at init)."""
    sampler.rank, sampler.world_size = rank, world_size
    if hasattr(sampler, "num_samples"):  # DefaultSampler: recompute its share
        sampler.num_samples = -(-len(sampler.dataset) // world_size)
        sampler.total_size = sampler.num_samples * world_size
    else:
        sampler.indices = sampler._indices_of_rank()
    return sampler


def test_default_sampler_keeps_mmengines_order_and_seeds_each_position():
    data = range(10)
    for epoch in (0, 3):
        ours, theirs = DefaultSampler(data, seed=5), MMEngineDefaultSampler(data, seed=5)
        ours.set_epoch(epoch)
        theirs.set_epoch(epoch)
        indices = list(ours)
        assert [int(i) for i in indices] == list(theirs)
        assert [i.seed for i in indices] == [derive_seed(5, epoch, k) for k in range(10)]
    # epochs and run seeds give other seeds for the same positions
    assert {i.seed for i in DefaultSampler(data, seed=5)} & {
        i.seed for i in DefaultSampler(data, seed=6)
    } == set()


def test_a_pass_started_part_way_is_the_rest_of_the_full_pass_once():
    sampler = DefaultSampler(range(10), seed=1)
    sampler.set_epoch(2)
    full = list(sampler)
    sampler.start_at(4)
    rest = list(sampler)
    assert [(int(i), i.seed) for i in rest] == [(int(i), i.seed) for i in full[4:]]
    assert len(list(sampler)) == 10  # the next pass is whole again


def test_two_processes_share_the_positions_and_seeds_of_one():
    """Augmentations do not depend on the process count: rank r takes positions r, r + 2, ..."""
    one = list(DefaultSampler(range(9), seed=3))
    ranks = [list(_as_rank(DefaultSampler(range(9), seed=3), r, 2)) for r in (0, 1)]
    interleaved = [i for pair in itertools.zip_longest(*ranks) for i in pair if i is not None]
    assert [i.seed for i in interleaved[:9]] == [i.seed for i in one]
    assert [int(i) for i in interleaved[:9]] == [int(i) for i in one]
    assert len(interleaved) == 10  # padded to a multiple of 2, as mmengine does, with a fresh seed
    assert interleaved[9].seed not in {i.seed for i in one}


def test_infinite_sampler_restarts_its_stream_after_n_samples():
    ours, theirs = InfiniteSampler(range(7), seed=2), MMEngineInfiniteSampler(range(7), seed=2)
    stream = list(itertools.islice(iter(ours), 30))
    assert [int(i) for i in stream] == list(itertools.islice(iter(theirs), 30))
    assert len({i.seed for i in stream}) == 30  # a fresh seed for each visit of an index
    resumed = InfiniteSampler(range(7), seed=2)
    resumed.start_at(17)
    assert [(int(i), i.seed) for i in itertools.islice(iter(resumed), 13)] == [
        (int(i), i.seed) for i in stream[17:]
    ]
    two = _as_rank(InfiniteSampler(range(7), seed=2), 1, 2)
    assert [i.seed for i in itertools.islice(iter(two), 3)] == [stream[k].seed for k in (1, 3, 5)]


def test_seeded_indices_survive_pickling_to_workers_and_index_like_ints():
    index = SeededIndex(3, seed=12345)
    copy = pickle.loads(pickle.dumps(index))
    assert (copy, copy.seed, type(copy)) == (3, 12345, SeededIndex)
    assert list(range(10))[index] == 3 and index + 1 == 4
    assert index.reseeded(1).seed not in (index.seed, index.reseeded(2).seed)


class _Task:
    def __init__(self, size: int) -> None:
        self.size = size

    def __len__(self) -> int:
        return self.size


@pytest.fixture
def task_batches() -> TaskBatchSampler:
    dataset = MultiTaskDataset(dict(detection=_Task(8), segmentation=_Task(4)))
    return TaskBatchSampler(
        DefaultSampler(dataset, seed=0), batch_size=2, ratio=dict(detection=1, segmentation=1)
    )


def test_task_batches_start_part_way_and_reseed_repeated_batches(task_batches):
    full = list(task_batches)
    task_batches.start_at(5)
    assert [[(int(i), i.seed) for i in b] for b in task_batches] == [
        [(int(i), i.seed) for i in b] for b in full[5:]
    ]
    segmentation = [b for b in full if int(b[0]) >= 8]  # 2 batches shown twice to match detection's 4
    assert len(segmentation) == 4
    first, again = segmentation[0], segmentation[2]
    assert [int(i) for i in first] == [int(i) for i in again]
    assert {i.seed for i in first}.isdisjoint(i.seed for i in again)  # new augmentations the second time


def test_seeds_are_mixed_by_splitmix64_as_published():
    """The first outputs of splitmix64 from state 0 (Steele, Lea and Flood 2014; Vigna's reference C):
    a changed constant or shift would still give seeds, just not these, and not the ones saved runs drew."""
    from visionkit.datasets.sample_seeds import _splitmix64

    golden = 0x9E3779B97F4A7C15
    outputs = [_splitmix64(k * golden & (1 << 64) - 1) for k in range(3)]
    assert outputs == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]
