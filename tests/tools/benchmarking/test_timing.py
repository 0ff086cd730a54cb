"""The side-by-side timer calls every model equally often and reports ratios against the reference."""

import time

import pytest
from benchmarking.timing import Timing, format_timings, time_side_by_side


def test_interleaved_rounds_call_each_model_equally():
    calls = {"a": 0, "b": 0}

    def make(name):
        def run():
            calls[name] += 1

        return run

    timings = time_side_by_side({"a": make("a"), "b": make("b")}, batch=4, warmup=2, rounds=7)
    assert calls == {"a": 9, "b": 9}
    assert [t.name for t in timings] == ["a", "b"] and all(t.batch == 4 for t in timings)


def test_repeat_runs_a_model_in_a_row_after_the_pause():
    log = []  # (name, perf_counter) of each call

    def make(name):
        return lambda: log.append((name, time.perf_counter()))

    time_side_by_side({"a": make("a"), "b": make("b")}, batch=1, warmup=1, rounds=2, repeat=3, pause=0.2)
    assert [name for name, _ in log] == ["a", "b"] + (["a"] * 3 + ["b"] * 3) * 2
    switches = [i for i in range(3, len(log)) if log[i][0] != log[i - 1][0]]
    assert switches == [5, 8, 11]
    assert all(log[i][1] - log[i - 1][1] >= 0.2 for i in switches)  # idle before the next model's calls
    assert all(log[i][1] - log[i - 1][1] < 0.1 for i in range(3, len(log)) if i not in switches)


def test_ratio_and_throughput_by_hand():
    timings = [Timing("ours", 8, 10.0, 12.0), Timing("ref", 8, 20.0, 25.0)]
    assert timings[0].images_per_s == 800.0
    table = format_timings(timings, reference="ref")
    ours_row = next(line for line in table.splitlines() if line.startswith("ours"))
    assert ours_row.endswith("2.00x")


def test_one_round_is_refused():
    with pytest.raises(ValueError, match="rounds >= 2"):
        time_side_by_side({"a": lambda: None}, batch=1, warmup=0, rounds=1)
