"""docs/model_zoo.md's table against the home library: every torchvision row's fetch name resolves offline to
the weights whose published figure the row quotes, every timm and PaddleClas row's to its library's URL for
that checkpoint, and every config it names without a mark exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from visionkit.models.checkpoint_fetch import expected_hash_prefix, torchvision_weights
from visionkit.models.checkpoint_names import checkpoint_url

ROOT = Path(__file__).resolve().parents[2]
MMDET_URL = (
    "https://download.openmmlab.com/mmdetection/v2.0/ssd/ssdlite_mobilenetv2_scratch_600e_coco/"
    "ssdlite_mobilenetv2_scratch_600e_coco_20210629_110627-974d9307.pth"
)


def table_rows() -> list[list[str]]:
    text = (ROOT / "docs/model_zoo.md").read_text()
    table = text[text.index("| checkpoint | home |") : text.index("torchvision's SSDLite predicts 91")]
    lines = [line for line in table.splitlines()[2:] if line.startswith("|")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]


TORCHVISION_ROWS = [row for row in table_rows() if row[1] == "torchvision"]
TIMM_ROWS = [row for row in table_rows() if row[1] == "timm"]
PADDLECLAS_ROWS = [row for row in table_rows() if row[1] == "PaddleClas"]


def test_the_table_has_every_checkpoint_of_the_issue():
    assert len(TORCHVISION_ROWS) == 8 and len(TIMM_ROWS) == 7 and len(PADDLECLAS_ROWS) == 7
    assert len(table_rows()) == 23
    assert MMDET_URL in (ROOT / "docs/model_zoo.md").read_text()
    assert expected_hash_prefix(MMDET_URL) == "974d9307"


@pytest.mark.parametrize("row", TORCHVISION_ROWS, ids=[row[3] for row in TORCHVISION_ROWS])
def test_a_torchvision_row_quotes_its_weights_figures(row):
    checkpoint, _, figure, fetch, _ = row
    weights = torchvision_weights(re.fullmatch(r"`torchvision://(\S+)`", fetch).group(1))
    assert checkpoint.split()[-1] == weights.name
    metrics = next(iter(weights.meta["_metrics"].values()))
    quoted = [float(x) for x in re.findall(r"\d+\.\d+", figure)]
    assert quoted == [float(v) for v in metrics.values()][: len(quoted)] and quoted


def test_listed_configs_exist():
    for row in table_rows():
        for config in re.findall(r"`(configs/\S+\.py)`", row[4]):
            assert (ROOT / config).is_file(), config


@pytest.mark.parametrize(
    "row", TIMM_ROWS + PADDLECLAS_ROWS, ids=[row[0] for row in TIMM_ROWS + PADDLECLAS_ROWS]
)
def test_a_timm_or_paddleclas_row_names_its_file(row):
    """timm://NAME is the file of the tag the row names (timm's pretrained_cfg, test_timm_zoo.py checks);
    paddleclas://NAME PaddleClas's file of that name; the row's command is in the evaluation list."""
    checkpoint, home, figure, fetch, config = (cell.strip("`") for cell in row)
    url = checkpoint_url(fetch)
    if home == "timm":
        from visionkit.models.checkpoint_names import TIMM_FILES

        assert fetch == f"timm://{checkpoint.split('.')[0]}" and url.endswith("/" + TIMM_FILES[checkpoint])
    else:
        assert fetch == f"paddleclas://{checkpoint}" and url.endswith(f"/{checkpoint}_pretrained.pdparams")
    assert re.fullmatch(r"ImageNet top-1 \d+\.\d+ \(top-5 \d+\.\d+\)", figure)
    assert f"python tools/test.py {config} {fetch}" in (ROOT / "docs/model_zoo.md").read_text()


def tf_release_rows() -> list[list[str]]:
    text = (ROOT / "docs/model_zoo.md").read_text()
    section = text[text.index("## The paper's TensorFlow releases") :]
    table = section[section.index("| checkpoint | home |") : section.index("TF-slim's table")]
    return [[c.strip() for c in line.strip("|").split("|")] for line in table.splitlines()[2:] if line]


def test_tf_release_rows_are_pinned_and_name_existing_configs():
    rows = tf_release_rows()
    assert [row[1] for row in rows] == ["TF-slim"] * 3 + ["TF DeepLab"] * 2 + ["TF object detection"]
    for row in rows:
        url = re.fullmatch(r"`(\S+)`", row[3])
        if url and url.group(1).startswith("http") and "#sha256=" not in url.group(1):
            assert expected_hash_prefix(url.group(1)) is not None, url.group(1)  # a pinned sha256
        for config in re.findall(r"`(configs/\S+\.py)`", row[4]):
            assert (ROOT / config).is_file(), config
