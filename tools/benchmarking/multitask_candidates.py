"""What ``tools/benchmark.py --multitask`` times: a multi-task model against its tasks' single-task models
run one after the other on the same image, eager and in ONNX Runtime.

The single-task models are the multi-task config's own task models (``SSDDetector``, ``Segmentor``...),
each built with its own backbone (the shared backbone's config, with only the taps that task reads) and
the same data preprocessor and test pipeline, with the multi-task model's weights copied in: so the pair
computes what the multi-task model does, with one backbone pass per task instead of one in all.
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Callable
from pathlib import Path

from mmengine.config import Config
from torch import nn

from visionkit.deploy.onnx_export import export_onnx
from visionkit.deploy.ort_session import import_onnxruntime, session_options
from visionkit.deploy.runtimes import OnnxRuntimeModel
from visionkit.registry import MODELS

from .candidates import Candidate, Images, onnxruntime_candidate, visionkit_candidate


def single_task_models(model: nn.Module, cfg: Config) -> dict[str, nn.Module]:
    """Task name -> that task's single-task model (own backbone, the multi-task model's weights), eval."""
    singles = {}
    for name, task_cfg in cfg.model.tasks.items():
        task_cfg = {k: v for k, v in task_cfg.items() if k != "init_checkpoint"}
        single = MODELS.build(
            dict(task_cfg, backbone=cfg.model.backbone, data_preprocessor=cfg.model.data_preprocessor)
        )
        backbone = {f"backbone.{k}": v for k, v in model.backbone.state_dict().items()}
        state = {**backbone, **model.tasks[name].state_dict()}
        single.load_state_dict({k: v for k, v in state.items() if k in single.state_dict()}, strict=True)
        single.cfg, single.dataset_meta = cfg, getattr(model, "dataset_meta", {})
        singles[name] = single.eval()
    return singles


def one_after_another(name: str, candidates: list[Candidate], in_torch: bool = True) -> Candidate:
    """One candidate that runs ``candidates`` in turn on the same images (end to end and model only)."""

    def end_to_end(images: Images) -> list[object]:
        return [candidate.end_to_end(images) for candidate in candidates]

    def model_only(images: Images) -> Callable[[], object]:
        calls = [candidate.model_only(images) for candidate in candidates]
        return lambda: [call() for call in calls]

    return Candidate(name, end_to_end, model_only, in_torch)


def multitask_candidates(
    model: nn.Module, cfg: Config, threads: int, onnx: bool = False
) -> tuple[list[Candidate], list[str]]:
    """(candidates, the names of the one-after-another references): the multi-task model and its
    single-task models in turn, eager, and with ``onnx`` the same exported (post-processing in the
    graphs) in ONNX Runtime with ``threads`` intra-op threads and the session options visionkit's
    backend uses (:func:`session_options`: no pool left spinning to slow the pair's next session). Each
    reference is the row to compare the candidate before it with."""
    singles = single_task_models(model, cfg)
    tasks = " + ".join(singles)
    candidates = [
        visionkit_candidate("multi-task eager", model, cfg),
        one_after_another(
            f"{tasks} eager, one after the other",
            [visionkit_candidate(name, single, cfg) for name, single in singles.items()],
        ),
    ]
    if onnx:
        folder = Path(tempfile.mkdtemp(prefix="visionkit_benchmark_"))
        size = (cfg.get("input_size", 224),) * 2
        options = session_options(threads)
        runtimes = {}
        for name, module in {"multi-task": model, **singles}.items():
            path = folder / f"{name}.onnx"
            export_onnx(copy.deepcopy(module), path, size)
            runtimes[name] = OnnxRuntimeModel(cfg, path)
            runtimes[name].session = import_onnxruntime().InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        candidates.append(onnxruntime_candidate("multi-task onnxruntime", runtimes.pop("multi-task"), cfg))
        pair = [onnxruntime_candidate(name, runtime, cfg) for name, runtime in runtimes.items()]
        candidates.append(one_after_another(f"{tasks} onnxruntime, one after the other", pair, False))
    return candidates, [c.name for c in candidates[1::2]]
