"""The full-scale recipe configs on mock trees in the official download layouts, through tools/train.py (a
few iterations) and tools/test.py, and tools/recipe_check.py over the other recipes (CPU, width 0.35)."""

import json
from pathlib import Path

import pytest
import torch
import torchvision

from tests.recipe_trees import make_coco, make_imagenet, make_voc_sbd

from .run_tool import load_tool, run_tool

pytestmark = pytest.mark.slow

LOADERS = ("train_dataloader", "val_dataloader", "test_dataloader")
QUIET_LOADERS = [
    f"{loader}.{key}" for loader in LOADERS for key in ("num_workers=0", "persistent_workers=False")
]
# VOC recipes at 128-pixel crops instead of 512 (pipeline step 2 is the Albumentations list: pad, then crop).
SMALL_CROPS = [
    "train_dataloader.dataset.pipeline.2.transforms.1.min_height=128",
    "train_dataloader.dataset.pipeline.2.transforms.1.min_width=128",
    "train_dataloader.dataset.pipeline.2.transforms.2.height=128",
    "train_dataloader.dataset.pipeline.2.transforms.2.width=128",
]


@pytest.fixture(scope="module")
def trees(tmp_path_factory) -> dict:
    """ImageNet (labelled from its devkit), COCO with test-dev, VOC + SBD (trainaug built), a torchvision
    MobileNetV2 0.35 file standing for torchvision://mobilenet_v2."""
    root = tmp_path_factory.mktemp("recipes")
    imagenet = make_imagenet(root / "imagenet")
    load_tool("dataset_converters/imagenet_val").main(
        [str(imagenet["devkit"]), "--root", str(imagenet["root"])]
    )
    voc = make_voc_sbd(root / "voc")
    load_tool("dataset_converters/voc_aug").main([str(voc["devkit"]), str(voc["sbd"])])
    weights = root / "mobilenet_v2_035.pth"
    torch.save(torchvision.models.mobilenet_v2(width_mult=0.35).state_dict(), weights)
    return {
        "imagenet": imagenet["root"],
        "coco": make_coco(root / "coco"),
        "voc": voc["voc"],
        "weights": weights,
    }


def tool(script: str, config: str, data_root: Path, work_dir: Path, *args: str, check: bool = True):
    """tools/<script> on configs/<config> with the data root and work dir (a checkpoint goes in ``args``)."""
    return run_tool(
        script,
        f"configs/{config}",
        *args,
        "--work-dir",
        str(work_dir),
        "--data-root",
        str(data_root),
        check=check,
    )


def tiny(*options: str) -> list[str]:
    return [
        "--cfg-options",
        "model.backbone.widen_factor=0.35",
        "default_hooks.logger.interval=1",
        *QUIET_LOADERS,
        *options,
    ]


def test_imagenet_tf_slim_recipe_on_the_devkit_layout(trees, tmp_path) -> None:
    """train/<wnid>/ and flat val/ + the devkit's labels, no classes.txt: TF-slim's recipe trains (RMSpropTF,
    Inception crop and colour, label smoothing, TF moving average) and warns that 3 images per step is not
    the recipe's 768; the checkpoint holds the moving average; tools/test.py scores val."""
    options = tiny("model.head.num_classes=3", "train_dataloader.batch_size=3", "train_cfg.max_epochs=1")
    train = tool("train.py", "mobilenet_v2_imagenet.py", trees["imagenet"], tmp_path, *options)
    log = train.stdout + train.stderr
    assert "Training with 1 process(es) x 3 images = 3 images per step" in log and "total batch of 768" in log
    checkpoint = torch.load(tmp_path / "epoch_1.pth", map_location="cpu", weights_only=False)
    assert int(checkpoint["ema_state_dict"]["steps"]) == 2  # 6 images / 3 per step, each averaged
    checkpoint = str(tmp_path / "epoch_1.pth")
    test = tool("test.py", "mobilenet_v2_imagenet.py", trees["imagenet"], tmp_path, checkpoint, *options)
    metrics = json.loads((tmp_path / "test_metrics.json").read_text())
    assert "accuracy/top1" in metrics and "accuracy/top1" in test.stdout  # top-5 needs 5 classes


