"""dev/cpu_features.py: a command run through it sees a CPU without VNNI (or AVX-512), and ONNX
Runtime takes that CPU's int8 kernels, which is what the INT8 figures for such CPUs rest on."""

from __future__ import annotations

import platform
import shutil
import signal
import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.tools.run_tool import REPO, load_tool

cpu_features = load_tool("cpu_features", folder="dev")

pytestmark = pytest.mark.skipif(
    platform.system() != "Linux"
    or platform.machine() != "x86_64"
    or "cpuid_fault" not in cpu_features.cpu_flags()
    or not (shutil.which("cc") or shutil.which("gcc")),
    reason="needs Linux on x86-64 with CPUID faulting and a C compiler",
)

K = 64


def run_masked(mode: str, code: str) -> subprocess.CompletedProcess:
    script = [sys.executable, str(REPO / "dev/cpu_features.py"), mode, "--", sys.executable, "-c"]
    return subprocess.run([*script, code], capture_output=True, text=True, timeout=120, cwd=REPO)


def saturating_matmul(path) -> None:
    """uint8 255 x int8 127 over K: exactly K x 32385; a non-VNNI kernel saturates each pair's 16-bit sum."""
    weights = numpy_helper.from_array(np.full((K, 8), 127, np.int8), "b")
    graph = helper.make_graph(
        [helper.make_node("MatMulInteger", ["a", "b"], ["y"])],
        "saturation",
        [helper.make_tensor_value_info("a", TensorProto.UINT8, [4, K])],
        [helper.make_tensor_value_info("y", TensorProto.INT32, [4, 8])],
        [weights],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)


RUN = """
import numpy as np, onnxruntime as ort
from visionkit.deploy.ort_session import session_options
session = ort.InferenceSession({path!r}, {options}, providers=["CPUExecutionProvider"])
print(int(session.run(None, {{"a": np.full((4, {k}), 255, np.uint8)}})[0][0, 0]))
"""

FEATURES = """
import torch
from numpy._core._multiarray_umath import __cpu_features__ as f
print(torch.backends.cpu.get_cpu_capability(), f["AVX512F"], f["AVX512_CLX"])
"""


@pytest.mark.slow
@pytest.mark.parametrize("mode", cpu_features.MODES)
def test_onnx_runtime_takes_the_non_vnni_int8_kernel_and_visionkit_sessions_stay_exact(tmp_path, mode):
    saturating_matmul(tmp_path / "matmul.onnx")
    plain = RUN.format(path=str(tmp_path / "matmul.onnx"), k=K, options="None")
    masked = run_masked(mode, plain)
    assert masked.returncode == 0, masked.stderr
    # ONNX Runtime's default kernel adds two 255 x 127 products into a saturated int16: 32767, not 64770.
    assert int(masked.stdout) == K // 2 * 32767
    # visionkit's sessions (session.x64quantprecision) take the exact kernel on the same CPU.
    ours = run_masked(mode, RUN.format(path=str(tmp_path / "matmul.onnx"), k=K, options="session_options()"))
    assert int(ours.stdout) == K * 255 * 127, ours.stderr
    if {"avx512_vnni", "avx_vnni"} & cpu_features.cpu_flags():
        native = subprocess.run([sys.executable, "-c", plain], capture_output=True, text=True, timeout=120)
        assert int(native.stdout) == K * 255 * 127


@pytest.mark.slow
def test_the_command_sees_the_features_hidden():
    flags = cpu_features.cpu_flags()
    if "avx512f" not in flags or "avx512_vnni" not in flags:
        pytest.skip("this CPU has no AVX-512 VNNI to hide")
    assert run_masked("no-vnni", FEATURES).stdout.split() == ["AVX512", "True", "False"]
    assert run_masked("avx2", FEATURES).stdout.split() == ["AVX2", "False", "False"]


def test_other_faults_still_end_the_process():
    crashed = run_masked("no-vnni", "import ctypes; ctypes.string_at(0)")
    assert crashed.returncode == -signal.SIGSEGV


def test_a_missing_command_is_refused():
    with pytest.raises(SystemExit) as stop:
        cpu_features.parse_args(["avx2", "--"])
    assert stop.value.code == 2
