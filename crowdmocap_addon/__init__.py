"""CrowdMocap for Blender: capture a whole crowd from footage as rigged, animated SMPL characters.

Only ``register``/``unregister`` touch bpy, and they import it lazily: the bpy-free core
(``body``, ``result``) is imported by the inference server and the tests outside Blender.
"""

from __future__ import annotations

__version__ = "0.1.0"


def register() -> None:
    from . import preferences

    preferences.register()


def unregister() -> None:
    from . import preferences

    preferences.unregister()
