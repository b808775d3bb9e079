"""Register and unregister the People UI as one unit (state, operators, list, sub-panel).

The sub-panel hangs under the capture panel, so this registers after it and unregisters before it.
"""

from __future__ import annotations

import bpy

from . import operators_bpy, panel_bpy, state_bpy


def register() -> None:
    state_bpy.register()
    for cls in operators_bpy.CLASSES + panel_bpy.CLASSES:
        bpy.utils.register_class(cls)


def unregister() -> None:
    for cls in reversed(operators_bpy.CLASSES + panel_bpy.CLASSES):
        bpy.utils.unregister_class(cls)
    state_bpy.unregister()
