"""CPU speed of a config's model, end to end, side by side with torchvision's model of the same architecture.

    python tools/benchmark.py CONFIG [--threads 2] [--batch 1 8] [--rounds 30] [--deploy] [--memory]
    python tools/benchmark.py configs/multitask_mnv2_toy.py --multitask [--onnx] [--memory]
    python tools/benchmark.py configs/ssdlite_mnv2_toy.py --train [--iterations 20]
    python tools/benchmark.py configs/ssdlite_mnv2_coco.py --loader [--num-images 118287 --num-boxes 860001]
    python tools/benchmark.py configs/ssdlite_mnv2_toy.py --video [--onnx --int8 --openvino --executorch]
        [--frames 60 --video-rounds 3]

The task comes from the config's model type. Inference: ``--batch`` copies of one real photo (scikit-image's
512x512 astronaut, or ``--image``) go through, END TO END, the config's test pipeline and data preprocessor,
the model and post-processing (top-1; NMS and boxes at the original size; logits upsampled and argmax);
MODEL ONLY is one forward pass on the prepared batch. All candidates run in interleaved rounds in one
process; the tables give median and 90th-percentile time per batch, images per second and speed relative
to torchvision (> 1: visionkit is faster). The torchvision twins (randomly initialised, nothing downloaded;
see tools/benchmarking/torchvision_references.py):

- classification: ``torchvision.models.mobilenet_v2`` (width, classes of the config), its ImageNet preset;
- detection: torchvision ``SSD`` + ``SSDLiteHead`` on MobileNetV2 (layer-15 expansion and 1280-ch taps,
  extra blocks 512/256/256/128, 6 boxes per location) with the config's score threshold, NMS and limits,
  resizing and normalising itself. Both detectors get the same trained-like class scores
  (tools/benchmarking/score_prior.py) so NMS does realistic work. The TF anchors of the visionkit configs
  have 3 boxes in the lowest layer; ``--cfg-options
  model.anchor_generator.reduce_boxes_in_lowest_layer=False`` gives 6 everywhere, as torchvision (then
  both have 4,484,148 parameters at 80 classes);
- segmentation: torchvision ``DeepLabV3`` + ``ASPP`` (the config's rates) on MobileNetV2 dilated to output
  stride 16, up to its 320-ch layer. Benchmark configs/deeplabv3_mnv2_voc.py for the atrous ASPP (6, 12, 18).

``--multitask`` (a multi-task config) times its model against its single-task models (each with its own
backbone, the same weights) run one after the other on the same image, eager and with ``--onnx`` in ONNX
Runtime; ``speed`` is then the one-after-the-other time over the multi-task model's (see
tools/benchmarking/multitask_candidates.py).

``--deploy`` adds visionkit with BatchNorm folded into the convs; ``--onnx`` adds it exported to ONNX
(post-processing in the graph; its model-only call is the whole graph) and run by ONNX Runtime with
``--threads`` threads; ``--int8`` adds its INT8 QDQ graph; ``--openvino`` runs the same graphs in OpenVINO
too; ``--executorch`` adds XNNPACK ExecuTorch programs; ``--memory`` adds visionkit with the memory-efficient
inverted residuals (paper section 5.1, ``--splits``) and a table of peak CPU memory per call (PyTorch's
allocator only, so not for ONNX Runtime). ``--train`` measures training images/s (data loading included, and
the train step alone) over the config's train dataloader. ``--loader`` measures the config's COCO train
dataset on a synthetic instances file of train2017's size: load time, serialised size and each of
``--workers`` dataloader workers' RSS / USS after an epoch, serialised (mmengine's default, shared by the
workers) and as Python lists (copied into each worker as it touches them); see
tools/benchmarking/dataset_scale.py. ``--video`` measures frames per second of tools/infer.py's video
pipeline on a generated 640x480 clip, decode / inference / encode overlapped and one after the other, for
the eager model and each runtime asked for (tools/benchmarking/video_throughput.py).
"""

from __future__ import annotations

import argparse
import copy
import functools
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarking/, beside this file

