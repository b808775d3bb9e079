"""Per-foot contact probability from height above the floor and foot speed, with hysteresis.

A foot is on the ground when it is low and still. Each cue becomes a soft probability (a logistic ramp),
their product is the contact probability, and a two-threshold hysteresis (enter at 0.6, leave at 0.4)
removes flicker: the output stays above 0.5 for the whole of each contact and below it elsewhere.

On real footage the 3D foot speed is dominated by monocular depth jitter, so when the ankles' 2D
keypoints are given the speed is measured in the image instead (pixels per second scaled to metres at
the person's depth), which is far steadier.
"""

from __future__ import annotations

import numpy as np

from crowdmocap_addon.core.joints import SMPL_FEET
from crowdmocap_addon.core.result.schema import GroundPlane

from .floor import CAMERA_UP

HEIGHT_AT_HALF_M = 0.08  # the height (lowest foot joint above the floor) at which the height cue is 0.5
HEIGHT_RAMP_M = 0.02
SPEED_AT_HALF_MPS = 0.35  # a foot moving at 0.35 m/s is half "planted"
SPEED_RAMP_MPS = 0.08
ENTER, LEAVE = 0.6, 0.4


def _ramp(value: np.ndarray, half: float, width: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp((value - half) / width))


def hysteresis(probability: np.ndarray, enter: float = ENTER, leave: float = LEAVE) -> np.ndarray:
    """(T,) probabilities -> (T,) bool states that switch on above ``enter`` and off below ``leave``."""
    state, out = False, np.zeros(len(probability), dtype=bool)
    for t, p in enumerate(probability):
        state = p >= enter if not state else p > leave
        out[t] = state
    return out


def _image_speed(pixels: np.ndarray, confidence: np.ndarray, depth: np.ndarray, fps: float,
                 focal_px: float) -> np.ndarray:  # fmt: skip
    """(T, 2) ankle pixels -> (T,) speed in m/s at the person's depth (lightly smoothed, zero-phase)."""
    from .smoothing import gaussian_filter_weighted

    steady = gaussian_filter_weighted(pixels, np.maximum(confidence, 1e-3), sigma=1.0)
    return np.linalg.norm(np.gradient(steady, axis=0), axis=1) * fps * depth / focal_px


def foot_contact(
    joints: np.ndarray,
    fps: float,
    ground: GroundPlane | None = None,
    *,
    ankle_keypoints: np.ndarray | None = None,
    focal_px: float | None = None,
) -> np.ndarray:
    """(T, 24, 3) camera-frame SMPL joints -> (T, 2) left/right contact probability in [0, 1].

    Without a floor the height cue uses the foot's own lowest level over the clip along camera-up.
    With ``ankle_keypoints`` (T, 2, 3) (COCO left/right ankle x, y, confidence) and ``focal_px`` the speed
    cue comes from the image.
    """
    out = np.zeros((len(joints), 2))
    for side, ids in enumerate(SMPL_FEET):
        foot = joints[:, list(ids)]  # (T, 2, 3)
        if ground is not None:
            height = (foot @ np.asarray(ground.normal) + ground.offset).min(axis=1)
        else:
            up = (foot @ CAMERA_UP).min(axis=1)
            height = up - np.percentile(up, 5)
        velocity = np.gradient(foot.mean(axis=1), axis=0) * fps if len(foot) > 1 else np.zeros((len(foot), 3))
        if ground is not None:  # only motion along the floor counts as sliding
            normal = np.asarray(ground.normal)
            velocity = velocity - (velocity @ normal)[:, None] * normal
        speed = np.linalg.norm(velocity, axis=1)
        if ankle_keypoints is not None and focal_px is not None:
            pixels = ankle_keypoints[:, side]
            speed = _image_speed(pixels[:, :2], pixels[:, 2], joints[:, ids[0], 2], fps, focal_px)
        probability = _ramp(height, HEIGHT_AT_HALF_M, HEIGHT_RAMP_M) * _ramp(speed, SPEED_AT_HALF_MPS, SPEED_RAMP_MPS)
        state = hysteresis(probability)
        out[:, side] = np.where(state, np.maximum(probability, 0.5 + 1e-6), np.minimum(probability, 0.5))
    return out
