"""CrowdMocap for Blender: capture a whole crowd from footage as rigged, animated SMPL characters.

Only ``register``/``unregister`` touch bpy, and they import it lazily: the bpy-free core
(``body``, ``result``, the maths of ``scene``) is imported by the inference server and the tests outside
Blender.
"""

from __future__ import annotations

__version__ = "0.1.0"


def register() -> None:
    from . import preferences
    from .capture import register_bpy as capture_ui
    from .export import operator_bpy as export_ui
    from .people import register_bpy as people_ui
    from .retarget import register_bpy as retarget_ui
    from .scene import operator_bpy

    preferences.register()
    operator_bpy.register()
    capture_ui.register()
    people_ui.register()  # its sub-panel hangs under the capture panel, above Retarget
    retarget_ui.register()
    export_ui.register()


def unregister() -> None:
    from . import preferences
    from .capture import register_bpy as capture_ui
    from .export import operator_bpy as export_ui
    from .people import register_bpy as people_ui
    from .retarget import register_bpy as retarget_ui
    from .scene import operator_bpy

    export_ui.unregister()
    retarget_ui.unregister()
    people_ui.unregister()
    capture_ui.unregister()
    operator_bpy.unregister()
    preferences.unregister()
