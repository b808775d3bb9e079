"""Feet on the floor: correct each person's position so their planted ankle stands where the image shows it.

A single camera sees a person's depth only through their apparent size, which an occluder or a
half-seen body easily gets wrong by 10-20 %; on a camera looking down at a street, a person placed too
near then hovers a metre above the floor. Once the floor is known, the planted foot gives a second,
sharper cue: its ankle keypoint lies on a ray from the camera, and the ankle stands a known height above
the floor (the pose says how far above the lowest foot joint it is), which fixes one point on that ray.
The person is moved so their ankle is at that point: the ankle lands on its keypoint and their feet on
the floor.

The planted side is the ankle the pose holds lowest. The correction is a running median over time, so
keypoint jitter and the hand-over from one planted foot to the other do not shake the body, and frames
without a usable ankle keypoint (hidden, or filled in by the tracker) take it from their neighbours. A
person who really leaves the floor (a jump) is pulled down with it: turn grounding off for jumps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crowdmocap_addon.core.joints import SMPL_ANKLES
from crowdmocap_addon.core.result.schema import GroundPlane, PinholeCamera

FOOT_JOINTS = (7, 8, 10, 11)  # SMPL ankles and feet (toe bases)
MIN_KEYPOINT_CONFIDENCE = 0.3
MEDIAN_RADIUS_S = 0.15  # the correction is a running median over this much either side, seconds
MIN_RAY_DROP = 0.02  # an ankle ray must fall at least this (metres per metre of depth) to cut the floor usefully
MAX_DEPTH_RATIO = 1.5  # an ankle further than this from its estimated depth is moved only this far


@dataclass(frozen=True)
class Grounded:
    transl: np.ndarray  # (T, 3) corrected root translation, camera frame
    shift: np.ndarray  # (T, 3) what was added to the translation
    grounded: np.ndarray  # (T,) bool: frames with an ankle keypoint to stand on (the others follow them)


def ground_person(
    joints: np.ndarray,
    transl: np.ndarray,
    ankles_2d: np.ndarray,
    confidence: np.ndarray,
    *,
    camera: PinholeCamera,
    ground: GroundPlane,
    fps: float,
) -> Grounded:
    """Move a person so the planted ankle stands on the floor on its keypoint's ray.

    joints (T, 24, 3) posed SMPL joints and transl (T, 3) in the camera frame (metres); ankles_2d (T, 2, 3)
    COCO left/right ankle keypoints [x, y, confidence] in pixels; confidence (T,) per frame (0 = filled in).
    """
    normal, offset = np.asarray(ground.normal, dtype=np.float64), float(ground.offset)
    count = len(joints)
    if offset <= 0:  # the camera is not above this floor: its rays cannot come down onto it
        return Grounded(transl.copy(), np.zeros_like(transl), np.zeros(count, dtype=bool))
    heights = joints @ normal + offset  # (T, 24) metres above the floor
    lowest = heights[:, list(FOOT_JOINTS)].min(axis=1)
    ankle_heights = heights[:, list(SMPL_ANKLES)]  # (T, 2)
    seen = ankles_2d[..., 2] >= MIN_KEYPOINT_CONFIDENCE
    side = np.where(seen, ankle_heights, np.inf).argmin(axis=1)  # the planted (lowest) ankle that was seen
    frames = np.arange(count)
    usable = seen[frames, side]
    ray = camera.rays(ankles_2d)[frames, side]  # (T, 3)
    ankle = joints[frames, np.asarray(SMPL_ANKLES)[side]]  # (T, 3)
    drop = ray @ normal  # per metre of depth; negative when the ray comes down towards the floor
    usable &= drop < -MIN_RAY_DROP * np.linalg.norm(ray, axis=1)
    # On the ray at depth z the ankle's height is d + z*drop; it must be its pose height above the lowest foot.
    depth = (ankle_heights[frames, side] - lowest - offset) / np.where(usable, drop, -1.0)
    usable &= depth > 0
    depth = np.clip(depth, ankle[:, 2] / MAX_DEPTH_RATIO, ankle[:, 2] * MAX_DEPTH_RATIO)
    usable &= np.asarray(confidence) > 0  # filled-in frames have guessed keypoints: they follow their neighbours
    if not usable.any():
        return Grounded(transl.copy(), np.zeros_like(transl), usable)
    shift = _median_then_fill(depth[:, None] * ray - ankle, usable, max(1, round(MEDIAN_RADIUS_S * fps)))
    return Grounded(transl + shift, shift, usable)


def _median_then_fill(values: np.ndarray, usable: np.ndarray, radius: int) -> np.ndarray:
    """(T, 3) per-frame corrections -> a running median over the usable frames, interpolated across the rest.

    A median, not a mean: it removes keypoint jitter and the hand-over between feet, yet follows a depth
    error that starts suddenly (an occluder arriving) without smearing it into the frames around it.
    """
    seen = np.flatnonzero(usable)
    last = len(seen) - 1
    # Windows shrink symmetrically at the ends: a one-sided median would lag a trend there.
    windows = [seen[k - m : k + m + 1] for k in range(len(seen)) for m in [min(radius, k, last - k)]]
    medians = np.stack([np.median(values[window], axis=0) for window in windows])
    steps = np.arange(len(values))
    return np.stack([np.interp(steps, seen, medians[:, axis]) for axis in range(values.shape[1])], axis=1)
