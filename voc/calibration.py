"""Calibration: the threshold, lexicon-weight and bias searches every trained model goes
through. One module, used by ``voc train`` (:mod:`voc.trainer`) and by the default model's
training scripts (``training/``), so both pick settings the same way.

All searches run on development rows the heads were not fitted on; the caller owns that.
"""

from __future__ import annotations

from typing import Callable, Sequence, Tuple

import numpy as np

THRESHOLDS = np.round(np.arange(0.05, 0.96, 0.025), 3)
LEXICON_WEIGHTS = (0.0, 0.3, 0.5, 0.7, 0.9)
NEUTRAL_BIASES = np.round(np.arange(-0.3, 0.81, 0.05), 2)
POSITIVE_BIASES = np.round(np.arange(-0.2, 0.41, 0.05), 2)


def plateau_argmax(S: np.ndarray, tie: np.ndarray) -> tuple:
    """The grid cell whose 3x3 neighbourhood scores best on average (edges clipped).

    A grid scored on a few hundred dev texts is jagged: the single best cell is often a spike
    that the next retrain or another data set does not reproduce. The middle of a good plateau
    carries over better. Ties go to the cell with the higher ``tie`` (same shape as ``S``)."""
    from scipy.ndimage import uniform_filter

    smooth = uniform_filter(S.astype(float), size=3, mode="nearest")
    order = np.lexsort((np.broadcast_to(tie, S.shape).ravel(), np.round(smooth.ravel(), 6)))
    return np.unravel_index(order[-1], S.shape)


def f1(pred: np.ndarray, gold: np.ndarray) -> float:
    """Binary F1 of boolean arrays (0 when neither predicts nor holds a positive)."""
    tp = float((pred & gold).sum())
    d = float(pred.sum() + gold.sum())
    return 2 * tp / d if d else 0.0


def tune_detection(score_for_weight: Callable[[float], np.ndarray], gold: np.ndarray,
                   weights: Sequence[float] = LEXICON_WEIGHTS, thresholds: Sequence[float] = THRESHOLDS,
                   plateau: bool = True) -> Tuple[float, float, float]:
    """One label's lexicon weight and threshold maximising F1 on dev rows.

    ``score_for_weight(lw)`` gives each dev row's score for the label at lexicon weight ``lw``
    (built with :func:`voc.components.touchpoints.touchpoint_score`); ``gold`` is boolean.
    ``plateau``: take the middle of the best plateau (:func:`plateau_argmax`; ties go to the
    smaller weight, then the threshold nearest 0.5), else the single best cell.
    Returns ``(lexicon_weight, threshold, f1)``.
    """
    weights, thresholds = list(weights), np.asarray(thresholds, dtype=float)
    gold = np.asarray(gold, dtype=bool)
    S = np.zeros((len(weights), len(thresholds)))
    for a, lw in enumerate(weights):
        s = np.asarray(score_for_weight(lw))
        for b, th in enumerate(thresholds):
            S[a, b] = f1(s >= th, gold)
    if plateau:
        a, b = plateau_argmax(S, -np.asarray(weights)[:, None] - np.abs(thresholds - 0.5)[None, :] / 10)
    else:
        a, b = np.unravel_index(int(np.argmax(S)), S.shape)  # first best: smaller weight, lower threshold
    return float(weights[a]), round(float(thresholds[b]), 3), round(float(S[a, b]), 4)


def tune_biases(score: Callable[[float, float], float], neutral: Sequence[float] = NEUTRAL_BIASES,
                positive: Sequence[float] = POSITIVE_BIASES) -> Tuple[float, float, float]:
    """The neutral and positive bias (added to those classes' probabilities before the label is
    chosen) maximising ``score(neutral_bias, positive_bias)``, from the middle of the best
    plateau; ties go to the smaller biases. Returns ``(neutral_bias, positive_bias, score)``."""
    nb, pb = np.asarray(neutral, dtype=float), np.asarray(positive, dtype=float)
    S = np.array([[score(float(b), float(q)) for q in pb] for b in nb])
    i, j = plateau_argmax(S, -np.abs(nb)[:, None] - np.abs(pb)[None, :])
    return float(nb[i]), float(pb[j]), round(float(S[i, j]), 6)


def biased_labels(P: np.ndarray, neutral_bias: float, positive_bias: float) -> np.ndarray:
    """Class indices (negative 0, neutral 1, positive 2) after adding the biases."""
    return (P + np.array([0.0, neutral_bias, positive_bias])).argmax(1)
