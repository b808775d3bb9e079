"""Add-on preferences: where the server is, the user's own SMPL model file, and their default capture options."""

from __future__ import annotations

import bpy

DEFAULT_SERVER_URL = "http://127.0.0.1:8765"
# Capture options whose defaults the user keeps in the preferences (scene setting name -> preference default_<name>)
DEFAULT_OPTIONS = ("pose_backend", "estimator", "min_track_length", "smoothing", "ground_feet", "ground_align")
POSE_BACKEND_ITEMS = [
    ("auto", "Auto", "BlazePose for the weights-free estimator, RTMO when the server has it for 3DCrowdNet"),
    ("blazepose", "BlazePose", "Embedded default: HOG people proposals + MediaPipe BlazePose (3D landmarks)"),
    ("rtmo", "RTMO", "One-stage crowd pose model (needs its ONNX file on the server)"),
    ("rtmpose", "RTMPose", "Top-down: YOLOX people + RTMPose (needs both ONNX files on the server)"),
]
ESTIMATOR_ITEMS = [
    ("auto", "Auto", "3DCrowdNet when the server has its checkpoint, else the weights-free lift"),
    ("lift", "Lift (no weights)", "Analytic SMPL fit to BlazePose's 3D landmarks: runs on a fresh install"),
    ("crowdnet", "3DCrowdNet", "The 3DCrowdNet network (its checkpoint must be on the server)"),
]


class CrowdMocapPreferences(bpy.types.AddonPreferences):
    # For an extension this is "bl_ext.<repository>.crowdmocap"; the package name is the only right id.
    bl_idname = __package__

    server_url: bpy.props.StringProperty(  # type: ignore[valid-type]
        name="Server URL",
        description="Address of the CrowdMocap inference server",
        default=DEFAULT_SERVER_URL,
    )
    token: bpy.props.StringProperty(  # type: ignore[valid-type]
        name="Token",
        description="Access token, if the server was started with one",
        subtype="PASSWORD",
    )
    smpl_model_path: bpy.props.StringProperty(  # type: ignore[valid-type]
        name="SMPL model file",
        description="Your SMPL model (.pkl or .npz, from smpl.is.tue.mpg.de; non-commercial licence) for body meshes",
        subtype="FILE_PATH",
    )

    default_pose_backend: bpy.props.EnumProperty(  # type: ignore[valid-type]
        name="2D poses", items=POSE_BACKEND_ITEMS, default="auto", description="Default for new captures"
    )
    default_estimator: bpy.props.EnumProperty(  # type: ignore[valid-type]
        name="3D bodies", items=ESTIMATOR_ITEMS, default="auto", description="Default for new captures"
    )
    default_min_track_length: bpy.props.IntProperty(name="Min track", min=1, default=10)  # type: ignore[valid-type]
    default_smoothing: bpy.props.FloatProperty(name="Smoothing", min=0.0, max=10.0, default=1.0)  # type: ignore[valid-type]
    default_ground_feet: bpy.props.BoolProperty(name="Feet on the floor", default=True)  # type: ignore[valid-type]
    default_ground_align: bpy.props.BoolProperty(name="Align to ground", default=True)  # type: ignore[valid-type]

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        layout.prop(self, "server_url")
        layout.prop(self, "token")
        layout.prop(self, "smpl_model_path")
        box = layout.box()
        box.label(text='Capture defaults (the panel\'s "Use my defaults" button applies them to a scene)')
        for name in DEFAULT_OPTIONS:
            box.prop(self, f"default_{name}")


_CLASSES = (CrowdMocapPreferences,)


def register() -> None:
    for cls in _CLASSES:
        bpy.utils.register_class(cls)


def unregister() -> None:
    for cls in reversed(_CLASSES):
        bpy.utils.unregister_class(cls)
