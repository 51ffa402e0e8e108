"""How close do trained encoders get to the theory? (graf2021, docs/theory.md section 7)

Train encoders with cross-entropy (CE), cross-entropy with a fixed regular-simplex
classifier (CE-fix) or the supervised contrastive loss (SC), and measure, over training,
how close the class means get to a regular simplex, how far the samples have collapsed
onto them (NC1-NC4) and how far the loss is from its theoretical minimum; and repeat
graf2021's random-label experiment.

Modules:

* :mod:`~theorycheck.empirical.data` -- digits, Gaussian mixtures, local CIFAR-10/100
  (restricted unpickler) and MNIST (IDX) copies; image augmentation in torch.
* :mod:`~theorycheck.empirical.models` -- MLP, small CNN, CIFAR ResNet-18, sphere projection.
* :mod:`~theorycheck.empirical.objectives` -- CE, CE-fix and SC objectives (via
  :mod:`theorycheck.losses`).
* :mod:`~theorycheck.empirical.metrics` -- streaming float64 geometry metrics.
* :mod:`~theorycheck.empirical.train` -- the training loop (:func:`train`).
* :mod:`~theorycheck.empirical.random_labels` -- the random-label experiment and its fits.
* :mod:`~theorycheck.empirical.distributed` -- DDP with a gradient-correct all-gather.
* :mod:`~theorycheck.empirical.figures` -- PNG figures.
* :mod:`~theorycheck.empirical.cli` -- ``theorycheck train`` and ``theorycheck random-labels``.

Example (a few seconds on a CPU)::

    from theorycheck.empirical import train
    result = train(loss="supcon", data="digits", iterations=300, rho=1.5)
    result.final["cos_mean"], result.final["target_cos"]    # about -0.111 and -1/9
"""

import importlib
import sys
import types

# The package root imports nothing heavy: ``theorycheck --help`` builds the ``train`` and
# ``random-labels`` sub-commands from :mod:`.cli` without importing torch. Each public name
# is loaded from its submodule on first use (PEP 562).
_EXPORTS = {
    "data": ("DATA_NAMES", "DataSet", "RandomCropFlip", "UnsafePickleError", "load_cifar", "load_dataset",
             "load_mnist"),
    "distributed": ("all_gather_with_grad",),
    "metrics": ("GeometryTracker", "NearestClassMeanAgreement", "geometry_summary"),
    "models": ("MLP", "ResNet18", "SmallCNN", "SphereProjection", "build_encoder"),
    "objectives": ("CrossEntropyObjective", "SupConObjective", "make_objective"),
    "random_labels": ("fit_scaling", "flip_labels", "run_random_labels", "scaling_verdict"),
    "train": ("BatchSampler", "TrainConfig", "TrainResult", "resolve_device", "train"),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}


def __getattr__(name: str):
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_MODULE_OF))


class _Package(types.ModuleType):
    """The package module; importing the submodule ``train`` must not replace the exported
    function ``train`` (the import system sets a package attribute per loaded submodule)."""

    def __setattr__(self, name: str, value) -> None:
        if name in _MODULE_OF and isinstance(value, types.ModuleType):
            return  # the exported name (a function, a class) wins over a same-named submodule
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


__all__ = [
    "DATA_NAMES",
    "DataSet",
    "RandomCropFlip",
    "UnsafePickleError",
    "load_dataset",
    "load_cifar",
    "load_mnist",
    "MLP",
    "SmallCNN",
    "ResNet18",
    "SphereProjection",
    "build_encoder",
    "CrossEntropyObjective",
    "SupConObjective",
    "make_objective",
    "GeometryTracker",
    "NearestClassMeanAgreement",
    "geometry_summary",
    "TrainConfig",
    "TrainResult",
    "BatchSampler",
    "resolve_device",
    "train",
    "flip_labels",
    "fit_scaling",
    "scaling_verdict",
    "run_random_labels",
    "all_gather_with_grad",
]
