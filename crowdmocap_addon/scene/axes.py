"""Blender's axes: the camera object's local frame and SMPL's Y-up rest frame inside the Z-up world.

The world itself comes from ``core.world`` (the camera -> Z-up transform every consumer shares); this
module adds only what is Blender's: how a camera object and an armature object sit in that world.
"""

from __future__ import annotations

import numpy as np

from ..core.world import CAMERA_TO_Z_UP, WorldTransform

OPENCV_TO_BLENDER_WORLD = CAMERA_TO_Z_UP  # Blender's world is Z up
# SMPL's rest frame (Y up, facing +z) -> Blender (Z up, facing -Y): the armature object's rotation.
SMPL_TO_BLENDER = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
# OpenCV camera axes -> a Blender camera's local axes (x right, y up, looking down -z).
OPENCV_TO_BLENDER_CAMERA = np.diag([1.0, -1.0, -1.0])


def camera_matrix_world(transform: WorldTransform) -> np.ndarray:
    """(4, 4) world matrix of the Blender camera object that sees what the result's camera saw."""
    out = np.eye(4)
    out[:3, :3] = transform.rotation @ OPENCV_TO_BLENDER_CAMERA
    out[:3, 3] = transform.offset  # the camera centre is the camera frame's origin
    return out


def armature_frame(transform: WorldTransform) -> WorldTransform:
    """Camera frame -> armature space, for an armature object rotated by ``SMPL_TO_BLENDER`` at the origin.

    Armature space is SMPL's rest frame (Y up), so the root's motion is the world motion seen through the
    inverse of the object's rotation.
    """
    inverse = SMPL_TO_BLENDER.T
    return WorldTransform(rotation=inverse @ transform.rotation, offset=inverse @ transform.offset)
