"""The three architectures behind one factory, and parameter counting."""
from __future__ import annotations

import torch
from torch import nn

from runner.api import UserError

ARCHS = ("xnet", "kan", "mlp")
ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}


class MLP(nn.Module):
    """MLP [n_in, *hidden, n_out] with ReLU or tanh hidden activations, PyTorch default init."""

    def __init__(self, n_in: int, hidden: list[int], n_out: int, activation: str = "relu"):
        super().__init__()
        widths = [n_in, *hidden]
        layers: list[nn.Module] = []
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(a, b), ACTIVATIONS[activation]()]
        layers.append(nn.Linear(widths[-1], n_out))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def check_arch(arch: str, hidden: list[int], activation: str, grid: int, k: int) -> None:
    """One-line UserError for a bad architecture description."""
    if arch not in ARCHS:
        raise UserError(f"method.arch must be one of {', '.join(ARCHS)}, got {arch!r}")
    if not all(isinstance(h, int) and h >= 1 for h in hidden):
        raise UserError(f"method.hidden must be a list of positive integers, got {hidden!r}")
    if arch != "kan" and not hidden:
        raise UserError(f"method.hidden must not be empty for arch={arch}")
    if arch == "mlp" and activation not in ACTIVATIONS:
        raise UserError(f"method.activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
    if arch == "kan" and (grid < 1 or k < 0):
        raise UserError(f"method.grid must be >= 1 and method.k >= 0, got grid={grid}, k={k}")


def build_model(arch: str, n_in: int, hidden: list[int], n_out: int, *, activation: str = "relu",
                grid: int = 5, k: int = 3, grid_range: tuple[float, float] = (-1.0, 1.0),
                seed: int = 0) -> nn.Module:
    """A float64 XNet, KAN or MLP [n_in, *hidden, n_out], initialised from ``seed``."""
    from methods.xnet.cauchy import XNet
    from methods.xnet.kan import KAN

    check_arch(arch, list(hidden), activation, grid, k)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        if arch == "xnet":
            model = XNet(n_in, list(hidden), n_out)
        elif arch == "kan":
            model = KAN(n_in, list(hidden), n_out, grid, k, tuple(grid_range))
        else:
            model = MLP(n_in, list(hidden), n_out, activation)
    return model.double()


def n_params(model: nn.Module) -> int:
    """Number of trainable scalars."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def arch_label(arch: str, n_in: int, hidden: list[int], n_out: int, grid: int = 5) -> str:
    """The paper's notation, e.g. ``XNet [1,64,1]`` or ``KAN [1,1] G=200``."""
    widths = ",".join(str(w) for w in [n_in, *hidden, n_out])
    name = {"xnet": "XNet", "kan": "KAN", "mlp": "MLP"}[arch]
    return f"{name} [{widths}]" + (f" G={grid}" if arch == "kan" else "")
