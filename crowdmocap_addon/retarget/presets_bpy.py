"""Where user bone-map presets live, and every preset the add-on knows (shipped first, then the user's)."""

from __future__ import annotations

from pathlib import Path

import bpy

from .presets import BoneMap, builtin_presets, user_presets

ADDON_PACKAGE = __package__.rpartition(".")[0]  # "crowdmocap_addon", or "bl_ext.<repo>.crowdmocap"


def user_preset_folder(create: bool = False) -> Path | None:
    """The extension's user folder (``retarget_presets``), or Blender's user data folder for a plain add-on.

    Never inside the add-on itself: an extension's folder is replaced on update. Only saving creates it;
    None when Blender has no user folder to offer.
    """
    try:
        folder = bpy.utils.extension_path_user(ADDON_PACKAGE, path="retarget_presets", create=create)
    except (ValueError, AttributeError):  # loaded as a plain add-on, not an extension
        folder = bpy.utils.user_resource("DATAFILES", path="crowdmocap/retarget_presets", create=create)
    return Path(folder) if folder else None


def all_presets() -> tuple[list[BoneMap], list[str]]:
    """Shipped presets then the user's, and a message per user file that could not be read."""
    users, problems = user_presets(user_preset_folder())
    return builtin_presets() + users, problems
