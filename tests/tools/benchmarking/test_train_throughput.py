"""Every timed iteration runs one train step on the next batch; the loader restarts at its end."""

from benchmarking.train_throughput import TrainThroughput, measure_train_throughput
from torch import nn


class CountingModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[int] = []

    def train_step(self, data: dict, optim_wrapper: object) -> dict:
        self.seen.append(data["id"])
        return {}


def test_steps_cycle_through_the_loader_and_count_images():
    model = CountingModel().eval()
    loader = [{"id": 0, "inputs": [1, 2, 3]}, {"id": 1, "inputs": [4, 5, 6]}]
    result = measure_train_throughput(model, loader, optim_wrapper=None, iterations=3, warmup=2)
    assert model.training
    assert model.seen == [0, 1, 0, 1, 0]
    assert (result.iterations, result.images) == (3, 9)
    assert 0 < result.step_s <= result.total_s


def test_images_per_second_by_hand():
    result = TrainThroughput(iterations=10, images=80, total_s=4.0, step_s=2.0)
    assert (result.images_per_s, result.step_images_per_s) == (20.0, 40.0)
