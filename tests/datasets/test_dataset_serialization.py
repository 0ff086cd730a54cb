"""Data sets hold their items serialised in one numpy array, which dataloader workers share, not copy.

With Python lists, every forked worker copies the pages of the objects it touches (reference counts are
writes); at COCO scale that is the whole list per worker. tools/benchmark.py --loader measures it at
train2017 size; here the mechanism is checked at a small size.
"""

import os
import signal
import sys

import numpy as np
import pytest
from benchmarking.dataset_scale import shared_fraction, worker_memory, write_instances_json

from visionkit.datasets import CocoDetection, ImageNetDataset, VOCSegmentation
from visionkit.datasets.toy_data import make_classification_set, make_voc_segmentation_set

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")


def _assert_serialised(dataset) -> None:
    assert isinstance(dataset.data_bytes, np.ndarray) and dataset.data_bytes.nbytes > 0
    assert dataset.data_list == []  # no Python copy of the items kept beside the bytes
    assert dataset.get_data_info(len(dataset) - 1)["img_path"]


def test_every_dataset_keeps_its_items_serialised(tmp_path) -> None:
    voc = make_voc_segmentation_set(tmp_path / "voc", num_train=3, num_val=2, image_size=32)
    cls = make_classification_set(tmp_path / "cls", num_train_per_class=1, num_val_per_class=1, image_size=32)
    (tmp_path / "coco" / "train2017").mkdir(parents=True)
    write_instances_json(tmp_path / "coco" / "instances.json", num_images=20, num_boxes=60)
    for dataset in (
        VOCSegmentation(data_root=str(voc["data_root"]), split="ImageSets/Segmentation/train.txt"),
        ImageNetDataset(data_root=str(cls["root"]), split="train"),
        CocoDetection(
            data_root=str(tmp_path / "coco"), ann_file="instances.json", data_prefix=dict(img="train2017/")
        ),
    ):
        _assert_serialised(dataset)


def test_dataloader_workers_share_the_serialised_items(tmp_path) -> None:
    (tmp_path / "train2017").mkdir()
    write_instances_json(tmp_path / "instances.json", num_images=3000, num_boxes=20000)
    dataset = CocoDetection(
        data_root=str(tmp_path), ann_file="instances.json", data_prefix=dict(img="train2017/")
    )
    _assert_serialised(dataset)
    if shared_fraction(os.getpid(), dataset.data_bytes) is None:
        pytest.skip("physical page numbers are not readable here (needs root or CAP_SYS_ADMIN)")
    # the check can fail: a child that writes to the array gets its own copy of those pages
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        dataset.data_bytes.setflags(write=True)
        dataset.data_bytes[:] = 0
        os.write(write, b"x")
        signal.pause()
    try:
        os.read(read, 1)
        assert shared_fraction(pid, dataset.data_bytes) == 0.0
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    workers = worker_memory(dataset, num_workers=2, batch_size=256)  # every item read by a worker
    assert [worker["shared"] for worker in workers] == [1.0, 1.0]
