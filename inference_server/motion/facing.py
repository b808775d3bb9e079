"""Front/back flips: a walker whose body faces against their own walk is mirrored back.

A 2D pose estimator tells a person's front from their back by appearance, and for a small or just
unoccluded person it can get it wrong: it then labels the left limbs as the right ones, and the 3D
estimate is the person's mirror image, facing the camera when they walk away from it. The image alone
cannot tell the two apart (both project onto the same keypoints); the walk can, because people walk
forwards. Where a person moves faster than a stroll and faces against their direction of travel, those
frames are mirrored: reflected across the plane through the pelvis perpendicular to the camera ray (which
keeps the projection), with left and right swapped. Frames in between that were filled in by the tracker
are then re-interpolated from their corrected neighbours.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from crowdmocap_addon.core.geometry import axis_angle_to_matrix, interpolate_rotations, matrix_to_axis_angle
from crowdmocap_addon.core.joints import COCO_MIRROR, SMPL_MIRROR
from crowdmocap_addon.core.legs import true_runs

from ..estimators.person_motion import PersonMotion
from .smoothing import MIN_WEIGHT, gaussian_filter_weighted

MIN_SPEED_MPS = 0.5  # slower than this, the walk says nothing about where the body faces
OPPOSED_COS = -0.5  # facing more than 120 degrees away from the walk is a flip
VELOCITY_SIGMA_S = 0.25  # the walk's direction from translation smoothed this much (depth is noisy)
MIRROR_X = np.diag([-1.0, 1.0, 1.0])  # SMPL's rest skeleton is symmetric about its x = 0 plane


def travel_directions(transl: np.ndarray, confidence: np.ndarray, up: np.ndarray, fps: float) -> np.ndarray:
    """(T, 3) root translation -> (T, 3) velocity along the floor (m/s), from a strongly smoothed path."""
    weights = np.maximum(np.asarray(confidence, dtype=np.float64), MIN_WEIGHT)
    path = gaussian_filter_weighted(np.asarray(transl, dtype=np.float64), weights, VELOCITY_SIGMA_S * fps)
    velocity = np.gradient(path, axis=0) * fps if len(path) > 1 else np.zeros_like(path)
    return velocity - np.outer(velocity @ up, up)


def facing_directions(global_orient: np.ndarray, up: np.ndarray) -> np.ndarray:
    """(T, 3) axis-angle -> (T, 3) unit direction the body faces along the floor (SMPL's rest faces +z)."""
    forward = axis_angle_to_matrix(global_orient)[:, :, 2]
    forward = forward - np.outer(forward @ up, up)
    return forward / np.maximum(np.linalg.norm(forward, axis=1, keepdims=True), 1e-9)


def flipped_frames(
    global_orient: np.ndarray, transl: np.ndarray, confidence: np.ndarray, up: np.ndarray, fps: float
) -> np.ndarray:
    """(T,) bool: observed frames whose body faces against the walk.

    A frame is flipped when the person moves faster than ``MIN_SPEED_MPS`` and faces more than 120
    degrees away from where they go. A flip persists (a pose estimator keeps its mistake until it
    re-detects the person), so each flipped stretch grows over the observed frames beside it that do not
    contradict it (slow, or not clearly facing the walk), up to a frame facing the walk or a frame filled
    in by the tracker (confidence 0; those are re-interpolated instead).
    """
    up = np.asarray(up, dtype=np.float64)
    velocity = travel_directions(transl, confidence, up, fps)
    speed = np.linalg.norm(velocity, axis=1)
    cosine = (facing_directions(global_orient, up) * velocity).sum(axis=1) / np.maximum(speed, 1e-9)
    observed = np.asarray(confidence) > 0
    moving = observed & (speed > MIN_SPEED_MPS)
    flipped = moving & (cosine < OPPOSED_COS)
    open_to_flip = observed & ~(moving & (cosine > -OPPOSED_COS))
    for step in (1, -1):  # grow forwards, then backwards
        order = range(len(flipped)) if step == 1 else range(len(flipped) - 1, -1, -1)
        for t in order:
            if not flipped[t] and open_to_flip[t] and 0 <= t - step < len(flipped) and flipped[t - step]:
                flipped[t] = True
    return flipped


def mirror_pose(
    global_orient: np.ndarray, body_pose: np.ndarray, transl: np.ndarray, rest_joints: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The mirror image of (T,) poses across the plane through each pelvis perpendicular to its camera ray.

    With M that reflection, joint i of the mirrored body sits where joint mirror(i) was, reflected: its
    local rotations are mirror(i)'s conjugated by SMPL's x-reflection, its global orientation M R M_x, and
    its pelvis (and so the translation) stays put. Mirroring twice gives the pose back. Exact for a
    left-right symmetric rest skeleton (the stand-in's; SMPL's to within millimetres).
    """
    rotations = axis_angle_to_matrix(np.concatenate([global_orient[:, None], body_pose], axis=1))  # (T, 24, 3, 3)
    pelvis = rest_joints[0] + transl  # the root turns about its own rest joint
    ray = pelvis / np.linalg.norm(pelvis, axis=1, keepdims=True)
    reflect = np.eye(3) - 2.0 * np.einsum("ta,tb->tab", ray, ray)  # (T, 3, 3)
    local = MIRROR_X @ rotations[:, SMPL_MIRROR[1:]] @ MIRROR_X
    root = reflect @ rotations[:, 0] @ MIRROR_X
    return matrix_to_axis_angle(root), matrix_to_axis_angle(local), transl.copy()


def _refill_runs_beside(flipped: np.ndarray, filled: np.ndarray) -> np.ndarray:
    """(T,) bool: the runs of filled-in frames that touch a flipped frame (their guesses mix both facings)."""
    out = np.zeros_like(filled)
    for first, last in true_runs(filled):
        if flipped[max(first - 1, 0)] or flipped[min(last + 1, len(flipped) - 1)]:
            out[first : last + 1] = True
    return out


def unflip(person: PersonMotion, flipped: np.ndarray) -> PersonMotion:
    """The person with ``flipped`` frames mirrored back (keypoint labels too) and the gaps beside them refilled."""
    orient, pose, transl = person.global_orient.copy(), person.body_pose.copy(), person.transl.copy()
    orient[flipped], pose[flipped], transl[flipped] = mirror_pose(orient[flipped], pose[flipped], transl[flipped],
                                                                  person.rest_joints)  # fmt: skip
    refill = _refill_runs_beside(flipped, person.confidence <= 0)
    if refill.any() and (~refill).any():
        rotations = interpolate_rotations(np.concatenate([orient[:, None], pose], axis=1), ~refill)
        orient, pose = rotations[:, 0], rotations[:, 1:]
    keypoints = person.track.keypoints.copy()
    keypoints[flipped] = keypoints[flipped][:, COCO_MIRROR]
    return replace(person, track=replace(person.track, keypoints=keypoints), global_orient=orient, body_pose=pose,
                   transl=transl)  # fmt: skip
