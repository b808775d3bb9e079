"""The floor: a robust plane through the lowest foot points of everyone, over the whole clip.

RANSAC picks the plane most foot points lie on (within ``inlier_m``), least squares refines it on the
inliers. No floor is returned when the evidence is weak: too few points, too few inliers, or points that
span a line rather than an area (one person walking straight away gives collinear footprints, which fix
the floor's direction along the walk only).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crowdmocap_addon.core.result.schema import GroundPlane

CAMERA_UP = np.array([0.0, -1.0, 0.0])  # OpenCV camera axes: y points down
DEPTH_RELATIVE_BAND = 0.015


@dataclass(frozen=True)
class GroundFit:
    plane: GroundPlane
    inlier_ratio: float  # quality: share of foot points on the plane
    spread_m: float  # quality: the smaller extent of the inliers across the plane, metres


def _plane_through(points: np.ndarray) -> tuple[np.ndarray, float] | None:
    """Least-squares plane (normal, offset) through (N, 3) points; normal points up (towards -y)."""
    centre = points.mean(axis=0)
    _, _, vh = np.linalg.svd(points - centre)
    normal = vh[2]
    if normal @ CAMERA_UP < 0:
        normal = -normal
    return normal, float(-normal @ centre)


def fit_ground(
    foot_points: np.ndarray,
    *,
    inlier_m: float | None = None,
    min_points: int = 30,
    min_inlier_ratio: float = 0.5,
    min_spread_m: float = 0.5,
    iterations: int = 500,
    seed: int = 0,
) -> GroundFit | None:
    """(N, 3) candidate floor points in camera coordinates (metres) -> the floor, or None if unsure.

    ``inlier_m`` is the band around the plane that counts as "on the floor"; by default it grows with
    distance (1.5 % of the median depth, at least 5 cm), because monocular depth errors do.
    """
    points = np.asarray(foot_points, dtype=np.float64)
    points = points[np.isfinite(points).all(axis=1)]
    if len(points) < min_points:
        return None
    if inlier_m is None:
        inlier_m = max(0.05, DEPTH_RELATIVE_BAND * float(np.median(np.abs(points[:, 2]))))
    rng = np.random.default_rng(seed)
    best_inliers = np.zeros(len(points), dtype=bool)
    for _ in range(iterations):
        sample = points[rng.choice(len(points), 3, replace=False)]
        normal = np.cross(sample[1] - sample[0], sample[2] - sample[0])
        length = np.linalg.norm(normal)
        if length < 1e-9:
            continue
        normal /= length
        inliers = np.abs((points - sample[0]) @ normal) < inlier_m
        if inliers.sum() > best_inliers.sum():
            best_inliers = inliers
    if best_inliers.sum() < max(3, min_inlier_ratio * len(points)):
        return None
    on_plane = points[best_inliers]
    normal, offset = _plane_through(on_plane)
    # refine once more on the refined plane's inliers
    inliers = np.abs(points @ normal + offset) < inlier_m
    normal, offset = _plane_through(points[inliers])
    singular = np.linalg.svd(points[inliers] - points[inliers].mean(axis=0), compute_uv=False)
    spread = 2 * singular[1] / np.sqrt(inliers.sum())  # ~ the width of the footprints across their main line
    if spread < min_spread_m or inliers.mean() < min_inlier_ratio:
        return None
    return GroundFit(GroundPlane(normal=tuple(normal), offset=offset), float(inliers.mean()), float(spread))


def lowest_foot_points(joints: np.ndarray, foot_joints: tuple[int, ...] = (7, 8, 10, 11)) -> np.ndarray:
    """(T, 24, 3) camera-frame SMPL joints -> (T, 3): per frame, the foot joint lowest along camera-up."""
    feet = joints[:, list(foot_joints)]  # (T, F, 3)
    lowest = (feet @ CAMERA_UP).argmin(axis=1)  # lowest = smallest height along up
    return feet[np.arange(len(feet)), lowest]
