"""The tap contract every backbone follows: a static table of named feature maps.

A backbone class registered in ``MODELS`` provides

- ``tap_table(**arch) -> {name: TapInfo}``, a classmethod: every tap it can return, with channels and
  stride, from its architecture arguments alone (it ignores the others), so a task model sizes its heads
  from the config without building the backbone;
- ``out_taps``, the constructor argument naming the taps ``forward`` returns, and ``forward(x) -> {name:
  (N, C, H / stride, W / stride)}``.

Heads name the taps they read one way: ``in_taps``, a sequence of tap names (one for most heads), with
``in_channels`` the channels of each; a head class's ``default_in_taps`` applies when a config gives none.
Task models never set ``out_taps`` by hand: they read the taps their heads declare (:func:`head_taps`), fill
the heads' ``in_channels`` from the static table, and build the backbone with exactly those taps
(:func:`build_tapped_backbone`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from mmengine.model import BaseModule
from torch import nn

from ...registry import MODELS


class TapInfo(NamedTuple):
    """One tap: ``channels`` of the feature map and its ``stride`` (input pixels per feature pixel)."""

    channels: int
    stride: int


class TappedBackbone(BaseModule):
    """Base of the backbones: ``taps`` (the instance's table), ``out_taps`` checked against it."""

    taps: dict[str, TapInfo]
    out_taps: tuple[str, ...]

    @classmethod
    def tap_table(cls, **arch: object) -> dict[str, TapInfo]:
        """Every tap the backbone can return at these architecture arguments (others are ignored)."""
        raise NotImplementedError

    def set_out_taps(self, out_taps: Sequence[str]) -> None:
        """Check ``out_taps`` against ``self.taps`` and keep them (what ``forward`` returns, in order)."""
        unknown = [name for name in out_taps if name not in self.taps]
        if unknown or not out_taps:
            raise ValueError(
                f"Unknown {type(self).__name__} taps {unknown or '(none requested)'}; "
                f"available: {', '.join(self.taps)}"
            )
        self.out_taps = tuple(out_taps)

    def tap_channels(self, name: str) -> int:
        """Channels of tap ``name``, known without a forward pass."""
        return self.taps[name].channels

    def tap_stride(self, name: str) -> int:
        """Output stride (input pixels per feature pixel) of tap ``name``."""
        return self.taps[name].stride


def backbone_taps(backbone: dict, wanted: Sequence[str] | None = None) -> dict[str, TapInfo]:
    """The tap table of the backbone config ``backbone`` (``type`` and its arguments), without building it.

    With ``wanted``, only those taps, in that order; an unknown name raises ``ValueError`` listing the
    available ones.
    """
    cls = MODELS.get(backbone["type"])
    table = cls.tap_table(**{k: v for k, v in backbone.items() if k != "type"})
    if wanted is None:
        return dict(table)
    unknown = [name for name in wanted if name not in table]
    if unknown:
        raise ValueError(
            f"The heads read taps {unknown} that {backbone['type']} does not have; "
            f"available: {', '.join(table)}"
        )
    return {name: table[name] for name in wanted}


def head_taps(head: dict) -> tuple[str, ...]:
    """The taps the head config ``head`` reads: its ``in_taps``, else its class's ``default_in_taps``
    (written into ``head``)."""
    cls = MODELS.get(head["type"]) if isinstance(head["type"], str) else head["type"]
    return tuple(head.setdefault("in_taps", tuple(cls.default_in_taps)))


def fill_in_channels(head: dict, table: dict[str, TapInfo]) -> None:
    """Default the head config's ``in_channels`` to the channels of its taps (:func:`head_taps`), in order."""
    head.setdefault("in_channels", [table[name].channels for name in head_taps(head)])


def check_head_taps(
    head: str, in_taps: Sequence[str], in_channels: Sequence[int], count: int | None = None
) -> tuple[str, ...]:
    """A head's ``in_taps`` as a tuple, checked: as many as ``in_channels`` (and ``count``, if given)."""
    if isinstance(in_taps, str) or isinstance(in_channels, int):
        raise TypeError(f"{head}: in_taps and in_channels are sequences, one per tap (in_taps=('final',))")
    if len(in_taps) != len(in_channels) or (count is not None and len(in_taps) != count):
        wanted = f"{count} taps" if count is not None else "one channel count per tap"
        raise ValueError(
            f"{head} reads {wanted}: got in_taps={tuple(in_taps)}, in_channels={tuple(in_channels)}"
        )
    return tuple(in_taps)


def build_tapped_backbone(backbone: dict, in_taps: Sequence[str]) -> nn.Module:
    """Build ``backbone`` returning the taps ``in_taps`` (what the heads read)."""
    if "out_taps" in backbone:
        raise ValueError(
            f"backbone.out_taps={tuple(backbone['out_taps'])} is set by the task model from the taps its "
            f"heads read (the heads' in_taps, here {tuple(in_taps)}): remove backbone.out_taps"
        )
    return MODELS.build(dict(backbone, out_taps=tuple(in_taps)))


def union_taps(*tap_lists: Sequence[str]) -> tuple[str, ...]:
    """The taps of every list, each once, in the order they first appear."""
    result: list[str] = []
    for taps in tap_lists:
        result += [tap for tap in taps if tap not in result]
    return tuple(result)
