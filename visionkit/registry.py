"""visionkit's registries: children of mmengine's, so mmengine's Runner builds visionkit parts.

Every registry below is a child of the mmengine registry of the same name with scope ``visionkit``.
With ``default_scope = 'visionkit'`` in a config, the Runner resolves ``dict(type=...)`` here first and
falls back to mmengine's parents (``ImgDataPreprocessor``, ``CheckpointHook``, optimizers, ...).

An unknown ``type`` fails with a ``KeyError`` that names it and lists what the registry holds, instead
of mmengine's bare "not in the registry".
"""

from __future__ import annotations

import difflib

from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TASK_UTILS as MMENGINE_TASK_UTILS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry as MMEngineRegistry

SCOPE = "visionkit"


class Registry(MMEngineRegistry):
    """An mmengine ``Registry`` whose ``get`` raises a helpful ``KeyError`` for unknown names."""

    def get(self, key: str) -> type:
        try:
            obj = super().get(key)
        except RuntimeError:  # mmengine's fallback import of a dotted path failed
            obj = None
        if obj is None:
            raise KeyError(self._unknown_type_message(key))
        return obj

    def __contains__(self, key: str) -> bool:
        try:
            return super().get(key) is not None
        except RuntimeError:
            return False

    def available_names(self) -> list[str]:
        """Names this registry resolves without a scope prefix: its own, then its ancestors'."""
        names: set[str] = set()
        registry: MMEngineRegistry | None = self
        while registry is not None:
            names.update(registry.module_dict)
            registry = registry.parent
        return sorted(names)

    def _unknown_type_message(self, key: str) -> str:
        self.import_from_location()
        own = sorted(self.module_dict)
        inherited = [n for n in self.available_names() if n not in self.module_dict]
        close = difflib.get_close_matches(key, own + inherited, n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        return (
            f"Unknown type '{key}' in the {self.name} registry.{hint}\n"
            f"  registered by visionkit: {', '.join(own) or '(none)'}\n"
            f"  inherited from mmengine ({len(inherited)}): {', '.join(inherited)}"
        )


def _child(parent: MMEngineRegistry, *locations: str) -> Registry:
    return Registry(parent.name, parent=parent, scope=SCOPE, locations=list(locations))


RUNNERS = _child(MMENGINE_RUNNERS, "visionkit.engine")
LOOPS = _child(MMENGINE_LOOPS)
HOOKS = _child(MMENGINE_HOOKS, "visionkit.engine.hooks")
DATASETS = _child(MMENGINE_DATASETS, "visionkit.datasets")
DATA_SAMPLERS = _child(MMENGINE_DATA_SAMPLERS, "visionkit.datasets")
TRANSFORMS = _child(MMENGINE_TRANSFORMS, "visionkit.datasets.transforms")
MODELS = _child(MMENGINE_MODELS, "visionkit.models")
MODEL_WRAPPERS = _child(MMENGINE_MODEL_WRAPPERS)
WEIGHT_INITIALIZERS = _child(MMENGINE_WEIGHT_INITIALIZERS)
OPTIMIZERS = _child(MMENGINE_OPTIMIZERS, "visionkit.engine.optimizers")
OPTIM_WRAPPERS = _child(MMENGINE_OPTIM_WRAPPERS)
OPTIM_WRAPPER_CONSTRUCTORS = _child(MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS)
PARAM_SCHEDULERS = _child(MMENGINE_PARAM_SCHEDULERS, "visionkit.engine.optimizers")
METRICS = _child(MMENGINE_METRICS, "visionkit.evaluation")
EVALUATOR = _child(MMENGINE_EVALUATOR)
TASK_UTILS = _child(MMENGINE_TASK_UTILS, "visionkit.models")
VISUALIZERS = _child(MMENGINE_VISUALIZERS)
VISBACKENDS = _child(MMENGINE_VISBACKENDS)
LOG_PROCESSORS = _child(MMENGINE_LOG_PROCESSORS)
FUNCTIONS = _child(MMENGINE_FUNCTIONS)
# Inference runtimes for exported files (visionkit.deploy.runtimes): a registry of visionkit's own.
RUNTIMES = Registry("runtime", scope=SCOPE, locations=["visionkit.deploy.runtimes"])
# Each task's outputs outside the model (visionkit.outputs), by task name.
TASK_OUTPUTS = Registry("task outputs", scope=SCOPE, locations=["visionkit.outputs"])
