"""Both class orders get the same foreground logits; background is likely; few pairs pass 0.01."""

import torch
from benchmarking.score_prior import apply_score_prior
from torch import nn

CLASSES, ANCHORS = 80, 6


def test_same_candidates_for_background_first_and_last():
    first, last = nn.Conv2d(8, ANCHORS * (CLASSES + 1), 1), nn.Conv2d(8, ANCHORS * (CLASSES + 1), 1)
    apply_score_prior([first], CLASSES, background_first=True)
    apply_score_prior([last], CLASSES, background_first=False)
    assert not first.weight.any() and not last.weight.any()
    first_logits = first.bias.view(ANCHORS, CLASSES + 1)
    last_logits = last.bias.view(ANCHORS, CLASSES + 1)
    assert torch.equal(first_logits[:, 1:], last_logits[:, :CLASSES])
    assert not first_logits[:, 0].any() and not last_logits[:, CLASSES].any()


def test_background_wins_and_about_one_percent_of_pairs_pass():
    convs = [nn.Conv2d(8, ANCHORS * (CLASSES + 1), 1) for _ in range(6)]
    apply_score_prior(convs, CLASSES, background_first=False)
    scores = torch.cat([c.bias.view(ANCHORS, CLASSES + 1) for c in convs]).softmax(dim=1)
    assert (scores.argmax(dim=1) == CLASSES).all()
    passing = (scores[:, :CLASSES] > 0.01).float().mean().item()
    assert 0.001 < passing < 0.03
