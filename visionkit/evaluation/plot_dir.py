"""Point a config's test metrics at a folder for their plots (``tools/test.py --plot-dir``)."""

from __future__ import annotations

import os

from mmengine.config import Config

PLOTTING_METRICS = ("CocoMetric", "IoUMetric")


def set_plot_dir(cfg: Config, plot_dir: str) -> list[str]:
    """Set ``plot_dir`` on every plotting metric of ``cfg.test_evaluator``; returns the folders set.

    A metric wrapped in ``TaskMetric`` (multi-task) plots into ``plot_dir/<task>``. Raises ``ValueError``
    when no test metric can plot.
    """
    evaluators = cfg.test_evaluator if isinstance(cfg.test_evaluator, list) else [cfg.test_evaluator]
    folders = []
    for evaluator in evaluators:
        metric, folder = evaluator, plot_dir
        if evaluator.get("type") == "TaskMetric":
            metric, folder = evaluator["metric"], os.path.join(plot_dir, evaluator["task"])
        if metric.get("type") in PLOTTING_METRICS:
            metric["plot_dir"] = folder
            folders.append(folder)
    if not folders:
        types = ", ".join(str(e.get("type")) for e in evaluators)
        raise ValueError(f"--plot-dir: none of the test metrics ({types}) plots; {PLOTTING_METRICS} do")
    return folders
