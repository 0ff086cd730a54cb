"""tools/analysis/check_dataset.py finds every planted bad file of a split and writes an exclude list the
data sets accept."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from visionkit.datasets.toy_data import make_coco_detection_set, make_voc_segmentation_set

from .run_tool import REPO, load_tool

pytestmark = (
    pytest.mark.slow
)  # toy data sets and a pool of processes; tests/datasets/test_sample_checks.py is quick
check_dataset = load_tool("analysis/check_dataset")


def _check(config: str, data_root: Path, out: Path, *options: str, workers: int = 2) -> tuple[int, dict]:
    # OpenCV's thread pool running in this process, as after other tests: the tool's forked workers
    # once waited on it forever (cv2.setNumThreads after a fork)
    cv2.resize(np.zeros((1024, 1024, 3), np.uint8), (512, 512))
    argv = [str(REPO / "configs" / config), "--data-root", str(data_root), "--out", str(out)]
    status = check_dataset.main(
        [*argv, "--workers", str(workers), *(["--cfg-options", *options] if options else [])]
    )
    return status, json.loads((out / "check_train.json").read_text())


def _problems(report: dict) -> dict[str, str]:
    return {
        entry["path"]: "; ".join(entry["problems"]) for part in report["datasets"] for entry in part["bad"]
    }


def test_coco_split_with_a_truncated_and_a_resized_image(tmp_path):
    coco = make_coco_detection_set(tmp_path / "coco", num_train=12, num_val=1, image_size=(48, 64))
    images = sorted(Path(coco["train_dir"]).glob("*.jpg"))
    images[3].write_bytes(images[3].read_bytes()[:200])  # a download cut short
    Image.open(images[8]).resize((20, 16)).save(images[8])  # rewritten at another size
    status, report = _check("ssdlite_mnv2_toy.py", coco["root"], tmp_path / "out")
    problems = _problems(report)
    assert status == 1 and report["images"] == 12 and report["bad_images"] == 2
    assert problems[f"train2017/{images[3].name}"].startswith(f"Cannot read image '{images[3]}'")
    assert problems[f"train2017/{images[8].name}"].startswith("image is 16x20 (HxW), its annotation says")
    exclude = tmp_path / "out" / "exclude_train.txt"
    assert exclude.read_text().split() == [f"train2017/{images[3].name}", f"train2017/{images[8].name}"]
    # the data set takes the list: checked again with it, the split is clean and the list keeps both
    status, report = _check(
        "ssdlite_mnv2_toy.py",
        coco["root"],
        tmp_path / "out",
        f"train_dataloader.dataset.exclude={exclude}",
        workers=1,
    )
    assert status == 0 and report["images"] == 10
    assert exclude.read_text().split() == [f"train2017/{images[3].name}", f"train2017/{images[8].name}"]


def test_voc_masks_in_colour_of_another_size_or_with_unknown_labels(tmp_path):
    voc = make_voc_segmentation_set(tmp_path / "voc", num_train=8, num_val=1, image_size=(48, 64))
    root = Path(voc["data_root"])
    train_ids = (root / "ImageSets" / "Segmentation" / "train.txt").read_text().split()
    masks = [root / "SegmentationClass" / f"{image_id}.png" for image_id in train_ids]
    palette = Image.open(masks[0])
    palette.convert("RGB").save(masks[0])  # a colour rendering instead of class indices
    Image.open(masks[2]).resize((8, 8), Image.NEAREST).save(masks[2])
    original = Image.open(masks[5])
    labels = np.array(original)
    labels[:2, :2] = 7  # the toy set has 5 classes (0..4) and 255
    edited = Image.fromarray(labels, mode="P")
    edited.putpalette(original.getpalette())
    edited.save(masks[5])
    status, report = _check("deeplabv3lite_mnv2_toy.py", voc["data_root"], tmp_path / "out")
    problems = _problems(report)
    assert status == 1 and sorted(problems) == sorted(
        f"JPEGImages/{m.stem}.jpg" for m in (masks[0], masks[2], masks[5])
    )
    assert "has PIL mode 'RGB'" in problems[f"JPEGImages/{masks[0].stem}.jpg"]
    assert "is 8x8, its image" in problems[f"JPEGImages/{masks[2].stem}.jpg"]
    assert "has labels [7] outside 0..4" in problems[f"JPEGImages/{masks[5].stem}.jpg"]
