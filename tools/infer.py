"""Run a trained model on images and write what it predicts.

    python tools/infer.py CONFIG CHECKPOINT INPUTS... --out-dir DIR [--device cpu] [--topk 5] [--deploy]
        [--cfg-options key=value ...]

INPUTS are image files, folders of images, or a VOC split file (ImageSets/Segmentation/val.txt: one id per
line, images read from the JPEGImages folder beside it). What is written depends on the model's task:

- segmentation: DIR/<name>.png, the label map as a VOC palette PNG of the input's size (score it against
  VOC's SegmentationClass), and DIR/<name>_overlay.jpg, a colour overlay with a legend of the classes present;
- detection: DIR/<name>_detections.jpg with boxes, names and scores drawn;
- classification: the top-k classes and scores, in the printed line;
and one line per image says what was found ("2 circle, 1 star", "no detections above 0.3", "circle 12.5%
of the pixels", the top-k classes), under a progress bar when there are many images on a terminal;
and for every task DIR/predictions.json with one record per image. An exported CHECKPOINT (tools/export.py:
.onnx, .pte) runs in a runtime instead of PyTorch (ONNX Runtime, or --runtime openvino; ExecuTorch), with the
same outputs.

<name> is the image's path relative to the folder all inputs share, without its suffix: a/x.jpg and b/x.jpg
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
from visionkit.datasets.transforms import read_image
from visionkit.deploy import runtime_names
from visionkit.engine import USER_ERRORS
from visionkit.engine.progress import make_progress, show_progress, track
from visionkit.outputs import View, file_suffixes, outputs_predicted_in
from visionkit.structures import DataSample

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
PREDICTIONS = "predictions.json"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("config", help="config file")
    parser.add_argument(
        "checkpoint", help="checkpoint: path, URL, torchvision://NAME, or a .onnx file from tools/export.py"
    )
    parser.add_argument("inputs", nargs="+", help="image files, folders or a VOC split .txt file")
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
        "--cfg-options",
        nargs="+",
        action=DictAction,
        default={},
        help="override config values, e.g. model.backbone.memory_efficient_splits=4",
    )
    return parser.parse_args(argv)


def collect_images(inputs: list[str]) -> list[Path]:
    """Expand files, folders and VOC split files into image paths; name anything that is none of these."""
    images: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            images += sorted(p for p in item.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        elif item.suffix.lower() == ".txt" and item.is_file():
            jpeg_dir = item.resolve().parents[2] / "JPEGImages"
            ids = [line.split()[0] for line in item.read_text().splitlines() if line.strip()]
            images += [jpeg_dir / f"{image_id}.jpg" for image_id in ids]
        elif item.is_file():
            images.append(item)
        else:
            raise SystemExit(f"Input '{item}' is not an image file, a folder or a split file")
    if not images:
        raise SystemExit(f"No images found in {inputs}")
    return images


def output_stems(images: list[Path], out_dir: Path) -> list[Path]:
    """Each image's output path without suffix: its path relative to the inputs' common folder, under out_dir.

    Raises SystemExit naming the files when an output could overwrite an input or another output.
    """
    resolved = [p.resolve() for p in images]
    root = Path(os.path.commonpath([p.parent for p in resolved]))
    stems = [out_dir / p.relative_to(root).with_suffix("") for p in resolved]
    written: dict[Path, Path] = {}
    inputs = set(resolved)
    problems = []
    for image, stem in zip(images, stems, strict=True):
        for suffix in file_suffixes():
            target = Path(f"{stem}{suffix}").resolve()
            if target in inputs:
                problems.append(f"{target} (an output of {image}) is an input")
            elif target in written and written[target] != image:
                problems.append(f"{target} would be written for both {written[target]} and {image}")
            written.setdefault(target, image)
    if (out_dir / PREDICTIONS).resolve() in inputs:
        problems.append(f"{out_dir / PREDICTIONS} is an input")
    if problems:
        raise SystemExit(
            "error: refusing to overwrite files:\n  "
            + "\n  ".join(problems[:10])
            + "\nChoose another --out-dir, or rename the inputs whose names differ only in their suffix"
        )
    return stems


def write_outputs(path: Path, stem: Path, sample: DataSample, view: View) -> dict:
    """Write one image's files as ``stem`` + suffix (:func:`output_stems`), each task's its own way
    (:mod:`visionkit.outputs`); return its predictions.json record (the image and each task's entry)."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    image = read_image(str(path))
    record: dict = {"image": str(path)}
    for outputs in outputs_predicted_in(sample):
        record[outputs.record_key] = outputs.write(stem, image, sample, view)
    return record


def summarize(sample: DataSample, record: dict, view: View) -> str:
    """What one image's record says was found, in words, task by task: ``2 circle, 1 star``, ``no detections
    above 0.3``, ``circle 12.5% of the pixels`` or the top-k classes and scores."""
    return "; ".join(
        outputs.summary(record[outputs.record_key], view) for outputs in outputs_predicted_in(sample)
    )


def main(argv: list[str] | None = None) -> list[dict]:
    args = parse_args(argv)
    images = collect_images(args.inputs)
    stems = output_stems(images, args.out_dir)
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
    view = View(list(meta.get("classes") or []), meta.get("palette"), args.score_thr, args.topk)
    records = []
    progress = make_progress() if show_progress() else None
    for path, stem in track(zip(images, stems, strict=True), len(images), "inferring", progress):
        (sample,) = inference_model(model, path)
        records.append(write_outputs(path, stem, sample, view))
        print(f"{path}: {summarize(sample, records[-1], view)}")
    (args.out_dir / PREDICTIONS).write_text(json.dumps(records, indent=2))
    print(f"wrote outputs for {len(records)} image(s) to {args.out_dir}")
    return records


if __name__ == "__main__":
    main()
