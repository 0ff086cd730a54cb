"""Checks of an exported model file before a runtime reads it: one entry function per format.

An ``.onnx`` or ``.pte`` file is a program: its graph says what memory and time inference takes. These
checks bound what building a session from it may cost and refuse what visionkit's exporters never write,
so that a crafted file fails with an error naming it instead of filling the memory at ``init_model``:

- ``.onnx`` (ONNX Runtime, OpenVINO), :func:`check_onnx_file`: at most :data:`MAX_ONNX_BYTES` and
  :data:`MAX_ONNX_NODES` nodes; only the standard operator set, without control flow (``If``, ``Loop``,
  ``Scan``), local functions or sparse tensors (made dense as the file is read); every tensor inside the
  file (external data names other files to read); ONNX's checker with strict shape inference passes;
  and every value computable from constants alone, which a runtime folds while it builds the session
  (ONNX Runtime turned a 593-byte graph into 1.9 GB that way), has a size shape inference knows, all
  of them together at most :data:`FOLDED_BYTES_BASE` + :data:`FOLDED_BYTES_PER_BYTE` x the file's size,
  and comes from an operator whose time is linear in those sizes (elementwise, shape and reduction
  operators; a ``Conv`` or ``MatMul`` of constants is refused: it can take hours within that memory).
- ``.pte`` (ExecuTorch), :func:`check_pte_file`: at most :data:`MAX_PTE_BYTES`, and a FlatBuffer with
  ExecuTorch's file identifier; the runtime then verifies the program's internal consistency as it loads.
  ExecuTorch's runtime is built for programs its user compiled: a crafted ``.pte`` can still abort the
  process (docs/trust_model.md), so a ``.pte`` is trusted as code is.

What neither check bounds is inference itself: a graph may ask for as much memory per image as its
operators do. Run exported files you did not make only as you would run their code.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..models.checkpoint import CheckpointReadError
from ..models.untrusted_text import shown

MAX_ONNX_BYTES = 1 << 30
MAX_ONNX_NODES = 20_000
FOLDED_BYTES_BASE = 64 << 20
FOLDED_BYTES_PER_BYTE = 8
MAX_PTE_BYTES = 1 << 30
_STANDARD_DOMAINS = ("", "ai.onnx")
_CONTROL_FLOW = frozenset({"If", "Loop", "Scan", "SequenceMap"})
# Operators a runtime may compute from constants while it builds the session: each costs time linear in
# the sizes of its inputs and output, which the folding budget bounds. Conv, MatMul, pooling and the like
# cost per output element what their inputs' sizes allow: a 311-byte Conv over two ConstantOfShape
# values within the budget kept ONNX Runtime folding for minutes (K x K kernel over 2K x 2K: K^4 steps).
_LINEAR_FOLDABLE = frozenset(
    """Abs Acos Acosh Add And ArgMax ArgMin Asin Asinh Atan Atanh BitShift BitwiseAnd BitwiseNot BitwiseOr
    BitwiseXor Cast CastLike Ceil Celu Clip Concat Constant ConstantOfShape Cos Cosh CumSum DepthToSpace
    DequantizeLinear Div Elu Equal Erf Exp Expand EyeLike Flatten Floor Gather GatherElements GatherND Gelu
    Greater GreaterOrEqual HardSigmoid HardSwish Hardmax Identity IsInf IsNaN LeakyRelu Less LessOrEqual Log
    LogSoftmax Max Mean Min Mish Mod Mul Neg Not OneHot Or PRelu Pad Pow QuantizeLinear Range Reciprocal
    ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMax ReduceMean ReduceMin ReduceProd ReduceSum
    ReduceSumSquare Relu Reshape Round Selu Shape Shrink Sigmoid Sign Sin Sinh Size Slice Softmax Softplus
    Softsign SpaceToDepth Split Sqrt Squeeze Sub Sum Tan Tanh ThresholdedRelu Tile Transpose Trilu Unsqueeze
    Where Xor""".split()
)
_PTE_IDENTIFIER = b"ET12"  # the FlatBuffer file identifier of ExecuTorch programs (bytes 4-8)


class ModelFileError(CheckpointReadError):
    """An exported model file (.onnx, .pte) that visionkit refuses to hand to its runtime."""


def _refused(path: str | Path, reason: str) -> ModelFileError:
    return ModelFileError(f"Model file '{path}' was not loaded: {reason} (see docs/trust_model.md)")


def _size(path: str | Path, limit: int) -> int:
    size = os.path.getsize(path)
    if size > limit:
        raise _refused(path, f"it is {size >> 20} MiB, more than the {limit >> 20} MiB visionkit reads")
    return size


def _tensors(model: Any) -> Any:
    """Every tensor stored in the graph: initializers and the values of Constant nodes."""
    yield from model.graph.initializer
    for node in model.graph.node:
        for attribute in node.attribute:
            if attribute.HasField("t"):
                yield attribute.t
            yield from attribute.tensors


def _check_structure(model: Any, path: str | Path) -> None:
    nodes = model.graph.node
    if len(nodes) > MAX_ONNX_NODES:
        raise _refused(path, f"its graph has {len(nodes)} nodes, more than {MAX_ONNX_NODES}")
    domains = {n.domain for n in nodes}
    if model.functions or not domains <= set(_STANDARD_DOMAINS):
        raise _refused(path, f"it uses operators outside the standard ONNX set ({sorted(domains)[:5]})")
    flow = sorted({n.op_type for n in nodes} & _CONTROL_FLOW)
    if flow:
        raise _refused(path, f"it has control flow ({', '.join(flow)}), which visionkit's exports never have")
    sparse = any(a.HasField("sparse_tensor") or a.sparse_tensors for n in nodes for a in n.attribute)
    if model.graph.sparse_initializer or sparse:  # a 113-byte file was densified into 1 GiB
        raise _refused(path, "it holds sparse tensors, which a runtime makes dense as it reads the file")
    if any(t.data_location == 1 or t.external_data for t in _tensors(model)):
        raise _refused(path, "it names external data files, which a runtime would read from disk")


def _static_dims(kind: Any) -> list[int] | None:
    if kind is None or not kind.HasField("shape"):
        return None
    dims = [d.dim_value if d.HasField("dim_value") else None for d in kind.shape.dim]
    return None if None in dims else dims


def _folded_bytes(model: Any, path: str | Path, limit: int) -> None:
    """Refuse unless every value computable before any input arrives has a known size, within ``limit``
    bytes together: what ONNX Runtime and OpenVINO compute while they build their sessions. That is what
    depends on constants only, and the ``Shape`` / ``Size`` of a tensor whose shape is static; each such
    value must come from an operator of :data:`_LINEAR_FOLDABLE`, whose time the sizes bound."""
    import onnx
    from onnx import shape_inference

    inferred = shape_inference.infer_shapes(model, strict_mode=True)  # data_prop would materialise Range
    graph = inferred.graph
    types = {v.name: v.type.tensor_type for v in [*graph.input, *graph.value_info, *graph.output]}
    constant = {t.name for t in model.graph.initializer}
    total = 0
    for node in model.graph.node:
        known_shape = node.op_type in ("Shape", "Size") and _static_dims(types.get(node.input[0])) is not None
        if not known_shape and not all(name in constant for name in node.input if name):
            continue
        if node.op_type not in _LINEAR_FOLDABLE:
            raise _refused(
                path,
                f"it computes {shown(node.op_type, 40)} from constants alone, which a runtime would run "
                "while it builds the session at a cost its size does not bound",
            )
        for name in node.output:
            dims = _static_dims(types.get(name))
            if dims is None:
                raise _refused(
                    path, f"the size of its constant value {shown(name)} ({node.op_type}) is not known"
                )
            if types[name].elem_type == onnx.TensorProto.STRING:  # each element a heap string, not 8 bytes
                raise _refused(path, f"it computes strings from constants ({shown(name)}, {node.op_type})")
            count = 1
            for dim in dims:
                count *= dim
            total += count * onnx.helper.tensor_dtype_to_np_dtype(types[name].elem_type).itemsize
            if total > limit:
                raise _refused(path, f"its constant values would take more than {limit >> 20} MiB to compute")
            constant.add(name)


def check_onnx_file(path: str | Path) -> None:
    """Refuse ``path`` unless it is an ONNX file within the bounds of the module docstring.

    Raises:
        ModelFileError: naming the file and the bound it exceeds.
    """
    import onnx

    size = _size(path, MAX_ONNX_BYTES)
    try:
        model = onnx.load(str(path), load_external_data=False)
        _check_structure(model, path)
        onnx.checker.check_model(model, full_check=True)
        _folded_bytes(model, path, FOLDED_BYTES_BASE + FOLDED_BYTES_PER_BYTE * size)
    except ModelFileError:
        raise
    except Exception as error:  # protobuf's decode errors, the checker's, shape inference's
        from ..models.untrusted_text import printable

        reason = f"it is not a valid ONNX model ({type(error).__name__}: {printable(str(error), 200)})"
        raise _refused(path, reason) from error


def check_pte_file(path: str | Path) -> None:
    """Refuse ``path`` unless it is an ExecuTorch program file within :data:`MAX_PTE_BYTES`.

    Raises:
        ModelFileError: naming the file and what is wrong.
    """
    _size(path, MAX_PTE_BYTES)
    with open(path, "rb") as file:
        head = file.read(8)
    if head[4:8] != _PTE_IDENTIFIER:
        raise _refused(path, "it is not an ExecuTorch program (no ET12 identifier)")
