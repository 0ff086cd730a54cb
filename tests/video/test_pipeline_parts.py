"""The pieces of the video pipeline: the prefetching stage, the writer's frame fitting, the timings."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from visionkit.video import VideoStats, VideoWriter, fit_frame, prefetch, read_records
from visionkit.video.writer import RecordWriter


def test_prefetch_keeps_order_and_raises_after_the_items_before_the_error():
    def produce():
        yield from range(5)
        raise OSError("broke at 5")

    got = []
    with pytest.raises(OSError, match="broke at 5"):
        got.extend(prefetch(produce(), depth=2))
    assert got == [0, 1, 2, 3, 4]


def test_prefetch_runs_ahead_in_another_thread():
    threads = []

    def produce():
        for i in range(3):
            threads.append(threading.current_thread())
            yield i

    assert list(prefetch(produce())) == [0, 1, 2]
    assert threads and all(t is not threading.current_thread() for t in threads)


def test_closing_prefetch_early_stops_and_closes_the_producer():
    closed = threading.Event()
    made = []

    def produce():
        try:
            for i in range(1000):
                made.append(i)
                yield i
        finally:
            closed.set()

    stream = prefetch(produce(), depth=2)
    assert [next(stream), next(stream)] == [0, 1]
    stream.close()
    assert closed.is_set() and len(made) <= 5  # two taken, at most depth waiting, one in hand


def test_fit_frame_keeps_the_aspect_ratio_on_black():
    image = np.full((20, 40, 3), 200, np.uint8)
    fitted = fit_frame(image, (40, 40))
    assert fitted.shape == (40, 40, 3)
    assert (fitted[10:30] == 200).all() and (fitted[:10] == 0).all() and (fitted[30:] == 0).all()
    assert fit_frame(image, (40, 20)) is image


def test_writer_names_a_container_it_cannot_write(tmp_path):
    with pytest.raises(ValueError, match=r"Cannot write video '.*out\.flv': choose one of .mp4"):
        VideoWriter(tmp_path / "out.flv", 25.0)


def test_records_are_one_json_object_per_line_and_readable_while_written(tmp_path):
    writer = RecordWriter(tmp_path / "r.jsonl")
    writer.write({"frame": 0, "time": 0.0})
    assert read_records(tmp_path / "r.jsonl") == [{"frame": 0, "time": 0.0}]  # flushed, not yet closed
    writer.write({"frame": 1, "time": 0.04})
    writer.close()
    assert [r["frame"] for r in read_records(tmp_path / "r.jsonl")] == [0, 1]


def test_stats_give_frames_per_second_and_percentiles():
    stats = VideoStats()
    for ms in range(1, 11):  # 1..10 ms inference, 10x that latency
        stats.add(float(ms), 10.0 * ms)
    stats.seconds = 2.0
    assert stats.frames == 10 and stats.fps == 5.0
    # numpy's linear percentiles of 10..100: p50 55, p90 91; of 1..10: 5.5 and 9.1.
    assert stats.summary() == (
        "10 frames in 2.00 s: 5.0 frames/s; latency p50 55.0 ms, p90 91.0 ms "
        "(inference p50 5.5 ms, p90 9.1 ms)"
    )
    assert VideoStats().summary() == "0 frames in 0.00 s: 0.0 frames/s"  # nothing came: no percentiles
