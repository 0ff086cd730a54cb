"""Exported model files are checked before a runtime builds anything from them (docs/trust_model.md)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import onnx
import pytest
from onnx import TensorProto, external_data_helper, helper, numpy_helper

from visionkit.deploy import model_file_checks
from visionkit.deploy.model_file_checks import ModelFileError, check_onnx_file, check_pte_file


def _graph_file(path, nodes, initializers=(), inputs=None, outputs=("y",)) -> str:
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])] if inputs is None else inputs
    outputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, [1]) for name in outputs]
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(initializers))
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)]), str(path))
    return str(path)


def _int64(name: str, values: list[int]) -> onnx.TensorProto:
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def folding_bomb(path, count: int = 250_000_000) -> str:
    """ConstantOfShape([count]) summed into the output: about 200 bytes that ONNX Runtime computes while
    building the session (1 GB at 250 M floats; ONNX Runtime 1.32 folds up to 1 GiB per node)."""
    nodes = [
        helper.make_node("ConstantOfShape", ["shape"], ["big"]),
        helper.make_node("ReduceSum", ["big"], ["sum"], keepdims=0),
        helper.make_node("Add", ["x", "sum"], ["y"]),
    ]
    return _graph_file(path, nodes, [_int64("shape", [count])])


def shape_bomb(path, count: int = 200_000_000) -> str:
    """ConstantOfShape(Shape(x) * count) for an input of static shape [1]: the runtime knows Shape(x)
    before any input arrives and folds the rest (800 MB in ONNX Runtime 1.32)."""
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Mul", ["s", "k"], ["n"]),
        helper.make_node("ConstantOfShape", ["n"], ["big"]),
        helper.make_node("ReduceSum", ["big"], ["sum"], keepdims=0),
        helper.make_node("Add", ["x", "sum"], ["y"]),
    ]
    return _graph_file(path, nodes, [_int64("k", [count])])


def test_a_small_graph_within_the_bounds_passes(tmp_path):
    nodes = [
        helper.make_node("ConstantOfShape", ["shape"], ["c"]),
        helper.make_node("Add", ["x", "c"], ["y"]),
    ]
    check_onnx_file(_graph_file(tmp_path / "ok.onnx", nodes, [_int64("shape", [1])]))


@pytest.mark.parametrize(
    "bomb, refused",
    [
        (folding_bomb, "its constant values would take more"),
        (shape_bomb, r"the size of its constant value 'big' \(ConstantOfShape\) is not known"),
    ],
)
def test_constant_folding_is_bounded_by_the_files_size(tmp_path, bomb, refused):
    """ONNX Runtime folded a 593-byte graph into 1.9 GB at init_model; what folding would compute is now
    summed from shape inference first: at most 64 MiB + 8 bytes per byte of the file. The Shape of a
    statically shaped input counts as a constant (the runtime folds what follows it too), so a value
    computed from it must have a size shape inference knows."""
    with pytest.raises(ModelFileError, match=rf"bomb\.onnx' was not loaded: {refused}"):
        check_onnx_file(bomb(tmp_path / "bomb.onnx"))


def test_a_constant_range_is_sized_without_computing_it(tmp_path):
    """Range(0, 10**9) over constants: sized by shape inference, not computed (ONNX's data propagation
    would materialise it: the check itself must not be the bomb)."""
    nodes = [
        helper.make_node("Range", ["start", "limit", "delta"], ["r"]),
        helper.make_node("Cast", ["r"], ["rf"], to=TensorProto.FLOAT),
        helper.make_node("ReduceSum", ["rf"], ["sum"], keepdims=0),
        helper.make_node("Add", ["x", "sum"], ["y"]),
    ]
    values = [
        numpy_helper.from_array(np.array(v, dtype=np.int64), n)
        for n, v in (("start", 0), ("limit", 10**9), ("delta", 1))
    ]
    with pytest.raises(ModelFileError, match=r"range\.onnx.*its constant values would take more than 64 MiB"):
        check_onnx_file(_graph_file(tmp_path / "range.onnx", nodes, values))


def compute_bomb(path, op: str, side: int = 2048, kernel: int = 1024) -> str:
    """``op`` over two ConstantOfShape values of ones (side x side and kernel x kernel): 20 MB of folded
    values, within the folding budget, from 311 bytes. ONNX Runtime 1.32 folds a Conv of them while it
    builds the session in (side - kernel)^2 kernel^2 steps: 12 s at side 1024 / kernel 512 on one thread,
    223 s at 2048 / 1024; a MatMul of two side x side values takes side^3."""
    one = helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0])
    attributes = {"kernel_shape": [kernel, kernel]} if op == "MaxPool" else {}
    nodes = [
        helper.make_node("ConstantOfShape", ["a_shape"], ["a"], value=one),
        helper.make_node("ConstantOfShape", ["w_shape"], ["w"], value=one),
        helper.make_node(op, ["a"] if op == "MaxPool" else ["a", "w"], ["c"], **attributes),
        helper.make_node("ReduceSum", ["c"], ["sum"], keepdims=0),
        helper.make_node("Add", ["x", "sum"], ["y"]),
    ]
    shapes = [_int64("a_shape", [1, 1, side, side]), _int64("w_shape", [1, 1, kernel, kernel])]
    return _graph_file(path, nodes, shapes)


def test_strings_computed_from_constants_are_refused(tmp_path):
    """Cast of 3 M constant floats to strings and back: counted as 48 MB (8 bytes a string), within the
    folding budget, while ONNX Runtime 1.32 took +430 MB resident to build the session."""
    nodes = [
        helper.make_node("ConstantOfShape", ["shape"], ["c"]),
        helper.make_node("Cast", ["c"], ["text"], to=TensorProto.STRING),
        helper.make_node("Cast", ["text"], ["f"], to=TensorProto.FLOAT),
        helper.make_node("ReduceSum", ["f"], ["sum"], keepdims=0),
        helper.make_node("Add", ["x", "sum"], ["y"]),
    ]
    path = _graph_file(tmp_path / "text.onnx", nodes, [_int64("shape", [3_000_000])])
    with pytest.raises(
        ModelFileError, match=r"text\.onnx' was not loaded: it computes strings from constants"
    ):
        check_onnx_file(path)


@pytest.mark.parametrize("op", ["Conv", "MatMul", "MaxPool"])
def test_constants_are_folded_only_by_operators_of_linear_cost(tmp_path, op):
    """Within the folding budget's memory, a Conv (or MatMul, or a pooling window) of constants costs what
    its inputs' sizes allow per output element: it was accepted, and kept ONNX Runtime building the
    session for minutes. Only operators whose time is linear in their sizes may run on constants."""
    with pytest.raises(
        ModelFileError, match=rf"{op}\.onnx' was not loaded: it computes '{op}' from constants"
    ):
        check_onnx_file(compute_bomb(tmp_path / f"{op}.onnx", op, kernel=2048 if op == "MatMul" else 1024))


@pytest.mark.parametrize(
    ("what", "refused"),
    [
        ("external", "names external data files"),
        ("domain", "operators outside the standard ONNX set"),
        ("loop", "control flow"),
        ("garbage", "not a valid ONNX model"),
        ("shapes", "not a valid ONNX model"),
    ],
)
def test_what_visionkits_exports_never_hold_is_refused(tmp_path, what, refused):
    path = tmp_path / f"{what}.onnx"
    if what == "external":  # ONNX Runtime reads the named file (any path) as the tensor's bytes
        weight = numpy_helper.from_array(np.zeros(1, dtype=np.float32), "w")
        external_data_helper.set_external_data(weight, location="../../etc/passwd", length=4)
        weight.data_location = TensorProto.EXTERNAL
        weight.ClearField("raw_data")
        _graph_file(path, [helper.make_node("Add", ["x", "w"], ["y"])], [weight])
    elif what == "domain":
        _graph_file(path, [helper.make_node("PyOp", ["x"], ["y"], domain="com.microsoft")])
    elif what == "loop":
        body = helper.make_graph([], "body", [], [])
        _graph_file(path, [helper.make_node("If", ["x"], ["y"], then_branch=body, else_branch=body)])
    elif what == "shapes":  # a graph only strict shape inference finds wrong: [1] + [3] declared [1]
        weight = numpy_helper.from_array(np.zeros(3, dtype=np.float32), "w")
        _graph_file(path, [helper.make_node("Add", ["x", "w"], ["y"])], [weight])
    else:
        path.write_bytes(b"\x0a\xff\xff\xff\xff\x0f" + bytes(64))
    with pytest.raises(ModelFileError, match=rf"{what}\.onnx' was not loaded: .*{refused}"):
        check_onnx_file(path)


def test_a_sparse_initializer_is_refused(tmp_path):
    """A 16384 x 16384 sparse initializer of one value, used by no node: 113 bytes that passed the check,
    and ONNX Runtime 1.32 made it dense (+1 GiB resident) while it built the session."""
    values = numpy_helper.from_array(np.array([1.0], dtype=np.float32), "w")
    indices = numpy_helper.from_array(np.array([0], dtype=np.int64), "w_idx")
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
        sparse_initializer=[helper.make_sparse_tensor(values, indices, [16384, 16384])],
    )
    path = tmp_path / "sparse.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)]), str(path))
    with pytest.raises(ModelFileError, match=r"sparse\.onnx' was not loaded: it holds sparse tensors"):
        check_onnx_file(path)


@pytest.mark.parametrize("model_type", ["this.s", "posix.system", "MobileNetV2"])
def test_the_metadatas_model_type_is_looked_up_among_visionkits_task_models(tmp_path, model_type):
    """An exported file's metadata names its task model class. On f328df2 it was looked up with
    ``MODELS.get``, which imports whatever module a dotted name names and returns any object in it:
    ``this.s`` printed the Zen of Python at init_model, ``posix.system`` became the task model."""
    from mmengine.config import Config

    from visionkit.deploy.onnx_export import METADATA_KEY
    from visionkit.deploy.runtimes.onnx_runtime import OnnxRuntimeModel

    path = tmp_path / "named.onnx"
    _graph_file(path, [helper.make_node("Identity", ["x"], ["y"])])
    model = onnx.load(str(path))
    helper.set_model_props(model, {METADATA_KEY: f'{{"model_type": "{model_type}"}}'})
    onnx.save(model, str(path))
    sys.modules.pop("this", None)
    with pytest.raises(
        ValueError, match=rf"named\.onnx' names '{model_type}' as its model type, which is not"
    ):
        OnnxRuntimeModel(Config({}), path)
    assert "this" not in sys.modules


def test_size_and_node_count_are_bounded(tmp_path, monkeypatch):
    nodes = [helper.make_node("Identity", ["x"], ["a0"])] + [
        helper.make_node("Identity", [f"a{i}"], [f"a{i + 1}"]) for i in range(30)
    ]
    path = _graph_file(tmp_path / "long.onnx", [*nodes, helper.make_node("Identity", ["a30"], ["y"])])
    monkeypatch.setattr(model_file_checks, "MAX_ONNX_NODES", 16)
    with pytest.raises(ModelFileError, match=r"long\.onnx.*32 nodes, more than 16"):
        check_onnx_file(path)
    monkeypatch.setattr(model_file_checks, "MAX_ONNX_BYTES", 100)
    with pytest.raises(ModelFileError, match=r"long\.onnx.*more than the 0 MiB visionkit reads"):
        check_onnx_file(path)


def test_a_pte_file_must_be_an_executorch_program(tmp_path):
    path = tmp_path / "model.pte"
    path.write_bytes(b"\x1c\x00\x00\x00ET12" + bytes(64))
    check_pte_file(path)
    path.write_bytes(b"PK\x03\x04" + bytes(64))
    with pytest.raises(ModelFileError, match=r"model\.pte' was not loaded: it is not an ExecuTorch program"):
        check_pte_file(path)


@pytest.mark.slow
def test_init_model_on_a_folding_bomb_stays_small(tmp_path):
    """The whole path a user takes (``init_model`` on a ``.onnx``), in a child process so that memory is
    measured for it alone: c52df3f's ONNX Runtime session grew the process by 1 GB before any check."""
    from tests.engine.tiny_runs import CONFIG

    path = folding_bomb(tmp_path / "bomb.onnx")
    script = textwrap.dedent(f"""
        import resource
        from visionkit.apis import init_model
        start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10
        try:
            init_model({CONFIG!r}, {path!r})
        except Exception as error:
            print(type(error).__name__, str(error)[:200])
        print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10) - start)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    *messages, grown_mb = result.stdout.split("\n")[:-1]
    assert "ModelFileError" in messages[0] and "bomb.onnx' was not loaded" in messages[0], result.stdout
    assert int(grown_mb) < 256, result.stdout
