"""Register and unregister the retarget UI as one unit (settings, operators, list, sub-panel).

The sub-panel hangs under the capture panel, so this registers after it and unregisters before it.
"""

from __future__ import annotations

import bpy

from . import operators_bpy, panel_bpy, settings_bpy

_register_classes, _unregister_classes = bpy.utils.register_classes_factory(operators_bpy.CLASSES + panel_bpy.CLASSES)


def register() -> None:
    settings_bpy.register()
    _register_classes()


def unregister() -> None:
    _unregister_classes()  # in reverse order
    settings_bpy.unregister()
