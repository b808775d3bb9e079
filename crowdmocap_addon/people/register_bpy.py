"""Register and unregister the People UI as one unit (state, operators, list, sub-panel).

The sub-panel hangs under the capture panel, so this registers after it and unregisters before it.
"""

from __future__ import annotations

import bpy

from . import operators_bpy, panel_bpy, state_bpy

_register_classes, _unregister_classes = bpy.utils.register_classes_factory(operators_bpy.CLASSES + panel_bpy.CLASSES)


def register() -> None:
    state_bpy.register()
    _register_classes()


def unregister() -> None:
    _unregister_classes()  # in reverse order
    state_bpy.unregister()
