"""What reading a checkpoint costs: honest ones, and hostile pickles that each push one budget to its limit.

    python dev/checkpoint_costs.py [--mb 1 8]

For each size, builds zip checkpoints whose ``data.pkl`` is that many MB of one pattern and reads each with
``visionkit.models.read_checkpoint`` in a fresh process, printing the outcome, the seconds the read took and
how far the read raised the process's resident memory at its peak (Linux: ``VmHWM`` after resetting it
through ``/proc/self/clear_refs``). Patterns:
``sets`` (EMPTY_SET: a 216-byte object per byte), ``marks`` (MARK: a list per byte), ``memo`` (short strings
each put in the memo), ``copies`` (one 64 kB string encoded again and again), ``ints`` (a list of two-byte
ints, as dense as honest data gets), ``doubling`` (a key of tuples sharing their items, 60 levels),
``memoize`` (protocol 4: short strings, each memoised); for comparison a torchvision MobileNetV2 state dict
and optimizer state as ``torch.save`` writes them, and its weights as a PaddlePaddle ``.pdparams`` (numpy
arrays, pickle protocol 4) and as a ``.safetensors`` file; a safetensors file whose header is as large as
visionkit reads (16 MiB of one-byte tensors); TF checkpoints (TensorBundles, written byte for byte as TF lays
them out by ``tests/models/tensor_bundles.py``): a MobileNetV2's weights under TF-slim's names, as a prefix
and as a ``.tgz`` release, and one whose names repeat a 4 kB prefix (prefix compression). docs/trust_model.md
quotes the figures.
"""

from __future__ import annotations

import argparse
import io
import pickle
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _unicode(text: str) -> bytes:
    return pickle.BINUNICODE + struct.pack("<I", len(text)) + text.encode()