def test_ssdlite_paper_recipe_and_a_test_dev_submission(trees, tmp_path) -> None:
    """The TF recipe (ImageNet backbone from a torchvision file, ssd_random_crop, RMSpropTF) for 2 iterations
    with a val pass on val2017; then the image-info test-dev file gives a submission file and no score."""
    common = tiny(f"model.backbone.init_cfg.checkpoint={trees['weights']}")
    iterations = ["train_dataloader.batch_size=2", "train_cfg.max_iters=2", "train_cfg.val_interval=2"]
    tool("train.py", "ssdlite_mnv2_coco.py", trees["coco"], tmp_path, *common, *iterations)
    assert (tmp_path / "iter_2.pth").is_file()
    prefix = tmp_path / "detections_test-dev2017_ssdlite"
    test_dev = [
        "test_dataloader.dataset.ann_file=annotations/image_info_test-dev2017.json",
        "test_dataloader.dataset.data_prefix.img=test2017/",
    ]
    submission = ["test_evaluator.format_only=True", f"test_evaluator.outfile_prefix={prefix}"]
    checkpoint = str(tmp_path / "iter_2.pth")
    test = tool(
        "test.py",
        "ssdlite_mnv2_coco.py",
        trees["coco"],
        tmp_path,
        checkpoint,
        *common,
        *test_dev,
        *submission,
    )
    detections = json.loads(Path(f"{prefix}.bbox.json").read_text())
    assert {d["image_id"] for d in detections} == {2001, 2002}
    coco_ids = {
        c["id"]
        for c in json.loads((trees["coco"] / "annotations/instances_val2017.json").read_text())["categories"]
    }
    assert {d["category_id"] for d in detections} <= coco_ids
    assert "bbox_mAP" not in test.stdout
    refused = tool(
        "test.py",
        "ssdlite_mnv2_coco.py",
        trees["coco"],
        tmp_path,
        checkpoint,
        *common,
        *test_dev,
        check=False,
    )
    assert (
        refused.returncode == 1 and "image-info file" in refused.stderr and "Traceback" not in refused.stderr
    )


def test_voc_trainaug_recipe_from_the_sbd_conversion(trees, tmp_path) -> None:
    """TF DeepLab's VOC recipe on the trainaug list and SegmentationClassAug the converter built, from an
    ImageNet backbone file; tools/test.py scores VOC val."""
    common = tiny(f"model.backbone.init_cfg.checkpoint={trees['weights']}")
    iterations = ["train_dataloader.batch_size=2", "train_cfg.max_iters=2", "train_cfg.val_interval=2"]
    tool("train.py", "deeplabv3lite_mnv2_voc.py", trees["voc"], tmp_path, *common, *SMALL_CROPS, *iterations)
    tool(
        "test.py", "deeplabv3lite_mnv2_voc.py", trees["voc"], tmp_path, str(tmp_path / "iter_2.pth"), *common
    )
    assert "mIoU" in json.loads((tmp_path / "test_metrics.json").read_text())


def test_recipe_check_runs_the_other_recipes(trees, tmp_path) -> None:
    """tools/recipe_check.py on CPU: torchvision's ImageNet recipe, mmdetection's and torchvision's SSDLite
    and the COCO stage of DeepLab, 2 iterations each, with finite losses, images counted and memory."""
    check = load_tool("recipe_check")
    base = [
        "--iters",
        "2",
        "--batch-size",
        "2",
        "--workers",
        "0",
        "--work-dir",
        str(tmp_path),
        "--imagenet",
        str(trees["imagenet"]),
        "--coco",
        str(trees["coco"]),
    ]
    results = check.main(
        [
            "imagenet_torchvision",
            *base,
            "--cfg-options",
            "model.backbone.widen_factor=0.35",
            "model.head.num_classes=3",
        ]
    )
    results += check.main(
        [
            "ssdlite_mmdet",
            "ssdlite320_torchvision",
            *base,
            "--json",
            str(tmp_path / "r.json"),
            "--cfg-options",
            "model.backbone.widen_factor=0.35",
        ]
    )
    results += check.main(
        [
            "deeplab_coco_stage",
            *base,
            "--cfg-options",
            "model.backbone.widen_factor=0.35",
            f"model.backbone.init_cfg.checkpoint={trees['weights']}",
            *SMALL_CROPS,
        ]
    )
    assert [r["recipe"] for r in results] == [
        "imagenet_torchvision",
        "ssdlite_mmdet",
        "ssdlite320_torchvision",
        "deeplab_coco_stage",
    ]
    for result in results:
        assert result["iterations"] == 2 and result["batch_size"] == 2 and len(result["losses"]) == 2
        assert all(torch.isfinite(torch.tensor(result["losses"])))
        assert result["images_per_s"] > 0 and result["peak_memory_mb"] > 0
    assert [r["recipe"] for r in json.loads((tmp_path / "r.json").read_text())] == [
        "ssdlite_mmdet",
        "ssdlite320_torchvision",
    ]
