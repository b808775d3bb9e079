"""Add-on preferences: where the server is and where the user's own SMPL model file lives."""

from __future__ import annotations

import bpy

DEFAULT_SERVER_URL = "http://127.0.0.1:8765"


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

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        layout.prop(self, "server_url")
        layout.prop(self, "token")
        layout.prop(self, "smpl_model_path")


_CLASSES = (CrowdMocapPreferences,)


def register() -> None:
    for cls in _CLASSES:
        bpy.utils.register_class(cls)


def unregister() -> None:
    for cls in reversed(_CLASSES):
        bpy.utils.unregister_class(cls)
