"""Rotation conversions in NumPy, batched over any leading shape.

Axis-angle vectors are (..., 3) with the angle in radians as their length; matrices are (..., 3, 3)
and act on column vectors (x' = R @ x), the convention of SMPL and smplx.
"""

from __future__ import annotations

import numpy as np

_SMALL_ANGLE = 1e-8


def axis_angle_to_matrix(axis_angle: np.ndarray) -> np.ndarray:
    """(..., 3) axis-angle -> (..., 3, 3) rotation matrices (Rodrigues' formula)."""
    aa = np.asarray(axis_angle, dtype=np.float64)
    angle = np.linalg.norm(aa, axis=-1, keepdims=True)  # (..., 1)
    safe = np.where(angle > _SMALL_ANGLE, angle, 1.0)
    axis = aa / safe
    x, y, z = axis[..., 0], axis[..., 1], axis[..., 2]
    zero = np.zeros_like(x)
    skew = np.stack([zero, -z, y, z, zero, -x, -y, x, zero], axis=-1).reshape((*aa.shape[:-1], 3, 3))
    sin = np.sin(angle)[..., None]
    cos = np.cos(angle)[..., None]
    eye = np.broadcast_to(np.eye(3), skew.shape)
    rot = eye + sin * skew + (1.0 - cos) * (skew @ skew)
    # Below the threshold the first-order term is exact to float64 precision.
    small = (angle[..., 0] <= _SMALL_ANGLE)[..., None, None]
    x0, y0, z0 = aa[..., 0], aa[..., 1], aa[..., 2]
    first_order = eye + np.stack([zero, -z0, y0, z0, zero, -x0, -y0, x0, zero], axis=-1).reshape(skew.shape)
    return np.where(small, first_order, rot)


def matrix_to_quaternion(matrix: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotation matrices -> (..., 4) unit quaternions (w, x, y, z) with w >= 0."""
    m = np.asarray(matrix, dtype=np.float64)
    m00, m11, m22 = m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]
    # Shepperd: pick the largest of the four squared components for numerical stability.
    squares = np.stack([1 + m00 + m11 + m22, 1 + m00 - m11 - m22, 1 - m00 + m11 - m22, 1 - m00 - m11 + m22], axis=-1)
    best = np.argmax(squares, axis=-1)
    root = np.sqrt(np.maximum(np.take_along_axis(squares, best[..., None], axis=-1)[..., 0], 1e-300))
    half_inv = 0.5 / root
    candidates = np.stack(
        [
            np.stack(
                [
                    0.5 * root,
                    (m[..., 2, 1] - m[..., 1, 2]) * half_inv,
                    (m[..., 0, 2] - m[..., 2, 0]) * half_inv,
                    (m[..., 1, 0] - m[..., 0, 1]) * half_inv,
                ],
                -1,
            ),
            np.stack(
                [
                    (m[..., 2, 1] - m[..., 1, 2]) * half_inv,
                    0.5 * root,
                    (m[..., 0, 1] + m[..., 1, 0]) * half_inv,
                    (m[..., 0, 2] + m[..., 2, 0]) * half_inv,
                ],
                -1,
            ),
            np.stack(
                [
                    (m[..., 0, 2] - m[..., 2, 0]) * half_inv,
                    (m[..., 0, 1] + m[..., 1, 0]) * half_inv,
                    0.5 * root,
                    (m[..., 1, 2] + m[..., 2, 1]) * half_inv,
                ],
                -1,
            ),
            np.stack(
                [
                    (m[..., 1, 0] - m[..., 0, 1]) * half_inv,
                    (m[..., 0, 2] + m[..., 2, 0]) * half_inv,
                    (m[..., 1, 2] + m[..., 2, 1]) * half_inv,
                    0.5 * root,
                ],
                -1,
            ),
        ],
        axis=-2,
    )  # (..., 4 candidates, 4 components)
    quat = np.take_along_axis(candidates, best[..., None, None], axis=-2)[..., 0, :]
    quat = quat / np.linalg.norm(quat, axis=-1, keepdims=True)
    return np.where(quat[..., :1] < 0, -quat, quat)


def quaternion_to_axis_angle(quat: np.ndarray) -> np.ndarray:
    """(..., 4) quaternions (w, x, y, z) -> (..., 3) axis-angle with angle in [0, pi]."""
    q = np.asarray(quat, dtype=np.float64)
    q = np.where(q[..., :1] < 0, -q, q)
    w, v = q[..., 0], q[..., 1:]
    sin_half = np.linalg.norm(v, axis=-1)
    angle = 2.0 * np.arctan2(sin_half, w)
    # angle / sin(angle / 2) tends to 2 / w as the rotation vanishes.
    scale = np.where(sin_half > _SMALL_ANGLE, angle / np.where(sin_half > _SMALL_ANGLE, sin_half, 1.0), 2.0 / w)
    return v * scale[..., None]


def matrix_to_axis_angle(matrix: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotation matrices -> (..., 3) axis-angle with angle in [0, pi]."""
    return quaternion_to_axis_angle(matrix_to_quaternion(matrix))


def swing_rotation(current: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(3,) and (3,) directions -> (3, 3) the smallest rotation turning ``current`` onto ``target``."""
    a = np.asarray(current, dtype=np.float64) / np.linalg.norm(current)
    b = np.asarray(target, dtype=np.float64) / np.linalg.norm(target)
    axis = np.cross(a, b)
    sin, cos = np.linalg.norm(axis), float(a @ b)
    if sin < 1e-12:
        if cos > 0:
            return np.eye(3)
        ortho = np.cross(a, [1.0, 0.0, 0.0] if abs(a[0]) < 0.9 else [0.0, 1.0, 0.0])  # any axis across a
        return axis_angle_to_matrix(ortho / np.linalg.norm(ortho) * np.pi)
    return axis_angle_to_matrix(axis / sin * np.arctan2(sin, cos))
