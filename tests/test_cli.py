"""The ``visionkit`` command runs the tools with their own options and lists the shipped configs."""

import json
import sys

import pytest

from visionkit import cli
from visionkit.engine.shipped_configs import list_configs, resolve_config_path


def test_configs_lists_the_shipped_configs_without_bases(capsys):
    cli.main(["configs", "toy"])
    out = capsys.readouterr().out
    assert "  ssdlite_mnv2_toy.py" in out and "  mobilenet_v2_toy.py" in out and "coco.py" not in out
    assert "ssdlite_mnv2_coco.py" in list_configs() and not any("_base_" in n for n in list_configs())


def test_a_command_runs_its_tool_with_the_tools_options(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["visionkit"])
    cli.main(["make-toy-data", "coco", "--out", str(tmp_path), "--num-train", "2", "--num-val", "1"])
    ann = json.loads((tmp_path / "coco" / "annotations" / "instances_val2017.json").read_text())
    assert len(ann["images"]) == 1


def test_unknown_command_lists_the_commands():
    with pytest.raises(SystemExit, match=r"unknown command 'trian'[\s\S]*train,test,infer,export"):
        cli.main(["trian"])


def test_shipped_config_names_resolve_from_anywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no configs/ here
    for name in ("visionkit::ssdlite_mnv2_toy.py", "configs/ssdlite_mnv2_toy.py", "ssdlite_mnv2_toy.py"):
        assert resolve_config_path(name).endswith("configs/ssdlite_mnv2_toy.py")
    with pytest.raises(FileNotFoundError, match=r"visionkit ships no config 'nope\.py'"):
        resolve_config_path("visionkit::nope.py")
    with pytest.raises(FileNotFoundError, match=r"Config file 'my\.py' not found"):
        resolve_config_path("my.py")
