"""Training objectives: CE, CE with a fixed simplex classifier (CE-fix), and SC.

Each objective is a ``torch.nn.Module`` mapping ``(features, labels)`` of one batch to
a scalar loss, computed by :mod:`theorycheck.losses` (float64, log-sum-exp), so the loss
that is trained is the loss the theorems are about:

* :class:`CrossEntropyObjective` (``"ce"``) -- graf2021's
  :math:`L_{CE}(Z, W; Y) = \\frac1N \\sum_n -\\log \\frac{\\exp\\langle z_n, w_{y_n}\\rangle}
  {\\sum_k \\exp\\langle z_n, w_k\\rangle}` with a trainable bias-free W in R^{K x h}.
* the same with ``fixed=True`` (``"ce-fix"``) -- W is fixed to an exact regular simplex
  inscribed in the sphere of radius ``weight_radius``, built by
  :func:`theorycheck.geometry.regular_simplex` (no iterative approximation; Mettes et al.
  2019 as used by graf2021).
* :class:`SupConObjective` (``"supcon"``) -- the supervised contrastive loss of one batch.
  In graf2021's convention (the default) the features lie on the sphere of radius rho
  and there is no temperature; the batch loss is

  .. math:: l(Z; B) = \\sum_{i: |B_{y_i}| \\ge 2} \\frac{-1}{|B_{y_i}|-1}
            \\sum_{j \\in B_{y_i} \\setminus i} \\log \\frac{\\exp\\langle z_i, z_j\\rangle}
            {\\sum_{k \\in B \\setminus i} \\exp\\langle z_i, z_k\\rangle},

  trained as its mean over the anchors that have a positive (``reduction="mean"``, so
  the step size does not grow with b; ``reduction="sum"`` gives l(Z; B) itself). In
  khosla2020's convention features are unit vectors, a temperature tau divides the
  inner products and the loss is multiplied by ``temperature / base_temperature``.
  The two coincide for rho = 1/sqrt(tau) and ``base_temperature = temperature``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .._validation import check_choice, check_int, check_real, fail

__all__ = [
    "OBJECTIVE_NAMES",
    "CrossEntropyObjective",
    "SupConObjective",
    "make_objective",
]

OBJECTIVE_NAMES = ("ce", "ce-fix", "supcon")


class CrossEntropyObjective(nn.Module):
    """Bias-free cross-entropy with a trainable (CE) or fixed regular-simplex (CE-fix) classifier W.

    Parameters
    ----------
    num_classes : int
        K >= 2.
    dim : int
        Embedding dimension h (CE-fix needs h >= K - 1, where a regular simplex exists).
    fixed : bool
        CE-fix: W is the regular simplex of :func:`theorycheck.geometry.regular_simplex`
        and receives no gradient.
    weight_radius : float
        Norm of every row of the fixed W (CE-fix only).
    seed : int
        Seed of the random initialisation of a trainable W.
    """

    has_classifier = True

    def __init__(self, num_classes: int, dim: int, *, fixed: bool = False, weight_radius: float = 1.0, seed: int = 0):
        super().__init__()
        caller = "CrossEntropyObjective"
        self.num_classes = check_int(num_classes, "num_classes", caller, min_value=2)
        self.dim = check_int(dim, "dim", caller, min_value=1)
        self.fixed = bool(fixed)
        self.weight_radius = check_real(weight_radius, "weight_radius", caller, gt=0.0)
        self.name = "ce-fix" if self.fixed else "ce"
        if self.fixed:
            if self.dim < self.num_classes - 1:
                raise fail("dim", caller, f">= K - 1 = {self.num_classes - 1} (a regular simplex of K points "
                           f"needs K - 1 dimensions)", self.dim)
            from ..geometry import regular_simplex

            simplex = np.asarray(regular_simplex(self.num_classes, self.dim, radius=self.weight_radius),
                                 dtype=np.float64)
            self.register_buffer("weight", torch.from_numpy(simplex).to(torch.float32))
        else:
            gen = torch.Generator().manual_seed(int(seed))
            # the usual nn.Linear scale: rows of norm about 1/sqrt(3), independent of h
            init = (torch.rand(self.num_classes, self.dim, generator=gen) * 2 - 1) / math.sqrt(self.dim)
            self.weight = nn.Parameter(init)

    def extra_repr(self) -> str:
        return (f"num_classes={self.num_classes}, dim={self.dim}, fixed={self.fixed}"
                + (f", weight_radius={self.weight_radius!r}" if self.fixed else ""))

    @property
    def classifier(self) -> torch.Tensor:
        """W, shape (K, h)."""
        return self.weight

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        """<z_n, w_k>, shape (B, K)."""
        return features @ self.weight.to(features.dtype).T

    def forward(self, features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        from ..losses import cross_entropy

        return cross_entropy(features, self.weight, labels)


class SupConObjective(nn.Module):
    """Supervised contrastive loss of one batch (graf2021 / khosla2020 conventions).

    Parameters
    ----------
    temperature : float
        tau; 1.0 in graf2021's convention (the scale lives in the sphere radius rho of
        the features). khosla2020's reference setting is unit features and tau = 0.1.
    base_temperature : float, optional
        khosla2020's reference code multiplies the loss by ``temperature / base_temperature``;
        None means no scaling.
    reduction : {"mean", "sum"}
        Mean over anchors with a positive (default, for training) or the sum, which is
        graf2021's l(Z; B).
    feature_radius : float
        Radius of the sphere the encoder projects to (recorded so the metrics know the
        effective radius ``feature_radius / sqrt(temperature)``).
    """

    has_classifier = False

    def __init__(self, *, temperature: float = 1.0, base_temperature: float | None = None, reduction: str = "mean",
                 feature_radius: float = 1.0):
        super().__init__()
        caller = "SupConObjective"
        self.temperature = check_real(temperature, "temperature", caller, gt=0.0)
        self.base_temperature = (None if base_temperature is None
                                 else check_real(base_temperature, "base_temperature", caller, gt=0.0))
        self.reduction = check_choice(reduction, "reduction", caller, ("mean", "sum"))
        self.feature_radius = check_real(feature_radius, "feature_radius", caller, gt=0.0)
        self.name = "supcon"

    def extra_repr(self) -> str:
        return (f"temperature={self.temperature!r}, base_temperature={self.base_temperature!r}, "
                f"reduction={self.reduction!r}, feature_radius={self.feature_radius!r}")

    @property
    def effective_radius(self) -> float:
        """rho of graf2021's temperature-free form: ``feature_radius / sqrt(temperature)``."""
        return self.feature_radius / math.sqrt(self.temperature)

    def forward(self, features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        from ..losses import supcon

        return supcon(features, labels, temperature=self.temperature, variant="out", reduction=self.reduction,
                      drop_anchors_without_positives=True, base_temperature=self.base_temperature)


def make_objective(name: str, num_classes: int, dim: int, *, rho: float | None = None,
                   temperature: float | None = None, base_temperature: float | None = None,
                   weight_radius: float = 1.0, seed: int = 0) -> tuple[nn.Module, float | None]:
    """Build an objective by name and say onto which sphere the encoder must project.

    Returns
    -------
    objective : nn.Module
    encoder_radius : float or None
        Radius of the sphere the encoder's features must lie on (None: unconstrained).
        ``supcon``: ``rho`` (graf2021; default 1) or 1 with ``temperature`` (khosla2020);
        giving both is an error. CE and CE-fix: ``rho`` if given, else unconstrained.
    """
    caller = "make_objective"
    check_choice(name, "loss", caller, OBJECTIVE_NAMES)
    if rho is not None:
        rho = check_real(rho, "rho", caller, gt=0.0)
    if temperature is not None:
        temperature = check_real(temperature, "temperature", caller, gt=0.0)
    if name == "supcon":
        if rho is not None and temperature is not None:
            raise fail("temperature", caller, "left out when rho is given (a temperature tau on unit features is "
                       "the sphere radius rho = 1/sqrt(tau); give one of them)", temperature)
        if temperature is not None:
            return SupConObjective(temperature=temperature, base_temperature=base_temperature,
                                   feature_radius=1.0), 1.0
        radius = 1.0 if rho is None else rho
        return SupConObjective(temperature=1.0, base_temperature=base_temperature, feature_radius=radius), radius
    if temperature is not None:
        raise fail("temperature", caller, "given only for loss 'supcon'", temperature)
    return CrossEntropyObjective(num_classes, dim, fixed=(name == "ce-fix"), weight_radius=weight_radius,
                                 seed=seed), rho
