"""How close do trained encoders get to the theory? (graf2021, THEORY.md section 7)

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

from .data import DATA_NAMES, DataSet, RandomCropFlip, UnsafePickleError, load_cifar, load_dataset, load_mnist
from .distributed import all_gather_with_grad
from .metrics import GeometryTracker, NearestClassMeanAgreement, geometry_summary
from .models import MLP, ResNet18, SmallCNN, SphereProjection, build_encoder
from .objectives import CrossEntropyObjective, SupConObjective, make_objective
from .random_labels import fit_scaling, flip_labels, run_random_labels, scaling_verdict
from .train import BatchSampler, TrainConfig, TrainResult, resolve_device, train

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