import cv2
import numpy as np
import torch
from benchmarking.candidates import (
    Candidate,
    kind_of,
    prepare_for_timing,
    torchvision_candidate,
    visionkit_candidate,
)
from benchmarking.cpu_peak import cpu_peak
from benchmarking.dataset_scale import (
    COCO_TRAIN2017_BOXES,
    COCO_TRAIN2017_IMAGES,
    MIB,
    format_loader_report,
    measure_loader,
    write_instances_json,
)
from benchmarking.deploy_candidates import (
    executorch_candidates,
    onnxruntime_candidates,
    peak_share_column,
)
from benchmarking.multitask_candidates import multitask_candidates
from benchmarking.timing import format_timings, time_side_by_side
from benchmarking.train_throughput import measure_train_throughput
from benchmarking.video_throughput import benchmark_video
from mmengine.config import Config, DictAction
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from skimage import data as skimage_data
from torch import nn

from visionkit.analysis.memory import peak_memory
from visionkit.apis import init_model
from visionkit.deploy import fuse_batchnorm
from visionkit.engine import load_config
from visionkit.registry import DATASETS, MODELS

MODES = ("end-to-end", "model-only")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("config", help="config file")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch CPU threads")
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 8], help="batch sizes (default: 1 8)")
    parser.add_argument("--image", help="RGB image file to run on (default: scikit-image's astronaut)")
    parser.add_argument(
        "--image-size", type=int, nargs=2, metavar=("H", "W"), help="resize the photo to H x W first"
    )
    parser.add_argument(
        "--modes", nargs="+", choices=MODES, default=list(MODES), help="what to time (default: both)"
    )
    parser.add_argument("--rounds", type=int, default=30, help="timed rounds per candidate and batch")
    parser.add_argument("--warmup", type=int, default=5, help="untimed rounds first")
    parser.add_argument(
        "--repeat", type=int, default=1, help="calls of a candidate in a row within each round (default 1)"
    )
    parser.add_argument(
        "--pause", type=float, default=0.0, help="seconds of idle before each candidate's calls (default 0)"
    )
    parser.add_argument("--deploy", action="store_true", help="add visionkit with BatchNorm folded")
    parser.add_argument(
        "--onnx", action="store_true", help="add visionkit in ONNX Runtime (default and tuned options)"
    )
    parser.add_argument("--int8", action="store_true", help="add the INT8 (QDQ) graph in ONNX Runtime")
    parser.add_argument(
        "--openvino", action="store_true", help="add the same graphs in OpenVINO (INT8 too with --int8)"
    )
    parser.add_argument(
        "--executorch", action="store_true", help="add ExecuTorch .pte (XNNPACK; INT8 too with --int8)"
    )
    parser.add_argument(
        "--fma-units", type=int, help="FMA units per core for the float peak (default: the CPU family's)"
    )
    parser.add_argument(
        "--memory", action="store_true", help="add memory-efficient visionkit; print peak memory"
    )
    parser.add_argument(
        "--multitask",
        action="store_true",
        help="a multi-task config: its model against its single-task models one after the other",
    )
    parser.add_argument("--splits", type=int, default=4, help="slices per expansion with --memory")
    parser.add_argument("--train", action="store_true", help="training throughput instead of inference")
    parser.add_argument("--iterations", type=int, default=20, help="timed training iterations")
    parser.add_argument(
        "--loader",
        action="store_true",
        help="data loader cost of the config's train dataset on a synthetic COCO train2017-sized file",
    )
    parser.add_argument(
        "--video", action="store_true", help="video pipeline frames/s, stages overlapped and in sequence"
    )
    parser.add_argument("--frames", type=int, default=60, help="--video: frames of the 640x480 clip")
    parser.add_argument("--video-rounds", type=int, default=3, help="--video: rounds per runtime and mode")
    parser.add_argument("--num-images", type=int, default=COCO_TRAIN2017_IMAGES, help="--loader images")
    parser.add_argument("--num-boxes", type=int, default=COCO_TRAIN2017_BOXES, help="--loader boxes")
    parser.add_argument("--workers", type=int, default=4, help="--loader dataloader workers")
    parser.add_argument(
        "--cfg-options", nargs="+", action=DictAction, default={}, help="override config values"
    )
    args = parser.parse_args(argv)
    if args.rounds < 2:
        parser.error(f"--rounds must be at least 2 (the tables give a 90th percentile), got {args.rounds}")
    return args


