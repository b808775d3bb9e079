"""Rotation helpers only the retargeter needs, beyond ``core.geometry``: Euler orders, Blender axis-angle.

Matrices act on column vectors (x' = R @ x); quaternions are (w, x, y, z), Blender's order. Blender's Euler
order ``"XYZ"`` applies X first, then Y, then Z: R = Rz · Ry · Rx.
"""

from __future__ import annotations

import numpy as np

from ..core.geometry import matrix_to_quaternion, quaternion_to_matrix

_EPS = 1e-12
EULER_ORDERS = ("XYZ", "XZY", "YXZ", "YZX", "ZXY", "ZYX")


def _axis_rotation(axis: int, angle: np.ndarray) -> np.ndarray:
    """(...,) angles -> (..., 3, 3) rotations about one coordinate axis."""
    cos, sin = np.cos(angle), np.sin(angle)
    a, b = [(1, 2), (2, 0), (0, 1)][axis]  # the plane the rotation turns, in right-handed order
    out = np.zeros((*np.shape(angle), 3, 3))
    out[..., axis, axis] = 1.0
    out[..., a, a], out[..., a, b], out[..., b, a], out[..., b, b] = cos, -sin, sin, cos
    return out


def euler_to_matrix(euler: np.ndarray, order: str) -> np.ndarray:
    """(..., 3) angles (x, y, z) in radians -> (..., 3, 3) for Blender's rotation ``order`` (first axis first)."""
    angles = np.asarray(euler, dtype=np.float64)
    out = np.broadcast_to(np.eye(3), (*angles.shape[:-1], 3, 3)).copy()
    for letter in order:
        axis = "XYZ".index(letter)
        out = _axis_rotation(axis, angles[..., axis]) @ out
    return out


def matrix_to_euler(matrix: np.ndarray, order: str) -> np.ndarray:
    """(..., 3, 3) rotations -> (..., 3) angles (x, y, z) with ``euler_to_matrix(angles, order) == matrix``.

    For order "abc" the matrix is Rc · Rb · Ra; the middle angle is in [-pi/2, pi/2]. At gimbal lock the
    first angle is set to 0 and the last takes the whole remaining rotation.
    """
    m = np.asarray(matrix, dtype=np.float64)
    i, j, k = ("XYZ".index(letter) for letter in order)  # first, middle, last axis
    # Parity: +1 when (i, j, k) is a cyclic permutation of (0, 1, 2).
    sign = 1.0 if (j - i) % 3 == 1 else -1.0
    # M = Rk(c) Rj(b) Ri(a): M[k, i] = -sign * sin(b); M[k, j], M[k, k] give a; M[j, i], M[i, i] give c.
    sin_b = np.clip(-sign * m[..., k, i], -1.0, 1.0)
    b = np.arcsin(sin_b)
    cos_b = np.sqrt(np.maximum(1.0 - sin_b * sin_b, 0.0))
    locked = cos_b < 1e-9
    a = np.arctan2(sign * m[..., k, j], m[..., k, k])
    c = np.arctan2(sign * m[..., j, i], m[..., i, i])
    # Gimbal lock: a = 0, c from the block that stays well defined.
    c_locked = np.arctan2(-sign * m[..., i, j], m[..., j, j])
    a = np.where(locked, 0.0, a)
    c = np.where(locked, c_locked, c)
    out = np.empty((*m.shape[:-2], 3))
    out[..., i], out[..., j], out[..., k] = a, b, c
    return out


def unwrap_euler(euler: np.ndarray) -> np.ndarray:
    """(T, ..., 3) Euler angles -> the same rotations with each angle kept within pi of the previous frame.

    Adding 2 pi to one angle keeps the rotation; without this, keys jump by 2 pi where atan2 wraps and the
    interpolated curve spins once between them.
    """
    angles = np.array(euler, dtype=np.float64)
    if angles.shape[0] < 2:
        return angles
    steps = np.diff(angles, axis=0)
    wraps = np.round(steps / (2 * np.pi))
    angles[1:] -= 2 * np.pi * np.cumsum(wraps, axis=0)
    return angles


def matrix_to_axis_angle4(matrix: np.ndarray) -> np.ndarray:
    """(..., 3, 3) -> (..., 4) Blender axis-angle (angle, x, y, z); the axis is +Z for no rotation."""
    q = matrix_to_quaternion(matrix)
    sin_half = np.linalg.norm(q[..., 1:], axis=-1)
    angle = 2.0 * np.arctan2(sin_half, q[..., 0])
    axis = np.where(
        sin_half[..., None] > 1e-12, q[..., 1:] / np.maximum(sin_half, 1e-300)[..., None], np.array([0.0, 0.0, 1.0])
    )
    return np.concatenate([angle[..., None], axis], axis=-1)


def axis_angle4_to_matrix(axis_angle: np.ndarray) -> np.ndarray:
    """(..., 4) Blender axis-angle (angle, x, y, z) -> (..., 3, 3)."""
    aa = np.asarray(axis_angle, dtype=np.float64)
    axis = aa[..., 1:] / np.maximum(np.linalg.norm(aa[..., 1:], axis=-1, keepdims=True), _EPS)
    half = aa[..., :1] / 2
    return quaternion_to_matrix(np.concatenate([np.cos(half), np.sin(half) * axis], axis=-1))


def rotation_part(matrix: np.ndarray) -> np.ndarray:
    """(..., 4, 4) or (..., 3, 3) affine -> (..., 3, 3) its rotation, scale removed column by column.

    Object matrices may carry a (uniform) scale, e.g. an FBX rig at 0.01; bone rotations are what is left.
    """
    m = np.asarray(matrix, dtype=np.float64)[..., :3, :3]
    return m / np.maximum(np.linalg.norm(m, axis=-2, keepdims=True), _EPS)
