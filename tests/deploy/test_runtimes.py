"""The runtime layer's switch: which runtime opens which exported file (no file is opened here)."""

import pytest

from visionkit.deploy import is_runtime_file, runtime_names
from visionkit.deploy.runtimes import ExecuTorchModel, OnnxRuntimeModel, OpenVinoModel, runtime_class


def test_the_shipped_runtimes_are_registered():
    assert {"executorch", "onnxruntime", "openvino"} <= set(runtime_names())  # (a test may add its own)


def test_a_file_goes_to_the_first_runtime_of_its_suffix_unless_one_is_named():
    assert runtime_class("m.onnx") is OnnxRuntimeModel
    assert runtime_class("dir/M.ONNX") is OnnxRuntimeModel
    assert runtime_class("m.onnx", "openvino") is OpenVinoModel
    assert runtime_class("m.pte") is ExecuTorchModel
    assert is_runtime_file("m.pte") and is_runtime_file("m.onnx")
    assert not is_runtime_file("epoch_3.pth") and not is_runtime_file("model.onnx.pth")


def test_a_runtime_that_does_not_read_the_file_or_is_unknown_is_refused_with_the_choices():
    readers = r"for '\.onnx': (onnxruntime, openvino|openvino, onnxruntime)"
    with pytest.raises(ValueError, match=r"'executorch' does not read '\.onnx'.*" + readers):
        runtime_class("m.onnx", "executorch")
    with pytest.raises(ValueError, match=r"Unknown runtime 'tensorrt': the runtimes are .*onnxruntime"):
        runtime_class("m.onnx", "tensorrt")
    with pytest.raises(ValueError, match=r"No runtime reads 'm\.pth'"):
        runtime_class("m.pth")
