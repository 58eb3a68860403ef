"""OMM, nested OMM, Sanger and LoRA objectives written on second-moment matrices (torch).

Notation (spec section 2): for k functions f = (f_1..f_k) and a PSD operator T,
``M[f] = E_rho[f f^T]`` and ``M[f, Tf] = E_rho[f (Tf)^T]`` (k x k).  Every objective below takes

* ``metric``: a list of one or two factor matrices ``F`` with ``M[f] ~= F^T F`` (two factors =
  two independent estimates, used where an objective squares ``M[f]``);
* ``L, R``: factors with ``M[f, Tf] ~= L^T R`` (an operator estimate from a batch independent of
  the metric batch).

For a matrix V and a PSD matrix A: ``metric=[V]``, ``L=V``, ``R=AV``.  The spectrum shift
``T + kappa I`` is ``R <- R + kappa L`` (or an extra block of rows); the inverse trick for an
operator ``Lop`` with wanted *bottom* eigenfunctions uses ``f = Lop g``: ``metric=[Lop G]``,
``L = Lop G``, ``R = G`` (then ``M[f, Lop^{-1} f] = G^T Lop G``).
"""
from __future__ import annotations

import torch

OBJECTIVES = ("omm", "omm2", "omm12", "omm_seq", "omm_jnt", "sanger", "lora", "lora_seq")


def seq_moment(L: torch.Tensor, R: torch.Tensor) -> torch.Tensor:
    """The partially stop-gradient moment ``M^seq[f, g]`` (spec 2.3).

    ``M^seq_ij = <f_i, sg g_j>`` (i > j), ``<f_i, g_i>`` (i = j), ``<sg f_i, g_j>`` (i < j):
    same value as ``L^T R``, but gradients reach only the higher-indexed function of each pair.
    """
    full = L.T @ R
    lower = torch.tril(L.T @ R.detach(), -1)
    upper = torch.triu(L.detach().T @ R, 1)
    return lower + torch.diag_embed(torch.diagonal(full)) + upper


def metric_moments(metric: list[torch.Tensor], seq: bool = False) -> list[torch.Tensor]:
    """``M[f]`` (or ``M^seq[f]``) from each metric factor ``F``: ``F^T F``."""
    return [seq_moment(F, F) if seq else F.T @ F for F in metric]


def _mean(ms: list[torch.Tensor]) -> torch.Tensor:
    return sum(ms) / len(ms)


def _pair_inner(ms: list[torch.Tensor]) -> torch.Tensor:
    """``<M_a, M_b>_F`` from two independent estimates (``<M, M>`` if only one)."""
    a, b = (ms[0], ms[1]) if len(ms) > 1 else (ms[0], ms[0])
    return (a * b).sum()


def omm_q(M: torch.Tensor, p: int) -> torch.Tensor:
    """``Q_p = sum_{i=0}^{2p-1} (I - M)^i`` by Horner's rule (Eq. 4)."""
    if p < 1:
        raise ValueError(f"OMM order p must be >= 1, got {p}")
    eye = torch.eye(M.shape[0], dtype=M.dtype, device=M.device)
    Rm = eye - M
    Q = eye
    for _ in range(2 * p - 1):
        Q = eye + Rm @ Q
    return Q


def omm_p_loss(M: torch.Tensor, A: torch.Tensor, p: int = 1) -> torch.Tensor:
    """OMM-p (Eq. 4/8): ``-tr(Q_p(M[f]) M[f, Tf])``; p = 1 gives ``-2 tr A + tr(M A)``."""
    return -torch.trace(omm_q(M, p) @ A)


def joint_masks(k: int, alpha=None, dtype=torch.float64):
    """Joint-nesting masks: ``m_i = sum_{j>=i} alpha_j`` and ``P_ij = min(m_i, m_j)``.

    ``alpha`` defaults to ``(1/k, ..., 1/k)`` (spec 2.3).
    """
    a = torch.full((k,), 1.0 / k, dtype=dtype) if alpha is None else torch.as_tensor(alpha, dtype=dtype)
    m = torch.flip(torch.cumsum(torch.flip(a, [0]), 0), [0])
    return m, torch.minimum(m[:, None], m[None, :])


def objective(kind: str, metric: list[torch.Tensor], L: torch.Tensor, R: torch.Tensor) -> torch.Tensor:
    """The training loss of ``kind`` (one of :data:`OBJECTIVES`).

    * ``omm``:      OMM-1, ``-2 tr M[f,Tf] + tr(M[f] M[f,Tf])``
    * ``omm2``:     OMM-2, ``-tr(Q_2 M[f,Tf])`` (Eq. 8)
    * ``omm12``:    OMM-1 + OMM-2
    * ``omm_seq``:  ``-2 tr M[f,Tf] + <M^seq[f], M^seq[f,Tf]>`` (sequential nesting)
    * ``omm_jnt``:  ``-2 sum_i m_i M[f,Tf]_ii + sum_ij P_ij M[f]_ij M[f,Tf]_ij`` (joint nesting)
    * ``sanger``:   ``-2 tr M[f, sg Tf] + <M^seq[f], sg M[f,Tf]>`` (gradient ``-2(I - V_{1:i}V_{1:i}^T) A v_i``)
    * ``lora``:     ``-2 tr M[f,Tf] + <M_a[f], M_b[f]>`` (LoRA / NeuralSVD without nesting)
    * ``lora_seq``: ``-2 tr M[f,Tf] + <M^seq_a[f], M^seq_b[f]>`` (NeuralSVD, sequential nesting)
    """
    A = L.T @ R
    if kind in ("omm", "omm2"):
        return omm_p_loss(_mean(metric_moments(metric)), A, 1 if kind == "omm" else 2)
    if kind == "omm12":
        M = _mean(metric_moments(metric))
        return omm_p_loss(M, A, 1) + omm_p_loss(M, A, 2)
    if kind == "omm_seq":
        return -2 * torch.trace(A) + (_mean(metric_moments(metric, seq=True)) * seq_moment(L, R)).sum()
    if kind == "omm_jnt":
        m, P = joint_masks(A.shape[0], dtype=A.dtype)
        return -2 * (m * torch.diagonal(A)).sum() + (P * _mean(metric_moments(metric)) * A).sum()
    if kind == "sanger":
        return (-2 * torch.trace(L.T @ R.detach())
                + (_mean(metric_moments(metric, seq=True)) * A.detach()).sum())
    if kind == "lora":
        return -2 * torch.trace(A) + _pair_inner(metric_moments(metric))
    if kind == "lora_seq":
        return -2 * torch.trace(A) + _pair_inner(metric_moments(metric, seq=True))
    raise ValueError(f"unknown objective '{kind}'; known: {', '.join(OBJECTIVES)}")
