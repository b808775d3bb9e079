"""The capture camera's keys when the footage's camera moved: where it stands, where it looks, its lens.

A result with a per-frame camera (format 1.2) has its people in the world of the first frame's camera;
the Blender camera then turns (and zooms) with the footage's, frame by frame, so the characters stay on
their people in the footage behind it. Pure NumPy: the channels are written by ``animation_bpy``.
"""

from __future__ import annotations

import numpy as np

from ..core.geometry import axis_angle_to_matrix, matrix_to_quaternion, sign_continuous
from ..core.result.schema import CameraMotion
from ..core.world import WorldTransform
from .axes import OPENCV_TO_BLENDER_CAMERA
from .camera_math import SENSOR_MM, CameraParams
from .keyframes import Channel
from .timeline import scene_frames

MEASURED_PROPERTY = "crowdmocap_camera_measured"  # 1 where the camera was measured, 0 where it was bridged


def camera_matrices(motion: CameraMotion, transform: WorldTransform) -> np.ndarray:
    """(T, 4, 4) world matrices of the Blender camera object at each of the motion's frames.

    Frame t's camera sees world points as ``R_t (X - c_t)``: its axes in the result's frame are the rows
    of ``R_t``, its centre ``c_t``; the scene's world is ``transform`` of that frame.
    """
    rotations = axis_angle_to_matrix(np.asarray(motion.rotation, dtype=np.float64))
    out = np.tile(np.eye(4), (motion.num_frames, 1, 1))
    out[:, :3, :3] = transform.rotation @ np.swapaxes(rotations, 1, 2) @ OPENCV_TO_BLENDER_CAMERA
    out[:, :3, 3] = transform.apply(np.asarray(motion.centre, dtype=np.float64))
    return out


def lens_mm(motion: CameraMotion, params: CameraParams) -> np.ndarray:
    """(T,) Blender lens at each frame: the focal in pixels over the fitted sensor side, as ``params`` has it."""
    side = params.resolution_x if params.sensor_fit == "HORIZONTAL" else params.resolution_y
    return np.asarray(motion.focal_px, dtype=np.float64) * SENSOR_MM / float(side)


def camera_object_channels(motion: CameraMotion, transform: WorldTransform) -> list[Channel]:
    """Location and (sign-continuous) quaternion keys of the camera object (set its rotation mode to
    QUATERNION), and its ``MEASURED_PROPERTY`` custom property (constant keys: create it first)."""
    matrices = camera_matrices(motion, transform)
    frames = scene_frames(motion.frames)
    quaternions = sign_continuous(matrix_to_quaternion(matrices[:, :3, :3]))
    location = [Channel(data_path="location", index=axis, group="Object Transforms", frames=frames,
                        values=matrices[:, axis, 3], interpolation="LINEAR") for axis in range(3)]  # fmt: skip
    rotation = [Channel(data_path="rotation_quaternion", index=axis, group="Object Transforms", frames=frames,
                        values=quaternions[:, axis], interpolation="LINEAR") for axis in range(4)]  # fmt: skip
    measured = Channel(data_path=f'["{MEASURED_PROPERTY}"]', index=0, group="CrowdMocap", frames=frames,
                       values=np.asarray(motion.measured, dtype=np.float64), interpolation="CONSTANT")  # fmt: skip
    return [*location, *rotation, measured]


def lens_channel(motion: CameraMotion, params: CameraParams) -> Channel:
    """The camera data's lens keys (a zoom)."""
    return Channel(data_path="lens", index=0, group="", frames=scene_frames(motion.frames),
                   values=lens_mm(motion, params), interpolation="LINEAR")  # fmt: skip
