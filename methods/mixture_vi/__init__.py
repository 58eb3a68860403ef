"""Variational inference with mixtures of isotropic Gaussians (Petit-Talamon, Lambert, Korba, NeurIPS 2025).

Modules: ``mixture`` (the isotropic and full-covariance mixture families, Stein gradients),
``updates`` (IBW, MD, GD, NGD, shared-variance and full-covariance BW steps), ``targets`` (the
target densities and Bayesian logistic posteriors), ``fit`` (the optimisation loop and KL
monitoring), ``flow`` / ``hmc`` / ``advi`` (baselines), ``method`` / ``datasets`` (mlrun adapters).
"""
