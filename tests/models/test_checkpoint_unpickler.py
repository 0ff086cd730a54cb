"""visionkit's restricted unpickler: everything a Runner saves loads; anything that is not data is refused."""

import collections
import copyreg
import pickle

import numpy as np
import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.logging import HistoryBuffer

from tests.engine.hostile_checkpoints import (
    PickleAssembler,
    getattr_chain_payload,
    reduce_payload,
    save_raw_pickle,
)
from visionkit.models import CheckpointReadError, UnsafeCheckpointError, read_checkpoint


def runner_like_checkpoint() -> dict:
    """What mmengine's Runner.save_checkpoint writes, in small."""
    buffer = HistoryBuffer()
    for value in (0.5, 0.25, 2.0):
        buffer.update(value)
    linear = torch.nn.Linear(3, 2)
    return {
        "meta": {
            "epoch": 1,
            "iter": 4,
            "cfg": "model = dict(type='ImageClassifier')",
            "dataset_meta": {"classes": ("a", "b"), "palette": [[0, 0, 0]]},
            "mean": np.ones(3, dtype=np.float32),
            "settings": ConfigDict(lr=0.1, nested=dict(betas=(0.9, 0.99))),
        },
        "state_dict": linear.state_dict(),
        "message_hub": {
            "log_scalars": {"train/loss": buffer},
            "runtime_info": {"seed": np.int64(3), "best": np.float64(0.5), "ids": {1, 2}, "raw": b""},
        },
        "optimizer": torch.optim.AdamW(linear.parameters()).state_dict(),
        "param": torch.nn.Parameter(torch.arange(4.0)),
    }


@pytest.mark.parametrize("zip_format", [True, False], ids=["zip", "legacy"])
def test_a_runner_checkpoint_loads_with_every_type_rebuilt(tmp_path, zip_format):
    original = runner_like_checkpoint()
    path = tmp_path / "epoch_1.pth"
    torch.save(original, path, _use_new_zipfile_serialization=zip_format)
    loaded = read_checkpoint(str(path))
    buffer = loaded["message_hub"]["log_scalars"]["train/loss"]
    assert type(buffer) is HistoryBuffer
    assert (buffer.current(), buffer.mean(), buffer.max(), buffer.min()) == (
        2.0,
        0.9166666666666666,
        2.0,
        0.25,
    )
    assert buffer.data[1].tolist() == [1, 1, 1]
    settings = loaded["meta"]["settings"]  # a ConfigDict comes back as the plain dict it was pickled from
    assert type(settings) is dict and type(settings["nested"]) is dict
    assert settings == {"lr": 0.1, "nested": {"betas": (0.9, 0.99)}}
    assert loaded["meta"]["mean"].dtype == np.float32 and loaded["meta"]["mean"].tolist() == [1, 1, 1]
    info = loaded["message_hub"]["runtime_info"]
    assert info == {"seed": 3, "best": 0.5, "ids": {1, 2}, "raw": b""} and type(info["seed"]) is np.int64
    for key, tensor in original["state_dict"].items():
        assert torch.equal(loaded["state_dict"][key], tensor)
    assert type(loaded["state_dict"]) is collections.OrderedDict and hasattr(
        loaded["state_dict"], "_metadata"
    )
    assert type(loaded["param"]) is torch.nn.Parameter and loaded["param"].tolist() == [0, 1, 2, 3]
    assert loaded["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)


def test_a_real_runner_checkpoint_survives_torch_default_refusal(tmp_path):
    """torch's own weights-only loader refuses HistoryBuffer (it stays refused outside visionkit)."""
    path = tmp_path / "epoch_1.pth"
    torch.save(runner_like_checkpoint(), path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path)
    read_checkpoint(str(path))
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path)


@pytest.mark.parametrize("variable", ["TORCH_FORCE_WEIGHTS_ONLY_LOAD", "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"])
def test_torchs_weights_only_switches_change_nothing(tmp_path, monkeypatch, variable):
    """TORCH_FORCE_WEIGHTS_ONLY_LOAD=1 made torch.load refuse visionkit's unpickler, and so every
    checkpoint; neither variable changes what visionkit reads or refuses."""
    monkeypatch.setenv(variable, "1")
    path = tmp_path / "epoch_1.pth"
    torch.save(runner_like_checkpoint(), path)
    assert type(read_checkpoint(str(path))["message_hub"]["log_scalars"]["train/loss"]) is HistoryBuffer
    with pytest.raises(UnsafeCheckpointError, match=r"refused 'posix\.system'"):
        read_checkpoint(str(reduce_payload(tmp_path / "evil.pth", tmp_path / "ran")))


