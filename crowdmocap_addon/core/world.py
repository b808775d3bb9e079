"""The one camera -> Z-up world transform every consumer of a result uses (the Blender scene, AMASS export).

A result lives in the camera frame (OpenCV: x right, y down, z forward). A Z-up world is reached by one
rigid transform ``X_world = rotation @ X_camera + offset``, shared by people and camera so their relation
is kept. Without a ground plane the camera sits at the origin looking along +Y; with one the floor becomes
Z = 0, its normal +Z, and the camera looks along +Y tilted as filmed (roll kept in the camera, not the world).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .result.schema import GroundPlane

# Camera frame -> Z-up world, no ground: x stays right, forward (+z) becomes +Y, down (+y) becomes -Z.
CAMERA_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
_PARALLEL = 1e-6


@dataclass(frozen=True)
class WorldTransform:
    """The rigid map from the result's camera frame to a Z-up world: X' = rotation @ X + offset."""

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
    world's Y axis is the camera's forward direction projected onto the floor, so a rolled camera stays
    rolled and its view direction keeps zero yaw.
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


def world_transform(ground: GroundPlane | None, align_to_ground: bool = True) -> WorldTransform:
    """Ground-aligned when asked and a floor exists, else the plain axis swap with the camera at the origin."""
    if align_to_ground and ground is not None:
        return ground_alignment(ground)
    return WorldTransform(rotation=CAMERA_TO_Z_UP.copy(), offset=np.zeros(3))
