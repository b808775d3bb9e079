"""Rotations in NumPy, batched over any leading shape: the one place both halves convert and blend them.

Axis-angle vectors are (..., 3) with the angle in radians as their length; matrices are (..., 3, 3)
and act on column vectors (x' = R @ x), the convention of SMPL and smplx; quaternions are (..., 4)
(w, x, y, z), Blender's component order.
"""

from __future__ import annotations

import numpy as np

_SMALL_ANGLE = 1e-8
_EPS = 1e-12


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


def axis_angle_to_quaternion(axis_angle: np.ndarray) -> np.ndarray:
    """(..., 3) axis-angle -> (..., 4) unit quaternions (w, x, y, z)."""
    aa = np.asarray(axis_angle, dtype=np.float64)
    angle = np.linalg.norm(aa, axis=-1, keepdims=True)
    # sin(a/2)/a -> 1/2 as a -> 0; the series keeps tiny rotations exact.
    big = angle > _SMALL_ANGLE
    scale = np.where(big, np.sin(angle / 2) / np.where(big, angle, 1.0), 0.5)
    return np.concatenate([np.cos(angle / 2), aa * scale], axis=-1)


def quaternion_to_matrix(quat: np.ndarray) -> np.ndarray:
    """(..., 4) quaternions (w, x, y, z), any norm > 0 -> (..., 3, 3); normalised first, as Blender does."""
    q = np.asarray(quat, dtype=np.float64)
    q = q / np.maximum(np.linalg.norm(q, axis=-1, keepdims=True), _EPS)
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.stack(
        [
            1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
            2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
            2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
        ],
        axis=-1,
    ).reshape((*q.shape[:-1], 3, 3))  # fmt: skip


def sign_continuous(quaternions: np.ndarray) -> np.ndarray:
    """(T, ..., 4) -> the same rotations with each frame's sign chosen so neighbours have a positive dot.

    q and -q are one rotation, but blending or interpolating keys of opposite sign swings the long way round.
    """
    quat = np.asarray(quaternions, dtype=np.float64)
    if quat.shape[0] < 2:
        return quat.copy()
    dots = np.sum(quat[1:] * quat[:-1], axis=-1)  # (T-1, ...)
    flips = np.where(dots < 0, -1.0, 1.0)
    signs = np.concatenate([np.ones((1, *flips.shape[1:])), np.cumprod(flips, axis=0)], axis=0)
    return quat * signs[..., None]


def interpolate_rotations(axis_angle: np.ndarray, known: np.ndarray) -> np.ndarray:
    """(T, ..., 3) axis-angle and a (T,) mask -> the unknown frames filled from the known ones.

    Normalised linear blending of sign-continuous quaternions between the nearest known frames (held
    constant past the first and last); known frames are returned unchanged.
    """
    rotations = np.asarray(axis_angle, dtype=np.float64)
    known = np.asarray(known, dtype=bool)
    if known.all() or not known.any():
        return rotations.copy()
    quat = sign_continuous(axis_angle_to_quaternion(rotations[known]))
    steps, seen = np.arange(len(rotations)), np.flatnonzero(known)
    flat = quat.reshape(len(seen), -1)
    filled = np.stack([np.interp(steps, seen, flat[:, c]) for c in range(flat.shape[1])], axis=1)
    filled = filled.reshape((len(rotations), *quat.shape[1:]))
    out = rotations.copy()
    gaps = filled[~known]
    out[~known] = quaternion_to_axis_angle(gaps / np.linalg.norm(gaps, axis=-1, keepdims=True))
    return out


def swing_rotation(current: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(..., 3) and (..., 3) directions -> (..., 3, 3) the smallest rotations turning ``current`` onto ``target``.

    Opposite directions turn half a circle about an axis across them.
    """
    a = np.asarray(current, dtype=np.float64)
    b = np.asarray(target, dtype=np.float64)
    a = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), _EPS)
    b = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), _EPS)
    cos = np.sum(a * b, axis=-1)
    axis = np.cross(a, b)
    # Half-angle quaternion (1 + cos, a x b), normalised: exact and stable away from cos = -1.
    quat = np.concatenate([(1.0 + cos)[..., None], axis], axis=-1)
    opposite = (1.0 + cos) < 1e-9
    if np.any(opposite):
        helper = np.where(np.abs(a[..., :1]) < 0.9, np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0]))
        across = np.cross(a, helper)
        across = across / np.maximum(np.linalg.norm(across, axis=-1, keepdims=True), _EPS)
        flipped = np.concatenate([np.zeros((*cos.shape, 1)), across], axis=-1)
        quat = np.where(opposite[..., None], flipped, quat)
    return quaternion_to_matrix(quat)


def rotation_angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(..., 3, 3) and (..., 3, 3) -> (...,) the angle in radians of a⁻¹ · b."""
    rel = np.swapaxes(np.asarray(a), -1, -2) @ np.asarray(b)
    cos = (np.trace(rel, axis1=-2, axis2=-1) - 1.0) / 2.0
    return np.arccos(np.clip(cos, -1.0, 1.0))


def smoothstep(x: np.ndarray) -> np.ndarray:
    """Hermite ease 3x² − 2x³ on [0, 1] (clamped): zero slope at both ends, so blends start and stop softly."""
    t = np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)
