"""Evaluation plots on request only, and training curves from mmengine's scalars.json."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from visionkit.evaluation import IoUMetric
from visionkit.visualization.training_curves import find_scalars, read_scalars

from ..tools.run_tool import load_tool

plot_logs = load_tool("analysis/plot_logs")


def seg_results():
    metric = IoUMetric(num_classes=2)
    metric.dataset_meta = {"classes": ("background", "cat")}
    gt = torch.tensor([[0, 1], [1, 1]])
    metric.process({}, [{"pred_seg_map": torch.tensor([[0, 1], [0, 1]]), "gt_seg_map": gt}])
    return metric


def test_confusion_matrix_png_only_with_plot_dir(tmp_path):
    metric = seg_results()
    metric.compute_metrics(metric.results)
    assert not any(tmp_path.iterdir())
    metric.plot_dir = str(tmp_path)
    assert metric.compute_metrics(metric.results)["mIoU"] == pytest.approx(100 * (0.5 + 2 / 3) / 2, abs=0.01)
    with Image.open(tmp_path / "confusion_matrix.png") as image:
        assert image.format == "PNG" and min(image.size) > 100


def test_training_log_splits_train_and_val_and_plots(tmp_path, capsys):
    run = tmp_path / "work" / "20261201_000000" / "vis_data"
    run.mkdir(parents=True)
    lines = [{"lr": 0.01 / i, "loss": 2.0 / i, "loss_cls": 1.0, "epoch": 1, "iter": 10 * i, "step": 10 * i}
             for i in range(1, 5)]  # fmt: skip
    lines.append({"coco/bbox_mAP": 0.5, "data_time": 0.1, "time": 0.2, "step": 1})
    (run / "scalars.json").write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    assert find_scalars(tmp_path / "work") == run / "scalars.json"
    train, val = read_scalars(run / "scalars.json")
    assert (len(train), len(val)) == (4, 1) and val[0]["coco/bbox_mAP"] == 0.5
    plot_logs.main([str(tmp_path / "work")])
    assert "4 training and 1 val records" in capsys.readouterr().out
    with Image.open(tmp_path / "work" / "20261201_000000" / "curves.png") as image:
        assert image.size[0] > 3 * image.size[1]  # three panels side by side: loss, lr, bbox_mAP
        assert np.asarray(image.convert("L")).std() > 5


def test_plot_logs_names_a_work_dir_without_logs(tmp_path):
    with pytest.raises(SystemExit, match="error: No training log under"):
        plot_logs.main([str(tmp_path)])