def load_image(path: str | None, shape: tuple[int, int] | None) -> np.ndarray:
    """(H, W, 3) uint8 RGB: ``path`` or scikit-image's astronaut (512x512), resized to ``shape``."""
    image = skimage_data.astronaut() if path is None else cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)
    if shape is not None:
        image = cv2.resize(image, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(image)


def build_candidates(
    cfg: Config, task: str, args: argparse.Namespace, image: np.ndarray
) -> tuple[list[Candidate], str, nn.Module]:
    """visionkit (eager, then the variants asked for) and torchvision's twin; returns the twin's name
    and the eager model."""
    model = init_model(cfg)
    prepare_for_timing(model)
    candidates = [visionkit_candidate("visionkit", model, cfg)]
    if args.deploy:
        candidates.append(visionkit_candidate("visionkit deploy", fuse_batchnorm(copy.deepcopy(model)), cfg))
    if args.memory:
        efficient = copy.deepcopy(model)
        efficient.backbone.set_memory_efficient_splits(args.splits)
        candidates.append(visionkit_candidate(f"visionkit memory-efficient x{args.splits}", efficient, cfg))
    if args.onnx or args.int8 or args.openvino:
        candidates += onnxruntime_candidates(model, cfg, args.threads, image, args.int8, args.openvino)
    if args.executorch:
        candidates += executorch_candidates(model, cfg, image, args.int8)
    reference = torchvision_candidate(task, model, cfg)
    return [*candidates, reference], reference.name, model


def calls(
    candidates: list[Candidate], mode: str, images: list[np.ndarray]
) -> dict[str, Callable[[], object]]:
    """One zero-argument call per candidate: a batch of ``images`` end to end, or the prepared forward."""
    if mode == "end-to-end":
        return {c.name: (lambda c=c: c.end_to_end(images)) for c in candidates}
    with torch.inference_mode():
        return {c.name: c.model_only(images) for c in candidates}


def format_memory(rows: list[tuple[str, str, int, int]]) -> str:
    """Rows of (mode, candidate, batch, peak bytes) as a text table in MiB."""
    width = max(len(name) for _, name, _, _ in rows)
    header = f"{'mode':<10}  {'model':<{width}}  batch  peak MiB"
    lines = [header, "-" * len(header)]
    lines += [f"{m:<10}  {n:<{width}}  {b:>5}  {p / 2**20:>8.1f}" for m, n, b, p in rows]
    return "\n".join(lines)


def benchmark_inference(cfg: Config, task: str, args: argparse.Namespace) -> None:
    image = load_image(args.image, args.image_size)
    candidates, reference, model = build_candidates(cfg, task, args, image)
    peak = cpu_peak(args.threads, args.fma_units)
    share, madds = peak_share_column(model, cfg, image, peak)
    print(
        f"config: {args.config}  task: {task}  image: {image.shape[0]}x{image.shape[1]}  "
        f"threads: {args.threads}  torch {torch.__version__}  load: {os.getloadavg()[0]:.1f}\n"
        f"float peak: {peak.describe()}; network: {madds / 1e6:.0f} M multiply-adds per image"
    )
    memory_rows = []
    for mode in args.modes:
        timings = []
        for batch in args.batch:
            runs = calls(candidates, mode, [image] * batch)
            timings += time_side_by_side(runs, batch, args.warmup, args.rounds, args.repeat, args.pause)
            if args.memory:
                with torch.inference_mode():
                    measured = [c.name for c in candidates if c.in_torch]
                    memory_rows += [(mode, name, batch, peak_memory(runs[name])) for name in measured]
        print(f"\n{mode}\n{format_timings(timings, reference=reference, share=share)}")
    if memory_rows:
        print("\npeak CPU memory per call (PyTorch allocator, parameters and inputs excluded)\n")
        print(format_memory(memory_rows))


def benchmark_multitask(cfg: Config, args: argparse.Namespace) -> None:
    """The multi-task model against its single-task models run one after the other on the same image,
    eager (and with --onnx in ONNX Runtime), in interleaved rounds; --memory adds peak PyTorch memory."""
    image = load_image(args.image, args.image_size)
    model = init_model(cfg)
    prepare_for_timing(model)
    candidates, references = multitask_candidates(model, cfg, args.threads, args.onnx)
    print(
        f"config: {args.config}  tasks: {' + '.join(model.tasks)}  image: {image.shape[0]}x{image.shape[1]}  "
        f"threads: {args.threads}  torch {torch.__version__}  load: {os.getloadavg()[0]:.1f}"
    )
    memory_rows = []
    for mode in args.modes:
        for batch in args.batch:
            runs = calls(candidates, mode, [image] * batch)
            timings = time_side_by_side(runs, batch, args.warmup, args.rounds, args.repeat, args.pause)
            for index, reference in enumerate(references):
                names = {c.name for c in candidates[2 * index : 2 * index + 2]}
                table = format_timings([t for t in timings if t.name in names], reference=reference)
                print(f"\n{mode}\n{table}")
            if args.memory:
                with torch.inference_mode():
                    measured = [c.name for c in candidates if c.in_torch]
                    memory_rows += [(mode, name, batch, peak_memory(runs[name])) for name in measured]
    if memory_rows:
        print("\npeak CPU memory per call (PyTorch allocator, parameters and inputs excluded)\n")
        print(format_memory(memory_rows))


def benchmark_training(cfg: Config, args: argparse.Namespace) -> None:
    model = MODELS.build(cfg.model)
    loader = Runner.build_dataloader(cfg.train_dataloader)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    result = measure_train_throughput(model, loader, optim_wrapper, args.iterations)
    print(
        f"config: {args.config}  training  batch: {cfg.train_dataloader.batch_size}  "
        f"workers: {cfg.train_dataloader.num_workers}  threads: {args.threads}  torch {torch.__version__}"
    )
    print(f"iterations: {result.iterations}  images: {result.images}")
    print(f"with data loading: {result.images_per_s:.1f} img/s ({result.total_s:.1f} s)")
    print(f"train step only:   {result.step_images_per_s:.1f} img/s ({result.step_s:.1f} s)")


def benchmark_loader(cfg: Config, args: argparse.Namespace) -> None:
    """Load time, serialised size and per-worker memory of the config's train dataset (a COCO one) on a
    synthetic instances file of ``--num-images`` / ``--num-boxes``, serialised (mmengine's default) and
    as Python lists for comparison."""
    dataset_cfg = cfg.train_dataloader.dataset
    while "dataset" in dataset_cfg:  # RepeatDataset and other wrappers
        dataset_cfg = dataset_cfg.dataset
    with tempfile.TemporaryDirectory(prefix="visionkit_loader_") as folder:
        root = Path(folder)
        (root / "train2017").mkdir()
        start = time.perf_counter()
        size = write_instances_json(root / "instances.json", args.num_images, args.num_boxes)
        print(
            f"synthetic instances file: {args.num_images} images, {args.num_boxes} boxes, "
            f"{size / MIB:.0f} MiB (written in {time.perf_counter() - start:.0f} s); {args.workers} workers; "
            f"{dataset_cfg.type}\n"
        )
        for serialize in (True, False):
            settings = dict(
                data_root=str(root),
                ann_file="instances.json",
                data_prefix=dict(img="train2017/"),
                pipeline=[],
                serialize_data=serialize,
            )
            report = measure_loader(
                functools.partial(DATASETS.build, dict(dataset_cfg, **settings)), args.workers
            )
            print(format_loader_report(f"serialize_data={serialize}", report) + "\n")


def benchmark_video_pipeline(cfg: Config, args: argparse.Namespace) -> None:
    model = init_model(cfg)
    prepare_for_timing(model)
    flags = {
        "onnxruntime": args.onnx,
        "int8": args.int8,
        "openvino": args.openvino,
        "executorch": args.executorch,
    }
    runtimes = [name for name, wanted in flags.items() if wanted]
    cpu = cpu_peak(args.threads)
    threads = torch.get_num_threads()
    print(f"video pipeline: {cfg.model.type}, {threads} torch threads, {cpu.cores} cores ({cpu.family})")
    print(benchmark_video(model, cfg, kind_of(cfg), runtimes, args.frames, args.video_rounds))


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    cfg = load_config(args.config, args.cfg_options)
    init_default_scope(cfg.get("default_scope", "visionkit"))
    if args.loader:
        benchmark_loader(cfg, args)
    elif args.train:
        benchmark_training(cfg, args)
    elif args.multitask:
        benchmark_multitask(cfg, args)
    elif args.video:
        benchmark_video_pipeline(cfg, args)
    else:
        benchmark_inference(cfg, kind_of(cfg), args)


if __name__ == "__main__":
    main()
