"""The pieces of the video pipeline: the prefetching stage, the writer's frame fitting, the timings."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

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


def test_every_tasks_drawing_keeps_the_frame_size_with_legends_inside():
    """A sample holding classification, detection and segmentation predictions: all three are drawn, and
    with ``legend_inside`` the frame keeps its size (a video's frames must); beside, a caption widens it."""
    import torch

    from visionkit.outputs import View
    from visionkit.structures import DataSample
    from visionkit.video import annotate, frame_record
    from visionkit.video.sources import Frame

    image = np.full((120, 160, 3), 90, np.uint8)
    sample = DataSample()
    sample.pred_score, sample.pred_label = torch.tensor([0.1, 0.9]), torch.tensor(1)
    sample.pred_bboxes = torch.tensor([[10.0, 20.0, 60.0, 80.0]])
    sample.pred_scores, sample.pred_labels = torch.tensor([0.8]), torch.tensor([0])
    seg = torch.zeros(120, 160, dtype=torch.long)
    seg[60:, 100:] = 1
    sample.pred_seg_map = seg
    classes = ["background", "disc"]
    inside = annotate(image, sample, View(classes, legend_inside=True))
    caption_only = DataSample()
    caption_only.pred_score, caption_only.pred_label = sample.pred_score, sample.pred_label
    beside = annotate(image, caption_only, View(classes))
    assert inside.shape == image.shape and beside.shape[1] > image.shape[1]
    changed = np.abs(inside.astype(int) - image).max(axis=2) > 0
    assert changed[5:15, 5:40].any()  # the captions, top left
    assert changed[20:80, 10].all()  # the box's left side
    assert changed[100, 140] and not changed[100, 60]  # the mask overlay where class 1 is, only there
    record = frame_record(Frame(3, 0.1, image), sample, View(classes, legend_inside=True))
    assert record["frame"] == 3 and {"classification", "detections", "segmentation"} <= record.keys()


def test_overlapping_leaves_a_core_to_decoding_and_encoding_for_pytorch_models_only():
    from torch import nn

    from visionkit.video.pipeline import _threads_left_for_decoding

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        cases = ((nn.Linear(1, 1), True, 1), (nn.Linear(1, 1), False, 2), (object(), True, 2))
        for model, overlap, inside in cases:
            with _threads_left_for_decoding(model, overlap):
                assert torch.get_num_threads() == inside
            assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
