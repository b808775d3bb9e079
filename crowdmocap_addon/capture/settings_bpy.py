"""Capture settings kept with the scene (saved in the .blend) and the live status kept with the window manager."""

from __future__ import annotations

import bpy

from ..preferences import ESTIMATOR_ITEMS, POSE_BACKEND_ITEMS

_FOCAL_MODES = [
    ("AUTO", "Automatic", "Focal length = image diagonal in pixels (about 53 degrees wide)"),
    ("PIXELS", "Pixels", "Focal length in pixels"),
    ("MILLIMETRES", "Millimetres", "Focal length and sensor width in millimetres"),
    ("FOV", "Field of view", "Horizontal field of view in degrees"),
]


class CrowdMocapCaptureSettings(bpy.types.PropertyGroup):
    footage: bpy.props.StringProperty(name="Footage", subtype="FILE_PATH",  # type: ignore[valid-type]
                                      description="Video to capture; empty uses the active movie clip")  # fmt: skip
    frame_start: bpy.props.IntProperty(name="Start", min=0, default=0,  # type: ignore[valid-type]
                                       description="First frame of the clip to capture (0-based)")  # fmt: skip
    frame_end: bpy.props.IntProperty(name="End", min=0, default=0,  # type: ignore[valid-type]
                                     description="Last frame to capture; 0 = to the end of the clip")  # fmt: skip
    stride: bpy.props.IntProperty(name="Every", min=1, default=1,  # type: ignore[valid-type]
                                  description="Capture every n-th frame")  # fmt: skip
    pose_backend: bpy.props.EnumProperty(name="2D poses", items=POSE_BACKEND_ITEMS, default="auto")  # type: ignore[valid-type]
    estimator: bpy.props.EnumProperty(name="3D bodies", items=ESTIMATOR_ITEMS, default="auto")  # type: ignore[valid-type]
    max_people: bpy.props.IntProperty(name="Max people", min=0, default=0,  # type: ignore[valid-type]
                                      description="Keep the N people seen longest; 0 = everyone")  # fmt: skip
    min_track_length: bpy.props.IntProperty(name="Min track", min=1, default=10,  # type: ignore[valid-type]
                                            description="Frames a person must be seen to be kept")  # fmt: skip
    smoothing: bpy.props.FloatProperty(name="Smoothing", min=0.0, max=10.0, default=1.0,  # type: ignore[valid-type]
                                       description="0 = off, 1 = default, larger = smoother")  # fmt: skip
    ground_feet: bpy.props.BoolProperty(name="Feet on the floor", default=True,  # type: ignore[valid-type]
                                        description="Stand each person's planted foot on the floor the capture "
                                                    "finds; turn off for footage of jumps")  # fmt: skip
    focal_mode: bpy.props.EnumProperty(name="Focal", items=_FOCAL_MODES, default="AUTO")  # type: ignore[valid-type]
    focal_px: bpy.props.FloatProperty(name="Focal (px)", min=1.0, default=1000.0)  # type: ignore[valid-type]
    focal_mm: bpy.props.FloatProperty(name="Focal (mm)", min=1.0, default=35.0)  # type: ignore[valid-type]
    sensor_width_mm: bpy.props.FloatProperty(name="Sensor (mm)", min=1.0, default=36.0)  # type: ignore[valid-type]
    fov_deg: bpy.props.FloatProperty(name="FOV (deg)", min=1.0, max=179.0, default=60.0)  # type: ignore[valid-type]
    ground_align: bpy.props.BoolProperty(name="Align to ground", default=True,  # type: ignore[valid-type]
                                         description="Put the floor at Z = 0 when the capture finds one")  # fmt: skip


class CrowdMocapStatus(bpy.types.PropertyGroup):
    """What the panel shows; written by the operators on the main thread only."""

    server: bpy.props.StringProperty(name="Server")  # type: ignore[valid-type]
    running: bpy.props.BoolProperty(name="Running")  # type: ignore[valid-type]
    progress: bpy.props.FloatProperty(name="Progress", min=0.0, max=1.0)  # type: ignore[valid-type]
    label: bpy.props.StringProperty(name="Status")  # type: ignore[valid-type]
    message: bpy.props.StringProperty(name="Last message")  # type: ignore[valid-type]


CLASSES = (CrowdMocapCaptureSettings, CrowdMocapStatus)


def register() -> None:
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.Scene.crowdmocap = bpy.props.PointerProperty(type=CrowdMocapCaptureSettings)
    bpy.types.WindowManager.crowdmocap_status = bpy.props.PointerProperty(type=CrowdMocapStatus)


def unregister() -> None:
    del bpy.types.WindowManager.crowdmocap_status
    del bpy.types.Scene.crowdmocap
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
