"""Foot locking: while a foot is in contact it stays put, enforced on the leg chain by two-bone IK.

For every contact (foot_contact > 0.5 over consecutive frames) the ankle gets one anchor, the mean of
its positions over the contact. Each frame the ankle is pulled towards the anchor with a weight that is 1
during the contact and eases in and out over ``blend`` frames around it; the hip and knee rotations are
then solved analytically (two-bone IK, the knee kept in its own bending plane) and the foot keeps its
world orientation. Nothing else of the body moves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crowdmocap_addon.body.rotations import axis_angle_to_matrix, matrix_to_axis_angle, swing_rotation
from crowdmocap_addon.body.skeleton import forward_kinematics, full_pose

from .ground import CAMERA_UP

LEGS = ((1, 4, 7), (2, 5, 8))  # (hip, knee, ankle) per side, left first
BLEND_FRAMES = 3


@dataclass(frozen=True)
class LockedMotion:
    body_pose: np.ndarray  # (T, 23, 3)
    skate_before: float  # mean horizontal ankle speed during contacts, m/s
    skate_after: float


def contact_segments(contact: np.ndarray) -> list[tuple[int, int]]:
    """(T,) probabilities -> [(first, last)] inclusive runs where contact > 0.5."""
    on = np.concatenate([[False], contact > 0.5, [False]])
    edges = np.flatnonzero(np.diff(on.astype(int)))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _weights_and_anchors(ankle: np.ndarray, contact: np.ndarray, blend: int) -> tuple[np.ndarray, np.ndarray]:
    frames = len(ankle)
    weight, anchor = np.zeros(frames), ankle.copy()
    for first, last in contact_segments(contact):
        point = ankle[first : last + 1].mean(axis=0)
        for t in range(max(0, first - blend), min(frames, last + blend + 1)):
            distance = max(first - t, t - last, 0)
            w = 1.0 if distance == 0 else 0.5 * (1 + np.cos(np.pi * distance / (blend + 1)))
            if w > weight[t]:
                weight[t], anchor[t] = w, point
    return weight, anchor


def _two_bone(hip: np.ndarray, knee: np.ndarray, ankle: np.ndarray, target: np.ndarray) -> np.ndarray:
    """New knee position reaching ``target`` with the same bone lengths, in the current bending plane."""
    upper, lower = np.linalg.norm(knee - hip), np.linalg.norm(ankle - knee)
    to_target = target - hip
    distance = np.clip(np.linalg.norm(to_target), abs(upper - lower) + 1e-6, upper + lower - 1e-6)
    u = to_target / np.linalg.norm(to_target)
    pole = (knee - hip) - ((knee - hip) @ u) * u
    v = pole / np.linalg.norm(pole) if np.linalg.norm(pole) > 1e-9 else np.cross(u, [1.0, 0.0, 0.0])
    cos_a = np.clip((upper**2 + distance**2 - lower**2) / (2 * upper * distance), -1.0, 1.0)
    return hip + upper * (cos_a * u + np.sqrt(1 - cos_a**2) * v)


def horizontal_skate(ankle: np.ndarray, contact: np.ndarray, fps: float, up: np.ndarray) -> float:
    """Mean speed (m/s) of the ankle along the floor over the frames in contact."""
    velocity = np.gradient(ankle, axis=0) * fps
    velocity = velocity - (velocity @ up)[:, None] * up
    speed = np.linalg.norm(velocity, axis=1)
    mask = contact > 0.5
    return float(speed[mask].mean()) if mask.any() else 0.0


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
    for side, (hip, knee, ankle) in enumerate(LEGS):
        contact = foot_contact[:, side]
        weight, anchor = _weights_and_anchors(posed.joints[:, ankle], contact, blend)
        before.append(horizontal_skate(posed.joints[:, ankle], contact, fps, up))
        for t in np.flatnonzero(weight > 0):
            joints, world = posed.joints[t], posed.rotations[t]
            target = joints[ankle] + weight[t] * (anchor[t] - joints[ankle])
            new_knee = _two_bone(joints[hip], joints[knee], joints[ankle], target)
            r_hip = swing_rotation(joints[knee] - joints[hip], new_knee - joints[hip])
            r_knee = swing_rotation(r_hip @ (joints[ankle] - joints[knee]), target - new_knee)
            hip_world, knee_world = r_hip @ world[hip], r_knee @ r_hip @ world[knee]
            new_local[t, hip] = world[0].T @ hip_world  # hips hang from the pelvis
            new_local[t, knee] = hip_world.T @ knee_world
            new_local[t, ankle] = knee_world.T @ world[ankle]  # the foot keeps its world orientation
    pose = matrix_to_axis_angle(new_local)
    locked = forward_kinematics(rest_joints, pose[:, 0], pose[:, 1:], transl).joints
    for side, (_, _, ankle) in enumerate(LEGS):
        after.append(horizontal_skate(locked[:, ankle], foot_contact[:, side], fps, up))
    return LockedMotion(body_pose=pose[:, 1:], skate_before=float(np.mean(before)), skate_after=float(np.mean(after)))