def test_classic_reduce_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "ran"
    path = reduce_payload(tmp_path / "evil.pth", marker)
    with pytest.raises(UnsafeCheckpointError, match=r"evil\.pth.*refused 'posix\.system'"):
        read_checkpoint(str(path))
    assert not marker.exists()


def test_getattr_chain_through_config_dict_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "ran"
    path = getattr_chain_payload(tmp_path / "evil.pth", marker)
    with pytest.raises(UnsafeCheckpointError, match=r"evil\.pth.*refused getattr\(ConfigDict, '__init__'\)"):
        read_checkpoint(str(path))
    assert not marker.exists()


@pytest.mark.parametrize(
    ("obj", "refused"),
    [
        (np.array([object()], dtype=object), "numpy dtype 'O8'"),
        (np.zeros(2, dtype=[("a", "f4")]), "numpy dtype 'V4'"),
        (torch.nn.Linear(1, 1), "'torch.nn.modules.linear.Linear'"),
        (pickle.loads, "'pickle.loads'"),
    ],
    ids=["object-array", "structured-dtype", "module", "function"],
)
def test_non_data_objects_are_refused(tmp_path, obj, refused):
    path = tmp_path / "weird.pth"
    torch.save({"x": obj}, path)
    with pytest.raises(UnsafeCheckpointError, match=f"weird.pth.*refused {refused}".replace("(", r"\(")):
        read_checkpoint(str(path))


def test_statistics_getattr_on_anything_but_history_buffer_is_refused(tmp_path):
    ops = PickleAssembler()
    getattr_ = (ops.glob("builtins", "getattr"), ops.put())[1]
    ordered_dict = (ops.glob("collections", "OrderedDict"), ops.put())[1]
    ops.call2(getattr_, ordered_dict, "mean")
    ops.code += pickle.STOP
    path = save_raw_pickle(tmp_path / "x.pth", bytes(ops.code))
    with pytest.raises(UnsafeCheckpointError, match=r"x\.pth.*refused getattr\(OrderedDict, 'mean'\)"):
        read_checkpoint(str(path))


def test_a_dtype_state_cannot_change_numpy_own_dtypes(tmp_path):
    """dtype('f8', align, copy=False) then BUILD with big-endian state would rewrite numpy's float64."""
    ops = PickleAssembler()
    dtype = (ops.glob("numpy", "dtype"), ops.put())[1]
    ops.get(dtype).str("f8")
    ops.code += pickle.NEWFALSE + pickle.NEWFALSE + pickle.TUPLE3 + pickle.REDUCE
    ops.code += pickle.MARK + pickle.BININT1 + bytes([3])
    ops.str(">").code += pickle.NONE * 3 + pickle.BININT + (-1).to_bytes(4, "little", signed=True)
    ops.code += pickle.BININT + (-1).to_bytes(4, "little", signed=True) + pickle.BININT1 + bytes([0])
    ops.code += pickle.TUPLE + pickle.BUILD + pickle.STOP
    path = save_raw_pickle(tmp_path / "dtype.pth", bytes(ops.code))
    assert read_checkpoint(str(path)).byteorder == ">"
    assert np.dtype("f8").byteorder == "="


class _HookedParameter:
    def __reduce__(self):
        return (torch._utils._rebuild_parameter, (torch.ones(2), False, collections.OrderedDict(a=1)))


def test_a_tensor_with_backward_hooks_is_refused(tmp_path):
    path = tmp_path / "hooked.pth"
    torch.save({"p": _HookedParameter()}, path)
    with pytest.raises(UnsafeCheckpointError, match=r"hooked\.pth.*backward hooks"):
        read_checkpoint(str(path))


