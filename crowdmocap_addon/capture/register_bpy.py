"""Register and unregister the capture UI as one unit (settings, operators, panel)."""

from __future__ import annotations

import bpy

from . import flow_bpy, operators_bpy, panel_bpy, server_check_bpy, settings_bpy


def register() -> None:
    settings_bpy.register()
    for cls in operators_bpy.CLASSES + panel_bpy.CLASSES:
        bpy.utils.register_class(cls)


def unregister() -> None:
    flow_bpy.forget_active()
    server_check_bpy.forget()
    for cls in reversed(operators_bpy.CLASSES + panel_bpy.CLASSES):
        bpy.utils.unregister_class(cls)
    settings_bpy.unregister()
