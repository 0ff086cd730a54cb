"""tools/infer.py on generated clips: every input frame gives one output frame, whose predictions are the
single-image predictions of that frame, through PyTorch and the runtimes; a truncated clip keeps what came
before the break; a folder of images becomes one video; a stream is read over HTTP."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

from tests.deploy.onnx_toy_models import TOY, toy_model
from tests.extending.test_extending import CONFIG as COLOUR_CONFIG
from tests.extending.test_extending import trained_model
from tests.tools.run_tool import REPO, load_tool
from visionkit.apis import inference_model, init_model
from visionkit.deploy import export_onnx
from visionkit.outputs import View
from visionkit.video import annotate, read_records

from .clips import decoded_frames, moving_shapes, truncate, video_properties, write_clip

pytestmark = pytest.mark.slow
infer = load_tool("infer")
CLASSES = ["circle", "square", "star", "triangle"]
DETECTION_CONFIG, _, DETECTION_OPTIONS = TOY["detection"]
SCORE_THR = 0.72


def detector_checkpoint(folder: Path) -> str:
    """The toy detector (trained-like BatchNorm; scores above 0.7 on these clips) in the Runner's layout."""
    path = folder / "detector.pth"
    torch.save(
        {"state_dict": toy_model("detection").state_dict(), "meta": {"dataset_meta": {"classes": CLASSES}}},
        path,
    )
    return str(path)


def run_detector(tmp_path: Path, *inputs: str, extra: tuple[str, ...] = ()) -> Path:
    out = tmp_path / "out"
    options = [f"{k}={v}" for k, v in DETECTION_OPTIONS.items()]
    infer.main(
        [str(REPO / DETECTION_CONFIG), detector_checkpoint(tmp_path), *inputs, "--out-dir", str(out),
         "--score-thr", str(SCORE_THR), "--cfg-options", *options, *extra]
    )  # fmt: skip
    return out


def detections_of(sample) -> list[tuple[str, float, list[float]]]:
    """(name, score, box) of each detection at or above the threshold, read from the sample itself."""
    keep = sample.pred_scores >= SCORE_THR
    return [
        (CLASSES[int(label)], float(score), [round(float(v), 2) for v in box])
        for box, score, label in zip(
            sample.pred_bboxes[keep], sample.pred_scores[keep], sample.pred_labels[keep], strict=True
        )
    ]


def listed(record: dict) -> list[tuple[str, float, list[float]]]:
    return [(d["label"], d["score"], d["bbox_xyxy"]) for d in record["detections"]]


def test_every_frame_is_annotated_with_its_own_single_image_prediction(tmp_path):
    clip = write_clip(tmp_path / "clip.avi", moving_shapes(10), fps=25.0)
    out = run_detector(tmp_path, str(clip), extra=("--video-suffix", ".avi"))

    assert video_properties(out / "clip.avi") == (10, 25.0, 640, 480)
    records = read_records(out / "clip_predictions.jsonl")
    assert [r["frame"] for r in records] == list(range(10))
    assert [r["time"] for r in records] == pytest.approx([i / 25 for i in range(10)])
    model = init_model(
        str(REPO / DETECTION_CONFIG), detector_checkpoint(tmp_path), cfg_options=DETECTION_OPTIONS
    )
    view = View(CLASSES, None, SCORE_THR, legend_inside=True)
    inputs, outputs = decoded_frames(clip), decoded_frames(out / "clip.avi")
    expected = [detections_of(s) for s in inference_model(model, inputs)]
    assert sum(map(len, expected)) > 10 and len({len(e) for e in expected}) > 1  # frames differ
    for record, want in zip(records, expected, strict=True):
        assert listed(record) == want
    # The drawing in each output frame is its own frame's: where the boxes changed the input, the output
    # shows the boxes (Motion JPEG keeps it within a few levels), not the input.
    for index in (0, 5, 9):
        (sample,) = inference_model(model, inputs[index])
        drawn = annotate(inputs[index], sample, view).astype(int)
        changed = np.abs(drawn - inputs[index]).max(axis=2) > 80
        assert changed.sum() > 500
        to_drawn = np.abs(outputs[index].astype(int) - drawn)[changed].mean()
        to_input = np.abs(outputs[index].astype(int) - inputs[index])[changed].mean()
        assert to_drawn < 25 < 80 < to_input, (index, to_drawn, to_input)


def test_a_truncated_clip_keeps_the_frames_before_the_break_and_names_file_and_frame(tmp_path):
    clip = write_clip(tmp_path / "clip.avi", moving_shapes(10, (320, 240)))
    cut = truncate(clip, tmp_path / "cut.avi", 0.55)
    with pytest.raises(SystemExit, match=r"Video '.*cut\.avi' broke at frame (\d+) of the 10") as error:
        run_detector(tmp_path, str(cut))
    kept = int(str(error.value).split("broke at frame ")[1].split()[0])
    assert 0 < kept < 10 and f"the {kept} frames before it are kept in" in str(error.value)
    out = tmp_path / "out"
    assert len(decoded_frames(out / "cut.mp4")) == kept  # closed properly: playable up to the break
    assert [r["frame"] for r in read_records(out / "cut_predictions.jsonl")] == list(range(kept))


