"""Rotation conversions in torch, batched over leading dimensions.

The 6D layout is 3DCrowdNet's and VPoser v1's: six numbers viewed as a (3, 2) matrix, row-major, whose
two columns are Gram-Schmidt-orthonormalised into the first two columns of R.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def rot6d_to_matrix(rot6d: torch.Tensor) -> torch.Tensor:
    """(..., 6) -> (..., 3, 3), columns b1, b2, b1 x b2."""
    pairs = rot6d.reshape(*rot6d.shape[:-1], 3, 2)
    a1, a2 = pairs[..., 0], pairs[..., 1]
    b1 = F.normalize(a1, dim=-1)
    b2 = F.normalize(a2 - (b1 * a2).sum(-1, keepdim=True) * b1, dim=-1)
    b3 = torch.cross(b1, b2, dim=-1)  # over the vector axis, never the batch axis
    return torch.stack([b1, b2, b3], dim=-1)


def matrix_to_quaternion(matrix: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) -> (..., 4) unit quaternions (w, x, y, z), w >= 0; stable near 180 degrees."""
    m = matrix
    m00, m11, m22 = m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]
    squares = torch.stack([1 + m00 + m11 + m22, 1 + m00 - m11 - m22, 1 - m00 + m11 - m22, 1 - m00 - m11 + m22], dim=-1)
    best = squares.argmax(dim=-1, keepdim=True)  # largest component: divide by it, never by ~0
    root = squares.gather(-1, best).clamp_min(1e-12).sqrt()  # (..., 1)
    half_inv = 0.5 / root
    d21, d02, d10 = m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]
    s01, s02, s12 = m[..., 0, 1] + m[..., 1, 0], m[..., 0, 2] + m[..., 2, 0], m[..., 1, 2] + m[..., 2, 1]
    r = root[..., 0] * 0.5
    h = half_inv[..., 0]
    candidates = torch.stack(
        [
            torch.stack([r, d21 * h, d02 * h, d10 * h], dim=-1),
            torch.stack([d21 * h, r, s01 * h, s02 * h], dim=-1),
            torch.stack([d02 * h, s01 * h, r, s12 * h], dim=-1),
            torch.stack([d10 * h, s02 * h, s12 * h, r], dim=-1),
        ],
        dim=-2,
    )  # (..., 4 candidates, 4)
    quat = candidates.gather(-2, best[..., None].expand(*best.shape[:-1], 1, 4))[..., 0, :]
    quat = F.normalize(quat, dim=-1)
    return torch.where(quat[..., :1] < 0, -quat, quat)


def quaternion_to_axis_angle(quat: torch.Tensor) -> torch.Tensor:
    """(..., 4) (w, x, y, z) -> (..., 3) axis-angle, angle in [0, pi]."""
    quat = torch.where(quat[..., :1] < 0, -quat, quat)
    w, v = quat[..., 0], quat[..., 1:]
    sin_half = v.norm(dim=-1)
    angle = 2.0 * torch.atan2(sin_half, w)
    small = sin_half < 1e-6
    # angle / sin(angle / 2) -> 2 / w as the rotation vanishes
    scale = torch.where(small, 2.0 / w, angle / torch.where(small, torch.ones_like(sin_half), sin_half))
    return v * scale[..., None]


def matrix_to_axis_angle(matrix: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) -> (..., 3)."""
    return quaternion_to_axis_angle(matrix_to_quaternion(matrix))


def rot6d_to_axis_angle(rot6d: torch.Tensor) -> torch.Tensor:
    """(..., 6) -> (..., 3): the release's rot6d_to_axis_angle without its batch-of-3 cross-product defect."""
    return matrix_to_axis_angle(rot6d_to_matrix(rot6d))


def axis_angle_to_matrix(axis_angle: torch.Tensor) -> torch.Tensor:
    """(..., 3) -> (..., 3, 3), Rodrigues."""
    angle = axis_angle.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    axis = axis_angle / angle
    x, y, z = axis.unbind(-1)
    zero = torch.zeros_like(x)
    skew = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], dim=-1).reshape(*axis.shape[:-1], 3, 3)
    sin, cos = angle.sin()[..., None], angle.cos()[..., None]
    eye = torch.eye(3, dtype=axis_angle.dtype, device=axis_angle.device).expand_as(skew)
    return eye + sin * skew + (1 - cos) * (skew @ skew)
