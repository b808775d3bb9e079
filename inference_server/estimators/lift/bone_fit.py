"""Fit SMPL shape (betas) to the bone lengths a person shows, so the lifted skeleton has their proportions.

Used by the weights-free estimator when the user's SMPL model is available: the rest skeleton then comes
from the model for these betas. Limb and torso lengths are measured on BlazePose's metric landmarks
(median over the clip); widths are left out because BlazePose's hip landmarks sit outside SMPL's hip
joints. A small penalty keeps betas near the mean shape where the lengths do not decide them.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares

from crowdmocap_addon.core.body.smpl_file import SmplModelData

from .landmarks import (
    L_ANKLE,
    L_ELBOW,
    L_HIP,
    L_KNEE,
    L_SHOULDER,
    L_WRIST,
    R_ANKLE,
    R_ELBOW,
    R_HIP,
    R_KNEE,
    R_SHOULDER,
    R_WRIST,
)

# (SMPL joint a, SMPL joint b) and the matching (landmark a, landmark b) for each measured bone
BONES = (
    ((16, 18), (L_SHOULDER, L_ELBOW)), ((17, 19), (R_SHOULDER, R_ELBOW)),
    ((18, 20), (L_ELBOW, L_WRIST)), ((19, 21), (R_ELBOW, R_WRIST)),
    ((1, 4), (L_HIP, L_KNEE)), ((2, 5), (R_HIP, R_KNEE)),
    ((4, 7), (L_KNEE, L_ANKLE)), ((5, 8), (R_KNEE, R_ANKLE)),
)  # fmt: skip
PRIOR_WEIGHT = 0.001


def bone_lengths_from_landmarks(landmarks: np.ndarray) -> np.ndarray:
    """(T, 33, 3) world landmarks -> (len(BONES) + 1,) median lengths: the limbs, then hips-to-shoulders."""
    limbs = [np.linalg.norm(landmarks[:, b] - landmarks[:, a], axis=-1) for _, (a, b) in BONES]
    hips = (landmarks[:, L_HIP] + landmarks[:, R_HIP]) / 2
    shoulders = (landmarks[:, L_SHOULDER] + landmarks[:, R_SHOULDER]) / 2
    return np.median(np.stack([*limbs, np.linalg.norm(shoulders - hips, axis=-1)], axis=1), axis=0)


def skeleton_lengths(rest_joints: np.ndarray) -> np.ndarray:
    """(24, 3) rest joints -> the same lengths measured on the SMPL skeleton."""
    limbs = [np.linalg.norm(rest_joints[b] - rest_joints[a]) for (a, b), _ in BONES]
    torso = np.linalg.norm((rest_joints[16] + rest_joints[17]) / 2 - (rest_joints[1] + rest_joints[2]) / 2)
    return np.array([*limbs, torso])


def fit_betas(model: SmplModelData, lengths: np.ndarray, num_betas: int = 10) -> np.ndarray:
    """Betas whose rest skeleton best matches ``lengths`` (relative error), lightly pulled to the mean."""
    count = min(num_betas, model.num_betas)

    def residual(betas: np.ndarray) -> np.ndarray:
        return np.concatenate([skeleton_lengths(model.rest_joints(betas)) / lengths - 1, PRIOR_WEIGHT * betas])

    fitted = least_squares(residual, np.zeros(count), method="lm").x
    return np.concatenate([fitted, np.zeros(num_betas - count)])
