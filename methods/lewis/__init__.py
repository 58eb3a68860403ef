"""Quasi-self-concordant optimisation with Lewis weights (Ene, Nguyen, Vladu; arXiv 2510.22088).

Modules: ``linalg`` (weighted least squares with equality constraints via the KKT system),
``weights`` (certified ℓ∞ Lewis-weight overestimates), ``irls`` (the certified ℓ∞-regression IRLS),
``baselines`` (cvxpy and scipy/HiGHS LPs), ``qsc`` (the trust-region method for quasi-self-concordant
objectives), ``instances`` (the spec's synthetic generators), ``timing`` (benchmark hygiene),
``method`` (the thin Method/Dataset adapters).
"""
