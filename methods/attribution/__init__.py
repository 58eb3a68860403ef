"""Data attribution for L2-regularised logistic regression: influence functions (IF), rescaled
influence functions (RIF), the Newton step (NS) and the exact refit they predict (paper: "Rescaled
Influence Functions", Rubinstein & Hopkins 2025; spec ``papers/rif.md``)."""
