"""The camera through a clip: each frame's rotation (relative to the first frame's camera) and focal length,
chained from frame-to-frame steps; unreliable steps are bridged from their neighbours and reported.

Chaining accumulates each step's error (a random walk): the figures in docs say how much over a clip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from .features import FrameStep
from .rotation import CameraMotionError, rotation_step

# A step that moves the image's corners less than this is codec and tracking noise, not the camera: on the
# street clip seen by a still virtual camera, steps move the corners 0.01-0.22 px (median 0.03). Slower
# camera motion than this (under 0.02 degrees a frame at 800 px focal) is taken for a still camera.
STILL_STEP_PX = 0.25


def corner_motion(homography: np.ndarray, size: tuple[float, float]) -> float:
    """How far (pixels) the homography moves the image's farthest corner."""
    width, height = size
    corners = np.array([[0.0, 0.0, 1.0], [width, 0.0, 1.0], [0.0, height, 1.0], [width, height, 1.0]])
    moved = corners @ np.asarray(homography, dtype=np.float64).T
    return float(np.abs(moved[:, :2] / moved[:, 2:] - corners[:, :2]).max())


@dataclass(frozen=True, kw_only=True)
class CameraPath:
    rotations: np.ndarray  # (T, 3, 3) world (first frame's camera) -> this frame's camera
    focals: np.ndarray  # (T,) pixels
    reliable: np.ndarray  # (T,) bool: False where the step into the frame was bridged, not measured


def advance(step: FrameStep, rotation: np.ndarray, focal: float,
            centre: tuple[float, float]) -> tuple[np.ndarray, float] | None:  # fmt: skip
    """The camera after ``step`` from (``rotation``, ``focal``), or None when the step cannot be trusted."""
    if not step.reliable:
        return None
    if corner_motion(step.homography, (2.0 * centre[0], 2.0 * centre[1])) < STILL_STEP_PX:
        return rotation, focal  # the camera stood still
    try:
        measured = rotation_step(step.homography, focal, centre)
    except CameraMotionError:
        return None
    return measured.rotation @ rotation, measured.focal


def chain(steps: Sequence[FrameStep], focal: float, centre: tuple[float, float]) -> CameraPath:
    """``steps[t]`` goes from frame t to t + 1; ``focal`` is the first frame's focal length."""
    count = len(steps) + 1
    rotations, focals = np.tile(np.eye(3), (count, 1, 1)), np.full(count, float(focal))
    reliable = np.ones(count, dtype=bool)
    for index, step in enumerate(steps, start=1):
        moved = advance(step, rotations[index - 1], focals[index - 1], centre)
        reliable[index] = moved is not None
        rotations[index], focals[index] = moved if moved is not None else (rotations[index - 1], focals[index - 1])
    return bridged(CameraPath(rotations=rotations, focals=focals, reliable=reliable))


def bridged(path: CameraPath) -> CameraPath:
    """Unreliable frames between reliable ones: rotation slerped, focal interpolated in log."""
    good = np.flatnonzero(path.reliable)
    if len(good) < 2 or good.size == len(path.reliable):
        return path
    frames = np.arange(len(path.reliable))
    inside = (frames > good[0]) & (frames < good[-1]) & ~path.reliable
    rotations, focals = path.rotations.copy(), path.focals.copy()
    if inside.any():
        slerp = Slerp(good, Rotation.from_matrix(path.rotations[good]))
        rotations[inside] = slerp(frames[inside]).as_matrix()
        focals[inside] = np.exp(np.interp(frames[inside], good, np.log(path.focals[good])))
    return CameraPath(rotations=rotations, focals=focals, reliable=path.reliable)
