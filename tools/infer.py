"""Run a trained model on images, videos, cameras or streams and write what it predicts.

    python tools/infer.py CONFIG CHECKPOINT INPUTS... --out-dir DIR [--device cpu] [--runtime NAME]
        [--topk 5] [--score-thr 0.3] [--deploy] [--as-video [--fps 30]] [--video-suffix .mp4] [--show]
        [--max-frames N] [--reconnect 3] [--sequential] [--cfg-options key=value ...]

INPUTS are image files, video files (mp4, avi, mov, mkv, webm...), folders (their images and videos), glob
patterns ('shots/*.jpg'), a VOC split file (ImageSets/Segmentation/val.txt: one id per line, images read
from the JPEGImages folder beside it), camera indices (0) or stream URLs (rtsp://..., http://...).

Images: what is written depends on the model's task:
- segmentation: DIR/<name>.png, the label map as a VOC palette PNG of the input's size (score it against
  VOC's SegmentationClass), and DIR/<name>_overlay.jpg, a colour overlay with a legend of the classes present;
- detection: DIR/<name>_detections.jpg with boxes, names and scores drawn;
- classification: the top-k classes and scores, in the printed line;
and one line per image says what was found ("2 circle, 1 star", "no detections above 0.3", "circle 12.5%
of the pixels", the top-k classes), under a progress bar when there are many images on a terminal;
and for every task DIR/predictions.json with one record per image.

Videos, cameras and streams (and with --as-video each folder's or pattern's images, as frames at --fps):
DIR/<name><video-suffix>, the annotated video with the input's frame rate and one frame per input frame
(every task's predictions drawn, legends inside the frame), and DIR/<name>_predictions.jsonl, one record
per frame with its index and time stamp in seconds; one line per frame, then frames, frames per second
and latency p50/p90. Cameras are named camera<index>, streams by host and path. A camera or stream runs
until Ctrl+C, --max-frames or q in the --show window (where a display exists); a stream that drops is
reopened up to --reconnect times. A video that breaks part way keeps the frames before it, and the tool
ends with an error naming the file and the frame.

An exported CHECKPOINT (tools/export.py: .onnx, .pte) runs in a runtime instead of PyTorch (ONNX Runtime,
or --runtime openvino; ExecuTorch), with the same outputs.

<name> is the input's path relative to the folder all inputs share, without its suffix: a/x.jpg and b/x.jpg
write DIR/a/x.png and DIR/b/x.png. The tool refuses to start (naming the files) when an output would
overwrite an input or another output of the same run (x.jpg and x.png side by side, or DIR equal to the
input folder when a mask's name is an input's).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mmengine.config import DictAction

from visionkit.apis import inference_model, init_model
from visionkit.apis.output_paths import OverwriteError, plan_output_stems
from visionkit.datasets.transforms import read_image
from visionkit.deploy import runtime_names
from visionkit.engine import USER_ERRORS
from visionkit.engine.progress import make_progress, show_progress, track
from visionkit.outputs import View, file_suffixes, outputs_predicted_in, summarize
from visionkit.structures import DataSample
from visionkit.video import (
    FOURCC,
    LiveWindow,
    ReconnectPolicy,
    VideoInput,
    VideoOutputs,
    VideoSourceError,
    annotate_video,
    collect_inputs,
)

PREDICTIONS = "predictions.json"
FRAME_RECORDS = "_predictions.jsonl"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("config", help="config file")
    parser.add_argument(
        "checkpoint", help="checkpoint: path, URL, torchvision://NAME, or a .onnx file from tools/export.py"
    )
    parser.add_argument(
        "inputs",
        nargs="+",
        help="image or video files, folders, glob patterns, a VOC split .txt, camera indices or stream URLs",
    )
    parser.add_argument("--out-dir", required=True, type=Path, help="where the outputs go")
    parser.add_argument("--device", default="cpu", help="e.g. cpu, cuda:0")
    parser.add_argument(
        "--runtime",
        help=f"what runs an exported file: {', '.join(runtime_names())} or one a config registers (default: "
        "the file suffix's)",
    )
    parser.add_argument("--topk", type=int, default=5, help="classification: classes to report")
    parser.add_argument(
        "--score-thr", type=float, default=0.3, help="detection: lowest score drawn and listed"
    )
    parser.add_argument("--deploy", action="store_true", help="fold BatchNorm into the convs first")
    parser.add_argument(
        "--as-video", action="store_true", help="each folder's or pattern's images make one video"
    )
    parser.add_argument("--fps", type=float, default=30.0, help="frame rate of --as-video videos")
    parser.add_argument(
        "--video-suffix", default=".mp4", choices=sorted(FOURCC), help="container of the annotated videos"
    )
    parser.add_argument("--show", action="store_true", help="show the annotated frames in a window")
    parser.add_argument("--max-frames", type=int, help="stop each video after this many frames")
    parser.add_argument(
        "--sequential",
        action="store_true",
        help="decode, predict and encode one after the other (default: overlapped in threads)",
    )
    parser.add_argument(
        "--reconnect", type=int, default=3, help="times to reopen a camera or stream that drops"
    )
    parser.add_argument(
        "--cfg-options",
        nargs="+",
        action=DictAction,
        default={},
        help="override config values, e.g. model.backbone.memory_efficient_splits=4",
    )
    return parser.parse_args(argv)


def output_stems(
    images: list[Path], out_dir: Path, videos: list[VideoInput] = (), video_suffix: str = ".mp4"
) -> list[Path]:
    """The output path without suffix of each image, then of each video (:func:`plan_output_stems`).

    Raises SystemExit naming the files when an output could overwrite an input or another output.
    """
    items = [(image, file_suffixes()) for image in images]
    items += [(video.path or video.name, (video_suffix, FRAME_RECORDS)) for video in videos]
    frames = [frame for video in videos for frame in video.frames]
    try:
        return plan_output_stems(items, out_dir, [*images, *frames], [out_dir / PREDICTIONS])
    except OverwriteError as error:
        raise SystemExit(f"error: {error}") from None


def write_outputs(path: Path, stem: Path, sample: DataSample, view: View) -> dict:
    """Write one image's files as ``stem`` + suffix (:func:`output_stems`), each task's its own way
    (:mod:`visionkit.outputs`); return its predictions.json record (the image and each task's entry)."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    image = read_image(str(path))
    record: dict = {"image": str(path)}
    for outputs in outputs_predicted_in(sample):
        record[outputs.record_key] = outputs.write(stem, image, sample, view)
    return record


def infer_images(model, images: list[Path], stems: list[Path], view: View, out_dir: Path) -> list[dict]:
    records = []
    progress = make_progress() if show_progress() else None
    for path, stem in track(zip(images, stems, strict=True), len(images), "inferring", progress):
        (sample,) = inference_model(model, path)
        records.append(write_outputs(path, stem, sample, view))
        print(f"{path}: {summarize(sample, records[-1], view)}")
    (out_dir / PREDICTIONS).write_text(json.dumps(records, indent=2))
    print(f"wrote outputs for {len(records)} image(s) to {out_dir}")
    return records


def infer_video(model, video: VideoInput, stem: Path, view: View, args: argparse.Namespace) -> dict:
    """Annotate one video, camera or stream; its summary record. Raises VideoSourceError (after writing
    what came) when it cannot be read to the end."""
    source = video.open(args.fps, ReconnectPolicy(attempts=args.reconnect))
    total = f"/{source.frame_count}" if source.frame_count else ""

    def say(frame, sample, record) -> None:
        found = summarize(sample, record, view)
        print(f"{source.label} frame {frame.index}{total} ({frame.time:.2f} s): {found}")

    outputs = VideoOutputs(
        video=Path(f"{stem}{args.video_suffix}"),
        records=Path(f"{stem}{FRAME_RECORDS}"),
        window=LiveWindow(f"visionkit: {source.label}") if args.show else None,
        on_frame=say,
    )
    stats = annotate_video(model, source, view, outputs, args.max_frames, overlap=not args.sequential)
    print(f"{source.label}: {stats.summary()} -> {outputs.video}, {outputs.records}")
    return {
        "video": video.location,
        "output": str(outputs.video),
        "records": str(outputs.records),
        "frames": stats.frames,
        "fps": round(stats.fps, 2),
    }


def main(argv: list[str] | None = None) -> list[dict]:
    args = parse_args(argv)
    try:
        images, videos = collect_inputs(args.inputs, args.as_video)
    except ValueError as error:
        raise SystemExit(f"error: {error}") from None
    stems = output_stems(images, args.out_dir, videos, args.video_suffix)
    try:
        model = init_model(
            args.config,
            args.checkpoint,
            device=args.device,
            cfg_options=args.cfg_options,
            deploy=args.deploy,
            runtime=args.runtime,
        )
    except USER_ERRORS as error:
        raise SystemExit(f"error: {error}") from None
    args.out_dir.mkdir(parents=True, exist_ok=True)
    meta = model.dataset_meta
    classes, palette = list(meta.get("classes") or []), meta.get("palette")
    records = (
        infer_images(model, images, stems, View(classes, palette, args.score_thr, args.topk), args.out_dir)
        if images
        else []
    )
    video_view = View(classes, palette, args.score_thr, args.topk, legend_inside=True)
    failures = []
    for video, stem in zip(videos, stems[len(images) :], strict=True):
        try:
            records.append(infer_video(model, video, stem, video_view, args))
        except VideoSourceError as error:
            print(f"error: {error}", file=sys.stderr)
            failures.append(str(error))
        except KeyboardInterrupt:
            raise SystemExit(
                f"interrupted: the frames written so far are in {stem}{args.video_suffix}"
            ) from None
    if failures:
        raise SystemExit(
            f"error: {len(failures)} of {len(videos)} video input(s) failed:\n  " + "\n  ".join(failures)
        )
    return records


if __name__ == "__main__":
    main()
