"""Label-flip poisoning and its detection (the paper's figure 3 protocol).

For an attacked test point (x, y): add the poison (x, 1 − y) to the training set, refit (warm start
at the clean θ̂) to θ_p, then predict the change of x's logit when the poison is removed,
xᵀΔθ_est, with IF / RIF / NS of the poison in the poisoned model; the truth is xᵀ(θ̂ − θ_p)
(removing the poison gives back exactly the clean fit: same λ, mean over the clean n).

Detection: a poison is *flagged* by an estimator when its predicted effect reaches ``threshold``
(default 50%) of the actual effect.  Ranking: every training sample i of the poisoned set gets the
score (2y − 1)·xᵀΔθᵢ (how far removing i moves x's prediction back to its true label); the ROC AUC
of the poison against the clean samples measures whether the estimator singles it out.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from methods.attribution.influence import ESTIMATORS, Attribution
from methods.attribution.logistic import fit_logistic


def poison_auc(scores: np.ndarray, poison: int) -> float:
    """ROC AUC of one positive (the poison) against all other samples: P(score_clean < score_poison),
    ties counted half."""
    others = np.delete(scores, poison)
    s = scores[poison]
    return float(((others < s).sum() + 0.5 * (others == s).sum()) / len(others))


def poison_attack(X: np.ndarray, y: np.ndarray, lam: float, theta_clean: np.ndarray, x: np.ndarray,
                  y_true: float, leverage_floor: float = 1e-12) -> dict[str, float]:
    """One label-flip attack on (x, y_true): predicted and actual logit changes, the poison's
    leverage, and per estimator the poison's AUC and whether it ranks first."""
    Xp = np.vstack([X, x])
    yp = np.append(y, 1.0 - y_true)
    theta_p = fit_logistic(Xp, yp, lam, theta0=theta_clean).theta
    att = Attribution(Xp, yp, theta_p, lam, leverage_floor)
    poison = len(yp) - 1
    sign = 2.0 * y_true - 1.0
    row = {"y": y_true, "h_poison": float(att.h[poison]), "actual": float(x @ (theta_clean - theta_p)),
           "logit_clean": float(x @ theta_clean), "logit_poisoned": float(x @ theta_p)}
    for e in ESTIMATORS:
        effect = att.per_sample(e) @ x
        row[e] = float(effect[poison])
        scores = sign * effect
        row[f"auc_{e}"] = poison_auc(scores, poison)
        row[f"top1_{e}"] = float(np.argmax(scores) == poison)
    return row


def poisoning_study(X_train, y_train, X_test, y_test, lam: float, targets: np.ndarray,
                    progress=None, leverage_floor: float = 1e-12) -> pd.DataFrame:
    """One row per attacked test point (see :func:`poison_attack`)."""
    theta = fit_logistic(X_train, y_train, lam).theta
    loop = progress(targets, len(targets), "poisons") if progress else targets
    rows = []
    for j in loop:
        row = poison_attack(X_train, y_train, lam, theta, X_test[j], float(y_test[j]), leverage_floor)
        rows.append({"test_index": int(j), **row})
    return pd.DataFrame(rows)


def detection_summary(attacks: pd.DataFrame, threshold: float = 0.5) -> pd.DataFrame:
    """Per estimator: poisons flagged (predicted ≥ threshold × actual, same sign), the median ratio
    predicted/actual, mean |predicted|, mean AUC and top-1 rate."""
    out = []
    a = attacks["actual"].to_numpy()
    for e in ESTIMATORS:
        p = attacks[e].to_numpy()
        ratio = p / a
        out.append({"estimator": e, "n_poisons": len(a), "flagged": int((ratio >= threshold).sum()),
                    "detect_rate": float(np.mean(ratio >= threshold)), "median_ratio": float(np.median(ratio)),
                    "mean_abs_pred": float(np.mean(np.abs(p))), "mean_abs_actual": float(np.mean(np.abs(a))),
                    "auc": float(attacks[f"auc_{e}"].mean()), "top1": float(attacks[f"top1_{e}"].mean())})
    return pd.DataFrame(out)
