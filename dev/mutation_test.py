"""Mutation testing: plant small bugs in a core module one at a time and check that its fast tests fail.

    python dev/mutation_test.py visionkit/models/box_ops/box_coder.py [--tests tests/...]
        [--sample N] [--seed 0] [--timeout S] [--list]
    python dev/mutation_test.py --all [--sample N]

Each mutant is one edit of the module's syntax tree: a comparison, arithmetic or boolean operator swapped,
a number +1 / set to 0, a condition negated, a ``/ x`` dropped, two call arguments swapped, a returned
value replaced by ``None``, ``True``/``False`` flipped. Docstrings, strings and annotations are left
alone. The mutated module is written into a scratch copy of the repository (the checkout is never
touched), and the module's mapped tests (:data:`TESTS`) run there with ``pytest -x -q``, one mutant at
a time. A mutant is *killed* when the tests fail or time out, *survived* when they pass.
``--sample N`` draws N mutants per module with a seeded generator (deterministic). Survivors are printed
with their line and edit, to be read: some are equivalent (the same program), see docs/testing.md.
"""

from __future__ import annotations

import argparse
import ast
import copy
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Core module -> its fast tests (no @slow), the ones a developer runs after touching the module.
TESTS: dict[str, list[str]] = {
    "visionkit/models/box_ops/box_coder.py": ["tests/models/test_box_coder.py"],
    "visionkit/models/box_ops/anchors.py": ["tests/models/test_anchors.py"],
    "visionkit/models/box_ops/matching.py": [
        "tests/models/test_matching.py",
        "tests/models/test_ssdlite_targets.py",
    ],
    "visionkit/models/losses/ssd_loss.py": ["tests/models/test_ssd_loss.py"],
    "visionkit/models/heads/ssdlite_head.py": [
        "tests/models/test_ssdlite_targets.py",
        "tests/models/test_ssdlite.py",
    ],
    "visionkit/models/heads/seg_head.py": [
        "tests/models/test_segmentor_test_time.py",
        "tests/models/test_aspp_head.py",
        "tests/models/test_resized_labels.py",
    ],
    "visionkit/models/tasks/segmentor.py": [
        "tests/models/test_segmentor_test_time.py",
        "tests/models/test_segmentor.py",
    ],
    "visionkit/evaluation/coco_metric.py": ["tests/evaluation/test_coco_metric.py"],
    "visionkit/evaluation/iou_metric.py": ["tests/evaluation/test_iou_metric.py"],
    "visionkit/evaluation/accuracy.py": ["tests/evaluation/test_accuracy.py"],
    "visionkit/deploy/fuse_bn.py": ["tests/deploy/test_fuse_bn.py"],
    "visionkit/datasets/samplers/task_batch_sampler.py": [
        "tests/datasets/test_multi_task_dataset.py",
        "tests/datasets/test_seeded_samplers.py",
    ],
    "visionkit/models/checkpoint.py": [
        "tests/models/test_checkpoint_errors.py",
        "tests/models/test_torchvision_checkpoint.py",
        "tests/models/test_checkpoint_unpickler.py",
        "tests/engine/test_checkpoint_io.py",
    ],
    **{
        f"visionkit/models/checkpoint_{part}.py": [
            "tests/models/test_checkpoint_unpickler.py",
            "tests/models/test_checkpoint_unpickler_attacks.py",
            "tests/models/test_checkpoint_limits.py",
        ]
        for part in ("unpickler", "allowlist", "budget", "archive", "legacy")
    },
    "visionkit/models/checkpoint_fetch.py": ["tests/models/test_checkpoint_fetch.py"],
    "visionkit/models/box_ops/anchor_generators.py": [
        "tests/models/test_anchors.py",
        "tests/models/test_torchvision_ssdlite.py",
        "tests/models/test_mmdet_ssdlite.py",
    ],
    "visionkit/models/box_ops/nms.py": ["tests/models/test_ssdlite.py", "tests/models/test_mmdet_ssdlite.py"],
    "visionkit/models/backbones/mobilenet_v2.py": [
        "tests/models/test_mobilenet_v2.py",
        "tests/models/test_torchvision_checkpoint.py",
        "tests/models/test_memory_efficient.py",
    ],
    "visionkit/outputs/detection.py": ["tests/outputs", "tests/visualization/test_draw.py"],
    "visionkit/engine/optimizers/rmsprop_tf.py": ["tests/engine/test_rmsprop_tf.py"],
    "visionkit/datasets/transforms/ssd_augmentations.py": ["tests/datasets/test_ssd_augmentations.py"],
    "visionkit/datasets/coco.py": ["tests/datasets/test_coco.py", "tests/datasets/test_coco_image_info.py"],
    "visionkit/datasets/sample_seeds.py": [
        "tests/datasets/test_seeded_samplers.py",
        "tests/datasets/test_seeded_dataset.py",
    ],
    "visionkit/deploy/model_file_checks.py": ["tests/deploy/test_model_file_checks.py"],
    # Slow to mutate (each run exports ONNX graphs or trains): run with --sample and time to spare.
    "visionkit/deploy/onnx_export.py": ["tests/deploy/test_onnx_export.py"],
    "visionkit/models/tasks/multi_task.py": ["tests/models/test_multi_task.py"],
    "visionkit/models/heads/aspp_head.py": ["tests/models/test_aspp_head.py"],
}

