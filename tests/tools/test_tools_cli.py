"""Every tool answers --help; the complexity tool prints the published MobileNetV2 figures."""

import re

import pytest

from .run_tool import REPO, run_tool

TOOLS = sorted(str(p.relative_to(REPO / "tools")) for p in (REPO / "tools").rglob("*.py"))


@pytest.mark.parametrize("script", TOOLS)
def test_help(script):
    result = run_tool(script, "--help")
    assert "usage:" in result.stdout


@pytest.mark.parametrize(
    ("config", "size", "params_m", "madds_m"),
    [
        # torchvision / TF slim counts of the paper's networks at 224x224, 1000 classes.
        ("mobilenet_v2_imagenet.py", 224, 3.504872, 300.77),
        ("mobilenet_v2_140_imagenet.py", 224, 6.108776, 582.2),
        ("mobilenet_v2_035_imagenet.py", 224, 1.677128, 59.29),
        # Paper Table 6 (4.3M / 0.8B) and Table 7 (2.11M and 4.52M params; MAdds see docs/segmentation.md).
        ("ssdlite_mnv2_coco.py", 320, 4.337013, 788.83),
        ("deeplabv3lite_mnv2_voc.py", 512, 2.113557, 2603.96),
        ("deeplabv3_mnv2_voc.py", 512, 4.523541, 5070.21),
    ],
)
def test_complexity_matches_published_figures(config, size, params_m, madds_m):
    """The input size defaults to the config's ``image_size``; these are the sizes the papers count at."""
    out = run_tool("analysis/complexity.py", f"configs/{config}").stdout
    assert f"1x3x{size}x{size}" in out
    params = int(re.search(r"params:\s+[\d.]+ M \(([\d,]+)\)", out).group(1).replace(",", ""))
    madds = int(re.search(r"MAdds:\s+[\d.]+ M \(([\d,]+)\)", out).group(1).replace(",", ""))
    assert params / 1e6 == pytest.approx(params_m, rel=0.01)
    assert madds / 1e6 == pytest.approx(madds_m, rel=0.01)


def test_missing_config_file_is_named():
    result = run_tool("train.py", "configs/no_such_config.py", check=False)
    assert result.returncode != 0
    assert "configs/no_such_config.py" in result.stderr


def test_training_without_data_stops_with_where_and_how(tmp_path):
    missing = tmp_path / "coco"
    result = run_tool(
        "train.py",
        "configs/ssdlite_mnv2_coco.py",
        "--work-dir",
        str(tmp_path / "w"),
        "--data-root",
        str(missing),
        check=False,
    )
    assert result.returncode != 0
    assert str(missing) in result.stderr and "--data-root" in result.stderr
    assert "Traceback" not in result.stderr
