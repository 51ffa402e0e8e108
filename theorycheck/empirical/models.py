"""Encoders for the empirical checks: an MLP, a small CNN and the CIFAR ResNet-18.

graf2021 write a classifier as an encoder phi_theta: X -> Z = R^h followed by a linear
map W; the theorems are about the representations z = phi_theta(x). The encoders here
return z (shape ``(B, h)``); the linear map lives in the objective
(:mod:`theorycheck.empirical.objectives`).

For the supervised contrastive loss the representations are projected to the sphere
of radius rho (:class:`SphereProjection`); a temperature tau on unit vectors is the
same as rho = 1/sqrt(tau) (docs/theory.md section 3).
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from .._validation import check_choice, check_int, check_real, fail

__all__ = [
    "MLP",
    "SmallCNN",
    "ResNet18",
    "SphereProjection",
    "Encoder",
    "MODEL_NAMES",
    "build_encoder",
]

MODEL_NAMES = ("mlp", "cnn", "resnet18")


class MLP(nn.Module):
    """Fully connected ReLU network ``in_dim -> hidden... -> out_dim`` (last layer linear).

    Parameters
    ----------
    in_dim : int
        Input dimension.
    out_dim : int
        Embedding dimension h.
    hidden : sequence of int
        Widths of the hidden layers.
    batch_norm : bool
        BatchNorm after each hidden linear layer. Off by default: without it a sample's
        representation does not depend on the rest of its batch, which keeps evaluation
        exact and distributed runs identical to single-process ones.
    """

    def __init__(self, in_dim: int, out_dim: int, hidden: Sequence[int] = (256, 256), batch_norm: bool = False):
        super().__init__()
        self.in_dim = check_int(in_dim, "in_dim", "MLP", min_value=1)
        self.out_dim = check_int(out_dim, "out_dim", "MLP", min_value=1)
        self.hidden = tuple(check_int(w, "hidden", "MLP", min_value=1) for w in hidden)
        self.batch_norm = bool(batch_norm)
        layers: list[nn.Module] = []
        width = self.in_dim
        for w in self.hidden:
            layers.append(nn.Linear(width, w))
            if self.batch_norm:
                layers.append(nn.BatchNorm1d(w))
            layers.append(nn.ReLU(inplace=True))
            width = w
        layers.append(nn.Linear(width, self.out_dim))
        self.net = nn.Sequential(*layers)

    def extra_repr(self) -> str:
        return f"in_dim={self.in_dim}, out_dim={self.out_dim}, hidden={self.hidden}, batch_norm={self.batch_norm}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1))


class SmallCNN(nn.Module):
    """A small CNN for images: three conv-BN-ReLU stages (the last two stride 2), global average pool, linear.

    Works for any input size >= 4x4 (8x8 digits, 28x28 MNIST, 32x32 CIFAR).
    """

    def __init__(self, in_channels: int, out_dim: int, width: int = 32):
        super().__init__()
        self.in_channels = check_int(in_channels, "in_channels", "SmallCNN", min_value=1)
        self.out_dim = check_int(out_dim, "out_dim", "SmallCNN", min_value=1)
        self.width = check_int(width, "width", "SmallCNN", min_value=1)
        w = self.width

        def stage(cin: int, cout: int, stride: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout),
                    nn.ReLU(inplace=True)]

        self.features = nn.Sequential(*stage(self.in_channels, w, 1), *stage(w, 2 * w, 2), *stage(2 * w, 4 * w, 2),
                                      nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(4 * w, self.out_dim)

    def extra_repr(self) -> str:
        return f"in_channels={self.in_channels}, out_dim={self.out_dim}, width={self.width}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class _BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.shortcut(x))


class ResNet18(nn.Module):
    """ResNet-18 in its CIFAR variant (He et al. 2016): a 3x3 stride-1 stem and no max-pool.

    Four stages of two basic blocks (64, 128, 256, 512 channels; stages 2-4 stride 2),
    global average pooling, giving a 512-dimensional representation as in graf2021's
    experiments. With ``out_dim`` other than 512 a linear layer maps to that dimension.
    """

    def __init__(self, in_channels: int = 3, out_dim: int = 512):
        super().__init__()
        self.in_channels = check_int(in_channels, "in_channels", "ResNet18", min_value=1)
        self.out_dim = check_int(out_dim, "out_dim", "ResNet18", min_value=1)
        self.stem = nn.Sequential(nn.Conv2d(self.in_channels, 64, 3, stride=1, padding=1, bias=False),
                                  nn.BatchNorm2d(64), nn.ReLU(inplace=True))
        stages = []
        cin = 64
        for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            stages.append(nn.Sequential(_BasicBlock(cin, cout, stride), _BasicBlock(cout, cout, 1)))
            cin = cout
        self.stages = nn.Sequential(*stages)
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head: nn.Module = nn.Identity() if self.out_dim == 512 else nn.Linear(512, self.out_dim)

    def extra_repr(self) -> str:
        return f"in_channels={self.in_channels}, out_dim={self.out_dim}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.pool(self.stages(self.stem(x))))


class SphereProjection(nn.Module):
    r"""Project representations onto the sphere of radius rho: :math:`z \mapsto \rho z / \|z\|`.

    A zero vector would have no direction; a tiny floor on the norm keeps the map
    finite there (the gradient is then meaningless, as it is for any normalisation).
    """

    def __init__(self, radius: float = 1.0, eps: float = 1e-12):
        super().__init__()
        self.radius = check_real(radius, "radius", "SphereProjection", gt=0.0)
        self.eps = float(eps)

    def extra_repr(self) -> str:
        return f"radius={self.radius!r}"

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.radius * nn.functional.normalize(z, dim=1, eps=self.eps)


class Encoder(nn.Module):
    """A backbone followed, optionally, by the projection to the sphere of radius ``radius``."""

    def __init__(self, backbone: nn.Module, radius: float | None = None):
        super().__init__()
        self.backbone = backbone
        self.radius = None if radius is None else check_real(radius, "radius", "Encoder", gt=0.0)
        self.project: nn.Module = nn.Identity() if radius is None else SphereProjection(radius)

    @property
    def out_dim(self) -> int:
        return int(self.backbone.out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(self.backbone(x))


def build_encoder(name: str, input_shape: Sequence[int], out_dim: int, *, radius: float | None = None,
                  hidden: Sequence[int] = (256, 256), width: int = 32) -> Encoder:
    """Build an encoder by name for inputs of ``input_shape`` (``(D,)`` or ``(C, H, W)``).

    ``mlp`` flattens any input; ``cnn`` and ``resnet18`` need images.
    """
    caller = "build_encoder"
    check_choice(name, "model", caller, MODEL_NAMES)
    out_dim = check_int(out_dim, "dim", caller, min_value=1)
    shape = tuple(int(s) for s in input_shape)
    if name == "mlp":
        in_dim = 1
        for s in shape:
            in_dim *= s
        backbone: nn.Module = MLP(in_dim, out_dim, hidden=hidden)
    else:
        if len(shape) != 3:
            raise fail("model", caller, f"'mlp' for vector data ('{name}' needs images of shape (C, H, W))", name)
        if name == "cnn":
            backbone = SmallCNN(shape[0], out_dim, width=width)
        else:
            backbone = ResNet18(shape[0], out_dim)
    return Encoder(backbone, radius)
