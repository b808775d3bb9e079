"""One body shape per person: a character must not change size from frame to frame."""

from __future__ import annotations

import numpy as np


def weighted_median(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(T, D) values and (T,) non-negative weights -> (D,) per-column weighted median (lower median on ties)."""
    order = np.argsort(values, axis=0)  # (T, D)
    sorted_values = np.take_along_axis(values, order, axis=0)
    cumulative = np.cumsum(weights[order], axis=0)  # (T, D)
    half = cumulative[-1] / 2
    index = (cumulative >= half).argmax(axis=0)
    return sorted_values[index, np.arange(values.shape[1])]


def robust_betas(betas: np.ndarray, confidence: np.ndarray) -> np.ndarray:
    """(T, 10) per-frame shape estimates and (T,) confidences -> (10,) one shape (confidence-weighted median).

    A median ignores the frames where the estimate is wild (occlusion, truncation); frames that were
    filled in (confidence 0) do not vote unless no frame was observed.
    """
    weights = np.asarray(confidence, dtype=np.float64)
    if not (weights > 0).any():
        weights = np.ones_like(weights)
    return weighted_median(np.asarray(betas, dtype=np.float64), weights)