def test_truncated_checkpoint_error_names_the_file(tmp_path):
    path = tmp_path / "epoch_3.pth"
    torch.save(runner_like_checkpoint(), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(CheckpointReadError, match=r"Cannot read checkpoint '.*epoch_3\.pth'.*truncated"):
        read_checkpoint(str(path))
    with pytest.raises(CheckpointReadError, match=r"missing\.pth' not found"):
        read_checkpoint(str(tmp_path / "missing.pth"))


def test_mmengine_pretrained_init_reads_through_visionkit(tmp_path):
    """A head's ``init_cfg=Pretrained`` goes through mmengine's CheckpointLoader, now visionkit's reader:
    a Runner checkpoint (its HistoryBuffer refused by torch's weights-only default) seeds the head."""
    from visionkit.models import ClassifierHead

    checkpoint = runner_like_checkpoint()
    head = ClassifierHead((3,), 2)
    checkpoint["state_dict"] = {f"head.{k}": v for k, v in head.state_dict().items()}
    path = tmp_path / "epoch_1.pth"
    torch.save(checkpoint, path)
    seeded = ClassifierHead((3,), 2, init_cfg=dict(type="Pretrained", checkpoint=str(path), prefix="head."))
    seeded.init_weights()
    assert torch.equal(seeded.fc.weight, head.fc.weight) and torch.equal(seeded.fc.bias, head.fc.bias)
    with pytest.raises(CheckpointReadError, match=r"open-mmlab://x\.pth'.*only local paths"):
        ClassifierHead(
            (3,), 2, init_cfg=dict(type="Pretrained", checkpoint="open-mmlab://x.pth")
        ).init_weights()


def _same(a, b, where="") -> None:
    """``a`` and ``b`` are equal, type for type (tensors and arrays element for element)."""
    assert type(a) is type(b), (where, type(a), type(b))
    if isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and a.stride() == b.stride(), where
        assert torch.equal(a, b) and a.requires_grad == b.requires_grad, where
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b), where
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            _same(a[key], b[key], f"{where}/{key}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, HistoryBuffer):
        _same(
            (a._log_history, a._count_history, a.max_length), (b._log_history, b._count_history, b.max_length)
        )
    else:
        assert a == b, (where, a, b)


@pytest.mark.parametrize("zip_format", [True, False], ids=["zip", "legacy"])
def test_honest_files_load_as_torch_loads_them(tmp_path, zip_format):
    """Weights as torchvision publishes them, optimizer and scheduler states, numpy values: what visionkit
    reads equals what torch's own full unpickler reads from the same file (trusted here: we wrote it)."""
    import torchvision

    model = torchvision.models.mobilenet_v2(width_mult=0.25)
    linear = torch.nn.Linear(4, 3)
    sgd = torch.optim.SGD(linear.parameters(), lr=0.1, momentum=0.9)
    adamw = torch.optim.AdamW(linear.parameters())
    scheduler = torch.optim.lr_scheduler.StepLR(sgd, 3)
    linear(torch.randn(2, 4)).sum().backward()
    sgd.step()
    adamw.step()
    scheduler.step()
    content = {
        "state_dict": model.state_dict(),
        "optimizer": sgd.state_dict(),
        "adamw": adamw.state_dict(),
        "scheduler": scheduler.state_dict(),
        "numpy": [np.arange(5, dtype=">f4"), np.zeros((2, 0), np.int64), np.array([True]), np.float16(2.5)],
        "values": (1, 2.5, 3j, -(2**70), None, "é", b"\x00\xff", frozenset({1}), torch.Size([2, 3])),
        "runner": runner_like_checkpoint(),
    }
    path = tmp_path / "honest.pth"
    torch.save(content, path, _use_new_zipfile_serialization=zip_format)
    expected = torch.load(path, weights_only=False)
    expected["runner"]["meta"]["settings"] = dict(expected["runner"]["meta"]["settings"])  # plain, see above
    expected["runner"]["meta"]["settings"]["nested"] = dict(expected["runner"]["meta"]["settings"]["nested"])
    _same(read_checkpoint(str(path)), expected)


class _BufferState:
    """Pickles as a HistoryBuffer (NEWOBJ of its class, then BUILD) with the given state."""

    def __init__(self, state: dict) -> None:
        self.state = state

    @property
    def __class__(self):  # pickle checks that NEWOBJ's class is the object's
        return HistoryBuffer

    def __reduce_ex__(self, protocol):
        return copyreg.__newobj__, (HistoryBuffer,), self.state


@pytest.mark.parametrize(
    "change, refusal",
    [({"max_length": 0}, "max_length 0"), ({"statistics_methods": {"mean": 1}}, "statistics other than")],
)
def test_a_history_buffer_with_a_state_mmengine_never_writes_is_refused(tmp_path, change, refusal):
    state = {"max_length": 10, "_log_history": np.ones(2), "_count_history": np.ones(2, dtype=np.int64)}
    path = tmp_path / "epoch_1.pth"
    torch.save({"message_hub": {"log_scalars": {"train/loss": _BufferState(state)}}}, path)
    assert read_checkpoint(str(path))["message_hub"]["log_scalars"]["train/loss"].mean() == 1.0
    torch.save({"message_hub": {"log_scalars": {"train/loss": _BufferState(state | change)}}}, path)
    with pytest.raises(UnsafeCheckpointError, match=refusal):
        read_checkpoint(str(path))


def test_byte_strings_of_python_2_pickles_load_as_utf_8_text(tmp_path):
    """SHORT_BINSTRING, as pickles written by Python 2 hold keys: decoded as torch.load decodes them."""
    name = "clé".encode()
    payload = b"\x80\x02}U" + bytes([len(name)]) + name + b"K\x01s."
    path = save_raw_pickle(tmp_path / "py2.pth", payload)
    assert read_checkpoint(str(path)) == torch.load(path, weights_only=False) == {"clé": 1}