def patterns(size: int) -> dict[str, bytes]:
    """``data.pkl`` contents of about ``size`` bytes per hostile pattern (see the module docstring)."""
    head = pickle.PROTO + b"\x02"
    memo = b"".join(
        _unicode(f"{i % 10}") + pickle.LONG_BINPUT + struct.pack("<I", i) for i in range(size // 11)
    )
    copies = b"c_codecs\nencode\n" + pickle.BINPUT + b"\0" + _unicode("a" * 65536) + pickle.BINPUT + b"\1"
    copies += _unicode("latin1") + pickle.BINPUT + b"\2" + pickle.EMPTY_LIST + pickle.MARK
    copies += (
        pickle.BINGET + b"\0" + pickle.BINGET + b"\1" + pickle.BINGET + b"\2" + pickle.TUPLE2 + pickle.REDUCE
    ) * (size // 9)
    doubling = pickle.EMPTY_DICT + pickle.EMPTY_TUPLE
    for level in range(60):
        doubling += pickle.BINPUT + bytes([level]) + pickle.BINGET + bytes([level]) + pickle.TUPLE2
    memoize = pickle.PROTO + b"\x04" + pickle.EMPTY_LIST + pickle.MARK
    memoize += (pickle.SHORT_BINUNICODE + b"\x01a" + pickle.MEMOIZE) * (size // 4)
    return {
        "memoize": memoize + pickle.APPENDS + pickle.STOP,
        "sets": head + pickle.EMPTY_SET * size + pickle.STOP,
        "marks": head + pickle.MARK * size + pickle.STOP,
        "memo": head + memo + pickle.STOP,
        "copies": head + copies + pickle.APPENDS + pickle.STOP,
        "ints": head
        + pickle.EMPTY_LIST
        + pickle.MARK
        + (pickle.BININT2 + b"\1\1") * (size // 3)
        + pickle.APPENDS
        + pickle.STOP,
        "doubling": head + doubling + pickle.NONE + pickle.SETITEM + pickle.STOP,
    }


def _raw_checkpoint(path: Path, data_pkl: bytes) -> Path:
    writer = torch._C.PyTorchFileWriter(str(path))
    for name, data in (("data.pkl", data_pkl), ("byteorder", b"little")):
        writer.write_record(name, data, len(data))
    writer.write_end_of_file()
    return path


def _tf_files(folder: Path) -> list[tuple[str, Path]]:
    import tarfile

    import torchvision

    from tests.models.tensor_bundles import write_bundle

    state = torchvision.models.mobilenet_v2().state_dict()
    tensors = {
        f"MobilenetV2/{k.replace('.', '/')}": v.numpy() for k, v in state.items() if v.dtype == torch.float32
    }
    prefix = write_bundle(folder / "model.ckpt", tensors)
    archive = folder / "release.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(folder.glob("model.ckpt.*")):
            tar.add(path, arcname=f"release/{path.name}")
    names = write_bundle(
        folder / "names.ckpt", {f"{'x' * 4000}{i:06d}": np.zeros(1, "<f4") for i in range(3000)}
    )
    return [("TF MobileNetV2 (prefix)", prefix), ("TF MobileNetV2 (.tgz)", archive), ("TF long names", names)]


def _honest(path: Path) -> Path:
    import torchvision

    model = torchvision.models.mobilenet_v2()
    optimizer = torch.optim.AdamW(model.parameters())
    model(torch.randn(1, 3, 64, 64)).sum().backward()
    optimizer.step()
    buffer = io.BytesIO()
    torch.save({"state_dict": model.state_dict(), "optimizer": optimizer.state_dict()}, buffer)
    path.write_bytes(buffer.getvalue())
    return path


def _mobilenet_v2_weights() -> dict[str, torch.Tensor]:
    import torchvision

    return {
        k: v for k, v in torchvision.models.mobilenet_v2().state_dict().items() if v.dtype == torch.float32
    }


def _pdparams(path: Path) -> Path:
    """MobileNetV2's weights as paddle.save writes a state dict: numpy arrays and a name table, protocol 4."""
    state = {name: tensor.numpy() for name, tensor in _mobilenet_v2_weights().items()}
    state["StructuredToParameterName@@"] = {name: f"param_{i}" for i, name in enumerate(state)}
    path.write_bytes(pickle.dumps(state, protocol=4))
    return path


def _safetensors(path: Path) -> Path:
    from safetensors.torch import save_file

    save_file(_mobilenet_v2_weights(), str(path))
    return path


def _largest_header(path: Path) -> Path:
    """A valid safetensors file whose header is just under the 16 MiB visionkit reads: one-byte tensors."""
    from visionkit.models.checkpoint_safetensors import MAX_HEADER_BYTES

    entry = '"t%07d":{"dtype":"U8","shape":[1],"data_offsets":[%d,%d]}'
    count = MAX_HEADER_BYTES // len(entry % (0, 10**7, 10**7))
    header = ("{" + ",".join(entry % (i, i, i + 1) for i in range(count)) + "}").encode()
    path.write_bytes(struct.pack("<Q", len(header)) + header + bytes(count))
    return path


_CHILD = """
import sys, time
from visionkit.models import CheckpointReadError, read_checkpoint
def rss(field):
    return int(open("/proc/self/status").read().split(field + ":")[1].split()[0])
open("/proc/self/clear_refs", "w").write("5")  # the peak starts again from here
before = rss("VmRSS")
start = time.perf_counter()
try:
    read_checkpoint(sys.argv[1])
    outcome = "loaded"
except CheckpointReadError as error:
    outcome = "refused: " + str(error).split(": it ", 1)[-1].split(". visionkit")[0][:60]
seconds = time.perf_counter() - start
print(seconds, (rss("VmHWM") - before) / 1024, outcome)
"""


def measure(path: Path) -> tuple[str, float, float]:
    """(outcome, seconds, MB of peak resident memory added) of reading ``path`` in a fresh process."""
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, check=True
    )
    seconds, grown, outcome = result.stdout.strip().split(" ", 2)
    return outcome, float(seconds), float(grown)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, nargs="+", default=[1.0, 8.0], help="data.pkl sizes (MB)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        files = [
            ("honest MobileNetV2 + AdamW", _honest(Path(folder) / "honest.pth")),
            ("MobileNetV2 .pdparams", _pdparams(Path(folder) / "mnv2.pdparams")),
            ("MobileNetV2 .safetensors", _safetensors(Path(folder) / "mnv2.safetensors")),
            ("safetensors, 16 MiB header", _largest_header(Path(folder) / "header.safetensors")),
        ]
        files += _tf_files(Path(folder))
        for mb in args.mb:
            for name, data in patterns(int(mb * 2**20)).items():
                files.append(
                    (f"{name} ({mb:g} MB)", _raw_checkpoint(Path(folder) / f"{name}_{mb}.pth", data))
                )
        print(f"{'file':28} {'MB':>7} {'seconds':>8} {'+peak MB':>8}  outcome")
        for label, path in files:
            outcome, seconds, peak = measure(path)
            size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))  # a TF prefix: its files
            print(f"{label:28} {size / 2**20:7.2f} {seconds:8.2f} {peak:8.1f}  {outcome}")


if __name__ == "__main__":
    main()
