"""Orbital minimization method (OMM) for operator eigendecomposition (Ryu, Zhou, Wornell, NeurIPS 2025).

Modules: ``objectives`` (OMM-p, nested OMM, Sanger, LoRA/NeuralSVD losses on second-moment
matrices, torch), ``metrics`` (subspace distance, aligned cosines, Rayleigh quotients, linear probe,
numpy float64), ``operators`` (PSD matrices, Gaussian-kernel operator, grid worlds, kNN graph),
``hydrogen`` (2-D hydrogen: closed-form eigenpairs, sqrt(rho) transform, finite-difference Laplacian),
``datasets`` / ``method`` (thin adapters), ``training`` (matrix and network solvers), ``plots``.
"""
