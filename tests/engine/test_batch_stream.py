"""A training data position: where the samplers start, and its conversion to another batch layout."""

from torch.utils.data import DataLoader

from visionkit.datasets.samplers import DefaultSampler
from visionkit.engine import batch_stream
from visionkit.engine.batch_stream import BatchStream


def _loader(sampler=None, batch_size: int = 3) -> DataLoader:
    data = list(range(12))
    return DataLoader(data, batch_size=batch_size, sampler=sampler or DefaultSampler(data, seed=0))


def _ids(batches) -> list[list[int]]:
    return [batch.tolist() for batch in batches]


def test_a_restored_position_continues_with_the_next_batch_without_loading_earlier_ones():
    full = _ids(BatchStream(_loader()).epoch_batches())
    stream = BatchStream(_loader())
    stream.load_state_dict({"epoch": 0, "batch": 2, "processes": 1, "batch_size": 3})
    assert _ids(stream.epoch_batches()) == full[2:] and stream.batch == 4


def test_another_batch_size_continues_after_as_many_images(monkeypatch):
    logged = []
    monkeypatch.setattr(batch_stream, "print_log", lambda message, **kwargs: logged.append(message))
    stream = BatchStream(_loader(batch_size=2))
    stream.load_state_dict({"epoch": 0, "batch": 2, "processes": 2, "batch_size": 2})  # 8 images were taken
    assert stream.batch == 4 and "after about the same 8 images" in logged[0]


def test_a_sampler_that_cannot_start_part_way_has_its_batches_loaded_and_dropped(monkeypatch):
    monkeypatch.setattr(batch_stream, "print_log", lambda message, **kwargs: None)
    loader = _loader(sampler=list(range(12)))  # a plain sequence: no start_at
    stream = BatchStream(loader)
    stream.batch = 3
    assert _ids(stream.epoch_batches()) == [[9, 10, 11]]
