"""Foot locking: while a foot is in contact it stays put, enforced on the leg chain by two-bone IK.

For every contact (foot_contact > 0.5 over consecutive frames) the ankle gets one anchor, the mean of
its positions over the contact, and the foot one world orientation, the mean of its orientations. Each
frame the ankle is pulled towards the anchor with a weight that is 1 during the contact and eases in and
out over ``blend`` frames around it (``core.legs``, the schedule the retargeter pins feet with), and the
foot is turned towards its held orientation with the same weight; the hip and knee rotations are then
solved analytically (two-bone IK, the knee kept in its own bending plane). Holding the turn too is what
keeps the toes still: with the ankle pinned alone, the estimate's frame-to-frame foot wobble moved the
toes ~18 cm/s on the street clip. Nothing else of the body moves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crowdmocap_addon.core.body.skeleton import forward_kinematics, full_pose
from crowdmocap_addon.core.geometry import axis_angle_to_matrix, matrix_to_axis_angle
from crowdmocap_addon.core.joints import SMPL_LEGS
from crowdmocap_addon.core.legs import contact_segments, leg_swings, pin_schedule, two_bone_ik

from .floor import CAMERA_UP

BLEND_FRAMES = 3
SMPL_FORWARD = np.array([0.0, 0.0, 1.0])  # SMPL's rest body faces +z


@dataclass(frozen=True)
class LockedMotion:
    body_pose: np.ndarray  # (T, 23, 3)
    skate_before: float  # mean horizontal ankle speed during contacts, m/s
    skate_after: float


def horizontal_skate(ankle: np.ndarray, contact: np.ndarray, fps: float, up: np.ndarray) -> float:
    """Mean speed (m/s) of the ankle along the floor over the frames in contact."""
    velocity = np.gradient(ankle, axis=0) * fps
    velocity = velocity - (velocity @ up)[:, None] * up
    speed = np.linalg.norm(velocity, axis=1)
    mask = contact > 0.5
    return float(speed[mask].mean()) if mask.any() else 0.0


def mean_rotation(rotations: np.ndarray) -> np.ndarray:
    """(N, 3, 3) -> the rotation nearest their element-wise mean (the chordal L2 mean)."""
    u, _, vt = np.linalg.svd(rotations.sum(axis=0))
    flip = np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt))])
    return u @ flip @ vt


def _held_turns(turns: np.ndarray, contact: np.ndarray, weights: np.ndarray, blend: int) -> np.ndarray:
    """(T, 3, 3) world orientations of a foot turned towards each contact's mean orientation, by ``weights``.

    A frame in the blend of two contacts follows the nearer one (the one whose pin weighs more there).
    """
    held = turns.copy()
    strongest = np.zeros(len(turns))
    index = np.arange(len(turns))
    for first, last in contact_segments(contact):
        anchor = mean_rotation(turns[first : last + 1])
        reach = (index >= first - blend) & (index <= last + blend)
        distance = np.maximum(first - index, index - last).clip(min=0)
        closeness = np.where(reach, 1.0 / (1.0 + distance), 0.0)
        frames = np.flatnonzero(closeness > strongest)
        strongest[frames] = closeness[frames]
        towards = matrix_to_axis_angle(np.swapaxes(turns[frames], -1, -2) @ anchor)  # (n, 3) from each to the anchor
        held[frames] = turns[frames] @ axis_angle_to_matrix(towards * weights[frames, None])
    return held


def lock_feet(
    rest_joints: np.ndarray,
    global_orient: np.ndarray,
    body_pose: np.ndarray,
    transl: np.ndarray,
    foot_contact: np.ndarray,
    *,
    fps: float,
    up: np.ndarray = CAMERA_UP,
    blend: int = BLEND_FRAMES,
) -> LockedMotion:
    """Pin each foot during its contacts by re-solving hip and knee rotations; returns the new body pose."""
    posed = forward_kinematics(rest_joints, global_orient, body_pose, transl)
    local = axis_angle_to_matrix(full_pose(global_orient, body_pose))  # (T, 24, 3, 3)
    before, after = [], []
    new_local = local.copy()
    for side, leg in enumerate(SMPL_LEGS):
        contact = foot_contact[:, side]
        before.append(horizontal_skate(posed.joints[:, leg.ankle], contact, fps, up))
        schedule = pin_schedule(posed.joints[:, leg.ankle], contact, blend=blend, anchor="mean")
        moved = np.flatnonzero(schedule.weights > 0)
        if not moved.size:
            continue
        joints, world = posed.joints[moved], posed.rotations[moved]
        hip, knee, ankle = joints[:, leg.hip], joints[:, leg.knee], joints[:, leg.ankle]
        forward = world[:, 0] @ SMPL_FORWARD  # where the leg is straight, the knee bends the way the body faces
        new_knee, new_ankle = two_bone_ik(hip, knee, ankle, schedule.targets[moved], forward)
        thigh, calf = leg_swings(hip, knee, ankle, new_knee, new_ankle)
        hip_world, knee_world = thigh @ world[:, leg.hip], calf @ world[:, leg.knee]
        new_local[moved, leg.hip] = np.swapaxes(world[:, 0], -1, -2) @ hip_world  # hips hang from the pelvis
        new_local[moved, leg.knee] = np.swapaxes(hip_world, -1, -2) @ knee_world
        foot_world = _held_turns(posed.rotations[:, leg.ankle], contact, schedule.weights, blend)[moved]
        new_local[moved, leg.ankle] = np.swapaxes(knee_world, -1, -2) @ foot_world
    pose = matrix_to_axis_angle(new_local)
    locked = forward_kinematics(rest_joints, pose[:, 0], pose[:, 1:], transl).joints
    for side, leg in enumerate(SMPL_LEGS):
        after.append(horizontal_skate(locked[:, leg.ankle], foot_contact[:, side], fps, up))
    return LockedMotion(body_pose=pose[:, 1:], skate_before=float(np.mean(before)), skate_after=float(np.mean(after)))
