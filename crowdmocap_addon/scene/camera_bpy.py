"""The capture's camera: the result's pinhole camera, placed in the world, with the footage behind it."""

from __future__ import annotations

from pathlib import Path

import bpy
import numpy as np
from mathutils import Matrix

from .camera_math import CameraParams
from .transaction_bpy import CreatedData


def create_camera(
    name: str,
    params: CameraParams,
    matrix_world: np.ndarray,
    collection: bpy.types.Collection,
    created: CreatedData,
) -> bpy.types.Object:
    """A camera object with the lens, sensor and shift of ``params`` at the (4, 4) ``matrix_world``."""
    data = created.add(bpy.data.cameras.new(name))
    data.type = "PERSP"
    data.lens_unit = "MILLIMETERS"
    data.sensor_fit = params.sensor_fit
    data.sensor_width = params.sensor_width_mm
    data.sensor_height = params.sensor_height_mm
    data.lens = params.lens_mm
    data.shift_x = params.shift_x
    data.shift_y = params.shift_y
    data.clip_start = params.clip_start
    data.clip_end = params.clip_end
    obj = created.add(bpy.data.objects.new(name, data))
    collection.objects.link(obj)
    obj.matrix_world = Matrix(np.asarray(matrix_world, dtype=np.float64).tolist())
    return obj


def attach_footage(camera: bpy.types.Object, footage: Path, created: CreatedData) -> bpy.types.MovieClip | None:
    """Show the video as the camera's background, video frame 0 at scene frame 1; None if Blender can't read it."""
    try:
        clip = bpy.data.movieclips.load(str(footage), check_existing=False)
    except RuntimeError:
        return None
    if clip.frame_duration < 1:  # Blender "loads" any file; one it cannot decode has no frames
        bpy.data.movieclips.remove(clip)
        return None
    created.add(clip)
    clip.frame_start = 1
    background = camera.data.background_images.new()
    background.source = "MOVIE_CLIP"
    background.clip = clip
    background.alpha = 1.0
    camera.data.show_background_images = True
    return clip


def apply_render_settings(scene: bpy.types.Scene, params: CameraParams, fps: tuple[int, float],
                          frame_range: tuple[int, int]) -> None:  # fmt: skip
    """Resolution and pixel aspect of the footage, its exact frame rate, and the capture's frame range."""
    render = scene.render
    render.resolution_x = params.resolution_x
    render.resolution_y = params.resolution_y
    render.resolution_percentage = 100
    render.pixel_aspect_x = 1.0
    render.pixel_aspect_y = 1.0
    render.fps, render.fps_base = fps
    scene.frame_start, scene.frame_end = frame_range
