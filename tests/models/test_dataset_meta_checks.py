"""A file's dataset_meta (class names, colours) is checked before numpy, PIL or a metric sees it."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from visionkit.datasets.voc_palette import voc_palette
from visionkit.models.dataset_meta_checks import MetainfoError, checked_metainfo


def test_the_forms_visionkits_data_sets_write_are_kept():
    voc = {"classes": ("background", "cat"), "palette": voc_palette()[:2].tolist()}
    assert checked_metainfo(voc, "x") == {
        "classes": ("background", "cat"),
        "palette": [[0, 0, 0], [128, 0, 0]],
    }
    coco = {"classes": ["person"], "cat_ids": (1,), "ann_file": "a.json", "palette": [(1, 2, 3)]}
    plain = {**coco, "classes": ("person",), "cat_ids": [1], "palette": [[1, 2, 3]]}
    assert checked_metainfo(coco, "x") == plain
    multi = {"tasks": {"det": coco, "seg": voc}, "task_sizes": {"det": 3, "seg": np.int64(4)}}
    assert checked_metainfo(multi, "x")["task_sizes"] == {"det": 3, "seg": 4}
    assert checked_metainfo({"palette": np.array([[1, 2, 3]], dtype=np.uint8)}, "x") == {
        "palette": [[1, 2, 3]]
    }
    assert checked_metainfo(None, "x") == {} and checked_metainfo({"other": [1]}, "x") == {"other": [1]}


@pytest.mark.parametrize(
    ("meta", "field"),
    [
        ({"palette": [{"__array_interface__": {"data": (8, False)}}]}, "palette"),
        ({"palette": [[0, 0, 300]]}, "palette"),
        ({"palette": [[0, 0]]}, "palette"),
        ({"palette": ["red"]}, "palette"),
        ({"palette": [[True, 0, 0.5]]}, "palette"),
        ({"classes": ["cat", 3]}, "classes"),
        ({"classes": "cat"}, "classes"),
        ({"cat_ids": [1.5]}, "cat_ids"),
        ({"ann_file": ["/etc/passwd"]}, "ann_file"),
        ({"tasks": {"seg": {"palette": "red"}}}, "palette"),
        ({"tasks": {"seg": {"tasks": {}}}}, "tasks"),
    ],
)
def test_other_forms_are_refused_by_name(meta, field):
    with pytest.raises(MetainfoError, match=rf"Checkpoint 'x\.pth'.*dataset_meta\['{field}'\]"):
        checked_metainfo(meta, "Checkpoint 'x.pth'")


@pytest.mark.slow
def test_a_config_dict_palette_cannot_hand_numpy_an_address(tmp_path):
    """A pickled ConfigDict in the palette answered ``__array_interface__`` with the file's own pointer:
    drawing the legend made numpy read address 8 (SIGSEGV). The load runs in a child process so a crash
    fails this test instead of ending the test session."""
    from mmengine.config import ConfigDict

    from tests.engine.tiny_runs import CONFIG
    from visionkit.apis import init_model

    options = {"model.backbone.widen_factor": 0.35}
    pointer = dict(shape=(3,), typestr="|u1", data=(8, False), version=3)
    meta = {"classes": ["a", "b", "c", "d"], "palette": [ConfigDict(__array_interface__=pointer)] * 4}
    path = tmp_path / "evil.pth"
    torch.save(
        {"state_dict": init_model(CONFIG, cfg_options=options).state_dict(), "meta": {"dataset_meta": meta}},
        path,
    )
    script = textwrap.dedent(f"""
        from visionkit.apis import init_model
        from visionkit.visualization import class_colours
        try:
            model = init_model({CONFIG!r}, {str(path)!r}, cfg_options={options!r})
            print(class_colours(4, model.dataset_meta["palette"]))
        except Exception as error:
            raise SystemExit(str(error))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr[-2000:])
    assert f"Checkpoint '{path}': its dataset_meta['palette']" in result.stderr
