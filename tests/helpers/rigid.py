"""A rigid fit between two point sets: how the tests check a motion was moved, not changed."""

from __future__ import annotations

import numpy as np


def rigid_fit(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """R, t minimising |R a + t - b| over (N, 3) points (Kabsch), and the worst residual."""
    ca, cb = a.mean(0), b.mean(0)
    u, _, vt = np.linalg.svd((a - ca).T @ (b - cb))
    d = np.sign(np.linalg.det(vt.T @ u.T))
    rotation = vt.T @ np.diag([1, 1, d]) @ u.T
    shift = cb - rotation @ ca
    return rotation, shift, float(np.abs(a @ rotation.T + shift - b).max())
