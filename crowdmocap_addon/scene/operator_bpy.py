"""File › Import › CrowdMocap result (.npz): gathers options and calls ``build_bpy.import_result``."""

from __future__ import annotations

from pathlib import Path

import bpy
from bpy_extras.io_utils import ImportHelper

from ..core.body.smpl_file import SmplModelError
from ..core.result.schema import ResultFormatError
from .build_bpy import import_result

_ADDON_PACKAGE = __package__.rpartition(".")[0]  # "crowdmocap_addon", or "bl_ext.<repo>.crowdmocap"


def _preferred_smpl_path(context: bpy.types.Context) -> str:
    addon = context.preferences.addons.get(_ADDON_PACKAGE)
    return addon.preferences.smpl_model_path if addon is not None and addon.preferences is not None else ""


class IMPORT_SCENE_OT_crowdmocap_result(bpy.types.Operator, ImportHelper):  # noqa: N801 (Blender's naming)
    """Import a CrowdMocap result: an animated armature per person and the matching camera"""

    bl_idname = "import_scene.crowdmocap_result"
    bl_label = "Import CrowdMocap Result"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 (Blender reads a plain set)

    filename_ext = ".npz"
    filter_glob: bpy.props.StringProperty(default="*.npz", options={"HIDDEN"})  # type: ignore[valid-type]
    smpl_model_path: bpy.props.StringProperty(  # type: ignore[valid-type]
        name="SMPL model",
        description="Your SMPL model file or folder for body meshes (default: the add-on preferences); "
        "empty for CrowdMocap's stand-in body",
        subtype="FILE_PATH",
    )
    ground_align: bpy.props.BoolProperty(  # type: ignore[valid-type]
        name="Align to ground",
        description="Put the floor at Z = 0 (people and camera moved together) when the result has a ground plane",
        default=True,
    )

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        if not self.properties.is_property_set("smpl_model_path"):
            self.smpl_model_path = _preferred_smpl_path(context)
        return ImportHelper.invoke(self, context, event)

    def execute(self, context: bpy.types.Context) -> set[str]:
        given = self.properties.is_property_set("smpl_model_path")
        smpl = self.smpl_model_path if given else _preferred_smpl_path(context)
        try:
            capture = import_result(
                context,
                Path(self.filepath),
                smpl_model_path=bpy.path.abspath(smpl) if smpl else None,
                align_to_ground=self.ground_align,
                report=lambda level, message: self.report({level}, message),
            )
        except (ResultFormatError, SmplModelError) as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self.report({"INFO"}, f"CrowdMocap: {len(capture.armatures)} people into '{capture.collection.name}'")
        return {"FINISHED"}


def _menu_entry(self: bpy.types.Menu, context: bpy.types.Context) -> None:
    self.layout.operator(IMPORT_SCENE_OT_crowdmocap_result.bl_idname, text="CrowdMocap result (.npz)")


def register() -> None:
    bpy.utils.register_class(IMPORT_SCENE_OT_crowdmocap_result)
    bpy.types.TOPBAR_MT_file_import.append(_menu_entry)


def unregister() -> None:
    bpy.types.TOPBAR_MT_file_import.remove(_menu_entry)
    bpy.utils.unregister_class(IMPORT_SCENE_OT_crowdmocap_result)
