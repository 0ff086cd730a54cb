"""Random generator states survive a checkpoint: captured, stored as plain data, restored bit for bit."""

import random

import numpy as np
import pytest
import torch

from visionkit.engine import random_states
from visionkit.engine.random_states import (
    capture_random_states,
    gather_random_states,
    restore_random_states,
    restore_rank_random_states,
)
from visionkit.models import read_checkpoint


def _draws() -> tuple:
    # np.random.randn twice leaves a cached gaussian behind, which the state must carry as well
    return (
        random.random(),
        random.gauss(0, 1),
        np.random.randn(3).tolist(),
        np.random.randint(1 << 30),
        torch.rand(4).tolist(),
        torch.nn.functional.dropout(torch.ones(8), 0.5).tolist(),
    )


def test_restored_generators_draw_what_they_drew_after_the_capture():
    random.seed(1)
    np.random.seed(2)
    torch.manual_seed(3)
    _draws()  # move every generator away from its seed, leaving numpy's gaussian cache filled
    np.random.randn(1)
    states = capture_random_states()
    expected = _draws()
    _draws()
    restore_random_states(states)
    assert _draws() == expected


def test_states_are_plain_data_a_checkpoint_reader_accepts(tmp_path):
    random.seed(5)
    np.random.seed(5)
    torch.manual_seed(5)
    np.random.randn(1)
    path = tmp_path / "states.pth"
    torch.save({"meta": {"resume_state": {"random_states": gather_random_states()}}}, path)
    expected = _draws()
    [states] = read_checkpoint(str(path))["meta"]["resume_state"]["random_states"]  # the restricted unpickler
    restore_random_states(states)
    assert _draws() == expected


def test_another_number_of_processes_restores_one_entry_and_says_so(monkeypatch):
    logged: list[str] = []
    monkeypatch.setattr(random_states, "print_log", lambda message, **kwargs: logged.append(message))
    torch.manual_seed(7)
    states = [capture_random_states(), capture_random_states()]
    expected = torch.rand(2)
    assert restore_rank_random_states(states) is False  # 2 saved, this run has 1 process
    assert "random states of 2 processes and this run has 1" in logged[0]
    assert torch.equal(torch.rand(2), expected)
    assert restore_rank_random_states(states[:1]) is True


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA generators need a GPU")
def test_cuda_generators_are_restored():
    torch.cuda.manual_seed_all(9)
    torch.rand(1, device="cuda")
    states = capture_random_states()
    expected = torch.rand(3, device="cuda")
    restore_random_states(states)
    assert torch.equal(torch.rand(3, device="cuda"), expected)
