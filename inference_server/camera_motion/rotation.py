"""A rotating, zooming camera from the homography between two of its frames (pure NumPy).

A camera that only turns and zooms about its own centre maps one frame onto the next by
``H ~ K2 R K1^-1`` whatever the scene's depth (no parallax), with ``K = [[f, 0, cx], [0, f, cy], [0, 0, 1]]``
and the principal point fixed at the image centre. Given the previous focal ``f1``, the new focal ``f2``
is the one that makes ``K2^-1 H K1`` a scaled rotation: its columns orthogonal and of equal length, which
is linear in ``1 / f2^2`` and solved in least squares; the rotation is then the nearest one to it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class CameraMotionError(ValueError):
    """A homography that no turning, zooming camera produces (the message says why)."""


@dataclass(frozen=True, kw_only=True)
class RotationStep:
    rotation: np.ndarray  # (3, 3) camera-1 to camera-2 rotation, OpenCV axes (x right, y down, z forward)
    focal: float  # the second frame's focal length, pixels
    residual: float  # how far K2^-1 H K1 is from a scaled rotation (0 for an exact one), relative


def intrinsics(focal: float, centre: tuple[float, float]) -> np.ndarray:
    return np.array([[focal, 0.0, centre[0]], [0.0, focal, centre[1]], [0.0, 0.0, 1.0]])


def rotation_homography(rotation: np.ndarray, focal_from: float, focal_to: float,
                        centre: tuple[float, float]) -> np.ndarray:  # fmt: skip
    """The homography a camera turning by ``rotation`` and zooming from ``focal_from`` to ``focal_to`` makes."""
    h = intrinsics(focal_to, centre) @ np.asarray(rotation) @ np.linalg.inv(intrinsics(focal_from, centre))
    return h / h[2, 2]


def nearest_rotation(matrix: np.ndarray) -> np.ndarray:
    u, _, vt = np.linalg.svd(matrix)
    rotation = u @ vt
    if np.linalg.det(rotation) < 0:
        rotation = u @ np.diag([1.0, 1.0, -1.0]) @ vt
    return rotation


def rotation_step(homography: np.ndarray, focal_from: float, centre: tuple[float, float]) -> RotationStep:
    """The rotation and new focal length behind ``homography`` (frame 1 pixels -> frame 2 pixels)."""
    h = np.asarray(homography, dtype=np.float64)
    if not np.all(np.isfinite(h)) or abs(np.linalg.det(h)) < 1e-12:
        raise CameraMotionError("the homography is singular")
    if np.linalg.det(h) < 0:  # a homography is defined up to scale, sign included
        h = -h
    # Move the principal point to the origin in both frames: H' = T H T^-1, then H' ~ diag(f2, f2, 1) R diag(1/f1, ...).
    shift = np.array([[1.0, 0.0, -centre[0]], [0.0, 1.0, -centre[1]], [0.0, 0.0, 1.0]])
    g = shift @ h @ np.linalg.inv(shift) @ np.diag([focal_from, focal_from, 1.0])  # = diag(f2, f2, 1) λR
    top, bottom = g[:2], g[2]
    # M = diag(1/f2, 1/f2, 1) G; M^T M = λ² I. With a = 1/f2²: a·(top^T top) + bottom^T bottom = λ² I.
    p, q = top.T @ top, np.outer(bottom, bottom)
    rows, rhs = [], []
    for i in range(3):
        for j in range(i, 3):
            if i == j:
                rows.append([p[i, i], -1.0])  # a p_ii - λ² = -q_ii
            else:
                rows.append([p[i, j], 0.0])  # a p_ij = -q_ij
            rhs.append(-q[i, j])
    (a, scale_sq), *_ = np.linalg.lstsq(np.array(rows), np.array(rhs), rcond=None)
    if not a > 0 or not scale_sq > 0:
        raise CameraMotionError("the homography is not a turning, zooming camera's (no positive focal length fits)")
    focal_to = 1.0 / np.sqrt(a)
    m = np.diag([1.0 / focal_to, 1.0 / focal_to, 1.0]) @ g / np.sqrt(scale_sq)
    rotation = nearest_rotation(m)
    residual = float(np.linalg.norm(m - rotation) / np.sqrt(3.0))
    return RotationStep(rotation=rotation, focal=float(focal_to), residual=residual)
