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
    ("config", "params_m", "madds_m"),
    [
        # torchvision / TF slim counts of the paper's networks at 224x224, 1000 classes.
        ("mobilenet_v2_imagenet.py", 3.504872, 300.77),
        ("mobilenet_v2_140_imagenet.py", 6.108776, 582.2),
        ("mobilenet_v2_035_imagenet.py", 1.677128, 59.29),
    ],
)
def test_complexity_matches_published_figures(config, params_m, madds_m):
    out = run_tool("analysis/complexity.py", f"configs/{config}", "--shape", "224", "224").stdout
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
