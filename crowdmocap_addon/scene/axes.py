"""Axes: the result's OpenCV camera frame, SMPL's Y-up rest frame and Blender's Z-up world.

A result lives in the camera frame (x right, y down, z forward). The scene puts it in a Blender world
(Z up) by one rigid transform ``X_world = rotation @ X_camera + offset``, shared by people and camera so
their relation is kept. Without ground alignment the camera sits at the origin looking along +Y; with a
ground plane the floor becomes Z = 0, its normal +Z, and the camera looks along +Y tilted as filmed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..result.schema import GroundPlane

# Camera frame -> Blender world, no ground: x stays right, forward (+z) becomes +Y, down (+y) becomes -Z.
OPENCV_TO_BLENDER_WORLD = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
# SMPL's rest frame (Y up, facing +z) -> Blender (Z up, facing -Y): the armature object's rotation.
SMPL_TO_BLENDER = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
# OpenCV camera axes -> a Blender camera's local axes (x right, y up, looking down -z).
OPENCV_TO_BLENDER_CAMERA = np.diag([1.0, -1.0, -1.0])
_PARALLEL = 1e-6


@dataclass(frozen=True)
class WorldTransform:
    """The rigid map from the result's camera frame to the Blender world: X' = rotation @ X + offset."""

    rotation: np.ndarray  # (3, 3) proper rotation
    offset: np.ndarray  # (3,) metres

    def apply(self, points: np.ndarray) -> np.ndarray:
        """(..., 3) camera-frame points -> (..., 3) world points."""
        return np.asarray(points, dtype=np.float64) @ self.rotation.T + self.offset

    def matrix(self) -> np.ndarray:
        """(4, 4) homogeneous form."""
        out = np.eye(4)
        out[:3, :3] = self.rotation
        out[:3, 3] = self.offset
        return out


def ground_alignment(ground: GroundPlane) -> WorldTransform:
    """Camera frame -> a world where the floor ``normal · X + offset = 0`` is Z = 0 and its normal is +Z.

    The camera keeps its height above the floor (``offset``) and looks along +Y, tilted as it was: the
    world's Y axis is the camera's forward direction projected onto the floor.
    """
    up = np.asarray(ground.normal, dtype=np.float64)
    up = up / np.linalg.norm(up)
    forward = np.array([0.0, 0.0, 1.0]) - up[2] * up
    if np.linalg.norm(forward) < _PARALLEL:  # camera looking straight down (or up): image-up becomes forward
        forward = np.array([0.0, -1.0, 0.0]) - (-up[1]) * up
    forward = forward / np.linalg.norm(forward)
    right = np.cross(forward, up)
    rotation = np.stack([right, forward, up])  # rows: the world axes written in camera coordinates
    return WorldTransform(rotation=rotation, offset=np.array([0.0, 0.0, float(ground.offset)]))


def world_transform(ground: GroundPlane | None, align_to_ground: bool) -> WorldTransform:
    """The transform the scene uses: ground-aligned when asked and a floor exists, else a plain axis swap."""
    if align_to_ground and ground is not None:
        return ground_alignment(ground)
    return WorldTransform(rotation=OPENCV_TO_BLENDER_WORLD.copy(), offset=np.zeros(3))


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
