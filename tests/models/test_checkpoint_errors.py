"""load_checkpoint's documented options and errors: strict=False, prefixes, DDP's ``module.``, non-dicts.

Only the public functions are used, so the tests hold whatever the loading code looks like inside.
"""

import re

import pytest
import torch
from torch import nn

from visionkit.models import CheckpointMismatchError, load_checkpoint


class Tiny(nn.Module):
    def __init__(self, out: int = 3) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, out, 1)
        self.fc = nn.Linear(out, 2)


def save(tmp_path, obj, name: str = "ckpt.pth") -> str:
    path = tmp_path / name
    torch.save(obj, path)
    return str(path)


def test_ddp_module_prefix_is_stripped(tmp_path):
    source = Tiny()
    path = save(tmp_path, {"state_dict": {f"module.{k}": v for k, v in source.state_dict().items()}})
    model = Tiny()
    load_checkpoint(model, path)
    torch.testing.assert_close(model.conv.weight, source.conv.weight)
    torch.testing.assert_close(model.fc.bias, source.fc.bias)


def test_strict_false_loads_what_fits_and_keeps_the_rest(tmp_path):
    source = Tiny()
    partial = {k: v for k, v in source.state_dict().items() if k.startswith("conv.")}
    partial["extra.weight"] = torch.ones(1)
    path = save(tmp_path, partial)
    model = Tiny()
    fc_before = model.fc.weight.detach().clone()
    with pytest.raises(
        CheckpointMismatchError,
        match=r"(?s)missing in the checkpoint \(2\): fc\.weight, fc\.bias"
        r".*not in the model \(1\): extra\.weight",
    ):
        load_checkpoint(Tiny(), path)
    load_checkpoint(model, path, strict=False)
    torch.testing.assert_close(model.conv.weight, source.conv.weight)
    torch.testing.assert_close(model.fc.weight, fc_before)


def test_shape_mismatch_raises_even_when_not_strict(tmp_path):
    path = save(tmp_path, Tiny(out=4).state_dict())
    with pytest.raises(CheckpointMismatchError, match=r"(?s)ckpt\.pth.*does not fit Tiny.*size mismatch"):
        load_checkpoint(Tiny(out=3), path, strict=False)


def test_prefix_selects_and_strips_keys(tmp_path):
    source = Tiny()
    wrapped = {f"student.{k}": v for k, v in source.state_dict().items()}
    wrapped["teacher.conv.weight"] = torch.zeros(3, 2, 1, 1)
    path = save(tmp_path, {"state_dict": wrapped, "meta": {"epoch": 3}})
    model = Tiny()
    checkpoint = load_checkpoint(model, path, prefix="student.")
    assert checkpoint["meta"] == {"epoch": 3}
    torch.testing.assert_close(model.conv.weight, source.conv.weight)


def test_prefix_matching_no_key_is_named(tmp_path):
    path = save(tmp_path, Tiny().state_dict())
    with pytest.raises(CheckpointMismatchError, match=re.escape("has no keys under prefix 'backbone.'")):
        load_checkpoint(Tiny(), path, prefix="backbone.")


@pytest.mark.parametrize("content", [[1, 2, 3], torch.zeros(3), "weights"])
def test_not_a_state_dict_is_refused(tmp_path, content):
    path = save(tmp_path, content)
    model = Tiny()
    before = model.conv.weight.detach().clone()
    with pytest.raises(CheckpointMismatchError, match=r"Expected a state dict, got (list|Tensor|str)"):
        load_checkpoint(model, path)
    torch.testing.assert_close(model.conv.weight, before)


def test_long_key_lists_show_ten_and_count_the_rest(tmp_path):
    state = Tiny().state_dict() | {f"stray.{i}": torch.zeros(1) for i in range(12)}
    with pytest.raises(
        CheckpointMismatchError, match=r"not in the model \(12\): stray\.0, .*stray\.9 \(\+2 more\)"
    ):
        load_checkpoint(Tiny(), save(tmp_path, state))
    state = Tiny().state_dict() | {f"stray.{i}": torch.zeros(1) for i in range(10)}
    with pytest.raises(CheckpointMismatchError, match=r"not in the model \(10\): stray\.0, .*stray\.9$"):
        load_checkpoint(Tiny(), save(tmp_path, state))


def test_load_state_dict_checked_refuses_missing_keys_by_default():
    from visionkit.models.checkpoint import load_state_dict_checked

    partial = {k: v for k, v in Tiny().state_dict().items() if k.startswith("conv.")}
    with pytest.raises(
        CheckpointMismatchError, match=r"seed does not fit Tiny:\n  missing in the checkpoint \(2\)"
    ):
        load_state_dict_checked(Tiny(), partial, "seed")
    load_state_dict_checked(Tiny(), partial, "seed", allow_missing=True)


def test_key_names_from_the_file_are_escaped_in_the_error(tmp_path):
    """Keys are the file's strings: printed raw, a key can clear the screen and write a fake line."""
    state = Tiny().state_dict() | {"\x1b[2J\x1b[32mloaded fine": torch.zeros(1)}
    with pytest.raises(CheckpointMismatchError) as error:
        load_checkpoint(Tiny(), save(tmp_path, state))
    assert "\x1b" not in str(error.value) and "\\x1b[2J" in str(error.value)
