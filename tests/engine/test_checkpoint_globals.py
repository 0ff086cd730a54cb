"""mmengine checkpoints load inside visionkit's allowlist, and only there; hostile files still fail."""

import os
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer

from visionkit.models.checkpoint import mmengine_checkpoint_globals

needs_weights_only_default = pytest.mark.skipif(
    not hasattr(torch.serialization, "safe_globals"),
    reason="torch < 2.5 does not load weights-only by default",
)


def _runner_like_checkpoint(path):
    buffer = HistoryBuffer()
    buffer.update(0.5)
    torch.save(
        {
            "state_dict": {"w": torch.ones(2)},
            "message_hub": {"log_scalars": {"loss": buffer}, "runtime_info": {"seed": np.int64(3)}},
            "meta": {"epoch": 1, "mean": np.ones(3, dtype=np.float32)},
        },
        path,
    )


@needs_weights_only_default
def test_runner_checkpoint_loads_inside_the_allowlist_only(tmp_path):
    path = tmp_path / "epoch_1.pth"
    _runner_like_checkpoint(path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path)
    with mmengine_checkpoint_globals():
        checkpoint = torch.load(path)
    assert checkpoint["message_hub"]["log_scalars"]["loss"].current() == 0.5
    assert checkpoint["meta"]["mean"].tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path)


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


@needs_weights_only_default
def test_code_in_a_checkpoint_is_still_refused(tmp_path):
    path = tmp_path / "hostile.pth"
    torch.save({"state_dict": {}, "payload": _RunsCode()}, path)
    with mmengine_checkpoint_globals(), pytest.raises(pickle.UnpicklingError, match="system"):
        torch.load(path)
