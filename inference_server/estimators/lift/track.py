"""Lift a whole 2D track (with BlazePose world landmarks) to SMPL motion in the full-image camera."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crowdmocap_addon.core.body.smpl_file import SmplModelData
from crowdmocap_addon.core.body.standin import STANDIN_REST_JOINTS
from crowdmocap_addon.core.geometry import interpolate_rotations
from crowdmocap_addon.core.joints import SMPL_LIMBS
from crowdmocap_addon.core.result.schema import NUM_BETAS, PinholeCamera

from ...tracking.tracker import Track
from .bone_fit import bone_lengths_from_landmarks, fit_betas
from .solve import solve_frames, solve_translations


class MissingLandmarksError(ValueError):
    """The track's pose backend gave no 3D world landmarks (only BlazePose does)."""


@dataclass(kw_only=True, frozen=True)
class LiftedTrack:
    frames: np.ndarray  # (T,)
    global_orient: np.ndarray  # (T, 3)
    body_pose: np.ndarray  # (T, 23, 3)
    transl: np.ndarray  # (T, 3)
    confidence: np.ndarray  # (T,) 0 where the frame was filled in or could not be placed


MIN_LIMB_CONFIDENCE = 0.3


def fill_unseen_limbs(
    body_pose: np.ndarray, keypoints: np.ndarray, threshold: float = MIN_LIMB_CONFIDENCE
) -> np.ndarray:
    """Replace the rotations of limbs whose keypoints are not confidently seen in a frame.

    BlazePose always returns every landmark, guessing the hidden ones; where the 2D keypoints of a limb
    are weak, its joints' rotations are interpolated (on quaternions) from the nearest frames where the
    limb was seen. A limb never seen keeps what was solved.
    """
    out = body_pose.copy()
    for limb in SMPL_LIMBS:
        seen = keypoints[:, list(limb.keypoints), 2].min(axis=1) > threshold
        rows = [j - 1 for j in limb.joints]
        out[:, rows] = interpolate_rotations(body_pose[:, rows], seen)
    return out


@dataclass(frozen=True)
class RestSkeleton:
    joints: np.ndarray  # (24, 3)
    betas: np.ndarray  # (10,)
    kind: str  # "smpl" or "standin", as the result's body_model.kind


def rest_skeleton(track: Track, model: SmplModelData | None) -> RestSkeleton:
    """The person's rest skeleton: SMPL fitted to their bone lengths when a model is given, else the stand-in."""
    if model is None:
        return RestSkeleton(np.array(STANDIN_REST_JOINTS), np.zeros(NUM_BETAS), "standin")
    if track.world_landmarks is None:
        raise MissingLandmarksError(f"track {track.id} has no 3D world landmarks to measure bone lengths on")
    observed = track.world_landmarks[track.observed] if track.observed.any() else track.world_landmarks
    betas = fit_betas(model, bone_lengths_from_landmarks(observed))
    return RestSkeleton(model.rest_joints(betas), betas, "smpl")


def lift_track(track: Track, rest_joints: np.ndarray, camera: PinholeCamera) -> LiftedTrack:
    """All frames at once: IK from the world landmarks, translation from the 2D keypoints; gaps interpolated."""
    if track.world_landmarks is None:
        raise MissingLandmarksError(f"track {track.id} has no 3D world landmarks; the lift estimator needs BlazePose")
    count = len(track.frames)
    confidence = np.where(track.observed, track.scores, 0.0)
    lifted = solve_frames(rest_joints, track.world_landmarks)
    shift = solve_translations(lifted.joints_rel, track.keypoints, camera)  # NaN rows where it cannot be placed
    # camera-frame pelvis = joints_rel[0] + shift, and FK puts the pelvis at rest_joints[0] + transl
    transl = lifted.joints_rel[:, 0] + shift - rest_joints[0]
    placed = np.isfinite(transl[:, 0])
    if not placed.any():
        raise MissingLandmarksError(f"track {track.id}: no frame has enough confident keypoints to be placed")
    for axis in range(3):
        transl[:, axis] = np.interp(np.arange(count), np.flatnonzero(placed), transl[placed, axis])
    pose = fill_unseen_limbs(lifted.body_pose, track.keypoints)
    return LiftedTrack(
        frames=track.frames,
        global_orient=lifted.global_orient,
        body_pose=pose,
        transl=transl,
        confidence=np.where(placed, confidence, 0.0),
    )