SWAPS: dict[type, type] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.FloorDiv,
    ast.Pow: ast.Mult,
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.And: ast.Or,
    ast.Or: ast.And,
}


@dataclass(frozen=True)
class Mutant:
    index: int  # position of the node in ast.walk order
    kind: str
    line: int
    text: str  # what changes, for the report


def _skipped_nodes(tree: ast.AST) -> set[int]:
    """ids of nodes never mutated: docstrings, annotations, f-strings, ``__all__`` and type hints."""
    skipped: set[int] = set()

    def skip(node: ast.AST | None) -> None:
        if node is not None:
            skipped.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            skip(node.returns)
            for arg in [*node.args.args, *node.args.kwonlyargs, *node.args.posonlyargs]:
                skip(arg.annotation)
        elif isinstance(node, ast.AnnAssign):
            skip(node.annotation)
        elif isinstance(node, ast.JoinedStr):
            skip(node)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            skip(node)
        elif isinstance(node, ast.Raise):
            skip(node.exc)  # the error's message; the condition that raises is mutated
    return skipped


def _mutations(node: ast.AST) -> list[str]:
    """Names of the edits that apply to ``node``."""
    kinds = []
    if isinstance(node, ast.BinOp):
        if type(node.op) in SWAPS:
            kinds.append("swap_op")
        if isinstance(node.op, (ast.Div, ast.Mult, ast.Add, ast.Sub)):
            kinds.append("drop_right")
    elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in SWAPS:
        kinds.append("swap_op")
    elif isinstance(node, ast.BoolOp):
        kinds.append("swap_op")
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
        kinds.append("drop_unary")
    elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
        kinds.append("flip_bool")
    elif isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        kinds.append("plus_one")
        if node.value != 0:
            kinds.append("zero")
    elif isinstance(node, (ast.If, ast.IfExp, ast.While)):
        kinds.append("negate_test")
    elif isinstance(node, ast.Return) and node.value is not None:
        kinds.append("return_none")
    elif (
        isinstance(node, ast.Call)
        and len(node.args) >= 2
        and not any(isinstance(a, ast.Starred) for a in node.args[:2])
    ):
        kinds.append("swap_args")
    return kinds


def _apply(node: ast.AST, kind: str) -> ast.AST | None:
    """The replacement of ``node`` for edit ``kind`` (mutating it in place where that is enough)."""
    if kind == "swap_op":
        if isinstance(node, ast.Compare):
            node.ops = [SWAPS[type(node.ops[0])]()]
        else:
            node.op = SWAPS[type(node.op)]()
        return node
    if kind == "drop_right":
        return node.left
    if kind == "drop_unary":
        return node.operand
    if kind == "flip_bool":
        return ast.Constant(not node.value)
    if kind == "plus_one":
        return ast.Constant(node.value + 1)
    if kind == "zero":
        return ast.Constant(type(node.value)(0))
    if kind == "negate_test":
        node.test = ast.UnaryOp(ast.Not(), node.test)
        return node
    if kind == "return_none":
        node.value = ast.Constant(None)
        return node
    if kind == "swap_args":
        node.args[0], node.args[1] = node.args[1], node.args[0]
        return node
    raise ValueError(kind)


def enumerate_mutants(source: str) -> list[Mutant]:
    tree = ast.parse(source)
    skipped = _skipped_nodes(tree)
    mutants = []
    for index, node in enumerate(ast.walk(tree)):
        if id(node) in skipped:
            continue
        for kind in _mutations(node):
            segment = ast.get_source_segment(source, node) or type(node).__name__
            text = segment.splitlines()[0][:70]
            mutants.append(Mutant(index, kind, getattr(node, "lineno", 0), text))
    return mutants