def test_a_folder_of_images_becomes_one_video_of_its_frames(tmp_path):
    folder = tmp_path / "shots"
    folder.mkdir()
    paths = []
    for index, frame in enumerate(moving_shapes(5, (320, 240))):
        paths.append(folder / f"{index:02d}.png")
        Image.fromarray(frame).save(paths[-1])
    out = run_detector(tmp_path, str(folder), extra=("--as-video", "--fps", "5"))
    assert video_properties(out / "shots.mp4") == (5, 5.0, 320, 240)
    assert not (out / "predictions.json").exists() and not list(out.glob("*_detections.jpg"))
    model = init_model(
        str(REPO / DETECTION_CONFIG), detector_checkpoint(tmp_path), cfg_options=DETECTION_OPTIONS
    )
    records = read_records(out / "shots_predictions.jsonl")
    assert [r["time"] for r in records] == pytest.approx([0, 0.2, 0.4, 0.6, 0.8])
    for record, sample in zip(records, inference_model(model, paths), strict=True):
        assert listed(record) == detections_of(sample)


def test_a_multi_task_model_draws_and_records_every_task_per_frame(tmp_path):
    clip = write_clip(tmp_path / "clip.mp4", moving_shapes(4, (256, 192)))
    torch.manual_seed(0)
    config = str(REPO / "configs" / "multitask_mnv2_toy.py")
    torch.save({"state_dict": init_model(config).state_dict(), "meta": {}}, tmp_path / "multi.pth")
    out = tmp_path / "out"
    infer.main([config, str(tmp_path / "multi.pth"), str(clip), "--out-dir", str(out), "--score-thr", "0"])
    assert video_properties(out / "clip.mp4")[:3] == (4, 25.0, 256)
    records = read_records(out / "clip_predictions.jsonl")
    assert all({"detections", "segmentation"} <= record.keys() for record in records)
    assert all(record["detections"] for record in records)  # score threshold 0: the top boxes are listed
    assert all(sum(r["segmentation"]["pixels_per_class"].values()) == 256 * 192 for r in records)


@pytest.fixture(scope="module")
def colour_model(tmp_path_factory) -> tuple[str, str, torch.nn.Module]:
    """(config file, its .onnx export, the eager model) of the toy colour task of docs/extending.md."""
    folder = tmp_path_factory.mktemp("colour")
    model = trained_model()
    export_onnx(model, folder / "colour.onnx", (32, 32))
    Config(COLOUR_CONFIG).dump(folder / "colour.py")
    return str(folder / "colour.py"), str(folder / "colour.onnx"), model


@pytest.mark.parametrize("runtime", ["onnxruntime", "openvino"])
def test_a_runtime_annotates_every_frame_as_the_eager_model_predicts_it(tmp_path, colour_model, runtime):
    if runtime == "openvino":
        pytest.importorskip("openvino")
    config, onnx_file, model = colour_model
    clip = write_clip(tmp_path / "clip.avi", moving_shapes(8, (160, 120)))
    out = tmp_path / "out"
    infer.main([config, onnx_file, str(clip), "--out-dir", str(out), "--runtime", runtime])
    assert video_properties(out / "clip.mp4")[:2] == (8, 25.0)
    got = np.array([r["colour"]["rgb"] for r in read_records(out / "clip_predictions.jsonl")])
    expected = np.stack([s.pred_colour.numpy() for s in inference_model(model, decoded_frames(clip))])
    assert np.ptp(expected, axis=0).max() > 1  # the frames' colours differ
    np.testing.assert_allclose(got, expected, atol=0.06)  # the record's 0.1 rounding and float32 noise


def test_a_stream_over_http_is_read_to_its_end(tmp_path, colour_model):
    config, _, model = colour_model
    clip = write_clip(tmp_path / "clip.avi", moving_shapes(6, (160, 120)))
    checkpoint = tmp_path / "colour.pth"
    torch.save({"state_dict": model.state_dict(), "meta": {}}, checkpoint)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(tmp_path))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        [summary] = infer.main(
            [config, str(checkpoint), f"http://127.0.0.1:{port}/clip.avi", "--out-dir", str(tmp_path / "out")]
        )
    finally:
        server.shutdown()
        server.server_close()
    name = f"127.0.0.1_{port}_clip.avi"
    assert summary["frames"] == 6 and summary["output"] == str(tmp_path / "out" / f"{name}.mp4")
    assert video_properties(tmp_path / "out" / f"{name}.mp4")[0] == 6
    got = np.array([r["colour"]["rgb"] for r in read_records(tmp_path / "out" / f"{name}_predictions.jsonl")])
    expected = np.stack([s.pred_colour.numpy() for s in inference_model(model, decoded_frames(clip))])
    np.testing.assert_allclose(got, expected, atol=0.06)
