"""What MobileNetV2 and MobileNetV3 share: a stem, a chain of inverted residuals, a final 1x1 conv, and
taps named by layer.

Layers are numbered as in TF slim: ``layer1`` is the stem, ``layer2`` .. ``layer{B+1}`` the B blocks and
``layer{B+2}`` the final 1x1 conv; ``layer{n}_expansion`` is the expand activation of block n, before its
depthwise conv. A subclass builds ``stem``, ``blocks`` (with ``stage_of_block``), the tap table and its
aliases (``final`` and others naming a ``layer*`` tap), then calls :meth:`_finish_init`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

from mmengine.model.weight_init import initialize
from torch import Tensor, nn

from ..checkpoint import load_checkpoint
from .taps import TapInfo, TappedBackbone


def layer_number(name: str) -> int:
    """``layer14_expansion`` -> 14."""
    return int(name[len("layer") :].split("_")[0])


class InvertedResidualBackbone(TappedBackbone):
    """Base of the MobileNet backbones: forward over the requested taps, freezing, ``norm_eval``, init.

    Attributes a subclass sets before :meth:`_finish_init`: ``stem``, ``blocks`` (``nn.ModuleList`` of
    :class:`~visionkit.models.layers.InvertedResidual`), ``stage_of_block`` (1-based stage of each block),
    ``taps`` (the tap table) and ``tap_aliases`` (alias -> ``layer*`` name, ``final`` among them).
    """

    stem: nn.Module
    blocks: nn.ModuleList
    final_conv: nn.Module | None
    stage_of_block: list[int]
    tap_aliases: dict[str, str]

    def _finish_init(
        self,
        out_taps: Sequence[str],
        final_conv: Callable[[], nn.Module],
        frozen_stages: int,
        norm_eval: bool,
        key_converters: Sequence[Callable[..., None]] = (),
        zero_init_residual: bool = False,
    ) -> None:
        """Check ``out_taps``, build the final conv (only if a tap needs it), register the checkpoint key
        converters (load-state-dict pre-hooks, run in order) and freeze."""
        num_stages = max(self.stage_of_block)
        if not -1 <= frozen_stages <= num_stages + 1:
            raise ValueError(f"frozen_stages must be in -1..{num_stages + 1}, got {frozen_stages}")
        self.frozen_stages, self.norm_eval = frozen_stages, norm_eval
        self.zero_init_residual = zero_init_residual
        self.set_out_taps(out_taps)
        self.final_layer = len(self.blocks) + 2
        self._deepest_layer = max(layer_number(self._canonical(name)) for name in self.out_taps)
        # The final 1x1 conv exists only when a tap needs it: DeepLab on MobileNetV2's layer18 never runs it,
        # and the paper's Table 7 parameter counts leave it out. A whole network's checkpoint still loads.
        self.final_conv = final_conv() if self._deepest_layer == self.final_layer else None
        for convert in key_converters:
            self._register_load_state_dict_pre_hook(convert)
        self._register_load_state_dict_pre_hook(self._skip_absent_final_conv)
        self._freeze_stages()

    def set_memory_efficient_splits(self, splits: int) -> None:
        """Compute each inverted residual in ``splits`` slices at inference (0 or 1: whole), e.g. on a
        built or fused model before deployment."""
        if splits < 0:
            raise ValueError(f"memory_efficient_splits must be >= 0, got {splits}")
        for block in self.blocks:
            block.memory_efficient_splits = splits

    def _canonical(self, name: str) -> str:
        return self.tap_aliases.get(name, name)

    def _skip_absent_final_conv(self, state_dict: dict, prefix: str, *args: object) -> None:
        if self.final_conv is None:
            for key in [k for k in state_dict if k.startswith(prefix + "final_conv.")]:
                del state_dict[key]

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        """x: (N, 3, H, W) normalised images -> {tap name: (N, C, H / stride, W / stride)}."""
        # Only requested taps are kept: holding every layer's output would keep the large early
        # activations alive for the whole pass (they dominate peak memory at high resolution).
        feats: dict[str, Tensor] = {}
        wanted = {self._canonical(name) for name in self.out_taps}
        x = self.stem(x)
        if "layer1" in wanted:
            feats["layer1"] = x
        for index, block in enumerate(self.blocks):
            layer = index + 2
            if layer > self._deepest_layer:
                break
            if f"layer{layer}_expansion" in wanted:
                expanded = block.expand(x)
                feats[f"layer{layer}_expansion"] = expanded
                x = block.forward_from_expansion(x, expanded)
            else:
                x = block(x)
            if f"layer{layer}" in wanted:
                feats[f"layer{layer}"] = x
        if self.final_conv is not None:
            feats[f"layer{self.final_layer}"] = self.final_conv(x)
        return {name: feats[self._canonical(name)] for name in self.out_taps}

    def _frozen_modules(self) -> list[nn.Module]:
        if self.frozen_stages < 0:
            return []
        frozen: list[nn.Module] = [self.stem]
        stages = zip(self.blocks, self.stage_of_block, strict=True)
        frozen += [block for block, stage in stages if stage <= self.frozen_stages]
        if self.frozen_stages > max(self.stage_of_block) and self.final_conv is not None:
            frozen.append(self.final_conv)
        return frozen

    def _freeze_stages(self) -> None:
        for module in self._frozen_modules():
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True) -> InvertedResidualBackbone:
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, nn.modules.batchnorm._BatchNorm):
                    module.eval()
        return self

    def init_weights(self) -> None:
        """torchvision's MobileNet init (with ``zero_init_residual``, each residual block's last BN scale
        starts at 0), then any mmengine initialisers ``init_cfg`` names (``TruncNormal``, ``Normal``,
        ``Kaiming``, ``Constant``..., one dict or a list), then a ``Pretrained`` checkpoint if it names one.

        A ``Pretrained`` entry is read with visionkit's checkpoint loader (plain data only, torchvision and
        mmdetection keys converted), not mmengine's. Layers an initialiser does not name keep torchvision's
        init (mmdetection's ``TruncNormal(layer='Conv2d')`` leaves BatchNorm at weight 1, bias 0 there too).
        """
        cfgs = self.init_cfg if isinstance(self.init_cfg, list) else [self.init_cfg] if self.init_cfg else []
        pretrained = [c for c in cfgs if c.get("type") == "Pretrained" and c.get("checkpoint") is not None]
        initialisers = [c for c in cfgs if c.get("type") != "Pretrained"]
        if pretrained and not initialisers:
            self._load_pretrained(pretrained[-1])
            return
        if self.frozen_stages >= 0 and not pretrained:
            warnings.warn(
                f"frozen_stages={self.frozen_stages} without a pretrained checkpoint: the frozen layers keep "
                "their random initialisation unless a checkpoint is loaded later (load_from, resume); set "
                "frozen_stages=-1 to train from scratch",
                stacklevel=2,
            )
        self._torchvision_init()
        if initialisers:
            initialize(self, initialisers)
        if pretrained:
            self._load_pretrained(pretrained[-1])
        self._is_init = True

    def _load_pretrained(self, cfg: dict) -> None:
        load_checkpoint(self, cfg["checkpoint"], prefix=cfg.get("prefix"))
        self._is_init = True

    def _torchvision_init(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out")
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        if self.zero_init_residual:
            # Each residual block starts as the identity, so a deep net from scratch trains like a shallow one
            # first (Goyal et al. 2017; torchvision ResNet's zero_init_residual, timm's zero_init_last).
            for block in self.blocks:
                if block.use_shortcut:
                    nn.init.zeros_(block.project.bn.weight)


def alias_taps(taps: dict[str, TapInfo], aliases: dict[str, str]) -> dict[str, TapInfo]:
    """``taps`` with each alias added beside the ``layer*`` tap it names."""
    return {**taps, **{alias: taps[name] for alias, name in aliases.items()}}
