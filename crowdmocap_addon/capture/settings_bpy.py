"""Capture settings kept with the scene (saved in the .blend) and the live status kept with the window manager."""

from __future__ import annotations

import bpy

from ..core.options import CAPTURE_OPTIONS, SCENE_OPTIONS
from ..option_props_bpy import option_property
from ..preferences import ESTIMATOR_ITEMS, POSE_BACKEND_ITEMS
from ..scene.timeline import FRAME_OFFSET

_FOCAL_MODES = [
    ("AUTO", "Automatic", "Focal length = image diagonal in pixels (about 53 degrees wide)"),
    ("PIXELS", "Pixels", "Focal length in pixels"),
    ("MILLIMETRES", "Millimetres", "Focal length and sensor width in millimetres"),
    ("FOV", "Field of view", "Horizontal field of view in degrees"),
]


class CrowdMocapCaptureSettings(bpy.types.PropertyGroup):
    footage: bpy.props.StringProperty(name="Footage", subtype="FILE_PATH",  # type: ignore[valid-type]
                                      description="Video to capture; empty uses the active movie clip")  # fmt: skip
    frame_start: bpy.props.IntProperty(name="Start", min=FRAME_OFFSET, default=FRAME_OFFSET,  # type: ignore[valid-type]
                                       description="First frame to capture, as the timeline numbers them "
                                                   "(the clip's first frame is frame 1)")  # fmt: skip
    frame_end: bpy.props.IntProperty(name="End", min=0, default=0,  # type: ignore[valid-type]
                                     description="Last frame to capture, as the timeline numbers them; "
                                                 "0 = to the end of the clip")  # fmt: skip
    stride: bpy.props.IntProperty(name="Every", min=1, default=1,  # type: ignore[valid-type]
                                  description="Capture every n-th frame")  # fmt: skip
    pose_backend: option_property(CAPTURE_OPTIONS["pose_backend"], items=POSE_BACKEND_ITEMS)  # type: ignore[valid-type]
    estimator: option_property(CAPTURE_OPTIONS["estimator"], items=ESTIMATOR_ITEMS)  # type: ignore[valid-type]
    max_people: bpy.props.IntProperty(name="Max people", min=0, default=0,  # type: ignore[valid-type]
                                      description="Keep the N people seen longest; 0 = everyone")  # fmt: skip
    min_track_length: option_property(CAPTURE_OPTIONS["min_track_length"])  # type: ignore[valid-type]
    relink: option_property(CAPTURE_OPTIONS["relink"])  # type: ignore[valid-type]
    smoothing: option_property(CAPTURE_OPTIONS["smoothing"])  # type: ignore[valid-type]
    foot_lock: option_property(CAPTURE_OPTIONS["foot_lock"])  # type: ignore[valid-type]
    ground_feet: option_property(CAPTURE_OPTIONS["ground_feet"])  # type: ignore[valid-type]
    fix_facing: option_property(CAPTURE_OPTIONS["fix_facing"])  # type: ignore[valid-type]
    temporal_fit: option_property(CAPTURE_OPTIONS["temporal_fit"])  # type: ignore[valid-type]
    fit_smoothness: option_property(CAPTURE_OPTIONS["fit_smoothness"])  # type: ignore[valid-type]
    top_speed: option_property(CAPTURE_OPTIONS["top_speed"])  # type: ignore[valid-type]
    still_camera: option_property(CAPTURE_OPTIONS["still_camera"])  # type: ignore[valid-type]
    focal_mode: bpy.props.EnumProperty(name="Focal", items=_FOCAL_MODES, default="AUTO")  # type: ignore[valid-type]
    focal_px: bpy.props.FloatProperty(name="Focal (px)", min=1.0, default=1000.0)  # type: ignore[valid-type]
    focal_mm: bpy.props.FloatProperty(name="Focal (mm)", min=1.0, default=35.0)  # type: ignore[valid-type]
    sensor_width_mm: bpy.props.FloatProperty(name="Sensor (mm)", min=1.0, default=36.0)  # type: ignore[valid-type]
    fov_deg: bpy.props.FloatProperty(name="FOV (deg)", min=1.0, max=179.0, default=60.0)  # type: ignore[valid-type]
    ground_align: option_property(SCENE_OPTIONS["ground_align"])  # type: ignore[valid-type]
    preview: bpy.props.BoolProperty(name="Preview video", default=False,  # type: ignore[valid-type]
                                    description="Also have the server render the footage with every person's "
                                                "skeleton drawn over it, to open from the panel")  # fmt: skip


class CrowdMocapStatus(bpy.types.PropertyGroup):
    """What the panel shows; written by the operators on the main thread only."""

    server: bpy.props.StringProperty(name="Server")  # type: ignore[valid-type]
    running: bpy.props.BoolProperty(name="Running")  # type: ignore[valid-type]
    progress: bpy.props.FloatProperty(name="Progress", min=0.0, max=1.0)  # type: ignore[valid-type]
    label: bpy.props.StringProperty(name="Status")  # type: ignore[valid-type]
    message: bpy.props.StringProperty(name="Last message")  # type: ignore[valid-type]
    warnings: bpy.props.StringProperty(name="Import notes")  # type: ignore[valid-type]  # one per line
    preview: bpy.props.StringProperty(name="Preview video", subtype="FILE_PATH")  # type: ignore[valid-type]
    server_checked: bpy.props.BoolProperty(name="Server checked")  # type: ignore[valid-type]


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
