"""Offline, zero-phase, rotation-correct smoothing of a person's motion.

Rotations are filtered as unit quaternions made sign-continuous along time (never as raw axis-angle,
which jumps at 180 degrees), with a symmetric Gaussian kernel: a symmetric kernel has zero phase, so the
smoothed motion never trails the original. Each frame is weighted by its confidence, so frames that
were filled in (confidence 0) take their values from their observed neighbours. Root translation is
filtered separately, and more strongly in depth, the noisiest axis of monocular capture.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crowdmocap_addon.core.geometry import (
    axis_angle_to_matrix,
    matrix_to_quaternion,
    quaternion_to_axis_angle,
    sign_continuous,
)
from crowdmocap_addon.core.options import CAPTURE_OPTIONS

DEFAULT_STRENGTH = CAPTURE_OPTIONS["smoothing"].default
BASE_SIGMA_S = 0.05  # Gaussian sigma in seconds at strength 1 (1.5 frames at 30 fps)
DEPTH_FACTOR = 3.0  # depth is smoothed this much more than x and y
MIN_WEIGHT = 1e-3  # filled-in frames still count a little, so a long gap is not undefined


@dataclass(frozen=True)
class SmoothedMotion:
    global_orient: np.ndarray  # (T, 3)
    body_pose: np.ndarray  # (T, 23, 3)
    transl: np.ndarray  # (T, 3)


def gaussian_filter_weighted(values: np.ndarray, weights: np.ndarray, sigma: float) -> np.ndarray:
    """Zero-phase Gaussian smoothing along axis 0 of (T, ...) values with per-frame weights (T,).

    Normalised convolution: out_t = sum_k g_k w_{t+k} v_{t+k} / sum_k g_k w_{t+k}, so the clip's ends
    need no padding and low-weight frames are pulled towards their neighbours.
    """
    if sigma <= 0 or len(values) < 2:
        return values.copy()
    radius = max(1, int(np.ceil(3 * sigma)))
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    count = len(values)
    flat = values.reshape(count, -1)
    numerator = np.zeros_like(flat, dtype=np.float64)
    denominator = np.zeros(count)
    for offset, g in zip(offsets, kernel, strict=True):
        lo, hi = max(0, -offset), min(count, count - offset)  # t such that t + offset is inside
        if lo >= hi:  # the kernel reaches past a short clip's other end
            continue
        w = g * weights[lo + offset : hi + offset]
        numerator[lo:hi] += w[:, None] * flat[lo + offset : hi + offset]
        denominator[lo:hi] += w
    return (numerator / denominator[:, None]).reshape(values.shape)


def smooth_motion(
    global_orient: np.ndarray,
    body_pose: np.ndarray,
    transl: np.ndarray,
    confidence: np.ndarray,
    *,
    fps: float,
    strength: float = DEFAULT_STRENGTH,
) -> SmoothedMotion:
    """Smooth one person's motion; strength 0 returns it unchanged, larger is smoother.

    global_orient (T, 3), body_pose (T, 23, 3) axis-angle; transl (T, 3); confidence (T,) in [0, 1].
    """
    if strength < 0:
        raise ValueError(f"smoothing strength must be >= 0, got {strength}")
    if strength == 0:
        return SmoothedMotion(global_orient.copy(), body_pose.copy(), transl.copy())
    sigma = BASE_SIGMA_S * fps * strength  # in frames
    weights = np.maximum(np.asarray(confidence, dtype=np.float64), MIN_WEIGHT)
    pose = np.concatenate([global_orient[:, None], body_pose], axis=1)  # (T, 24, 3)
    quat = sign_continuous(matrix_to_quaternion(axis_angle_to_matrix(pose)))
    quat = gaussian_filter_weighted(quat, weights, sigma)
    quat /= np.linalg.norm(quat, axis=-1, keepdims=True)
    pose = quaternion_to_axis_angle(quat)
    smoothed_t = np.empty_like(transl, dtype=np.float64)
    smoothed_t[:, :2] = gaussian_filter_weighted(transl[:, :2], weights, sigma)
    smoothed_t[:, 2] = gaussian_filter_weighted(transl[:, 2:], weights, sigma * DEPTH_FACTOR)[:, 0]
    return SmoothedMotion(pose[:, 0], pose[:, 1:], smoothed_t)


def jitter(joints: np.ndarray, fps: float) -> float:
    """Mean joint acceleration magnitude (m/s^2) of (T, J, 3) joint positions: how shaky motion looks."""
    if len(joints) < 3:
        return 0.0
    acceleration = (joints[2:] - 2 * joints[1:-1] + joints[:-2]) * fps**2
    return float(np.linalg.norm(acceleration, axis=-1).mean())
