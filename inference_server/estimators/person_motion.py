"""What every estimator hands to the motion clean-up: one track's SMPL motion in the full-image camera."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..tracking.tracker import Track


@dataclass(kw_only=True, frozen=True)
class PersonMotion:
    """One track's 3D motion in the full-image camera, before clean-up."""

    track: Track
    global_orient: np.ndarray  # (T, 3)
    body_pose: np.ndarray  # (T, 23, 3)
    transl: np.ndarray  # (T, 3)
    betas: np.ndarray  # (10,)
    rest_joints: np.ndarray  # (24, 3)
    confidence: np.ndarray  # (T,) 0 where filled in
