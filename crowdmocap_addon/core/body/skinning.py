"""SMPL linear blend skinning in NumPy: the mesh half of the result format's meaning.

Same operations as smplx's ``lbs``: shape blend shapes, joint regression, pose blend shapes from
(R - I) of the 23 body joints, then each vertex moved by its weighted joint transforms. Blender's
armature deformation reproduces everything here except the pose blend shapes.
"""

from __future__ import annotations

import numpy as np

from ..geometry import axis_angle_to_matrix
from .skeleton import forward_kinematics, full_pose
from .smpl_file import SmplModelData


def pose_blend_offsets(model: SmplModelData, global_orient: np.ndarray, body_pose: np.ndarray) -> np.ndarray:
    """(T, 3), (T, 23, 3) -> (T, V, 3) pose-corrective offsets added to the rest shape before skinning."""
    rot = axis_angle_to_matrix(full_pose(global_orient, body_pose))[:, 1:]  # (T, 23, 3, 3)
    feature = (rot - np.eye(3)).reshape(rot.shape[0], -1)  # (T, 207), row-major per joint as in smplx
    return np.einsum("vck,tk->tvc", model.posedirs, feature)


def skin_vertices(
    model: SmplModelData,
    betas: np.ndarray,
    global_orient: np.ndarray,
    body_pose: np.ndarray,
    transl: np.ndarray,
    *,
    pose_blend_shapes: bool = True,
) -> np.ndarray:
    """Posed SMPL vertices (T, V, 3) in the frame of the parameters (the camera frame in a result)."""
    shaped = model.shaped_vertices(betas)  # (V, 3)
    rest_joints = model.j_regressor @ shaped  # (24, 3)
    frames = np.asarray(global_orient).shape[0]
    posed_rest = np.broadcast_to(shaped, (frames, *shaped.shape))
    if pose_blend_shapes:
        posed_rest = posed_rest + pose_blend_offsets(model, global_orient, body_pose)
    zero = np.zeros((frames, 3))
    skeleton = forward_kinematics(rest_joints, global_orient, body_pose, zero)
    # Joint transform A_j maps a rest point p to R_j p + (t_j - R_j J_j).
    offsets = skeleton.joints - np.einsum("tjab,jb->tja", skeleton.rotations, rest_joints)  # (T, 24, 3)
    blended_rot = np.einsum("vj,tjab->tvab", model.weights, skeleton.rotations)  # (T, V, 3, 3)
    blended_off = np.einsum("vj,tja->tva", model.weights, offsets)  # (T, V, 3)
    verts = np.einsum("tvab,tvb->tva", blended_rot, posed_rest) + blended_off
    return verts + np.asarray(transl, dtype=np.float64)[:, None, :]
