"""Register and unregister the capture UI as one unit (settings, operators, panel)."""

from __future__ import annotations

import bpy

from . import flow_bpy, operators_bpy, panel_bpy, server_check_bpy, settings_bpy

_register_classes, _unregister_classes = bpy.utils.register_classes_factory(operators_bpy.CLASSES + panel_bpy.CLASSES)


def register() -> None:
    settings_bpy.register()
    _register_classes()


def unregister() -> None:
    flow_bpy.forget_active()
    server_check_bpy.forget()
    _unregister_classes()  # in reverse order
    settings_bpy.unregister()
