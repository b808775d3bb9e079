"""Blender camera settings equal to the result's full-image pinhole camera.

Blender measures the lens against the sensor side named by ``sensor_fit`` and shifts the view window
in units of that same side (in pixels: the image width for HORIZONTAL, the height for VERTICAL). We fit
the longer image side, as Blender's AUTO does, but name it explicitly so the render is exact whatever the
user later sets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.result.schema import CaptureResult, PinholeCamera, VideoInfo

SENSOR_MM = 36.0  # full-frame width; any value works, the focal length is scaled with it
CLIP_START_M = 0.05
MIN_CLIP_END_M = 100.0


@dataclass(kw_only=True, frozen=True)
class CameraParams:
    """What to set on ``bpy.types.Camera`` and the scene's render resolution."""

    sensor_fit: str  # "HORIZONTAL" or "VERTICAL"
    sensor_width_mm: float
    sensor_height_mm: float
    lens_mm: float
    shift_x: float
    shift_y: float
    resolution_x: int
    resolution_y: int
    clip_start: float
    clip_end: float


def blender_camera_params(camera: PinholeCamera, video: VideoInfo, max_depth_m: float = 0.0) -> CameraParams:
    """The pinhole (focal_px, principal point in pixels, y down) as a Blender camera of the video's size.

    With the fitted side ``S`` pixels long, ``lens = focal_px · SENSOR_MM / S``; the principal point
    ``(cx, cy)`` sits where the optical axis meets the image, so ``shift_x = (W/2 − cx) / S`` and
    ``shift_y = (cy − H/2) / S`` (Blender's y points up, the image's down).
    """
    width, height = int(video.width), int(video.height)
    horizontal = width >= height
    side = float(width if horizontal else height)
    cx, cy = camera.principal_point
    sensor_w = SENSOR_MM if horizontal else SENSOR_MM * width / height
    sensor_h = SENSOR_MM * height / width if horizontal else SENSOR_MM
    return CameraParams(
        sensor_fit="HORIZONTAL" if horizontal else "VERTICAL",
        sensor_width_mm=sensor_w,
        sensor_height_mm=sensor_h,
        lens_mm=float(camera.focal_px) * SENSOR_MM / side,
        shift_x=(width / 2.0 - float(cx)) / side,
        shift_y=(float(cy) - height / 2.0) / side,
        resolution_x=width,
        resolution_y=height,
        clip_start=CLIP_START_M,
        clip_end=max(MIN_CLIP_END_M, 2.0 * float(max_depth_m)),
    )


def deepest_pelvis(result: CaptureResult) -> float:
    """Largest camera distance of any person's pelvis (metres): how far the camera must see."""
    depths = [np.linalg.norm(track.transl + track.rest_joints[0], axis=1).max() for track in result.people]
    return float(max(depths, default=0.0))