def mutate(source: str, mutant: Mutant) -> str:
    """``source`` with ``mutant``'s edit applied, unparsed (comments are lost; the scratch copy only)."""
    tree = ast.parse(source)
    target = list(ast.walk(tree))[mutant.index]
    replacement = _apply(copy.deepcopy(target), mutant.kind)

    class Replace(ast.NodeTransformer):
        def generic_visit(self, node: ast.AST) -> ast.AST:
            if node is target:
                return replacement
            return super().generic_visit(node)

    return ast.unparse(ast.fix_missing_locations(Replace().visit(tree)))


def run_tests(workdir: Path, tests: list[str], timeout: float) -> tuple[bool, float]:
    """(passed, seconds) of ``pytest -x -q`` on ``tests`` in ``workdir``; a timeout counts as a failure."""
    env = dict(os.environ, PYTHONPATH=str(workdir), PYTHONDONTWRITEBYTECODE="1", NO_ALBUMENTATIONS_UPDATE="1")
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-m", "not slow", "-p", "no:cacheprovider", *tests]
    start = time.perf_counter()
    try:
        result = subprocess.run(command, cwd=workdir, env=env, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, time.perf_counter() - start
    return result.returncode == 0, time.perf_counter() - start


def scratch_copy() -> Path:
    """A copy of the package, tests and configs to mutate (the checkout stays as it is)."""
    workdir = Path(tempfile.mkdtemp(prefix="visionkit_mutants_"))
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "work_dirs", "data")
    for name in ("visionkit", "tests", "configs", "tools"):
        shutil.copytree(REPO / name, workdir / name, ignore=ignore)
    shutil.copy(REPO / "pyproject.toml", workdir / "pyproject.toml")
    return workdir


def mutation_run(module: str, tests: list[str], sample: int | None, seed: int, timeout: float | None) -> dict:
    source = (REPO / module).read_text()
    mutants = enumerate_mutants(source)
    total = len(mutants)
    if sample is not None and sample < total:
        mutants = sorted(random.Random(seed).sample(mutants, sample), key=lambda m: m.index)
    workdir = scratch_copy()
    try:
        passed, baseline = run_tests(workdir, tests, timeout=600)
        if not passed:
            raise SystemExit(f"{module}: its tests {tests} fail without any mutation; fix them first")
        limit = timeout or 3 * baseline + 10
        target = workdir / module
        survivors, killed = [], 0
        for number, mutant in enumerate(mutants, 1):
            target.write_text(mutate(source, mutant))
            survived, _ = run_tests(workdir, tests, limit)
            killed += not survived
            if survived:
                survivors.append(mutant)
            status = "SURVIVED" if survived else "killed"
            print(
                f"  [{number}/{len(mutants)}] {status:8} {module}:{mutant.line} {mutant.kind}: {mutant.text}",
                flush=True,
            )
        target.write_text(source)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {"module": module, "total": total, "run": len(mutants), "killed": killed, "survivors": survivors}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("modules", nargs="*", help="module paths (keys of TESTS unless --tests is given)")
    parser.add_argument("--all", action="store_true", help="every module in the test map")
    parser.add_argument("--tests", nargs="+", help="test files to run (default: the map's)")
    parser.add_argument("--sample", type=int, help="mutants per module, drawn with --seed")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, help="seconds per mutant (default 3x the clean run + 10)")
    parser.add_argument("--list", action="store_true", help="only list the mutants")
    args = parser.parse_args()
    modules = list(TESTS) if args.all else args.modules
    if not modules:
        parser.error("name a module or pass --all")
    reports = []
    for module in modules:
        if args.list:
            for mutant in enumerate_mutants((REPO / module).read_text()):
                print(f"{module}:{mutant.line} {mutant.kind}: {mutant.text}")
            continue
        tests = args.tests or TESTS.get(module)
        if not tests:
            parser.error(f"no tests mapped for {module}: pass --tests")
        print(f"{module} -> {' '.join(tests)}", flush=True)
        reports.append(mutation_run(module, tests, args.sample, args.seed, args.timeout))
    for report in reports:
        score = 100 * report["killed"] / max(1, report["run"])
        print(
            f"{report['module']}: {report['killed']}/{report['run']} killed ({score:.0f}%), "
            f"{report['total']} mutants in all"
        )
        for mutant in report["survivors"]:
            print(f"    survived line {mutant.line} {mutant.kind}: {mutant.text}")


if __name__ == "__main__":
    main()
