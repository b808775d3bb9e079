"""Add-on preferences: where the server is, the user's own SMPL model file, and their default capture options."""

from __future__ import annotations

import bpy

from .core.options import CAPTURE_OPTIONS, PREFERENCES, SCENE_OPTIONS, on
from .option_props_bpy import option_property

DEFAULT_SERVER_URL = "http://127.0.0.1:8765"
# Options whose defaults the user keeps in the preferences (scene setting name -> preference default_<name>)
PREFERENCE_OPTIONS = {**on(PREFERENCES, CAPTURE_OPTIONS), **on(PREFERENCES, SCENE_OPTIONS)}
DEFAULT_OPTIONS = tuple(PREFERENCE_OPTIONS)
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

    # One ``default_<name>`` per preference option, made from the option table (see ``_add_default_options``).

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        layout.prop(self, "server_url")
        layout.prop(self, "token")
        layout.prop(self, "smpl_model_path")
        box = layout.box()
        box.label(text='Capture defaults (the panel\'s "Use my defaults" button applies them to a scene)')
        for name in DEFAULT_OPTIONS:
            box.prop(self, f"default_{name}")


def _add_default_options(cls: type) -> type:
    """Give ``cls`` a ``default_<name>`` property per preference option, before Blender registers it."""
    items = {"pose_backend": POSE_BACKEND_ITEMS, "estimator": ESTIMATOR_ITEMS}
    for name, option in PREFERENCE_OPTIONS.items():
        cls.__annotations__[f"default_{name}"] = option_property(option, items=items.get(name))
    return cls


_CLASSES = (_add_default_options(CrowdMocapPreferences),)


def register() -> None:
    for cls in _CLASSES:
        bpy.utils.register_class(cls)


def unregister() -> None:
    for cls in reversed(_CLASSES):
        bpy.utils.unregister_class(cls)
