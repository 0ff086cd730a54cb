"""Run a trained model on images and write what it predicts.

    python tools/infer.py CONFIG CHECKPOINT INPUTS... --out-dir DIR [--device cpu] [--topk 5] [--deploy]
        [--cfg-options key=value ...]

INPUTS are image files, folders of images, or a VOC split file (ImageSets/Segmentation/val.txt: one id per
line, images read from the JPEGImages folder beside it). What is written depends on the model's task:

- segmentation: DIR/<name>.png, the label map as a VOC palette PNG of the input's size (score it against
  VOC's SegmentationClass), and DIR/<name>_overlay.jpg, a colour overlay with a legend of the classes present;
- detection: DIR/<name>_detections.jpg with boxes, names and scores drawn;
- classification: the top-k classes and scores, printed;
and one line per image says what was found ("2 circle, 1 star", "no detections above 0.3", "circle 12.5%
of the pixels"), under a progress bar when there are many images on a terminal;
and for every task DIR/predictions.json with one record per image. A .onnx CHECKPOINT (tools/export.py) runs
in ONNX Runtime instead of PyTorch (with --runtime openvino, in OpenVINO), with the same outputs.

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

import cv2
import numpy as np
from mmengine.config import DictAction

from visionkit.apis import inference_model, init_model
from visionkit.datasets.transforms import read_image
from visionkit.engine import USER_ERRORS
from visionkit.engine.progress import make_progress, show_progress, track
from visionkit.structures import DataSample
from visionkit.visualization import draw_detections, overlay_segmentation, save_palette_png

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
OUTPUT_SUFFIXES = (".png", "_overlay.jpg", "_detections.jpg")  # what write_outputs may write per image
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
        "--runtime", choices=["onnxruntime", "openvino"], default="onnxruntime", help="what runs a .onnx file"
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
        for suffix in OUTPUT_SUFFIXES:
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


def class_names(meta: dict, count: int) -> list[str]:
    names = list(meta.get("classes") or [])
    return names if len(names) >= count else names + [f"class_{i}" for i in range(len(names), count)]


def write_outputs(path: Path, stem: Path, sample: DataSample, meta: dict, args: argparse.Namespace) -> dict:
    """Write one image's files as ``stem`` + suffix (:func:`output_stems`); its predictions.json record."""
    record: dict = {"image": str(path)}
    stem.parent.mkdir(parents=True, exist_ok=True)
    if "pred_seg_map" in sample:
        seg_map = sample.pred_seg_map.cpu().numpy()
        names = class_names(meta, int(seg_map.max()) + 1)
        save_palette_png(f"{stem}.png", seg_map)
        overlay = overlay_segmentation(read_image(str(path)), seg_map, names, meta.get("palette"))
        write_rgb(f"{stem}_overlay.jpg", overlay)
        present, pixels = np.unique(seg_map, return_counts=True)
        record["segmentation"] = {
            "mask": f"{stem}.png",
            "pixels_per_class": {names[c]: int(n) for c, n in zip(present, pixels, strict=True)},
        }
    if "pred_bboxes" in sample:
        keep = sample.pred_scores >= args.score_thr
        boxes, scores = sample.pred_bboxes[keep].cpu().numpy(), sample.pred_scores[keep].cpu().numpy()
        labels = sample.pred_labels[keep].cpu().numpy()
        names = class_names(meta, int(labels.max()) + 1 if len(labels) else 0)
        drawn = draw_detections(read_image(str(path)), boxes, labels, scores, names, args.score_thr)
        write_rgb(f"{stem}_detections.jpg", drawn)
        record["detections"] = [
            {
                "bbox_xyxy": [round(float(v), 2) for v in box],
                "label": names[int(label)],
                "score": float(score),
            }
            for box, label, score in zip(boxes, labels, scores, strict=True)
        ]
    if "pred_score" in sample:
        scores = sample.pred_score.cpu()
        top = scores.topk(min(args.topk, len(scores)))
        names = class_names(meta, len(scores))
        record["classification"] = [
            {"label": names[int(i)], "score": float(s)} for s, i in zip(top.values, top.indices, strict=True)
        ]
        print(f"{path}: " + ", ".join(f"{p['label']} {p['score']:.3f}" for p in record["classification"]))
    return record


def summarize(record: dict, score_thr: float) -> str | None:
    """What one image's record says was found, in words: ``2 circle, 1 star`` or ``no detections above 0.3``.

    Segmentation: the share of the image each class other than background covers. None for
    classification (its top-k line is printed as it is made).
    """
    parts = []
    if "detections" in record:
        counts: dict[str, int] = {}
        for detection in record["detections"]:
            counts[detection["label"]] = counts.get(detection["label"], 0) + 1
        found = ", ".join(f"{n} {label}" for label, n in sorted(counts.items(), key=lambda c: (-c[1], c[0])))
        parts.append(found or f"no detections above {score_thr:g}")
    if "segmentation" in record:
        pixels = record["segmentation"]["pixels_per_class"]
        total = sum(pixels.values()) or 1
        shares = [(name, n / total) for name, n in pixels.items() if name != "background"]
        found = ", ".join(f"{name} {share:.1%}" for name, share in sorted(shares, key=lambda s: -s[1]))
        parts.append(f"{found} of the pixels" if found else "nothing but background")
    return "; ".join(parts) or None


def write_rgb(path: str, image: np.ndarray) -> None:
    if not cv2.imwrite(path, cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
        raise OSError(f"Cannot write '{path}'")


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
    records = []
    progress = make_progress() if show_progress() else None
    for path, stem in track(zip(images, stems, strict=True), len(images), "inferring", progress):
        (sample,) = inference_model(model, path)
        records.append(write_outputs(path, stem, sample, model.dataset_meta, args))
        found = summarize(records[-1], args.score_thr)
        if found is not None:
            print(f"{path}: {found}")
    (args.out_dir / PREDICTIONS).write_text(json.dumps(records, indent=2))
    print(f"wrote outputs for {len(records)} image(s) to {args.out_dir}")
    return records


if __name__ == "__main__":
    main()
