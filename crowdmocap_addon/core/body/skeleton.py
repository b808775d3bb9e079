"""The SMPL 24-joint tree and its forward kinematics.

This is the exact meaning of a CrowdMocap result: joints = FK(rest_joints, global_orient, body_pose)
+ transl, with each joint rotating its subtree about its own rest location. It is the kinematic half
of smplx's ``lbs`` (same order of operations), written in NumPy so Blender can run it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..geometry import axis_angle_to_matrix, matrix_to_axis_angle
from ..joints import NUM_JOINTS, PARENTS


@dataclass(frozen=True)
class PosedSkeleton:
    """Output of forward kinematics for T frames."""

    joints: np.ndarray  # (T, 24, 3) joint locations, translation included
    rotations: np.ndarray  # (T, 24, 3, 3) world (camera-frame) rotation of each joint


def full_pose(global_orient: np.ndarray, body_pose: np.ndarray) -> np.ndarray:
    """(T, 3) and (T, 23, 3) axis-angle -> (T, 24, 3), root first (SMPL's 72-vector, reshaped)."""
    return np.concatenate([np.asarray(global_orient)[:, None, :], np.asarray(body_pose)], axis=1)


def forward_kinematics(
    rest_joints: np.ndarray,
    global_orient: np.ndarray,
    body_pose: np.ndarray,
    transl: np.ndarray,
) -> PosedSkeleton:
    """Pose the SMPL tree.

    rest_joints (24, 3) metres; global_orient (T, 3) and body_pose (T, 23, 3) axis-angle; transl (T, 3).
    Joint i ends at G_i · J_i, where G_i chains the parents' rotations about their rest joints, and the
    whole body is then shifted by transl (so transl is *not* the pelvis position unless J_0 = 0).
    """
    rest = np.asarray(rest_joints, dtype=np.float64)
    local = axis_angle_to_matrix(full_pose(global_orient, body_pose))  # (T, 24, 3, 3)
    frames = local.shape[0]
    rotations = np.empty_like(local)
    joints = np.empty((frames, NUM_JOINTS, 3))
    rotations[:, 0] = local[:, 0]
    joints[:, 0] = rest[0]
    for child in range(1, NUM_JOINTS):
        parent = PARENTS[child]
        rotations[:, child] = rotations[:, parent] @ local[:, child]
        joints[:, child] = joints[:, parent] + rotations[:, parent] @ (rest[child] - rest[parent])
    return PosedSkeleton(joints=joints + np.asarray(transl, dtype=np.float64)[:, None, :], rotations=rotations)


def change_frame(
    rest_joints: np.ndarray,
    global_orient: np.ndarray,
    transl: np.ndarray,
    rotation: np.ndarray,
    offset: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Re-express root parameters in another frame X' = rotation @ X + offset.

    rest_joints (24, 3); global_orient (T, 3); transl (T, 3); rotation (3, 3), or (T, 3, 3) and offset
    (T, 3) for a frame that changes every frame (a moving camera's). Returns (global_orient', transl')
    (T, 3) such that FK with them gives the moved joints. The root rotates about the rest pelvis J_0, not
    the origin, hence transl' = R(J_0 + t) + offset - J_0.
    """
    rot = np.asarray(rotation, dtype=np.float64)
    pelvis = np.asarray(rest_joints, dtype=np.float64)[0]
    new_orient = matrix_to_axis_angle(rot @ axis_angle_to_matrix(global_orient))
    moved = np.einsum("...ij,...j->...i", rot, np.asarray(transl, dtype=np.float64) + pelvis)
    return new_orient, moved + np.asarray(offset) - pelvis
